"""Pipeline step 2: apply features/penguins.features.yaml to work/clean.csv.

Understands the expression forms the definitions use: `a / b`, `a * b` (columns or numbers)
and `col == 'value'`. Writes work/features.csv: species, the raw measurements and one column
per feature, rounded to 6 decimals so the output is byte-stable.
"""
import csv
import re

names, exprs = [], []
for line in open("features/penguins.features.yaml"):
    m = re.match(r"\s*- name:\s*(\S+)", line)
    if m and "features:" not in line:
        names.append(m.group(1))
    m = re.match(r"\s*expression:\s*(.+)", line)
    if m:
        exprs.append(m.group(1).strip())
names = names[-len(exprs):]          # the entity's name comes first in the file


def value(token, row):
    return float(row[token]) if token in row else float(token)


def evaluate(expr, row):
    m = re.fullmatch(r"(\w+)\s*==\s*'([^']*)'", expr)
    if m:
        return 1 if row[m.group(1)] == m.group(2) else 0
    m = re.fullmatch(r"([\w.]+)\s*([*/])\s*([\w.]+)", expr)
    if not m:
        raise SystemExit("featurize: cannot evaluate %r" % expr)
    a, op, b = value(m.group(1), row), m.group(2), value(m.group(3), row)
    return round(a * b if op == "*" else a / b, 6)


with open("work/clean.csv", newline="") as f, open("work/features.csv", "w", newline="") as out:
    rows = csv.DictReader(f)
    base = ["penguin_id", "species", "bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]
    w = csv.writer(out, lineterminator="\n")
    w.writerow(base + names)
    for row in rows:
        w.writerow([row[c] for c in base] + [evaluate(e, row) for e in exprs])
print("features:", ", ".join(names))
