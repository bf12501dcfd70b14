"""Read the counts Spark wrote (a folder of CSV part files) and report the top words."""

import argparse
import csv
import json
from pathlib import Path

parser = argparse.ArgumentParser()
parser.add_argument("--counts", required=True)
parser.add_argument("--report", required=True)
parser.add_argument("--top", type=int, default=5)
args = parser.parse_args()

rows = []
for part in sorted(Path(args.counts).glob("part-*.csv")):
    with part.open(newline="", encoding="utf-8") as handle:
        rows += [(r["word"], int(r["count"])) for r in csv.DictReader(handle)]
rows.sort(key=lambda r: (-r[1], r[0]))
Path(args.report).parent.mkdir(parents=True, exist_ok=True)
top = [{"word": w, "count": c} for w, c in rows[: args.top]]
Path(args.report).write_text(json.dumps({"distinct": len(rows), "top": top}, indent=1) + "\n")
print("top words:", ", ".join(f"{t['word']}={t['count']}" for t in top))
