#!/usr/bin/env python3
"""Writes the Parquet fixtures of MLVParquetTests with pyarrow, and expected.json: what
pyarrow itself reads back from each file (rows, top-level columns, leaf columns, row groups),
so the tests compare mlv's reader with the writer's own view.

    python3 -m venv /tmp/pq && /tmp/pq/bin/pip install pyarrow && /tmp/pq/bin/python make.py
"""
import datetime, json, os
import pyarrow as pa
import pyarrow.parquet as pq

here = os.path.dirname(os.path.abspath(__file__))
n = 1000
flat = pa.table({
    "id": pa.array(range(n), pa.int64()),
    "price": pa.array([i * 0.25 for i in range(n)], pa.float64()),
    "name": pa.array([f"item {i % 37}" for i in range(n)], pa.string()),
    "ok": pa.array([i % 3 == 0 for i in range(n)], pa.bool_()),
    "at": pa.array([datetime.datetime(2024, 1, 1) + datetime.timedelta(seconds=i) for i in range(n)], pa.timestamp("us")),
})
nested = pa.table({
    "id": pa.array(range(50), pa.int32()),
    "point": pa.array([{"x": i, "y": -i} for i in range(50)], pa.struct([("x", pa.int64()), ("y", pa.int64())])),
    "tags": pa.array([[f"t{j}" for j in range(i % 4)] for i in range(50)], pa.list_(pa.string())),
    "attrs": pa.array([[("k", i)] for i in range(50)], pa.map_(pa.string(), pa.int64())),
})
files = {
    "flat-snappy-v1.parquet": (flat, dict(compression="snappy", data_page_version="1.0", row_group_size=300)),
    "flat-zstd-v2-plain.parquet": (flat, dict(compression="zstd", data_page_version="2.0", use_dictionary=False)),
    "flat-gzip-int96.parquet": (flat, dict(compression="gzip", use_deprecated_int96_timestamps=True, row_group_size=999)),
    "nested-none.parquet": (nested, dict(compression="none")),
    "empty.parquet": (flat.slice(0, 0), dict()),
}
expected = {}
for name, (table, opts) in files.items():
    path = os.path.join(here, name)
    pq.write_table(table, path, **opts)
    md = pq.ParquetFile(path).metadata
    expected[name] = {"rows": md.num_rows, "columns": len(md.schema.to_arrow_schema()),
                      "leaves": md.num_columns, "row_groups": md.num_row_groups,
                      "created_by": md.created_by}
json.dump(expected, open(os.path.join(here, "expected.json"), "w"), indent=1, sort_keys=True)
print(json.dumps(expected, indent=1))
