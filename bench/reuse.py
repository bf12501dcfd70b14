"""Reuse benchmarks (issue 5): not a test, prints figures for docs/performance.md.

1. Rerun of an unchanged 100-step pipeline (10 chains of 10 steps): wall time and number of
   step processes started. Target: under 1 s, zero step processes (Argo memoize fast path
   of the local executor: no pod, no shim).
2. Fingerprint of an unchanged 10,000-file / 200 MB source tree, first and second time.
   Target: second time under 0.2 s (the digest cache skips unchanged files).

    python bench/reuse.py [--steps 100] [--files 10000] [--mb 200]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

PIPELINE = '''
from kubeline import Pipeline, PipelineData, PythonScriptStep, Workspace

ws = Workspace.from_config()
store = ws.get_default_datastore()
steps = []
for chain in range({chains}):
    previous = None
    for link in range({links}):
        out = PipelineData(f"out_{{chain}}_{{link}}", datastore=store)
        args = ["--out", out, "--tag", f"{{chain}}-{{link}}"]
        inputs = []
        if previous is not None:
            args += ["--prev", previous]
            inputs = [previous]
        steps.append(PythonScriptStep(name=f"s{{chain}}-{{link}}", script_name="step.py",
                                      source_directory="steps", arguments=args,
                                      inputs=inputs, outputs=[out]))
        previous = out
pipeline = Pipeline(workspace=ws, steps=steps)
'''

STEP = '''
import argparse
p = argparse.ArgumentParser()
p.add_argument("--out"); p.add_argument("--tag"); p.add_argument("--prev")
a = p.parse_args()
open(a.out, "w").write(a.tag + "\\n")
'''


def _kubeline_run(root: Path) -> float:
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "kubeline.cli", "run", "pipeline.py"],
                          cwd=root, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"kubeline run failed:\n{done.stderr[-3000:]}")
    return elapsed


def bench_rerun(steps: int) -> None:
    from kubeline.compiler.api import compile_file
    from kubeline.history.db import History
    from kubeline.history.manifest import RunInfo
    from kubeline.local.recorder import run_with_history

    chains = max(1, steps // 10)
    links = steps // chains
    with tempfile.TemporaryDirectory(prefix="kubeline-bench-reuse-") as tmp:
        root = Path(tmp)
        (root / "kubeline.yaml").write_text("name: bench\n")
        (root / "pipeline.py").write_text(textwrap.dedent(PIPELINE.format(chains=chains,
                                                                          links=links)))
        (root / "steps").mkdir()
        (root / "steps" / "step.py").write_text(textwrap.dedent(STEP))
        first = _kubeline_run(root)
        cli_rerun = _kubeline_run(root)
        os.chdir(root)
        os.environ["KUBELINE_WORKSPACE"] = str(root)
        t0 = time.perf_counter()
        docs = compile_file(root / "pipeline.py")
        t1 = time.perf_counter()
        summary, run_id = run_with_history(docs, parameters={}, state_dir=root / ".kubeline",
                                           info=RunInfo(started_by="bench",
                                                        workspace=str(root)))
        t2 = time.perf_counter()
        with History(root / ".kubeline") as db:
            recorded = db.steps(run_id)
        started = sum(s.attempts for s in recorded)
        reused = sum(1 for s in recorded if s.reused)
        print(f"rerun of an unchanged {links * chains}-step pipeline "
              f"({chains} chains of {links}):")
        print(f"  first run (computes every step), kubeline run: {first:.2f} s")
        print(f"  rerun, kubeline run (interpreter start, compile, run): {cli_rerun:.2f} s")
        print(f"  rerun in-process: compile {t1 - t0:.3f} s + run {t2 - t1:.3f} s "
              f"= {t2 - t0:.3f} s ({summary.phase})")
        print(f"  step processes started: {started}; steps reused: {reused}/{len(recorded)}")


def bench_fingerprint(files: int, megabytes: int) -> None:
    from kubeline.reuse.snapshot import fingerprint

    size = megabytes * 1024 * 1024 // files
    with tempfile.TemporaryDirectory(prefix="kubeline-bench-fp-") as tmp:
        root = Path(tmp)
        (root / "kubeline.yaml").write_text("name: bench\n")
        src = root / "src"
        block = os.urandom(size)
        old = time.time() - 3600  # a tree edited an hour ago (not "racily clean")
        for i in range(files):
            folder = src / f"d{i // 100:03d}"
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"f{i:05d}.bin"
            path.write_bytes(i.to_bytes(4, "big") + block[4:])
            os.utime(path, (old, old))
        os.sync()
        t0 = time.perf_counter()
        first = fingerprint(src, with_git=False)
        t1 = time.perf_counter()
        second = fingerprint(src, with_git=False)
        t2 = time.perf_counter()
        assert first.hash == second.hash
        print(f"fingerprint of {files} files / {megabytes} MB:")
        print(f"  first time (reads every file): {t1 - t0:.3f} s")
        print(f"  second time (unchanged, digest cache): {t2 - t1:.3f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--mb", type=int, default=200)
    ns = parser.parse_args()
    bench_fingerprint(ns.files, ns.mb)
    bench_rerun(ns.steps)


if __name__ == "__main__":
    main()
