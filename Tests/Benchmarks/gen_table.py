#!/usr/bin/env python3
"""Two versions of a 10-column CSV for the diff benchmark: python3 gen_table.py ROWS (writes v1.csv, v2.csv here).
v2: 1% of rows modified, 1% removed, 1% added."""
import random, sys
# 1,000,000 rows x 10 columns; v2: 1% of rows changed, 1% removed, 1% added.
n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
rng = random.Random(7)
cats = ["red", "green", "blue", "cyan", "magenta"]
def row(i, r):
    return f"{i},{r.randint(0, 10**6)},{r.random():.6f},{r.gauss(0, 1):.5f},{cats[r.randrange(5)]},user_{r.randrange(50000)},{r.randint(1, 5)},2026-01-{r.randint(1, 28):02d},{r.random() < 0.5},note {r.randrange(1000)}\n"
hdr = "id,count,ratio,z,color,user,stars,day,flag,note\n"
with open("v1.csv", "w") as a, open("v2.csv", "w") as b:
    a.write(hdr); b.write(hdr)
    for i in range(n):
        r1 = random.Random(i)
        line = row(i, r1)
        a.write(line)
        x = rng.random()
        if x < 0.01: continue                 # removed
        if x < 0.02: b.write(row(i, random.Random(i + 10**9)))   # modified
        else: b.write(line)
    for i in range(n, n + n // 100): b.write(row(i, random.Random(i)))  # added
