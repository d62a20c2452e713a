#!/usr/bin/env python3
"""Crash stress: kills mlv commit, checkout, push, pull, gc and gc --aggressive with SIGKILL at
random moments and checks, after every kill, that nothing was lost:

  1. `mlv fsck` is clean (every object of every pack, every index, every reachable pointer);
  2. every committed snapshot reads back byte for byte (`mlv show REV:PATH`, SHA-256 against
     what was written when it was committed);
  3. every working file is wholly the old or wholly the new version (never a mix, never
     missing);
  4. the next, uninterrupted run of the same command succeeds and gives the expected result.

    python3 Tests/Stress/crash.py [--mlv .build/release/mlv] [--kills 50] [--seed 1]
                                  [--commands commit,checkout,push,pull,gc,gc-aggressive] [--keep]

--kills counts kills that landed while the command was still running; a run that finished
before its kill is checked all the same but not counted (at most 4 runs per kill wanted).
Kill moments are uniform over the command's own duration (measured on uninterrupted runs),
so early, middle and late kills all happen. Prints one line per command with the runs and
kills survived; exits 1 on the first failed check, naming it.

The tracked CSV is key-sorted and every version inserts one row per key, so each commit
stores its chunks as deltas against the previous version's (store format 2), and reads go
through delta chains. gc-aggressive (re-deltifying the store) runs only when `mlv gc --help`
lists --aggressive; otherwise it is reported as skipped.
"""
import argparse, hashlib, json, os, random, shutil, signal, subprocess, sys, tempfile, time

ap = argparse.ArgumentParser()
here = os.path.dirname(os.path.abspath(__file__))
ap.add_argument("--mlv", default=os.path.join(here, "..", "..", ".build", "release", "mlv"))
ap.add_argument("--kills", type=int, default=50)
ap.add_argument("--seed", type=int, default=1)
ap.add_argument("--commands", default="commit,checkout,push,pull,gc,gc-aggressive")
ap.add_argument("--keep", action="store_true", help="keep the work folder")
A = ap.parse_args()
MLV = os.path.abspath(A.mlv)
rng = random.Random(A.seed)
work = tempfile.mkdtemp(prefix="mlv-crash-")
repo = os.path.join(work, "repo")
remote = os.path.join(work, "remote")
env = dict(os.environ, GIT_AUTHOR_NAME="stress", GIT_AUTHOR_EMAIL="s@x", GIT_COMMITTER_NAME="stress",
           GIT_COMMITTER_EMAIL="s@x", HOME=work, GIT_CONFIG_NOSYSTEM="1")


class Failed(Exception):
    pass


def run(args, cwd=repo, ok=(0,)):
    r = subprocess.run(args, cwd=cwd, env=env, capture_output=True)
    if r.returncode not in ok:
        raise Failed(f"{' '.join(args)} exited {r.returncode}: {r.stderr.decode(errors='replace').strip()}")
    return r


def mlv(*args, cwd=repo, ok=(0,)):
    return run([MLV, *args], cwd=cwd, ok=ok)


def git(*args, cwd=repo):
    return run(["git", *args], cwd=cwd).stdout.decode().strip()


def sha(b):
    return hashlib.sha256(b).hexdigest()


def file_sha(path):
    try:
        with open(path, "rb") as f:
            return sha(f.read())
    except FileNotFoundError:
        return None


# The tracked data: one folder target with a large file, a CSV and small files, and one
# file target. Versions differ in a few places, as real edits do; the CSV is a key-sorted
# series that gains one row per key per version (rows inserted throughout, every chunk
# changes: commits store deltas against the previous version).
FILES = ["data/big.bin", "data/table.csv", "data/small/a.txt", "data/small/b.txt", "model.bin"]


def series(n, keys=500):
    days = 40 + n % 97          # the next version (n + 1) has one more row per key
    out = ["key,day,open,volume\n"]
    for k in range(keys):
        for d in range(days):
            h = (k * 1_000_003 + d * 7919) * 2654435761 % (1 << 32)
            out.append(f"K{k:04d},{d},{h % 50_000 / 100:.2f},{h % 9_999_991}\n")
    return "".join(out).encode()


def version(n):
    r = random.Random(n)
    big = bytearray(random.Random(0).randbytes(24 << 20))
    for _ in range(3):
        at = r.randrange(len(big) - 100_000)
        big[at:at + 100_000] = r.randbytes(100_000)
    return {
        "data/big.bin": bytes(big),
        "data/table.csv": series(n),
        "data/small/a.txt": f"a {n}\n".encode(),
        "data/small/b.txt": r.randbytes(3000),
        "model.bin": random.Random(7).randbytes(6 << 20)[: (6 << 20) - n % 5] + r.randbytes(n % 5 + 1),
    }


def write(files, root=repo):
    for p, b in files.items():
        path = os.path.join(root, p)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(b)


committed = {}      # commit id -> {path: sha}


def commit_version(n, msg):
    """Writes version n, commits it; returns how long the commit itself took."""
    v = version(n)
    write(v)
    t = time.monotonic()
    mlv("commit", "-m", msg)
    took = time.monotonic() - t
    committed[git("rev-parse", "HEAD")] = {p: sha(b) for p, b in v.items()}
    return took


def check_store(where=repo, label=""):
    r = mlv("fsck", cwd=where, ok=(0, 4))
    if r.returncode != 0:
        raise Failed(f"{label}: fsck found problems: {r.stdout.decode()[-2000:]}")


def check_snapshots(commits, where=repo, label=""):
    for c in commits:
        for p, h in committed[c].items():
            got = sha(mlv("show", f"{c}:{p}", cwd=where).stdout)
            if got != h:
                raise Failed(f"{label}: {c[:12]}:{p} reads back differently")


def check_whole(allowed, where=repo, label=""):
    for p in FILES:
        h = file_sha(os.path.join(where, p))
        if h not in allowed[p]:
            raise Failed(f"{label}: working file {p} is neither the old nor the new version")


def kill_during(args, delay, cwd=repo):
    p = subprocess.Popen([MLV, *args], cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(delay)
    p.send_signal(signal.SIGKILL)
    p.wait()
    return p.returncode == -signal.SIGKILL      # False: it had finished before the kill


def duration(args, cwd=repo, ok=(0,)):
    t = time.monotonic()
    mlv(*args, cwd=cwd, ok=ok)
    return time.monotonic() - t


def rounds(n):
    """Round numbers until n kills landed mid-way (at most 4n rounds, and at least n + 20:
    with few kills, a loaded machine can let several short runs finish before the kill);
    `landed()` counts one."""
    state = {"killed": 0, "runs": 0}
    def gen():
        while state["killed"] < n and state["runs"] < max(4 * n, n + 20):
            yield state["runs"]
            state["runs"] += 1
    return state, gen()


def setup():
    os.makedirs(repo)
    git("init", "-q", "-b", "main")
    mlv("init")
    write(version(1))
    mlv("track", "data", "model.bin")
    commit_version(1, "v1")
    git("tag", "v1")
    global commit_time
    commit_time = commit_version(2, "v2")
    git("tag", "v2")
    mlv("remote", "add", "origin", remote, "--create")
    git("commit", "-q", "-m", "remote")
    committed[git("rev-parse", "HEAD")] = committed[git("rev-parse", "v2")]


def stress_commit(n):
    state, it = rounds(n)
    t = commit_time
    for i in it:
        head = git("rev-parse", "HEAD")
        new = version(100 + i)
        write(new)
        if kill_during(["commit", "-m", f"c{i}"], rng.uniform(0, t * 1.2)):
            state["killed"] += 1
        label = f"commit kill {i + 1}"
        check_store(label=label)
        check_whole({p: {sha(new[p])} for p in FILES}, label=label)       # commit never writes data files
        t0 = time.monotonic()
        r = mlv("commit", "-m", f"c{i}", ok=(0, 1))                         # 1: the killed one had finished
        if r.returncode == 0:
            t = time.monotonic() - t0                                       # what a commit takes now
        committed[git("rev-parse", "HEAD")] = {p: sha(b) for p, b in new.items()}
        if git("rev-parse", "HEAD") == head and r.returncode == 1:
            raise Failed(f"{label}: nothing committed, yet the data changed")
        check_snapshots([head, git("rev-parse", "HEAD")], label=label)
    return state


def stress_checkout(n):
    state, it = rounds(n)
    t = max(duration(["checkout", "v1"]), duration(["checkout", "v2"]))     # ends at v2
    allowed = {p: {committed[git("rev-parse", "v1")][p], committed[git("rev-parse", "v2")][p]} for p in FILES}
    for i in it:
        target = "v1" if i % 2 == 0 else "v2"
        if kill_during(["checkout", target], rng.uniform(0, t * 1.2)):
            state["killed"] += 1
        label = f"checkout kill {i + 1}"
        check_store(label=label)
        check_whole(allowed, label=label)
        # A plain `mlv checkout` finishes whatever was interrupted (or syncs data to the
        # pointers); then status and git agree that nothing differs from HEAD.
        mlv("checkout")
        if mlv("status", "--exit-code", ok=(0, 1)).returncode != 0:
            raise Failed(f"{label}: after `mlv checkout`, status is not clean: {mlv('status').stdout.decode()[-1500:]}")
        porcelain = git("status", "--porcelain", "--untracked-files=no")
        if porcelain:
            raise Failed(f"{label}: after `mlv checkout`, git status shows changes: {porcelain}")
        mlv("checkout", target)
        want = committed[git("rev-parse", target)]
        for p in FILES:
            if file_sha(os.path.join(repo, p)) != want[p]:
                raise Failed(f"{label}: after a clean `mlv checkout {target}`, {p} is not {target}'s")
    git("checkout", "-q", "main")
    mlv("checkout")
    return state


def stress_push(n):
    state, it = rounds(n)
    def empty_remote():
        shutil.rmtree(remote, ignore_errors=True)
        shutil.rmtree(os.path.join(repo, ".mlv/cache/remote-index"), ignore_errors=True)
    empty_remote()
    t = duration(["push", "--all-commits"])
    for i in it:
        empty_remote()
        if kill_during(["push", "--all-commits"], rng.uniform(0, t * 1.2)):
            state["killed"] += 1
        label = f"push kill {i + 1}"
        if os.path.isdir(remote):
            r = mlv("fsck", "--remote", "origin", ok=(0, 4))
            if r.returncode != 0:
                raise Failed(f"{label}: remote fsck found problems: {r.stdout.decode()[-2000:]}")
        check_store(label=label)
        mlv("push", "--all-commits")
        if json.loads(mlv("push", "--all-commits", "--json").stdout)["bytes"] != 0:
            raise Failed(f"{label}: a push after the completing one still sent data")
    return state


def stress_pull(n):
    state, it = rounds(n)
    mlv("push", "--all-commits")
    head = git("rev-parse", "HEAD")
    t = None
    for i in it:
        clone = os.path.join(work, "clone")
        shutil.rmtree(clone, ignore_errors=True)
        git("clone", "-q", repo, clone, cwd=work)
        if t is None:
            t = duration(["pull"], cwd=clone)
            shutil.rmtree(clone)
            git("clone", "-q", repo, clone, cwd=work)
        if kill_during(["pull"], rng.uniform(0, t * 1.2), cwd=clone):
            state["killed"] += 1
        label = f"pull kill {i + 1}"
        check_store(where=clone, label=label)
        check_whole({p: {None, committed[head][p]} for p in FILES}, where=clone, label=label)
        mlv("pull", cwd=clone)
        check_whole({p: {committed[head][p]} for p in FILES}, where=clone, label=label)
    return state


def stress_gc(n):
    state, it = rounds(n)
    t = None
    for i in it:
        # Garbage: a commit on a branch that is then deleted.
        git("checkout", "-q", "-b", f"tmp{i}")
        commit_version(1000 + i, f"garbage {i}")
        dead = git("rev-parse", "HEAD")
        git("checkout", "-q", "main")
        mlv("checkout")
        git("branch", "-q", "-D", f"tmp{i}")
        run(["git", "reflog", "expire", "--expire=now", "--all"])
        del committed[dead]
        if t is None:
            t = duration(["gc"])          # the first round measures an uninterrupted gc
        elif kill_during(["gc"], rng.uniform(0, t * 1.2)):
            state["killed"] += 1
        label = f"gc kill {i + 1}"
        check_store(label=label)
        check_snapshots([c for c in committed if run(["git", "cat-file", "-e", c], ok=(0, 128)).returncode == 0], label=label)
        t0 = time.monotonic()
        mlv("gc")
        t = max(t, time.monotonic() - t0)
        check_store(label=label)
    return state


def stress_gc_aggressive(n):
    """gc --aggressive rewrites the store's packs into delta form: each round commits a new
    version (one more row per key) and some garbage, so there is always something to repack."""
    state, it = rounds(n)
    t = None
    for i in it:
        git("checkout", "-q", "-b", f"agg{i}")
        commit_version(2000 + i, f"garbage {i}")
        dead = git("rev-parse", "HEAD")
        git("checkout", "-q", "main")
        mlv("checkout")
        git("branch", "-q", "-D", f"agg{i}")
        run(["git", "reflog", "expire", "--expire=now", "--all"])
        del committed[dead]
        commit_version(3000 + i, f"live {i}")
        if t is None:
            t = duration(["gc", "--aggressive"])      # the first round measures an uninterrupted run
        elif kill_during(["gc", "--aggressive"], rng.uniform(0, t * 1.2)):
            state["killed"] += 1
        label = f"gc --aggressive kill {i + 1}"
        check_store(label=label)
        check_snapshots([c for c in committed if run(["git", "cat-file", "-e", c], ok=(0, 128)).returncode == 0], label=label)
        t0 = time.monotonic()
        mlv("gc", "--aggressive")
        t = max(t, time.monotonic() - t0)
        check_store(label=label)
        check_snapshots([git("rev-parse", "HEAD")], label=label)
    return state


def has_aggressive():
    return b"--aggressive" in run([MLV, "gc", "--help"], cwd=work).stdout


os.chdir(work)
try:
    setup()
    total = 0
    for cmd in A.commands.split(","):
        if cmd == "gc-aggressive" and not has_aggressive():
            print(f"{cmd:9} skipped: this mlv's gc has no --aggressive", flush=True)
            continue
        t0 = time.monotonic()
        st = globals()[f"stress_{cmd.replace('-', '_')}"](A.kills)
        total += st["killed"]
        print(f"{cmd:9} {st['runs']} runs, {st['killed']} killed mid-way, all checks passed after each ({time.monotonic() - t0:.1f} s)", flush=True)
        if st["killed"] < A.kills:
            raise Failed(f"{cmd}: only {st['killed']} of {A.kills} kills landed mid-way in {st['runs']} runs")
    check_snapshots([c for c in committed if run(["git", "cat-file", "-e", c], ok=(0, 128)).returncode == 0], label="end")
    print(f"ok: {total} interrupted runs, fsck clean and every snapshot intact after each")
except Failed as e:
    print(f"FAILED: {e}\n(work folder kept: {work})", file=sys.stderr)
    sys.exit(1)
if not A.keep:
    shutil.rmtree(work, ignore_errors=True)
