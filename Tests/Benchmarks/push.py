#!/usr/bin/env python3
"""Issue 12, figure 5: `mlv push` of v1 to a directory remote on the same disk, against copying
the same packs and making the copy equally durable.

A repository holding v1 of W1 (the 1 GiB CSV of ../shared/bench/gen_data.py, generated here with
that file's own generator, byte for byte W1's train_v1.csv) is committed once; then, --runs times,
each into a fresh folder on the same disk:
  mlv push               to a new directory remote (`mlv remote add NAME DIR --create`)
  cp -r; sync            `cp -r .mlv/store/packs DEST && sync` (the issue's reference)
  copy + fsync per file  a Python copy that fsyncs each file and each folder (what a durable
                         writer must do; `sync` also flushes other processes' dirty pages)
Best of --runs for each; prints the ratios (target: push <= 1.5x the copy).
`sync` runs before every timed step, the page cache is left warm (the packs were just written).

    python3 Tests/Benchmarks/push.py [--mlv .build/release/mlv] [--root /tmp/bench12-push]
                                     [--data W1_V1_CSV] [--rows 10000000] [--runs 3] [--keep]

--data: an existing W1 train_v1.csv (e.g. $MLVBENCH_ROOT/data/w1/train_v1.csv) instead of
generating one (~15 s). Runtime with the defaults: about 30 s (28 s before deltas). Scratch: about 2.5 GB under
--root, deleted at the end unless --keep.

Every issue-12 script also takes --json OUT (save the final table) and --against OUT.json (print
an earlier run's figures, e.g. the binary before deltas, as a "before" column); baselines of the
pre-delta binary are in Tests/Benchmarks/baselines/.
"""
import argparse, os, shutil, subprocess, sys, time

sys.dont_write_bytecode = True  # no __pycache__ in the repository
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import bench_parser, Table, check_mlv, du, fresh_repo, sh, shared_bench, timed  # noqa: E402

ap = bench_parser(__doc__, "/tmp/bench12-push")
ap.add_argument("--data", default=None, help="W1's train_v1.csv if you have it (else generated)")
ap.add_argument("--rows", type=int, default=10_000_000, help="rows of the generated CSV (W1: 10,000,000)")
ap.add_argument("--seed", type=int, default=20261127)
ap.add_argument("--runs", type=int, default=3)
A = ap.parse_args()
MLV = check_mlv(A.mlv)
os.makedirs(A.root, exist_ok=True)

FSYNC_COPY = r'''
import os, shutil, sys
src, dst = sys.argv[1], sys.argv[2]
def fsync_dir(d):
    fd = os.open(d, os.O_RDONLY | os.O_DIRECTORY)
    os.fsync(fd); os.close(fd)
for d, dirs, files in os.walk(src):
    out = os.path.join(dst, os.path.relpath(d, src))
    os.makedirs(out, exist_ok=True)
    for f in files:
        with open(os.path.join(d, f), "rb") as i, open(os.path.join(out, f), "wb") as o:
            shutil.copyfileobj(i, o, 8 << 20)
            o.flush()
            os.fsync(o.fileno())
    fsync_dir(out)
fsync_dir(os.path.dirname(os.path.abspath(dst)))
'''


def generate_w1_v1(path):
    """W1's train_v1.csv: gen_data.gen_w1's v1 stream, without writing v2 and v3."""
    sb = shared_bench()
    if sb is None:
        sys.exit("../shared/bench/gen_data.py not found: pass --data W1's train_v1.csv")
    sys.path.insert(0, sb)
    import gen_data  # noqa: E402
    vocab = gen_data.make_vocab(A.seed)
    nblocks = max(1, A.rows // gen_data.BLOCK_ROWS)
    tmp = path + ".part"
    with open(tmp, "wb") as f:
        f.write(gen_data.HEADER)
        for b in range(nblocks):
            f.write(gen_data.csv_block(A.seed, 1, b, b * gen_data.BLOCK_ROWS, gen_data.BLOCK_ROWS, vocab))
    os.rename(tmp, path)


t0 = time.monotonic()
print(f"mlv: {MLV}\nroot: {A.root}", flush=True)
if A.data:
    src = os.path.abspath(A.data)
else:
    src = os.path.join(A.root, f"w1_v1_{A.rows}.csv")
    if not os.path.exists(src):
        print("generating W1 v1 (gen_data.py's generator)...", flush=True)
        t = time.monotonic()
        generate_w1_v1(src)
        print(f"  {os.path.getsize(src) / 2**30:.2f} GiB in {time.monotonic() - t:.0f} s", flush=True)

repo = fresh_repo(os.path.join(A.root, "repo"), MLV)
os.makedirs(os.path.join(repo, "data"))
shutil.copyfile(src, os.path.join(repo, "data", "train.csv"))
commit = timed(f"{MLV} track data/train.csv >/dev/null && {MLV} commit -q -m v1", repo)
packs = os.path.join(repo, ".mlv", "store", "packs")
psize, npacks = du(packs), sum(len(f) for _, _, f in os.walk(packs))
print(f"commit v1: {commit['wall']:.1f} s; packs {psize / 2**20:.1f} MiB in {npacks} files "
      f"(the file: {os.path.getsize(src) / 2**20:.0f} MiB)", flush=True)

steps = {"mlv push": [], "cp -r; sync": [], "copy + fsync per file": []}
helper = os.path.join(A.root, "fsync_copy.py")
open(helper, "w").write(FSYNC_COPY)
remote_size = None
for i in range(A.runs):
    dest = os.path.join(A.root, f"dest-{i}")
    shutil.rmtree(dest, ignore_errors=True)
    sh(f"{MLV} remote add r{i} {dest} --create >/dev/null", repo)
    steps["mlv push"].append(timed(f"{MLV} push -q r{i}", repo)["wall"])
    remote_size = du(dest)
    shutil.rmtree(dest)
    steps["cp -r; sync"].append(timed(f"cp -r {packs} {dest} && sync", repo)["wall"])
    shutil.rmtree(dest)
    steps["copy + fsync per file"].append(timed(f"{sys.executable} {helper} {packs} {dest}", repo)["wall"])
    shutil.rmtree(dest)
    print(f"  run {i + 1}: " + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in steps.items()), flush=True)
best = {k: min(v) for k, v in steps.items()}
print(f"remote after push: {remote_size / 2**20:.1f} MiB ({remote_size / psize:.3f}× the packs)")

table = Table("issue 12, figure 5: push of v1 (W1, 1 GiB CSV) to a directory remote on the same disk", A)
table.add("mlv push (s)", best["mlv push"], None, " s")
table.add("  ref cp -r packs; sync (s)", best["cp -r; sync"], None, " s")
table.add("  ref copy + fsync per file (s)", best["copy + fsync per file"], None, " s")
table.add("mlv push / (cp -r; sync)", best["mlv push"] / best["cp -r; sync"], ("<=", 1.5), "×")
table.add("mlv push / (copy + fsync per file)", best["mlv push"] / best["copy + fsync per file"], ("<=", 1.5), "×")
table.add("  push throughput (MiB/s of packs)", psize / 2**20 / best["mlv push"], None, "", "{:.0f}")
table.add("  commit v1 (s)", commit["wall"], None, " s", "{:.1f}")
table.print()
print(f"\nruntime {time.monotonic() - t0:.0f} s")
if not A.keep:
    shutil.rmtree(repo, ignore_errors=True)
    os.unlink(helper)
    if not A.data:
        os.unlink(src)
    try:
        os.rmdir(A.root)
    except OSError:
        pass
