#!/usr/bin/env python3
"""Issue 12, figure 6: peak memory (and time) of commit and checkout of one big file, with a
second version that every chunk differs from a little, so a delta store must use deltas.

The file (--gib GiB, default 10, dense: every byte written) repeats a 64 MiB block, half random
bytes and half CSV-like text, with the block's number stamped every 16 KiB so no content-defined
chunk repeats (nothing deduplicates). v2 = the same file with every 1000th 4-byte word changed
(+1 as an integer: the lowest mantissa bit of a float), written in place.
Steps, each one process under GNU time (peak RSS = its largest process), `sync` before each:
  commit v1              mlv track + mlv commit
  checkout v1            the file deleted, then `mlv checkout` (restore from the pointers)
  commit v2              after the in-place change
  checkout v2            the file deleted, then `mlv checkout` (reads v2: deltas if any)
  show v2                `mlv show HEAD:data/big.bin > /dev/null`
  checkout v1 -- FILE    the file deleted, then `mlv checkout v1 -- data/big.bin` (the older one)
Every checkout's bytes are checked (SHA-256) unless --no-verify. Target: peak RSS < 300 MB
(10^6 bytes) for each step.

    python3 Tests/Benchmarks/memory.py [--mlv .build/release/mlv] [--root /tmp/bench12-memory]
                                       [--gib 10] [--no-verify] [--keep]

Try --gib 1 first (about 25 s). With --gib 10 it took 248 s here before deltas and needs about
24 GiB: the 10 GiB file plus the store (two versions that share no chunk: about 6.9 GiB each)
under --root; everything is deleted at the end unless --keep.

Every issue-12 script also takes --json OUT (save the final table) and --against OUT.json (print
an earlier run's figures, e.g. the binary before deltas, as a "before" column); baselines of the
pre-delta binary are in Tests/Benchmarks/baselines/.
"""
import argparse, hashlib, os, shutil, sys, time

import numpy as np

sys.dont_write_bytecode = True  # no __pycache__ in the repository
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import bench_parser, GNU_TIME, Table, check_mlv, du, fresh_repo, sh, sha256, timed  # noqa: E402

ap = bench_parser(__doc__, "/tmp/bench12-memory")
ap.add_argument("--gib", type=float, default=10, help="size in GiB (whole 64 MiB blocks)")
ap.add_argument("--no-verify", action="store_true", help="skip the SHA-256 checks of what checkout writes")
A = ap.parse_args()
MLV = check_mlv(A.mlv)
BLOCK = 64 << 20
STAMP_EVERY = 16 << 10
LIMIT_MB = 300.0
if not GNU_TIME:
    print("note: /usr/bin/time missing (apt-get install time): peak RSS from getrusage, an upper bound")


def make_block(seed=1206):
    rng = np.random.default_rng(seed)
    half = BLOCK // 2
    rand = rng.integers(0, 256, half, dtype=np.uint8)
    # CSV-like text: id, two decimals, a word; built with numpy so 32 MiB takes a second
    words = np.array([b"alpha", b"beta", b"gamma", b"delta", b"omega", b"sigma", b"kappa", b"theta"])
    lines, size, i = [], 0, 0
    n = 200_000
    while size < half:
        ids = np.arange(i, i + n)
        a = rng.normal(0, 100, n)
        b = rng.random(n)
        w = words[rng.integers(0, len(words), n)]
        chunk = "".join(f"{k},{x:.4f},{y:.6f},{z.decode()}\n" for k, x, y, z in zip(ids.tolist(), a.tolist(), b.tolist(), w)).encode()
        lines.append(chunk)
        size += len(chunk)
        i += n
    text = np.frombuffer(b"".join(lines)[:half], dtype=np.uint8)
    return np.concatenate([rand, text])


def write_v1(path):
    """Returns the SHA-256 of what was written."""
    block = make_block()
    h = hashlib.sha256()
    with open(path, "wb") as f:
        for i in range(max(1, int(A.gib * 1024 // 64))):
            block.view(np.uint64)[::STAMP_EVERY // 8] = np.uint64(0x5EED0000_00000000 + i)
            f.write(block.data)
            h.update(block.data)
    return h.hexdigest()


def make_v2(path):
    """Every 1000th 4-byte word of the file + 1, in place; returns the new SHA-256."""
    h = hashlib.sha256()
    fd = os.open(path, os.O_RDWR)
    try:
        off = 0
        while True:
            buf = os.pread(fd, BLOCK, off)
            if not buf:
                break
            w = np.frombuffer(bytearray(buf), dtype=np.uint32)
            first = (-(off // 4)) % 1000
            w[first::1000] += np.uint32(1)
            data = w.tobytes()
            os.pwrite(fd, data, off)
            h.update(data)
            off += len(buf)
        os.fsync(fd)
    finally:
        os.close(fd)
    return h.hexdigest()


t0 = time.monotonic()
print(f"mlv: {MLV}\nroot: {A.root}\nsize: {A.gib:g} GiB", flush=True)
repo = fresh_repo(os.path.join(A.root, "repo"), MLV)
os.makedirs(os.path.join(repo, "data"))
rel = "data/big.bin"
path = os.path.join(repo, rel)
t = time.monotonic()
sha = {"v1": write_v1(path)}
print(f"wrote v1: {os.path.getsize(path) / 2**30:.1f} GiB in {time.monotonic() - t:.0f} s", flush=True)
store = os.path.join(repo, ".mlv", "store")
res, wrong = {}, []


def step(name, cmd, expect=None):
    r = timed(cmd, repo)
    res[name] = r
    ok = ""
    if expect and not A.no_verify:
        ok = "bytes ok" if sha256(path) == sha[expect] else "WRONG BYTES"
        if ok != "bytes ok":
            wrong.append(name)
    print(f"  {name:24} {r['wall']:7.1f} s  cpu {r['cpu']:7.1f} s  peak RSS {r['rss_mib'] * 1.048576:7.1f} MB  "
          f"store {du(store) / 2**30:6.2f} GiB  {ok}", flush=True)


def rm():
    if os.path.exists(path):
        os.unlink(path)


sh(f"{MLV} track {rel} >/dev/null", repo)
step("commit v1", f"{MLV} commit -q -m v1 && git tag v1")
rm()
step("checkout v1 (fresh)", f"{MLV} checkout -q", "v1")
t = time.monotonic()
sha["v2"] = make_v2(path)
print(f"made v2 in place (every 1000th word + 1) in {time.monotonic() - t:.0f} s", flush=True)
step("commit v2", f"{MLV} commit -q -m v2 && git tag v2")
rm()
step("checkout v2 (fresh)", f"{MLV} checkout -q", "v2")
step("show v2 > /dev/null", f"{MLV} show HEAD:{rel} >/dev/null")
rm()
step("checkout v1 -- FILE", f"{MLV} checkout -q v1 -- {rel}", "v1")

table = Table(f"issue 12, figure 6: peak memory, one {A.gib:g} GiB file (MB = 10^6 bytes)", A)
for name, r in res.items():
    table.add(f"{name}: peak RSS", r["rss_mib"] * 1.048576, ("<", LIMIT_MB), " MB", "{:.0f}")
for name, r in res.items():
    table.add(f"  {name}: time", r["wall"], None, " s", "{:.1f}")
table.add("  store after v1 and v2 (GiB)", du(store) / 2**30, None, " GiB")
for name in wrong:
    table.note(f"{name}: WRONG BYTES", "the file checked out is not the committed one: MISS")
table.print()
print(f"\nruntime {time.monotonic() - t0:.0f} s")
if not A.keep:
    shutil.rmtree(repo, ignore_errors=True)
    try:
        os.rmdir(A.root)
    except OSError:
        pass
