"""CPU step: standardise x so the GPU step's gradient descent converges quickly."""

import argparse
import csv
import json
from pathlib import Path

parser = argparse.ArgumentParser()
parser.add_argument("--raw", required=True)
parser.add_argument("--prepared", required=True)
args = parser.parse_args()

with open(args.raw, newline="", encoding="utf-8") as handle:
    rows = [(float(r["x"]), float(r["y"])) for r in csv.DictReader(handle)]
xs = [x for x, _ in rows]
mean = sum(xs) / len(xs)
std = (sum((x - mean) ** 2 for x in xs) / len(xs)) ** 0.5
Path(args.prepared).write_text(json.dumps({
    "mean": mean, "std": std, "rows": [[(x - mean) / std, y] for x, y in rows]}))
print(f"prepared {len(rows)} rows (x mean {mean:.2f}, std {std:.2f})")
