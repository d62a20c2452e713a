#!/usr/bin/env python3
"""Storage of a real-shaped history (issue 12, figure 1): a key-sorted daily time series
(KEYS keys, one row per key inserted per version, so every content-defined chunk changes),
VERSIONS versions committed one after the other. Side by side in one run:

  raw          the sum of the versions' sizes
  mlv          .mlv/store after committing every version (and a directory remote after push)
  git          .git after committing every version as a plain file, then `git gc --aggressive`
  zstd chain   zstd -19 of the first version plus `zstd --patch-from=<previous>` of each next one

Also a second history, "recomputed": one numeric column of every row recomputed in every
version (no rows inserted). Prints sizes and ratios to git's packs.

    python3 Tests/Benchmarks/history.py [--mlv .build/release/mlv] [--keys 200] [--versions 60]
                                         [--root DIR] [--only inserted|recomputed]
"""
import argparse, os, random, shutil, subprocess, sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
ap = argparse.ArgumentParser()
ap.add_argument("--mlv", default=os.path.join(REPO, ".build/release/mlv"))
ap.add_argument("--keys", type=int, default=200)
ap.add_argument("--versions", type=int, default=60)
ap.add_argument("--days", type=int, default=400, help="rows per key in the first version (≈ 4 MB per version at 200 keys)")
ap.add_argument("--root", default=os.environ.get("MLVBENCH_ROOT", "/tmp/mlvbench"))
ap.add_argument("--only", choices=["inserted", "recomputed"])
A = ap.parse_args()
mlv = os.path.abspath(A.mlv)
if not os.access(mlv, os.X_OK):
    sys.exit(f"no mlv binary at {mlv}: build one (make release) or pass --mlv")


def sh(cmd, cwd):
    r = subprocess.run(cmd, cwd=cwd, shell=True, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"failed: {cmd}\n{r.stdout}\n{r.stderr}")
    return r.stdout


def du(path):
    total = 0
    for d, _, files in os.walk(path):
        for f in files:
            p = os.path.join(d, f)
            if not os.path.islink(p):
                total += os.path.getsize(p)
    return total


def versions_inserted():
    """Version v holds, per key, days 0..days+v: sorted by key then date, so the new row of
    each key lands in the middle of the file and shifts everything after it."""
    rng = random.Random(7)
    keys = [f"K{rng.randrange(10**6):06d}" for _ in range(A.keys)]
    keys.sort()
    base = {k: [round(rng.uniform(10, 500), 2)] for k in keys}
    for k in keys:
        for _ in range(A.days + A.versions):
            base[k].append(round(base[k][-1] * (1 + rng.gauss(0, 0.02)), 2))
    for v in range(A.versions):
        lines = ["key,date,open,close,volume"]
        for k in keys:
            for d in range(A.days + v):
                c = base[k][d]
                lines.append(f"{k},2020-{1 + d // 28 % 12:02d}-{1 + d % 28:02d}+{d // 336},{c},{base[k][d + 1]},{int(c * 1000) % 99991}")
        yield "\n".join(lines) + "\n"


def versions_recomputed():
    """Same rows in every version; the `score` column of every row is recomputed."""
    rng = random.Random(11)
    rows = [(f"K{i:06d}", round(rng.uniform(0, 100), 3)) for i in range(A.keys * A.days)]
    for v in range(A.versions):
        lines = ["id,feature,score"]
        for rid, f in rows:
            lines.append(f"{rid},{f},{round(f * (1 + 0.01 * v) + rng.gauss(0, 0.5), 4)}")
        yield "\n".join(lines) + "\n"


def bench(name, gen):
    work = os.path.join(A.root, f"history-{name}-{A.keys}x{A.versions}")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    m, g, z = (os.path.join(work, x) for x in ("mlv", "git", "zstd"))
    for d in (m, g, z):
        os.makedirs(d)
    remote = os.path.join(work, "remote")
    sh(f"git init -q -b main && git config user.name b && git config user.email b@e && {mlv} init >/dev/null", m)
    sh("git init -q -b main && git config user.name b && git config user.email b@e", g)
    raw = 0
    prev = None
    for v, text in enumerate(gen()):
        data = text.encode()
        raw += len(data)
        for d in (m, g):
            with open(os.path.join(d, "series.csv"), "wb") as f:
                f.write(data)
        if v == 0:
            sh(f"{mlv} track series.csv >/dev/null", m)
        sh(f"{mlv} commit -q -m v{v}", m)
        sh(f"git add series.csv && git commit -q -m v{v}", g)
        cur = os.path.join(z, f"v{v}.csv")
        with open(cur, "wb") as f:
            f.write(data)
        if prev is None:
            sh(f"zstd -q -19 --long=27 {cur} -o {cur}.zst", z)
        else:
            sh(f"zstd -q -19 --long=27 --patch-from={prev} {cur} -o {cur}.zst", z)
            os.remove(prev)
        prev = cur
        print(f"\r{name}: version {v + 1}/{A.versions}", end="", flush=True)
    print()
    sh(f"{mlv} remote add bench {remote} --create >/dev/null && {mlv} push -q --all-commits", m)
    sh("git gc -q --aggressive --prune=now", g)
    mlv_store = du(os.path.join(m, ".mlv", "store"))
    mlv_remote = du(remote)
    git_packs = du(os.path.join(g, ".git", "objects"))
    zchain = sum(os.path.getsize(os.path.join(z, f)) for f in os.listdir(z) if f.endswith(".zst"))
    mb = lambda n: f"{n / 1e6:9.2f} MB"
    print(f"{name}: {A.versions} versions, {A.keys} keys, last version {len(data) / 1e6:.2f} MB")
    print(f"  raw (sum of versions)      {mb(raw)}")
    print(f"  git gc --aggressive        {mb(git_packs)}   1.00× git")
    print(f"  zstd --patch-from chain    {mb(zchain)}   {zchain / git_packs:5.2f}× git")
    print(f"  mlv store                  {mb(mlv_store)}   {mlv_store / git_packs:5.2f}× git   {mlv_store / raw:.3f} of raw")
    print(f"  mlv directory remote       {mb(mlv_remote)}   {mlv_remote / git_packs:5.2f}× git")


if A.only in (None, "inserted"):
    bench("inserted", versions_inserted)
if A.only in (None, "recomputed"):
    bench("recomputed", versions_recomputed)
