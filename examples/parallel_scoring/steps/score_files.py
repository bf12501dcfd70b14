"""ParallelRunStep entry script over files: each mini-batch is a list of file paths."""

import argparse
import os

from azureml_user.parallel_run import EntryScript


def init():
    global offset
    parser = argparse.ArgumentParser()
    parser.add_argument("--offset", type=int, default=0)
    args, _ = parser.parse_known_args()
    offset = args.offset
    EntryScript().logger.info("init() with offset %d", offset)


def run(mini_batch):
    results = []
    for path in mini_batch:
        with open(path, encoding="utf-8") as handle:
            total = sum(int(line) for line in handle if line.strip())
        print(f"scored {os.path.basename(path)}")
        results.append(f"{os.path.basename(path)} {total + offset}")
    return results
