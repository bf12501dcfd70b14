"""GPU step: fit y = a + b*x by gradient descent; on the GPU when one is visible.

The local executor sets CUDA_VISIBLE_DEVICES from the GPUs present (empty when there are
none, with a warning), so the script falls back to the CPU the same way it would in a pod
without a GPU.
"""

import argparse
import json
import os
from pathlib import Path

from kubeline import Run

parser = argparse.ArgumentParser()
parser.add_argument("--prepared", required=True)
parser.add_argument("--model", required=True)
parser.add_argument("--epochs", type=int, default=2000)
args = parser.parse_args()

visible = os.environ.get("CUDA_VISIBLE_DEVICES", "")
device = f"cuda:{visible.split(',')[0]}" if visible else "cpu"
data = json.loads(Path(args.prepared).read_text())
a = b = 0.0
rate = 0.05
n = len(data["rows"])
for _ in range(args.epochs):
    grad_a = sum(a + b * x - y for x, y in data["rows"]) * 2 / n
    grad_b = sum((a + b * x - y) * x for x, y in data["rows"]) * 2 / n
    a, b = a - rate * grad_a, b - rate * grad_b
slope = b / data["std"]
intercept = a - slope * data["mean"]
mse = sum((a + b * x - y) ** 2 for x, y in data["rows"]) / n
Path(args.model).write_text(json.dumps({"intercept": intercept, "slope": slope, "mse": mse,
                                        "device": device}, indent=1) + "\n")
run = Run.get_context()
run.log("slope", slope)
run.log("intercept", intercept)
print(f"device={device} y = {intercept:.3f} + {slope:.3f} x (mse {mse:.3f})")
