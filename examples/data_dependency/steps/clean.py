"""Drop rows with missing values; write one CSV per region into the output folder."""

import argparse
import csv
import os

parser = argparse.ArgumentParser()
parser.add_argument("--raw", required=True)
parser.add_argument("--cleaned", required=True)
args = parser.parse_args()

source = args.raw if os.path.isfile(args.raw) else os.path.join(args.raw, "sales.csv")
with open(source, newline="") as handle:
    rows = [r for r in csv.DictReader(handle) if all(v.strip() for v in r.values())]
os.makedirs(args.cleaned, exist_ok=True)
regions: dict[str, list[dict[str, str]]] = {}
for row in rows:
    regions.setdefault(row["region"], []).append(row)
for region, items in sorted(regions.items()):
    with open(os.path.join(args.cleaned, f"{region}.csv"), "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["region", "month", "units", "price"])
        writer.writeheader()
        writer.writerows(items)
print(f"kept {len(rows)} rows in {len(regions)} regions")
