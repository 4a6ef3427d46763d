"""PII scanner: counts SSNs, e-mail addresses and phone numbers in the dataset.

Runs inside the Ephemera sandbox: the dataset is at $DATASET_PATH (a read-only
tmpfs), there is no network, and only this script's stdout leaves, as the
certified result. It prints counts, never the values it found.
"""
import json
import os
import re

PATTERNS = {
    "ssn": re.compile(r"\b\d{3}-\d{2}-\d{4}\b"),
    "email": re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b"),
    "phone": re.compile(r"(?:\(\d{3}\)\s?|\b\d{3}[-.])?\b\d{3}[-.]\d{4}\b"),
}

counts = {name: 0 for name in PATTERNS}
rows_with_pii = 0
rows = 0
with open(os.environ["DATASET_PATH"], encoding="utf-8") as dataset:
    next(dataset)  # header
    for line in dataset:
        rows += 1
        found = False
        for name, pattern in PATTERNS.items():
            hits = len(pattern.findall(line))
            counts[name] += hits
            found = found or hits > 0
        rows_with_pii += found

print(json.dumps({
    "rows": rows,
    "pii_found": counts,
    "rows_with_pii": rows_with_pii,
    "compliant": sum(counts.values()) == 0,
}))
