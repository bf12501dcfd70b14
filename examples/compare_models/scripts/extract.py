"""Score both models on the held-out documents; write one result file per model."""

import argparse
import json
import math
import os

parser = argparse.ArgumentParser()
parser.add_argument("--input", required=True)
parser.add_argument("--output1", required=True)
parser.add_argument("--output2", required=True)
args = parser.parse_args()


def predict(model: dict, text: str) -> str:
    vocab = {w for words in model["counts"].values() for w in words}
    best, best_score = "", -math.inf
    for label, words in sorted(model["counts"].items()):
        total = sum(words.values())
        score = math.log(model["priors"][label])
        for word in text.split():
            score += math.log((words.get(word, 0) + model["alpha"])
                              / (total + model["alpha"] * len(vocab)))
        if score > best_score:
            best, best_score = label, score
    return best


with open(os.path.join(args.input, "test.json")) as handle:
    test = json.load(handle)
for name, out in (("model_a", args.output1), ("model_b", args.output2)):
    with open(os.path.join(args.input, f"{name}.json")) as handle:
        model = json.load(handle)
    correct = sum(predict(model, text) == label for text, label in test)
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "result.json"), "w") as handle:
        json.dump({"model": name, "accuracy": correct / len(test), "n": len(test)}, handle)
    print(f"{name}: accuracy {correct / len(test):.3f}")
