"""Pick the better model; --param1 (the pipeline parameter) sets how many top words to keep."""

import argparse
import json
import os

from kubeline import Run

parser = argparse.ArgumentParser()
parser.add_argument("--comp_data1", required=True)
parser.add_argument("--comp_data2", required=True)
parser.add_argument("--output_data", required=True)
parser.add_argument("--param1", type=int, required=True)
args = parser.parse_args()

results = []
for folder in (args.comp_data1, args.comp_data2):
    with open(os.path.join(folder, "result.json")) as handle:
        results.append(json.load(handle))
best = max(results, key=lambda r: (r["accuracy"], r["model"]))
os.makedirs(args.output_data, exist_ok=True)
with open(os.path.join(args.output_data, "best.json"), "w") as handle:
    json.dump({"best": best["model"], "accuracy": best["accuracy"], "param1": args.param1,
               "candidates": results}, handle, sort_keys=True)
run = Run.get_context()
run.log("accuracy", best["accuracy"])
run.log("best_model", best["model"])
run.parent.log("best_accuracy", best["accuracy"])
print(f"best model: {best['model']} ({best['accuracy']:.3f}), param1={args.param1}")
