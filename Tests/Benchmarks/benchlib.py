"""Shared helpers for the issue-12 benchmark scripts (models.py, push.py, memory.py, history.py):
running a step and timing it (wall, CPU, peak RSS through GNU time when present, else
getrusage of the children), folder sizes, SHA-256 of a file, fresh repositories, and the final
table of figures with targets and PASS/MISS. Standard library only."""
import argparse, hashlib, os, resource, shutil, subprocess, sys, time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
GNU_TIME = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None


def default_mlv():
    return os.path.join(REPO, ".build/release/mlv")


def check_mlv(path):
    path = os.path.abspath(path)
    if not os.access(path, os.X_OK):
        sys.exit(f"no mlv binary at {path}: build one (make release) or pass --mlv")
    return path


def shared_bench():
    """../shared/bench (the side-by-side harness, W1/W2/W3 generator): beside the repository
    for /work/main, two levels up for a worktree under /work/wt/."""
    for up in ("..", os.path.join("..", "..")):
        p = os.path.abspath(os.path.join(REPO, up, "shared", "bench"))
        if os.path.exists(os.path.join(p, "gen_data.py")):
            return p
    return None


def sh(cmd, cwd=None, check=True):
    r = subprocess.run(cmd, cwd=cwd, shell=True, capture_output=True, text=True)
    if check and r.returncode != 0:
        sys.exit(f"failed ({r.returncode}): {cmd}\n{r.stdout}\n{r.stderr}")
    return r


def timed(cmd, cwd=None, sync=True, stdout_to=None):
    """Runs cmd (a shell string) once. Returns dict(wall, cpu, rss_mib, out). `sync` first so
    the previous step's dirty pages are not charged to this one. Peak RSS is the largest
    process of the step (GNU time's %M, which for `bash -c` is its largest descendant)."""
    if sync:
        os.sync()
    out_target = subprocess.DEVNULL if stdout_to == "null" else subprocess.PIPE
    if GNU_TIME:
        tf = f"/tmp/bench12-time.{os.getpid()}"
        t0 = time.monotonic()
        r = subprocess.run([GNU_TIME, "-f", "%U %S %M", "-o", tf, "bash", "-c", cmd], cwd=cwd,
                           stdout=out_target, stderr=subprocess.PIPE, text=True)
        wall = time.monotonic() - t0
        u, s, m = open(tf).read().split()[-3:]
        os.unlink(tf)
        cpu, rss = float(u) + float(s), int(m) / 1024
    else:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.monotonic()
        r = subprocess.run(["bash", "-c", cmd], cwd=cwd, stdout=out_target, stderr=subprocess.PIPE, text=True)
        wall = time.monotonic() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
        # ru_maxrss of the children is a high-water mark over all of them so far: a step after a
        # bigger one reports the bigger one. Good enough as an upper bound; install GNU time.
        rss = after.ru_maxrss / 1024
    if r.returncode != 0:
        sys.exit(f"step failed ({r.returncode}): {cmd}\n{r.stdout or ''}\n{r.stderr}")
    return {"wall": wall, "cpu": cpu, "rss_mib": rss, "out": r.stdout or ""}


def best_of(n, cmd, cwd=None, before=None, stdout_to=None):
    """Best wall time of n runs; before() runs untimed ahead of each run."""
    best = None
    for _ in range(n):
        if before:
            before()
        t = timed(cmd, cwd, stdout_to=stdout_to)
        if best is None or t["wall"] < best["wall"]:
            best = t
    return best


def du(path):
    """Bytes of the regular files under path (hard links counted once, symlinks not followed)."""
    total, seen = 0, set()
    if os.path.isfile(path):
        return os.path.getsize(path)
    for d, _, files in os.walk(path):
        for f in files:
            st = os.lstat(os.path.join(d, f))
            if st.st_ino in seen or not os.path.isfile(os.path.join(d, f)) or os.path.islink(os.path.join(d, f)):
                continue
            seen.add(st.st_ino)
            total += st.st_size
    return total


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            b = f.read(8 << 20)
            if not b:
                return h.hexdigest()
            h.update(b)


def fresh_repo(path, mlv):
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    sh(f"git init -q -b main && git config user.name bench && git config user.email bench@example.com && {mlv} init >/dev/null", path)
    return path


def help_lists(mlv, args, word):
    r = subprocess.run([mlv] + args + ["--help"], capture_output=True, text=True)
    return r.returncode == 0 and word in r.stdout


def bench_parser(doc, root, mlv=None):
    """The flags every issue-12 script takes: --mlv, --root (scratch), --keep, and the table's
    --json/--against. The script adds its own and calls parse_args()."""
    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mlv", default=mlv or default_mlv())
    ap.add_argument("--root", default=root)
    ap.add_argument("--keep", action="store_true", help="keep the scratch folders under --root")
    table_args(ap)
    return ap


def table_args(ap):
    """--json OUT (save the final table's figures) and --against JSON (a table saved by an earlier
    run, e.g. with the binary before a change: printed as a "before" column beside this run)."""
    ap.add_argument("--json", default=None, help="save the final table's figures to this file")
    ap.add_argument("--against", default=None, help="a --json file of an earlier run, printed as a 'before' column")


class Table:
    """Figures with their targets. add(name, value, target, unit): target is (op, bound) with
    op '<=' or '<', or None for a reference figure printed without a verdict. With args from
    table_args, print() also saves the figures (--json) and shows an earlier run's (--against)."""

    def __init__(self, title, args=None):
        self.title, self.rows = title, []
        self.json_out = getattr(args, "json", None)
        self.before = {}
        if getattr(args, "against", None):
            import json
            with open(args.against) as f:
                self.before = {r["name"]: r for r in json.load(f)["rows"]}

    def add(self, name, value, target=None, unit="", fmt="{:.2f}"):
        self.rows.append((name, value, target, unit, fmt))

    def note(self, name, text):
        self.rows.append((name, text, None, "", None))

    def verdicts(self):
        out = []
        for name, value, target, unit, fmt in self.rows:
            if target is None or value is None:
                continue
            op, bound = target
            out.append(value <= bound if op == "<=" else value < bound)
        return out

    def print(self):
        print(f"\n== {self.title} ==")
        w = max([len(r[0]) for r in self.rows] + [10])
        b = bool(self.before)
        print(f"  {'figure':{w}}  " + (f"{'before':>14}  " if b else "") + f"{'measured':>14}  {'target':>12}  verdict")
        for name, value, target, unit, fmt in self.rows:
            if fmt is None:
                print(f"  {name:{w}}  {value}")
                continue
            v = "n/a" if value is None else fmt.format(value) + unit
            if b:
                old = self.before.get(name, {}).get("value")
                v = ("-" if old is None else fmt.format(old) + unit).rjust(14) + "  " + v.rjust(14)
            t = "" if target is None else f"{target[0]} {fmt.format(target[1])}{unit}"
            if target is None:
                verdict = ""
            elif value is None:
                verdict = "MISS (not measured)"
            else:
                op, bound = target
                verdict = "PASS" if (value <= bound if op == "<=" else value < bound) else "MISS"
            print(f"  {name:{w}}  {v:>14}  {t:>12}  {verdict}")
        sys.stdout.flush()
        if self.json_out:
            import json
            rows = [{"name": n, "value": v if f is not None else None, "note": v if f is None else None,
                     "target": t, "unit": u} for n, v, t, u, f in self.rows]
            with open(self.json_out, "w") as f:
                json.dump({"title": self.title, "argv": sys.argv, "rows": rows}, f, indent=1)
