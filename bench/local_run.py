"""Per-step wall time of local runs: kubeline's executor against Kubeflow Pipelines' local runner.

Usage: python bench/local_run.py [--n 20] [--runs 3] [--no-peers] [--cold] [--no-fork]
                                [--no-bytecode]

kubeline: an N-step chain of trivial PythonScriptSteps (allow_reuse=False, so every step
really runs), compiled once outside the clock and run with the local executor in a fresh
process (`kubeline run`-equivalent, bubblewrap isolation when available); per-step time is
the run's wall time divided by N, fixed costs included, as the peer script reports it.
Also two independent branches of N/2 steps each, to show they overlap on 2 cores.
Peer: ../shared/bench/anchor_local.py N with kfp.local's SubprocessRunner, in .bench-venv.

Bytecode: an installed kubeline has its modules' bytecode (pip writes it, as it did for the
peer's packages in .bench-venv). A development checkout with PYTHONDONTWRITEBYTECODE set
has none, and then every step compiles the modules it imports from source (about 20 ms a
step). So the bench first compiles kubeline's bytecode where pip would have put it;
--no-bytecode measures the checkout as it is.

By default each step shim is forked by the run's fork server (decision 0012); --no-fork
starts each step as its own sandboxed interpreter (KUBELINE_FORKSERVER=0), pre-started
while its upstream runs (warm start, decision 0010); --cold turns both off.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _peers import SHARED_BENCH, PeerError, ensure_venv

STEP = textwrap.dedent("""\
    import os, sys
    out = sys.argv[sys.argv.index("--out") + 1]
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "v.txt"), "w") as handle:
        handle.write("1")
""")

PIPELINE = textwrap.dedent("""\
    import os
    from kubeline import Pipeline, PipelineData, PythonScriptStep, Workspace
    ws = Workspace.from_config()
    steps = []
    for branch in range(int(os.environ["BRANCHES"])):
        prev = None
        for i in range(int(os.environ["LENGTH"])):
            out = PipelineData(f"o{branch}_{i}")
            args = ["--out", out] + (["--in", prev] if prev is not None else [])
            steps.append(PythonScriptStep("step.py", name=f"b{branch}-s{i}", arguments=args,
                                          inputs=[prev] if prev is not None else [],
                                          outputs=[out], source_directory="scripts",
                                          allow_reuse=False))
            prev = out
    pipeline = Pipeline(ws, steps=steps)
""")

RUNNER = textwrap.dedent("""\
    import json, sys, time
    from pathlib import Path
    from kubeline.local import run_manifest
    docs = json.loads(Path(sys.argv[1]).read_text())
    start = time.perf_counter()
    summary = run_manifest(docs, parameters={}, state_dir=Path(sys.argv[2]))
    wall = time.perf_counter() - start
    assert summary.phase == "Succeeded", summary.phase
    print(f"wall={wall:.4f}")
""")


def _workspace(branches: int, length: int) -> tuple[Path, Path]:
    root = Path(tempfile.mkdtemp(prefix="kubeline-bench-local-"))
    (root / "scripts").mkdir()
    (root / "scripts" / "step.py").write_text(STEP, encoding="utf-8")
    (root / "pipeline.py").write_text(PIPELINE, encoding="utf-8")
    (root / "kubeline.yaml").write_text("name: bench\n", encoding="utf-8")
    (root / "runner.py").write_text(RUNNER, encoding="utf-8")
    os.environ.update(BRANCHES=str(branches), LENGTH=str(length))
    from kubeline.compiler.api import compile_file

    docs = compile_file(root / "pipeline.py")
    manifest = root / "manifest.json"
    manifest.write_text(json.dumps(docs), encoding="utf-8")
    return root, manifest


def _bytecode() -> None:
    """Compile kubeline's bytecode where an installed package has it (``__pycache__`` beside
    each module, git-ignored), as pip does at install; stale files are simply rewritten."""
    import compileall

    import kubeline

    if not compileall.compile_dir(Path(kubeline.__file__).parent, quiet=1):
        raise SystemExit("compiling kubeline's bytecode failed")


def kubeline_wall(branches: int, length: int, runs: int, env: dict[str, str]) -> float:
    """Best wall time of the executor running the compiled pipeline, in a fresh process."""
    root, manifest = _workspace(branches, length)
    best = float("inf")
    try:
        for _ in range(runs):
            done = subprocess.run([sys.executable, str(root / "runner.py"), str(manifest),
                                   str(root / ".kubeline")], cwd=root, capture_output=True,
                                  text=True, check=False,
                                  env={**os.environ, **env, "KUBELINE_WORKSPACE": str(root)})
            match = re.search(r"wall=([0-9.]+)", done.stdout)
            if done.returncode != 0 or match is None:
                raise SystemExit(f"kubeline run failed: {done.stderr.strip()[-500:]}")
            best = min(best, float(match.group(1)))
    finally:
        shutil.rmtree(root, ignore_errors=True)  # the throwaway workspace and its runs
    return best


def kfp_per_step(n: int, runs: int) -> float | None:
    try:
        python = ensure_venv()
    except PeerError as exc:
        print(f"kfp.local: skipped ({exc})")
        return None
    best = None
    for _ in range(runs):
        done = subprocess.run([str(python), "anchor_local.py", str(n)], cwd=SHARED_BENCH,
                              capture_output=True, text=True, check=False, timeout=900)
        match = re.search(r"per_step_ms=([0-9.]+)", done.stderr + done.stdout)
        if done.returncode != 0 or match is None:
            print(f"kfp.local: failed ({(done.stderr or done.stdout).strip()[-300:]})")
            return None
        value = float(match.group(1)) / 1000
        best = value if best is None else min(best, value)
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-peers", action="store_true")
    parser.add_argument("--cold", action="store_true",
                        help="fork server and warm start off: every step a new interpreter")
    parser.add_argument("--no-fork", action="store_true",
                        help="fork server off (KUBELINE_FORKSERVER=0); warm start stays on")
    parser.add_argument("--no-bytecode", action="store_true",
                        help="do not compile kubeline's bytecode first")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    forked = not (args.cold or args.no_fork)
    env = {"KUBELINE_WARM": "0" if args.cold else "1",
           "KUBELINE_FORKSERVER": "1" if forked else "0"}

    if not args.no_bytecode:
        _bytecode()

    def wall(branches: int, length: int) -> float:
        return kubeline_wall(branches, length, args.runs, env)

    chain = wall(1, args.n)
    one_branch = wall(1, args.n // 2)
    two_branches = wall(2, args.n // 2)
    ours = chain / args.n
    start_mode = "fork server" if forked else "warm start" if not args.cold else "cold"
    mode = (f"steps started by: {start_mode}, "
            f"{'no bytecode' if args.no_bytecode else 'bytecode compiled'}")
    print(f"kubeline  ({mode})")
    print(f"kubeline  chain n={args.n}: wall {chain:.2f} s, per step {ours * 1000:.0f} ms")
    print(f"kubeline  one branch of {args.n // 2}: {one_branch:.2f} s; two independent "
          f"branches of {args.n // 2}: {two_branches:.2f} s "
          f"(ratio {two_branches / one_branch:.2f}; 1.00 = perfect overlap)")
    if not args.no_peers:
        theirs = kfp_per_step(args.n, max(1, args.runs - 2))
        if theirs is not None:
            print(f"kfp.local chain n={args.n}: per step {theirs * 1000:.0f} ms")
            ratio = ours / theirs
            verdict = "met" if ratio <= 0.2 else "missed"
            print(f"ratio kubeline/kfp.local per step: {ratio:.3f} (target <= 0.2: {verdict})")
    print(f"bench took {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
