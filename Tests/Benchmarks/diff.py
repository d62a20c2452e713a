#!/usr/bin/env python3
"""Keyed diff of two CSVs of N rows x 10 columns (1% rows changed, 1% added, 1% removed):
`mlv diff A B --key id` between two commits, and the same comparison in DuckDB (pip) in the
same run, with wall time and peak memory.

    python3 Tests/Benchmarks/diff.py [--rows 1000000] [--mlv .build/release/mlv] [--root DIR]
"""
import argparse, os, shutil, subprocess, sys, time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
ap = argparse.ArgumentParser()
ap.add_argument("--rows", type=int, default=1_000_000)
ap.add_argument("--mlv", default=os.path.join(REPO, ".build/release/mlv"))
ap.add_argument("--root", default=os.environ.get("MLVBENCH_ROOT", "/tmp/mlvbench"))
A = ap.parse_args()
work = os.path.join(A.root, f"diff-{A.rows}")
os.makedirs(work, exist_ok=True)
mlv = os.path.abspath(A.mlv)


def run(cmd, cwd):
    tf = os.path.join(work, "time.out")
    t0 = time.monotonic()
    r = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", tf, "bash", "-c", cmd], cwd=cwd, capture_output=True, text=True)
    wall = time.monotonic() - t0
    if r.returncode != 0:
        sys.exit(f"failed: {cmd}\n{r.stdout}\n{r.stderr}")
    return wall, int(open(tf).read().split()[-1]) / 1024, r.stdout


if not os.path.exists(os.path.join(work, "v2.csv")):
    print(f"generating {A.rows:,} rows...", flush=True)
    subprocess.run([sys.executable, os.path.join(HERE, "gen_table.py"), str(A.rows)], cwd=work, check=True)
repo = os.path.join(work, "repo")
shutil.rmtree(repo, ignore_errors=True)
os.makedirs(os.path.join(repo, "data"))
setup = (f"git init -q -b main && git config user.name b && git config user.email b@e && {mlv} init >/dev/null && "
         f"cp ../v1.csv data/t.csv && {mlv} track data/t.csv >/dev/null && {mlv} commit -m v1 >/dev/null && "
         f"cp ../v2.csv data/t.csv && {mlv} commit -m v2 >/dev/null")
subprocess.run(setup, shell=True, cwd=repo, check=True)
w, m, out = run(f"{mlv} diff HEAD~1 HEAD --key id --format json > diff.json", repo)
print(f"mlv diff --key id      {w:6.2f} s  peak {m:7.1f} MiB")

venv = os.path.join(A.root, "venv")
py = os.path.join(venv, "bin", "python3")
if not os.path.exists(py):
    subprocess.run([sys.executable, "-m", "venv", venv], check=True)
subprocess.run([py, "-m", "pip", "install", "-q", "duckdb"], check=True)
q = """
import duckdb
c = duckdb.connect()
c.execute("create table a as select * from read_csv_auto('v1.csv')")
c.execute("create table b as select * from read_csv_auto('v2.csv')")
added = c.execute("select count(*) from b anti join a using (id)").fetchone()[0]
removed = c.execute("select count(*) from a anti join b using (id)").fetchone()[0]
cols = [r[0] for r in c.execute("describe a").fetchall() if r[0] != 'id']
cond = " or ".join(f"a.{x} is distinct from b.{x}" for x in cols)
modified = c.execute(f"select count(*) from a join b using (id) where {cond}").fetchone()[0]
stats = c.execute("summarize b").fetchall()
print(added, removed, modified)
"""
open(os.path.join(work, "duck.py"), "w").write(q)
w2, m2, out2 = run(f"{py} duck.py", work)
print(f"duckdb (join + summarize) {w2:6.2f} s  peak {m2:7.1f} MiB   (added, removed, modified = {out2.strip()})")
print(f"ratio mlv/duckdb: {w / w2:.2f}")
