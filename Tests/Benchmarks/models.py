#!/usr/bin/env python3
"""Issue 12, figure 2: store growth of a fine-tuned model, beside the physical references.

Three cases, each two versions of one file committed one after the other with mlv:
  fp32   a generated safetensors file (BERT-base-like shapes: embeddings, N encoder layers of
         attention + FFN + LayerNorm, a classifier filling the rest up to --mib MiB of tensor data),
         weights ~ N(0, 0.02); v2 = every float x (1 + N(0, 1e-3)) (a fine-tune).  Target <= 60 %.
  bf16   the same two versions converted to bf16 (fp32 rounded to nearest even on the high 16
         bits), so a file of half the size.                                          Target <= 72 %.
  w2     today's W2 (../shared/bench/gen_data.py gen_w2, reproduced byte for byte here): a raw
         float32 file with 4 contiguous regions (5 % of the floats) perturbed.       Target <= 7 %.
For each: store growth of committing v2 in % of the file, next to the references on v2:
zstd -1 and zstd -19 of v2 alone, `zstd --patch-from=v1 v2`, and numpy "byte planes + zstd"
of v2 alone and "XOR with v1 + byte planes + zstd -1/-3" (planes written to a temp file and
compressed with the zstd CLI). Also times both commits and a fresh `mlv checkout REV -- FILE` of
v1 and of v2 (file deleted first; best of --runs), and checks the bytes checked out.

Real weights: pass --real PATH (a safetensors file with F32/BF16 tensors) to add a case made
from it the same way (v2 = every float x (1 + N(0, 1e-3))). None is in the repository and none
can be downloaded here, so by default that case is skipped (printed as such).

    python3 Tests/Benchmarks/models.py [--mlv .build/release/mlv] [--root /tmp/bench12-models]
                                       [--mib 256] [--only fp32,bf16,w2,real] [--real PATH]
                                       [--runs 3] [--no-zstd19] [--keep]

Runtime on this machine (2 cores) with the defaults: about 5-6 minutes (311 s and 350 s before deltas),
4.5 of them zstd -19 of the three v2 files (--no-zstd19 skips those: under a minute). Scratch:
about 2 GiB under --root, deleted at the end unless --keep.

Every issue-12 script also takes --json OUT (save the final table) and --against OUT.json (print
an earlier run's figures, e.g. the binary before deltas, as a "before" column); baselines of the
pre-delta binary are in Tests/Benchmarks/baselines/.
"""
import argparse, json, os, shutil, struct, subprocess, sys, time

import numpy as np

sys.dont_write_bytecode = True  # no __pycache__ in the repository
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import bench_parser, Table, best_of, check_mlv, du, fresh_repo, sha256, timed  # noqa: E402

ap = bench_parser(__doc__, "/tmp/bench12-models")
ap.add_argument("--mib", type=int, default=256, help="tensor data of the fp32 model and of W2, MiB")
ap.add_argument("--seed", type=int, default=20261127, help="W2's seed (gen_data.py's default)")
ap.add_argument("--only", default="fp32,bf16,w2,real")
ap.add_argument("--real", default=None, help="a real safetensors file (F32/BF16) to fine-tune the same way")
ap.add_argument("--runs", type=int, default=3, help="checkout runs per version (best is kept)")
ap.add_argument("--no-zstd19", action="store_true", help="skip zstd -19 of v2 (the slow reference)")
A = ap.parse_args()
MLV = check_mlv(A.mlv)
CASES = A.only.split(",")
os.makedirs(A.root, exist_ok=True)
DATA = os.path.join(A.root, "data")
os.makedirs(DATA, exist_ok=True)
TARGET = {"fp32": 60.0, "bf16": 72.0, "w2": 7.0, "real": 60.0}


# ---------- safetensors ----------

def transformer_shapes(floats):
    """BERT-base-like tensors (d=768, FFN 3072, vocab 30522) until `floats` is reached; the
    last one, a classifier [rows, 768], takes what is left (whole rows)."""
    d, ff = 768, 3072
    shapes = [("embeddings.word_embeddings.weight", (30522, d)),
              ("embeddings.position_embeddings.weight", (512, d)),
              ("embeddings.token_type_embeddings.weight", (2, d)),
              ("embeddings.LayerNorm.weight", (d,)), ("embeddings.LayerNorm.bias", (d,))]
    layer = lambda i: [(f"encoder.layer.{i}.{n}", s) for n, s in [
        ("attention.self.query.weight", (d, d)), ("attention.self.query.bias", (d,)),
        ("attention.self.key.weight", (d, d)), ("attention.self.key.bias", (d,)),
        ("attention.self.value.weight", (d, d)), ("attention.self.value.bias", (d,)),
        ("attention.output.dense.weight", (d, d)), ("attention.output.dense.bias", (d,)),
        ("attention.output.LayerNorm.weight", (d,)), ("attention.output.LayerNorm.bias", (d,)),
        ("intermediate.dense.weight", (ff, d)), ("intermediate.dense.bias", (ff,)),
        ("output.dense.weight", (d, ff)), ("output.dense.bias", (d,)),
        ("output.LayerNorm.weight", (d,)), ("output.LayerNorm.bias", (d,))]]
    count = lambda sh: sum(int(np.prod(s)) for _, s in sh)
    if count(shapes) > floats:  # a small --mib: one tensor
        return [("weight", (floats // d, d))]
    i = 0
    while count(shapes) + count(layer(i)) <= floats:
        shapes += layer(i)
        i += 1
    rows = (floats - count(shapes)) // d
    if rows:
        shapes.append(("classifier.weight", (rows, d)))
    return shapes


def write_safetensors(path, shapes, flat, dtype):
    """The format: 8-byte little-endian header length, a JSON header (padded with spaces to a
    multiple of 8), then the tensors' bytes in header order."""
    itemsize = {"F32": 4, "BF16": 2}[dtype]
    header, off = {"__metadata__": {"format": "pt"}}, 0
    for name, shape in shapes:
        n = int(np.prod(shape)) * itemsize
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [off, off + n]}
        off += n
    assert off == flat.nbytes
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        f.write(memoryview(flat).cast("B"))


def read_safetensors(path):
    """(header dict, offset of the tensor data, the whole file as uint8)."""
    raw = np.fromfile(path, dtype=np.uint8)
    hlen = struct.unpack("<Q", raw[:8].tobytes())[0]
    header = json.loads(raw[8:8 + hlen].tobytes())
    return header, 8 + hlen, raw


def to_bf16(f32):
    """fp32 -> bf16 bits, rounding to nearest even (no NaNs here)."""
    u = f32.view(np.uint32)
    return ((u + np.uint32(0x7FFF) + ((u >> 16) & np.uint32(1))) >> 16).astype(np.uint16)


def bf16_to_f32(b):
    return (b.astype(np.uint32) << 16).view(np.float32)


def finetune(f32, rng):
    """Every float x (1 + N(0, 1e-3)), in chunks to bound memory."""
    out = np.empty_like(f32)
    step = 1 << 24
    for i in range(0, len(f32), step):
        seg = f32[i:i + step]
        out[i:i + step] = seg * (np.float32(1) + rng.standard_normal(len(seg), dtype=np.float32) * np.float32(1e-3))
    return out


def make_fp32_bf16():
    """Writes fp32 and bf16 v1/v2; returns {case: (v1, v2, data offset, word size)}."""
    floats = A.mib * 2**20 // 4
    shapes = transformer_shapes(floats)
    n = sum(int(np.prod(s)) for _, s in shapes)
    rng = np.random.default_rng(np.random.SeedSequence([A.seed, 1200]))
    v1 = rng.standard_normal(n, dtype=np.float32) * np.float32(0.02)
    v2 = finetune(v1, np.random.default_rng(np.random.SeedSequence([A.seed, 1201])))
    out = {}
    if "fp32" in CASES:
        p1, p2 = os.path.join(DATA, "fp32_v1.safetensors"), os.path.join(DATA, "fp32_v2.safetensors")
        write_safetensors(p1, shapes, v1, "F32")
        write_safetensors(p2, shapes, v2, "F32")
        out["fp32"] = (p1, p2, 4)
    if "bf16" in CASES:
        p1, p2 = os.path.join(DATA, "bf16_v1.safetensors"), os.path.join(DATA, "bf16_v2.safetensors")
        b1, b2 = to_bf16(v1), to_bf16(v2)
        print(f"  bf16: {100 * np.count_nonzero(b1 != b2) / len(b1):.1f} % of the values differ after the fine-tune", flush=True)
        write_safetensors(p1, shapes, b1, "BF16")
        write_safetensors(p2, shapes, b2, "BF16")
        out["bf16"] = (p1, p2, 2)
    print(f"  model: {len(shapes)} tensors, {n:,} parameters ({n * 4 / 2**20:.1f} MiB fp32)", flush=True)
    return out


def make_w2():
    """gen_data.py's gen_w2 (GEN_VERSION 1), byte for byte: raw float32 N(0, 0.02); v2 = 4
    contiguous regions of 1.25 % of the floats each (not 4 KiB-aligned) + N(0, 1e-3)."""
    n = A.mib * 1024 * 1024 // 4
    rng = np.random.default_rng(np.random.SeedSequence([A.seed, 10]))
    w = rng.standard_normal(n, dtype=np.float32) * np.float32(0.02)
    p1, p2 = os.path.join(DATA, "w2_model_v1.bin"), os.path.join(DATA, "w2_model_v2.bin")
    w.tofile(p1)
    rng2 = np.random.default_rng(np.random.SeedSequence([A.seed, 11]))
    reg = int(n * 0.0125)
    for frac in (0.12, 0.37, 0.61, 0.86):
        start = int(n * frac) + 13
        w[start:start + reg] += rng2.normal(0, 1e-3, reg).astype(np.float32)
    w.tofile(p2)
    return p1, p2, 4


def make_real(path):
    """v1 = the real file; v2 = every F32/BF16 tensor x (1 + N(0, 1e-3)), other bytes kept."""
    header, off, raw = read_safetensors(path)
    p1, p2 = os.path.join(DATA, "real_v1.safetensors"), os.path.join(DATA, "real_v2.safetensors")
    shutil.copyfile(path, p1)
    out = raw.copy()
    rng = np.random.default_rng(1202)
    words = set()
    for name, t in header.items():
        if name == "__metadata__" or t["dtype"] not in ("F32", "BF16"):
            continue
        a, b = (off + x for x in t["data_offsets"])
        if t["dtype"] == "F32":
            f = raw[a:b].view(np.float32)
            out[a:b] = finetune(f, rng).view(np.uint8)
            words.add(4)
        else:
            f = bf16_to_f32(raw[a:b].view(np.uint16))
            out[a:b] = to_bf16(finetune(f, rng)).view(np.uint8)
            words.add(2)
    out.tofile(p2)
    return p1, p2, (4 if words == {4} or not words else 2 if words == {2} else 4)


# ---------- physical references ----------

def zstd_size(args, path):
    tmp = os.path.join(A.root, "ref.zst")
    r = subprocess.run(["zstd", "-q", "-f", *args, path, "-o", tmp], capture_output=True, text=True)
    if r.returncode != 0:
        print(f"  zstd {' '.join(args)} failed: {r.stderr.strip()}")
        return None
    n = os.path.getsize(tmp)
    os.unlink(tmp)
    return n


def planes_size(v1, v2, word, levels=("-1", "-3")):
    """Bytes of v2 as byte planes (one plane per byte of each word) compressed with zstd: of v2
    alone, and of v2 XOR v1. A safetensors header is kept as it is, in front of the planes."""
    def load(p):
        raw = np.fromfile(p, dtype=np.uint8)
        off = 0
        if p.endswith(".safetensors"):
            off = 8 + struct.unpack("<Q", raw[:8].tobytes())[0]
        return raw[:off], raw[off:]
    h1, d1 = load(v1)
    h2, d2 = load(v2)
    usable = min(len(d1), len(d2)) // word * word
    res = {}
    tmp = os.path.join(A.root, "planes.bin")
    for label, data in (("planes", d2[:usable]), ("xor", d2[:usable] ^ d1[:usable])):
        planes = data.reshape(-1, word).T  # plane j = byte j of every word
        with open(tmp, "wb") as f:
            f.write(h2.tobytes())
            for j in range(word):
                f.write(np.ascontiguousarray(planes[j]).tobytes())
            f.write(d2[usable:].tobytes())
        for lv in levels:
            res[f"{label} {lv}"] = zstd_size([lv], tmp)
    os.unlink(tmp)
    return res


# ---------- mlv ----------

def mlv_case(case, v1, v2):
    repo = fresh_repo(os.path.join(A.root, f"repo-{case}"), MLV)
    rel = "models/model.safetensors" if v1.endswith(".safetensors") else "models/model.bin"
    dst = os.path.join(repo, rel)
    os.makedirs(os.path.dirname(dst))
    store = os.path.join(repo, ".mlv", "store")
    shutil.copyfile(v1, dst)
    s0 = du(store)
    c1 = timed(f"{MLV} track {rel} >/dev/null && {MLV} commit -q -m v1", repo)
    s1 = du(store)
    subprocess.run(["git", "tag", "v1"], cwd=repo, check=True)
    os.unlink(dst)
    shutil.copyfile(v2, dst)
    c2 = timed(f"{MLV} commit -q -m v2", repo)
    s2 = du(store)
    subprocess.run(["git", "tag", "v2"], cwd=repo, check=True)
    r = {"commit1": c1, "commit2": c2, "store_v1": s1 - s0, "growth_v2": s2 - s1, "checkout": {}, "wrong": []}
    for rev, src in (("v1", v1), ("v2", v2)):
        def rm():
            if os.path.exists(dst):
                os.unlink(dst)
        t = best_of(A.runs, f"{MLV} checkout -q {rev} -- {rel}", repo, before=rm)
        if sha256(dst) != sha256(src):
            r["wrong"].append(rev)
        r["checkout"][rev] = t
    if not A.keep:
        shutil.rmtree(repo, ignore_errors=True)
    return r


# ---------- run ----------

t_start = time.monotonic()
print(f"mlv: {MLV}\nroot: {A.root}\n", flush=True)
files = {}
if "fp32" in CASES or "bf16" in CASES:
    print("generating the fp32/bf16 safetensors models...", flush=True)
    files.update(make_fp32_bf16())
if "w2" in CASES:
    print("generating W2's model (gen_data.py gen_w2)...", flush=True)
    files["w2"] = make_w2()
if "real" in CASES and A.real:
    print(f"fine-tuning the real model {A.real}...", flush=True)
    files["real"] = make_real(A.real)

table = Table("issue 12, figure 2: store growth of a fine-tuned model (% of the file)", A)
for case in ("fp32", "bf16", "w2", "real"):
    if case not in files:
        continue
    v1, v2, word = files[case]
    size = os.path.getsize(v2)
    print(f"\n{case}: {v2} ({size / 2**20:.1f} MiB)", flush=True)
    pct = lambda n: None if n is None else 100 * n / size
    refs = {"zstd -1": zstd_size(["-1"], v2)}
    if not A.no_zstd19:
        t = time.monotonic()
        refs["zstd -19"] = zstd_size(["-19"], v2)
        print(f"  (zstd -19 took {time.monotonic() - t:.0f} s)", flush=True)
    # patch-from: default level; the window must cover v1 (zstd sets it from the base's size)
    refs["zstd -3 --patch-from=v1"] = zstd_size(["-3", f"--patch-from={v1}", "--memory=2048MB"], v2)
    for k, v in planes_size(v1, v2, word).items():
        refs[("byte planes + zstd " if k.startswith("planes") else "XOR v1 + byte planes + zstd ") + k.split()[1]] = v
    for k, v in refs.items():
        print(f"  {k:36} {pct(v):6.1f} %" if v is not None else f"  {k:36}  failed", flush=True)
    m = mlv_case(case, v1, v2)
    g = pct(m["growth_v2"])
    print(f"  mlv store after v1                   {pct(m['store_v1']):6.1f} %")
    print(f"  mlv store growth of v2               {g:6.1f} %")
    print(f"  commit v1 {m['commit1']['wall']:.2f} s, commit v2 {m['commit2']['wall']:.2f} s; "
          f"checkout v1 {m['checkout']['v1']['wall']:.2f} s, v2 {m['checkout']['v2']['wall']:.2f} s", flush=True)
    table.add(f"{case}: mlv store growth of v2", g, ("<=", TARGET[case]), " %", "{:.1f}")
    for k, v in refs.items():
        table.add(f"{case}:   ref {k}", pct(v), None, " %", "{:.1f}")
    table.add(f"{case}: commit v1 (s)", m["commit1"]["wall"], None, " s")
    table.add(f"{case}: commit v2 (s)", m["commit2"]["wall"], None, " s")
    table.add(f"{case}: checkout v1, fresh (s)", m["checkout"]["v1"]["wall"], None, " s")
    table.add(f"{case}: checkout v2, fresh (s)", m["checkout"]["v2"]["wall"], None, " s")
    table.add(f"{case}: checkout v1 / v2", m["checkout"]["v1"]["wall"] / m["checkout"]["v2"]["wall"], None, "×")
    if m["wrong"]:
        table.note(f"{case}: WRONG BYTES", f"checkout of {', '.join(m['wrong'])} did not give the committed file: MISS")
if "real" in CASES and not A.real:
    table.note("real fp32 weights", "skipped: none on this machine and none can be downloaded (pass --real PATH)")
table.print()
print(f"\nruntime {time.monotonic() - t_start:.0f} s")
if not A.keep:
    shutil.rmtree(DATA, ignore_errors=True)
    try:
        os.rmdir(A.root)
    except OSError:
        pass
