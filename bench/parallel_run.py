"""Per-mini-batch overhead of ParallelRunStep on this machine, against plain multiprocessing.

Usage: python bench/parallel_run.py [--files 2000] [--sizes 2000,250,10,1] [--runs 3]
                                    [--nodes 2] [--processes 1]

The same entry script (init() once per process, run(mini_batch) reads each file and returns
one line per file) runs over the same FILES files in mini-batches of each SIZE:

* kubeline: a one-step pipeline (ParallelRunStep, node_count x process_count_per_node,
  allow_reuse=False) run by ``kubeline run`` in a fresh process: the compiled planner, the
  fan-out of worker pods (sandboxed processes) and the gather step, with the run history;
* peer: a fresh ``python`` that imports the entry script and maps run() over the same
  mini-batches with ``multiprocessing.Pool(nodes x processes, initializer=init)`` and
  writes the rows to one file: what the step does, without pods, datastores or history.

Printed per size: wall seconds (best of RUNS), the ratio and the worker pods the step ran
(up to 4 x nodes, decision 0030); then the cost of one more mini-batch for each tool: the
least-squares slope of wall time over mini-batches across the sizes that run every worker
pod, so pod start-ups and fixed costs (interpreter start, compile, plan, gather) stay out
of the per-mini-batch figure.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ENTRY = textwrap.dedent("""\
    import os

    def init():
        global prefix
        prefix = "scored"

    def run(mini_batch):
        out = []
        for path in mini_batch:
            with open(path, encoding="utf-8") as handle:
                out.append(f"{prefix} {os.path.basename(path)} {len(handle.read())}")
        return out
""")

PIPELINE = textwrap.dedent("""\
    import os
    from kubeline import (DataReference, ParallelRunConfig, ParallelRunStep, Pipeline,
                          PipelineData, Workspace)
    ws = Workspace.from_config()
    store = ws.get_default_datastore()
    step = ParallelRunStep("score", ParallelRunConfig(
        environment=None, entry_script="entry.py", source_directory="src",
        mini_batch_size=int(os.environ["SIZE"]), error_threshold=0,
        output_action="append_row", compute_target=None,
        node_count=int(os.environ["NODES"]),
        process_count_per_node=int(os.environ["PROCESSES"])),
        inputs=[DataReference(store, "files", "files")],
        output=PipelineData("rows", datastore=store), allow_reuse=False)
    pipeline = Pipeline(ws, steps=[step])
""")

PEER = textwrap.dedent("""\
    import multiprocessing, os, sys
    sys.path.insert(0, "src")
    import entry
    size, workers = int(sys.argv[1]), int(sys.argv[2])
    root = "data"
    files = sorted(os.path.join(root, name) for name in os.listdir(root))
    batches = [files[i:i + size] for i in range(0, len(files), size)]
    with multiprocessing.get_context("fork").Pool(workers, initializer=entry.init) as pool:
        results = pool.map(entry.run, batches, chunksize=1)
    with open("peer_rows.txt", "w", encoding="utf-8") as out:
        for rows in results:
            out.writelines(row + "\\n" for row in rows)
""")


def _workspace(root: Path, files: int) -> None:
    (root / "kubeline.yaml").write_text("name: bench-prs\n", encoding="utf-8")
    (root / "src").mkdir()
    (root / "src" / "entry.py").write_text(ENTRY, encoding="utf-8")
    (root / "pipeline.py").write_text(PIPELINE, encoding="utf-8")
    (root / "peer.py").write_text(PEER, encoding="utf-8")
    data = root / "data"
    data.mkdir()
    for i in range(files):
        (data / f"f{i:05d}.txt").write_text("x" * (i % 50 + 1), encoding="utf-8")
    store = root / ".kubeline" / "datastores" / "workspaceblobstore" / "files"
    store.parent.mkdir(parents=True)
    shutil.copytree(data, store)


def _timed(argv: list[str], cwd: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=1800, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv[:4])} failed ({done.returncode}):\n"
                         f"{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return elapsed


def _kubeline(root: Path, size: int, args: argparse.Namespace) -> float:
    env = {**os.environ, "SIZE": str(size), "NODES": str(args.nodes),
           "PROCESSES": str(args.processes)}
    return _timed([sys.executable, "-m", "kubeline.cli", "run", "pipeline.py", "--json"],
                  root, env)


def _peer(root: Path, size: int, args: argparse.Namespace) -> float:
    return _timed([sys.executable, "peer.py", str(size), str(args.nodes * args.processes)],
                  root, dict(os.environ))


def _rows_agree(root: Path) -> bool:
    """The last kubeline run's output has the peer's rows (same work, same order)."""
    outputs = root / ".kubeline" / "datastores" / "workspaceblobstore" / "kubeline" / "outputs"
    ours = sorted(outputs.glob("*/rows/parallel_run_step.txt"), key=lambda p: p.stat().st_mtime)
    peer = (root / "peer_rows.txt").read_text(encoding="utf-8")
    return bool(ours) and ours[-1].read_text(encoding="utf-8") == peer


def _slope(points: list[tuple[int, float]]) -> float:
    """Seconds per mini-batch: the least-squares slope of wall time over mini-batches."""
    mean_x = sum(x for x, _ in points) / len(points)
    mean_y = sum(y for _, y in points) / len(points)
    spread = sum((x - mean_x) ** 2 for x, _ in points)
    return sum((x - mean_x) * (y - mean_y) for x, y in points) / spread if spread else 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--sizes", default="2000,250,10,1",
                        help="files per mini-batch, comma-separated, fewest mini-batches first")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--nodes", type=int, default=2)
    parser.add_argument("--processes", type=int, default=1)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-prs-") as tmp:
        root = Path(tmp)
        _workspace(root, args.files)
        times: dict[int, tuple[list[float], list[float]]] = {s: ([], []) for s in sizes}
        agree = {s: True for s in sizes}
        for _ in range(args.runs):  # sizes interleaved: a load that drifts hits them alike
            for size in sizes:
                times[size][0].append(_kubeline(root, size, args))
                times[size][1].append(_peer(root, size, args))
                agree[size] = agree[size] and _rows_agree(root)
        for size in sizes:
            batches = -(-args.files // size)
            ours, peer = min(times[size][0]), min(times[size][1])
            rows.append({"size": size, "mini_batches": batches,
                         "pods": min(batches, 4 * args.nodes), "kubeline_s": round(ours, 3),
                         "peer_s": round(peer, 3), "ratio": round(ours / peer, 1),
                         "rows_agree": agree[size]})
    full = [r for r in rows if r["pods"] == 4 * args.nodes]
    print(f"ParallelRunStep: {args.files} files, {args.nodes} node(s) x {args.processes} "
          f"process(es), best of {args.runs}; peer: multiprocessing.Pool("
          f"{args.nodes * args.processes}) in a fresh python")
    print(f"{'files/batch':>11} {'batches':>8} {'pods':>5} {'kubeline s':>11} {'peer s':>8} "
          f"{'ratio':>6} {'same rows':>10}")
    for row in rows:
        print(f"{row['size']:>11} {row['mini_batches']:>8} {row['pods']:>5} "
              f"{row['kubeline_s']:>11.3f} {row['peer_s']:>8.3f} {row['ratio']:>6} "
              f"{'yes' if row['rows_agree'] else 'NO':>10}")
    if len(full) >= 2:
        ours, peer = (_slope([(r["mini_batches"], r[k]) for r in full])
                      for k in ("kubeline_s", "peer_s"))
        print(f"one more mini-batch (least-squares slope over the rows with {4 * args.nodes} "
              f"pods): kubeline {1000 * ours:.2f} ms, peer {1000 * peer:.2f} ms")
    print(json.dumps(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
