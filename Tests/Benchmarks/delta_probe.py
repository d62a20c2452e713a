#!/usr/bin/env python3
"""Design probe for issue 12 (delta chunks): how small is a new version's chunk stored as a
zstd delta against the previous version's chunks? Content-defined chunks (~64 KiB, cut at lines)
of version 58 and 59 of history.py's two histories; each new chunk compressed with zstd -1
alone, then with `--patch-from` a base: the old chunk starting with the same line, or
(BYOFFSET=1) the old chunks overlapping the same byte range. Prints bytes per version.

    python3 Tests/Benchmarks/delta_probe.py [recomputed]      (BYOFFSET=1 for the offset rule)
"""
import os, random, subprocess, sys, tempfile, zlib
os.chdir(tempfile.mkdtemp(prefix="mlv-delta-probe-"))
keys_n, days, versions = 200, 400, 60
rng = random.Random(7)
keys = sorted(f"K{rng.randrange(10**6):06d}" for _ in range(keys_n))
base = {k: [round(rng.uniform(10, 500), 2)] for k in keys}
for k in keys:
    for _ in range(days + versions):
        base[k].append(round(base[k][-1] * (1 + rng.gauss(0, 0.02)), 2))
def version(v):
    lines = ["key,date,open,close,volume"]
    for k in keys:
        for d in range(days + v):
            c = base[k][d]
            lines.append(f"{k},2020-{1 + d // 28 % 12:02d}-{1 + d % 28:02d}+{d // 336},{c},{base[k][d + 1]},{int(c * 1000) % 99991}")
    return [l + "\n" for l in lines]
def chunks(lines, avg=64*1024):
    # content-defined at line granularity: cut after a line whose crc mod (avg/45) == 0
    out, cur, size = [], [], 0
    n = avg // 45
    for l in lines:
        cur.append(l); size += len(l)
        if (zlib.crc32(l.encode()) % n == 0 and size > 16*1024) or size > 256*1024:
            out.append("".join(cur)); cur, size = [], 0
    if cur: out.append("".join(cur))
    return out
def z(args, data):
    open("cur", "w").write(data)
    return len(subprocess.run(["zstd", "-q", "-c"] + args + ["cur"], capture_output=True, check=True).stdout)
rng2 = random.Random(11)
rows = [(f"K{i:06d}", round(rng2.uniform(0, 100), 3)) for i in range(200 * 400)]
def recomputed(v):
    r = random.Random(1000 + v)
    return ["id,feature,score\n"] + [f"{rid},{f},{round(f * (1 + 0.01 * v) + r.gauss(0, 0.5), 4)}\n" for rid, f in rows]
a, b = (chunks(version(58)), chunks(version(59))) if sys.argv[1:] != ["recomputed"] else (chunks(recomputed(58)), chunks(recomputed(59)))
old_by_first = {c.split("\n", 1)[0]: c for c in a}
old_set = set(a)
tot_plain = tot_delta1 = tot_delta19 = reused = 0
for c in b:
    if c in old_set: reused += 1; continue
    p = z(["-1"], c); tot_plain += p
    basec = old_by_first.get(c.split("\n", 1)[0])
    if os.environ.get("BYOFFSET"):
        start = sum(len(x) for x in b[:b.index(c)]); end = start + len(c)
        offs, o = [], 0
        for x in a:
            if o < end and o + len(x) > start: offs.append(x)
            o += len(x)
        basec = "".join(offs) or None
    if basec is None:
        tot_delta1 += p; tot_delta19 += p; continue
    open("base", "w").write(basec)
    tot_delta1 += z(["-1", "--patch-from=base"], c)
    tot_delta19 += z(["-19", "--patch-from=base"], c)
print(f"chunks new={len(b)} reused={reused}; zstd-1 {tot_plain} B, delta -1 {tot_delta1} B, delta -19 {tot_delta19} B per version")
