"""Regenerate data/20news.pkl: a tiny labelled corpus in the shape of 20 Newsgroups.

Run once (python make_data.py); the pickle is committed so examples need no download.
"""

import pickle
import random

TOPICS = {
    "sci.space": "orbit launch rocket nasa moon shuttle satellite astronaut mars payload",
    "rec.autos": "engine car dealer tire brake wheel sedan mileage transmission oil",
    "comp.graphics": "image render pixel polygon shader bitmap color texture gif jpeg",
}
COMMON = [
    "the", "a", "of", "and", "to", "in", "is", "for", "it",
    "that", "with", "on", "this", "was", "be", "are", "have",
]


def main() -> None:
    rng = random.Random(20)
    docs, labels = [], []
    for label, words in sorted(TOPICS.items()):
        vocab = words.split()
        for _ in range(40):
            n = rng.randint(6, 14)
            text = [rng.choice(vocab if rng.random() < 0.12 else COMMON) for _ in range(n)]
            if rng.random() < 0.25:  # some documents borrow words from another topic
                other = rng.choice(sorted(TOPICS)).split(".")[0]
                borrowed = [t for t in sorted(TOPICS) if t.startswith(other)]
                text += [rng.choice(TOPICS[t].split()) for t in borrowed]
            docs.append(" ".join(text))
            labels.append(label)
    with open("data/20news.pkl", "wb") as handle:
        pickle.dump({"data": docs, "target": labels}, handle, protocol=4)


if __name__ == "__main__":
    main()
