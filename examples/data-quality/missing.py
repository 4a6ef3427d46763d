"""Data-quality check: the share of missing values per column of a CSV."""
import csv
import json
import os

with open(os.environ["DATASET_PATH"], newline="", encoding="utf-8") as dataset:
    reader = csv.DictReader(dataset)
    columns = reader.fieldnames or []
    missing = {column: 0 for column in columns}
    rows = 0
    for row in reader:
        rows += 1
        for column in columns:
            if (row.get(column) or "").strip() == "":
                missing[column] += 1

print(json.dumps({
    "rows": rows,
    "missing_share": {c: round(missing[c] / rows, 4) if rows else 0 for c in columns},
    "complete_columns": [c for c in columns if missing[c] == 0],
}))
