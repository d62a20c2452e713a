"""Pipeline step 4: score models/model.json on work/features.csv; writes eval.json."""
import csv
import json
import math

model = json.load(open("models/model.json"))
feats, classes = model["features"], sorted(model["classes"])
mean, std = model["standardization"]["mean"], model["standardization"]["std"]
right = total = 0
with open("work/features.csv", newline="") as f:
    for row in csv.DictReader(f):
        x = [(float(row[c]) - mean[c]) / (std[c] or 1) for c in feats]
        scores = {k: model["weights"][k]["bias"] + sum(model["weights"][k]["coef"][c] * v for c, v in zip(feats, x)) for k in classes}
        best = max(classes, key=lambda k: (scores[k], k))
        right += best == row["species"]
        total += 1
json.dump({"accuracy": round(right / total, 6), "rows": total}, open("eval.json", "w"), sort_keys=True, indent=2)
print("accuracy", round(right / total, 4), "on", total, "rows")
