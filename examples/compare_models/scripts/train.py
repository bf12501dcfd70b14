"""Split the corpus and train two naive Bayes models (word counts with two smoothings)."""

import argparse
import json
import os
import pickle
from collections import Counter, defaultdict

parser = argparse.ArgumentParser()
parser.add_argument("--input", required=True)
parser.add_argument("--output", required=True)
args = parser.parse_args()

with open(args.input, "rb") as handle:
    corpus = pickle.load(handle)

pairs = list(zip(corpus["data"], corpus["target"], strict=True))
train = [p for i, p in enumerate(pairs) if i % 4 != 0]
test = [p for i, p in enumerate(pairs) if i % 4 == 0]

counts: dict = defaultdict(Counter)
priors: Counter = Counter()
for text, label in train:
    counts[label].update(text.split())
    priors[label] += 1

os.makedirs(args.output, exist_ok=True)
for name, alpha in (("model_a", 1.0), ("model_b", 0.01)):
    model = {"alpha": alpha, "priors": priors, "counts": {k: dict(v) for k, v in counts.items()}}
    with open(os.path.join(args.output, f"{name}.json"), "w") as handle:
        json.dump(model, handle, sort_keys=True)
with open(os.path.join(args.output, "test.json"), "w") as handle:
    json.dump(test, handle)
print(f"trained 2 models on {len(train)} documents, kept {len(test)} for testing")
