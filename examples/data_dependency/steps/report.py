"""Total revenue per region, best region first; --top limits the report."""

import argparse
import json
import os

parser = argparse.ArgumentParser()
parser.add_argument("--features", required=True)
parser.add_argument("--report", required=True)
parser.add_argument("--top", type=int, default=3)
args = parser.parse_args()

with open(os.path.join(args.features, "revenue.json")) as handle:
    features = json.load(handle)
totals: dict[str, float] = {}
for key, value in features.items():
    region = key.split("/")[0]
    totals[region] = round(totals.get(region, 0.0) + value, 2)
ranking = sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))[: args.top]
os.makedirs(args.report, exist_ok=True)
with open(os.path.join(args.report, "report.json"), "w") as handle:
    json.dump({"top": ranking}, handle)
for region, total in ranking:
    print(f"{region}: {total}")
