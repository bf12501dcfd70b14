"""Reads the ParallelRunStep's append_row file and writes a summary."""

import argparse
import os

parser = argparse.ArgumentParser()
parser.add_argument("--scores")
parser.add_argument("--report")
args = parser.parse_args()

with open(os.path.join(args.scores, "parallel_run_step.txt"), encoding="utf-8") as handle:
    scores = [line.split() for line in handle if line.strip()]
best = max(scores, key=lambda item: int(item[1]))
os.makedirs(args.report, exist_ok=True)
with open(os.path.join(args.report, "report.txt"), "w", encoding="utf-8") as handle:
    handle.write(f"files {len(scores)} best {best[0]} {best[1]}\n")
print(f"files scored: {len(scores)}, best {best[0]} ({best[1]})")
