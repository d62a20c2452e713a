"""Pipeline step 1: clean the raw penguins data (standard library only).

Reads data/penguins.csv, drops rows with a missing measurement or sex, numbers the rest with
penguin_id (the 1-based data row in the raw file) and writes work/clean.csv.
"""
import csv
import os

NUMERIC = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]

os.makedirs("work", exist_ok=True)
with open("data/penguins.csv", newline="") as f, open("work/clean.csv", "w", newline="") as out:
    rows = csv.DictReader(f)
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["penguin_id", "species", "island"] + NUMERIC + ["sex"])
    kept = 0
    for i, row in enumerate(rows, start=1):
        if any(row[c] in ("", "NA") for c in NUMERIC + ["sex"]):
            continue
        w.writerow([i, row["species"], row["island"]] + [row[c] for c in NUMERIC] + [row["sex"]])
        kept += 1
print("kept", kept, "rows")
