"""Revenue per region and month, from the cleaned per-region files."""

import argparse
import csv
import json
import os

parser = argparse.ArgumentParser()
parser.add_argument("--cleaned", required=True)
parser.add_argument("--features", required=True)
args = parser.parse_args()

features = {}
for name in sorted(os.listdir(args.cleaned)):
    with open(os.path.join(args.cleaned, name), newline="") as handle:
        for row in csv.DictReader(handle):
            key = f"{row['region']}/{row['month']}"
            features[key] = round(int(row["units"]) * float(row["price"]), 2)
os.makedirs(args.features, exist_ok=True)
with open(os.path.join(args.features, "revenue.json"), "w") as handle:
    json.dump(features, handle, sort_keys=True)
print(f"{len(features)} features")
