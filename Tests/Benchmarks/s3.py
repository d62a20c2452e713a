#!/usr/bin/env python3
"""Push and pull through a local S3-compatible server: MB/s for mlv, next to the AWS CLI
copying the same pack files to and from the same server in the same run.

    python3 Tests/Benchmarks/s3.py [--mlv .build/release/mlv] [--root DIR] [--runs 3]

The server is moto on 127.0.0.1 with signatures checked (Tests/Scripts/s3-server.sh; this
script re-runs itself under it). moto is a Python server keeping objects in memory, so the
figures say more about it than about a real bucket: the AWS CLI (10 parallel requests,
8 MiB multipart, like mlv's 8 transfers) is the yardstick. Data: the 1 GiB CSV of
../shared/bench/gen_data.py (W1 v1), committed once; its packs are what both tools move.
"""
import argparse, os, shutil, subprocess, sys, time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
SHARED = os.path.abspath(os.path.join(REPO, "..", "shared", "bench"))

if "MLV_TEST_S3_ENDPOINT" not in os.environ:
    os.execvp("bash", ["bash", os.path.join(REPO, "Tests/Scripts/s3-server.sh"), sys.executable] + sys.argv)

ap = argparse.ArgumentParser()
ap.add_argument("--mlv", default=os.path.join(REPO, ".build/release/mlv"))
ap.add_argument("--root", default=os.environ.get("MLVBENCH_ROOT", "/tmp/mlvbench"))
ap.add_argument("--runs", type=int, default=3)
A = ap.parse_args()
A.mlv = os.path.abspath(A.mlv)
endpoint = os.environ["MLV_TEST_S3_ENDPOINT"]
env = dict(os.environ, AWS_ACCESS_KEY_ID=os.environ["MLV_TEST_S3_KEY"], AWS_SECRET_ACCESS_KEY=os.environ["MLV_TEST_S3_SECRET"],
           AWS_REGION="us-east-1", GIT_AUTHOR_NAME="bench", GIT_AUTHOR_EMAIL="b@x", GIT_COMMITTER_NAME="bench", GIT_COMMITTER_EMAIL="b@x")


def sh(cmd, cwd=None):
    r = subprocess.run(cmd, shell=True, cwd=cwd, env=env, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"failed ({r.returncode}): {cmd}\n{r.stdout}\n{r.stderr}")
    return r.stdout


def timed(cmd, cwd=None):
    os.sync()
    t0 = time.monotonic()
    sh(cmd, cwd)
    return time.monotonic() - t0


data = os.path.join(A.root, "data")
src = os.path.join(data, "w1", "train_v1.csv")
if not os.path.exists(src):
    subprocess.run([sys.executable, os.path.join(SHARED, "gen_data.py"), "--out", data], check=True)
work = os.path.join(A.root, "work-s3")
shutil.rmtree(work, ignore_errors=True)
repo = os.path.join(work, "repo")
os.makedirs(os.path.join(repo, "data"))
sh("git init -q -b main", repo)
shutil.copy(src, os.path.join(repo, "data", "train.csv"))
sh(f"{A.mlv} init && {A.mlv} track data/train.csv && {A.mlv} commit -m v1", repo)
packs = os.path.join(repo, ".mlv/store/packs")
size = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(packs) for f in fs)
aws = f"aws --endpoint-url {endpoint} s3"
print(f"data: {os.path.getsize(src) / 2**20:.0f} MiB CSV -> {size / 2**20:.0f} MiB of packs ({sum(len(fs) for _, _, fs in os.walk(packs))} files); server {endpoint} (moto)")

rows = []
for run in range(A.runs):
    bucket = f"bench-{os.getpid()}-{run}"
    sh(f"{aws} mb s3://{bucket}")
    sh(f"{A.mlv} remote remove origin 2>/dev/null; {A.mlv} remote add origin s3://{bucket}/mlv --endpoint {endpoint}", repo)
    push = timed(f"{A.mlv} push", repo)
    again = timed(f"{A.mlv} push", repo)
    clone = os.path.join(work, f"clone{run}")
    sh(f"git add -A && git commit -qm remote && git clone -q {repo} {clone}", repo)
    pull = timed(f"{A.mlv} fetch", clone)
    cli_up = timed(f"{aws} cp --recursive --quiet {packs} s3://{bucket}/cli/packs")
    down = os.path.join(work, f"down{run}")
    cli_down = timed(f"{aws} cp --recursive --quiet s3://{bucket}/cli/packs {down}")
    rows.append((push, again, pull, cli_up, cli_down))
    print(f"  run {run + 1}: mlv push {push:.2f} s, push again {again:.2f} s, mlv fetch {pull:.2f} s; aws s3 cp up {cli_up:.2f} s, down {cli_down:.2f} s", flush=True)
    shutil.rmtree(clone, ignore_errors=True)
    shutil.rmtree(down, ignore_errors=True)
    sh(f"{aws} rb --force s3://{bucket}")


def med(i):
    return sorted(r[i] for r in rows)[len(rows) // 2]


mb = size / 1e6
print("\nmedians (MB/s of pack data; ratio mlv time / aws time):")
print(f"  push   mlv {mb / med(0):7.1f} MB/s ({med(0):.2f} s)   aws s3 cp {mb / med(3):7.1f} MB/s ({med(3):.2f} s)   ratio {med(0) / med(3):.2f}")
print(f"  pull   mlv {mb / med(2):7.1f} MB/s ({med(2):.2f} s)   aws s3 cp {mb / med(4):7.1f} MB/s ({med(4):.2f} s)   ratio {med(2) / med(4):.2f}")
print(f"  second push (nothing to send): {med(1):.2f} s")
shutil.rmtree(work, ignore_errors=True)
