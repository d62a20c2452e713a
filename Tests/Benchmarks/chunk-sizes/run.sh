#!/usr/bin/env bash
# How much new data a small edit costs for each average chunk size, with mlv's own chunker
# (min = avg/4, max = 4 avg). The figures behind the 16/64/256 KiB choice in the README.
#   bash Tests/Benchmarks/chunk-sizes/run.sh [DATA]   (DATA: the workloads of Tests/Benchmarks/core.py)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
data=${1:-${MLVBENCH_ROOT:-/tmp/mlvbench}/data}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
sed -e 's/^public //' "$here/../../../Sources/MLVStore/Chunker.swift" > "$work/chunker.swift"
swiftc -O "$here/main.swift" "$work/chunker.swift" -o "$work/exp"
"$work/exp" "$data/w1/train_v1.csv,$data/w1/train_v2_append.csv" \
            "$data/w1/train_v1.csv,$data/w1/train_v3_modify.csv" \
            "$data/w2/model_v1.bin,$data/w2/model_v2.bin"
