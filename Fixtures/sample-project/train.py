#!/usr/bin/env python3
"""Train a tiny softmax (multinomial logistic regression) classifier on the
Palmer penguins data to predict `species`.

Standard library only. Deterministic: a fixed seed, sorted class order,
full-batch gradient descent, and outputs rounded to 6 decimals, so two runs
write byte-identical files.

Usage:
    python3 train.py [--data data/penguins.csv] [--params params.yaml] [--out-dir .]

Writes <out-dir>/models/model.json and <out-dir>/metrics.json.
"""

import argparse
import csv
import json
import math
import os
import random
import sys

MISSING = ("", "NA")
DIGITS = 6


# --------------------------------------------------------------------------
# A tiny YAML subset parser, enough for params.yaml:
#   key: scalar
#   key:            followed by indented "sub: scalar" lines (one level)
#   key:            followed by indented "- scalar" lines
#   key: [a, b]     inline flow list of scalars
#   key: {a: 1}     inline flow mapping of scalars
# Comments (# ...) and blank lines are ignored.
# --------------------------------------------------------------------------

def _strip_comment(line):
    quote = None
    for i, ch in enumerate(line):
        if quote:
            if ch == quote:
                quote = None
        elif ch in ("'", '"'):
            quote = ch
        elif ch == "#" and (i == 0 or line[i - 1] in " \t"):
            return line[:i]
    return line


def _scalar(text):
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in ("'", '"'):
        return text[1:-1]
    if text.startswith("[") and text.endswith("]"):
        inner = text[1:-1].strip()
        return [_scalar(part) for part in inner.split(",")] if inner else []
    if text.startswith("{") and text.endswith("}"):
        inner = text[1:-1].strip()
        pairs = [part.partition(":") for part in inner.split(",")] if inner else []
        if any(not sep or not k.strip() for k, sep, _ in pairs):
            raise ValueError("bad inline mapping: %s" % text)
        return {k.strip(): _scalar(v) for k, _, v in pairs}
    low = text.lower()
    if low in ("", "null", "~"):
        return None
    if low == "true":
        return True
    if low == "false":
        return False
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


def parse_params(text):
    result = {}
    current = None  # top-level key whose indented block we are reading
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = _strip_comment(raw).rstrip()
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip(" "))
        if "\t" in line[: indent + 1]:
            raise ValueError("line %d: tabs are not allowed for indentation" % lineno)
        body = line.strip()
        if indent == 0:
            key, sep, value = body.partition(":")
            if not sep or not key.strip():
                raise ValueError("line %d: expected 'key: value'" % lineno)
            key = key.strip()
            if key in result:
                raise ValueError("line %d: duplicate key %r" % (lineno, key))
            if value.strip():
                result[key] = _scalar(value)
                current = None
            else:
                result[key] = None  # filled by the indented block, if any
                current = key
            continue
        if current is None:
            raise ValueError("line %d: unexpected indentation" % lineno)
        block = result[current]
        if body.startswith("- ") or body == "-":
            if block is None:
                block = result[current] = []
            if not isinstance(block, list):
                raise ValueError("line %d: list item inside a mapping" % lineno)
            block.append(_scalar(body[1:]))
        else:
            key, sep, value = body.partition(":")
            if not sep or not key.strip():
                raise ValueError("line %d: expected 'key: value'" % lineno)
            if block is None:
                block = result[current] = {}
            if not isinstance(block, dict):
                raise ValueError("line %d: mapping entry inside a list" % lineno)
            key = key.strip()
            if key in block:
                raise ValueError("line %d: duplicate key %r" % (lineno, key))
            block[key] = _scalar(value)
    return result


# --------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------

def load_rows(path, features, target):
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        missing_cols = [c for c in features + [target] if c not in (reader.fieldnames or [])]
        if missing_cols:
            raise SystemExit("%s: missing columns %s" % (path, ", ".join(missing_cols)))
        xs, ys, dropped = [], [], 0
        for row in reader:
            values = [row[c] for c in features]
            label = row[target]
            if label in MISSING or any(v in MISSING for v in values):
                dropped += 1
                continue
            xs.append([float(v) for v in values])
            ys.append(label)
    return xs, ys, dropped


def split(n, test_fraction, seed):
    order = list(range(n))
    random.Random(seed).shuffle(order)
    n_test = int(round(n * test_fraction))
    return sorted(order[n_test:]), sorted(order[:n_test])


def standardize_stats(xs):
    d = len(xs[0])
    means = [sum(x[j] for x in xs) / len(xs) for j in range(d)]
    stds = []
    for j in range(d):
        var = sum((x[j] - means[j]) ** 2 for x in xs) / len(xs)
        stds.append(math.sqrt(var) or 1.0)
    return means, stds


# --------------------------------------------------------------------------
# Model
# --------------------------------------------------------------------------

def softmax(z):
    m = max(z)
    e = [math.exp(v - m) for v in z]
    s = sum(e)
    return [v / s for v in e]


def scores(weights, bias, x):
    return [b + sum(w_j * x_j for w_j, x_j in zip(w, x)) for w, b in zip(weights, bias)]


def loss_and_accuracy(weights, bias, xs, ys):
    total, correct = 0.0, 0
    for x, y in zip(xs, ys):
        p = softmax(scores(weights, bias, x))
        total -= math.log(max(p[y], 1e-300))
        best = max(range(len(p)), key=lambda k: (p[k], -k))
        correct += best == y
    return total / len(xs), correct / len(xs)


def train(xs, ys, n_classes, lr, epochs, l2, seed):
    d = len(xs[0])
    rng = random.Random(seed)
    weights = [[rng.uniform(-0.01, 0.01) for _ in range(d)] for _ in range(n_classes)]
    bias = [0.0] * n_classes
    n = len(xs)
    for _ in range(epochs):
        gw = [[0.0] * d for _ in range(n_classes)]
        gb = [0.0] * n_classes
        for x, y in zip(xs, ys):
            p = softmax(scores(weights, bias, x))
            for k in range(n_classes):
                err = p[k] - (1.0 if k == y else 0.0)
                gb[k] += err
                row = gw[k]
                for j in range(d):
                    row[j] += err * x[j]
        for k in range(n_classes):
            bias[k] -= lr * gb[k] / n
            for j in range(d):
                weights[k][j] -= lr * (gw[k][j] / n + l2 * weights[k][j])
    return weights, bias


def r(v):
    v = round(v, DIGITS)
    return 0.0 if v == 0 else v  # no "-0.0" in the output


# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default=os.path.join("data", "penguins.csv"))
    ap.add_argument("--params", default="params.yaml")
    ap.add_argument("--out-dir", default=".")
    args = ap.parse_args(argv)

    try:
        with open(args.params, encoding="utf-8") as fh:
            params = parse_params(fh.read())
    except (OSError, ValueError) as exc:
        raise SystemExit("%s: %s" % (args.params, exc))
    tp = params.get("train") or {}
    lr = float(tp.get("learning_rate", 0.1))
    epochs = int(tp.get("epochs", 200))
    seed = int(tp.get("seed", 42))
    test_fraction = float(tp.get("test_fraction", 0.2))
    l2 = float(tp.get("l2", 0.0))
    target = params.get("target") or "species"
    features = params.get("features")
    if not isinstance(features, list) or not features:
        raise SystemExit("%s: 'features' must be a non-empty list" % args.params)
    features = [str(f) for f in features]

    try:
        xs, labels, dropped = load_rows(args.data, features, target)
    except (OSError, ValueError) as exc:
        raise SystemExit("%s: %s" % (args.data, exc))
    if not xs:
        raise SystemExit("%s: no usable rows" % args.data)
    classes = sorted(set(labels))
    ys = [classes.index(label) for label in labels]

    train_idx, test_idx = split(len(xs), test_fraction, seed)
    means, stds = standardize_stats([xs[i] for i in train_idx])

    def norm(x):
        return [(v - m) / s for v, m, s in zip(x, means, stds)]

    x_train = [norm(xs[i]) for i in train_idx]
    y_train = [ys[i] for i in train_idx]
    x_test = [norm(xs[i]) for i in test_idx]
    y_test = [ys[i] for i in test_idx]

    weights, bias = train(x_train, y_train, len(classes), lr, epochs, l2, seed)
    train_loss, train_acc = loss_and_accuracy(weights, bias, x_train, y_train)
    if x_test:
        test_loss, test_acc = loss_and_accuracy(weights, bias, x_test, y_test)
    else:
        test_loss, test_acc = None, None

    model = {
        "format": "mlv-sample-softmax-regression/1",
        "target": target,
        "classes": classes,
        "features": features,
        "standardization": {
            "mean": {f: r(m) for f, m in zip(features, means)},
            "std": {f: r(s) for f, s in zip(features, stds)},
        },
        "weights": {
            c: {"bias": r(b), "coef": {f: r(w) for f, w in zip(features, ws)}}
            for c, ws, b in zip(classes, weights, bias)
        },
        "params": {
            "learning_rate": lr,
            "epochs": epochs,
            "seed": seed,
            "test_fraction": test_fraction,
            "l2": l2,
        },
    }
    metrics = {
        "accuracy": {
            "train": r(train_acc),
            "test": None if test_acc is None else r(test_acc),
        },
        "loss": r(train_loss),
        "test_loss": None if test_loss is None else r(test_loss),
        "rows": {"train": len(train_idx), "test": len(test_idx), "dropped": dropped},
    }

    models_dir = os.path.join(args.out_dir, "models")
    os.makedirs(models_dir, exist_ok=True)
    for path, obj in ((os.path.join(models_dir, "model.json"), model),
                      (os.path.join(args.out_dir, "metrics.json"), metrics)):
        with open(path, "w", encoding="utf-8", newline="\n") as fh:
            json.dump(obj, fh, sort_keys=True, indent=2, allow_nan=False)
            fh.write("\n")
    print("accuracy train=%.4f test=%s loss=%.4f (rows: %d train, %d test, %d dropped)"
          % (train_acc, "n/a" if test_acc is None else "%.4f" % test_acc,
             train_loss, len(train_idx), len(test_idx), dropped))
    return 0


if __name__ == "__main__":
    sys.exit(main())
