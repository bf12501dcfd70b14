"""Compile-time benchmark: kubeline against hera and the Kubeflow Pipelines v2 compiler.

Every tool builds the same N-step chain as ../shared/bench/anchor_compile.py: step 0 runs
prep.py, step i runs train.py on step i-1's output and one pipeline parameter (the anchor's
docstring says step i-2 is read too, its code does not; this mirrors the code: N-1 edges).
Each run is a fresh interpreter with imports outside the clock, best of 3 per tool and N,
so the ratios printed compare like with like in one run on one machine.

    python bench/compile.py                  # N = 100, 1,000, 10,000 with peers
    python bench/compile.py --n 1000         # one size
    python bench/compile.py --no-peers       # kubeline only
    python bench/compile.py --profile --n 1000 --no-peers   # cProfile hotspots too
    python bench/compile.py --target kfp     # kubeline's KFP backend against kfp's compiler
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from _peers import PeerError, ensure_venv, run_anchor

if TYPE_CHECKING:
    from kubeline.compiler.argo.compiled import CompiledPipeline

SIZES = (100, 1_000, 10_000)
PEERS = ("hera", "kfp")
TARGET_HERA_RATIO = 0.2  # at N=1,000: at most 1/5 of hera's time
TARGET_10K_SECONDS = 2.0


@dataclass
class Result:
    """Best-of-runs figures of one tool at one N (status says why figures may be missing)."""

    tool: str
    n: int
    seconds: float | None = None
    workflow_bytes: int | None = None  # the Workflow document alone (peers: their one YAML)
    total_bytes: int | None = None  # everything written for the pipeline
    memoize_bytes: int | None = None  # kubeline with cluster.argo_memoize: true
    wall: float | None = None  # the whole process, imports included
    status: str = "ok"
    runs: list[float] = field(default_factory=list)

    def keep(self, seconds: float, workflow_bytes: int, total_bytes: int, wall: float) -> None:
        self.runs.append(seconds)
        if self.seconds is None or seconds < self.seconds:
            self.seconds, self.wall = seconds, wall
        self.workflow_bytes, self.total_bytes = workflow_bytes, total_bytes


# -- kubeline, in a child process ------------------------------------------------------------
def _folder() -> Path:
    """A throwaway workspace folder with the two scripts the steps name."""
    root = Path(tempfile.mkdtemp(prefix="kubeline-bench-")).resolve()
    scripts = root / "scripts"
    scripts.mkdir()
    (scripts / "prep.py").write_text("print('prep')\n", encoding="utf-8")
    (scripts / "train.py").write_text("print('train')\n", encoding="utf-8")
    return root


def build_and_compile(n: int, root: Path, memoize: bool | None = None, target: str = "argo"
                      ) -> tuple[float, CompiledPipeline, dict[str, str]]:
    """Time steps + Pipeline + graph() + compile_graph + render for an N-step chain in root.

    The same scope as hera's figure (object construction + to_yaml). The workspace is opened
    before the clock starts; cwd must be root (Pipeline resolves source_directory from it).
    """
    # the snapshot code (and pathspec) is imported on first use: an import, so it is done
    # here, outside the clock, like every other
    import pathspec  # noqa: F401

    import kubeline.reuse.snapshot  # noqa: F401
    from kubeline._gc import paused_gc
    from kubeline.compiler.api import render
    from kubeline.compiler.argo.workflow import compile_graph
    from kubeline.compiler.kfp.pipeline import HEADER, compile_graph_kfp
    from kubeline.compiler.yaml_emit import dump
    from kubeline.dsl.data import PipelineData, PipelineParameter
    from kubeline.dsl.pipeline import Pipeline
    from kubeline.dsl.steps import PythonScriptStep
    from kubeline.dsl.workspace import Workspace

    ws = Workspace(_root=root)
    start = time.perf_counter()
    p = PipelineParameter("p", "10")
    prev = PipelineData("out0")
    steps = [PythonScriptStep("prep.py", name="s0", arguments=["--x", p, "--out", prev],
                              outputs=[prev], source_directory="scripts")]
    for i in range(1, n):
        out = PipelineData(f"out{i}")
        steps.append(PythonScriptStep("train.py", name=f"s{i}",
                                      arguments=["--x", p, "--a", prev, "--out", out],
                                      inputs=[prev], outputs=[out], source_directory="scripts"))
        prev = out
    pipeline = Pipeline(ws, steps=steps)
    pipeline.name = "bench"
    if target == "kfp":  # the PipelineSpec as `kubeline compile --target kfp` writes it
        compiled = compile_graph_kfp(pipeline.graph(), ws.config)
        with paused_gc():  # as kubeline.compiler.kfp.render does
            body = "---\n".join(dump(doc) for doc in compiled.documents)
        files = {f"{compiled.name}.yaml": f"{HEADER}\n{body}"}
    else:
        compiled = compile_graph(pipeline.graph(), ws.config, memoize=memoize)
        files = render([compiled])
    return time.perf_counter() - start, compiled, files


def sizes_of(compiled: CompiledPipeline, files: dict[str, str]) -> dict[str, int]:
    """Bytes of the Workflow document alone and of the whole multi-document file."""
    from kubeline.compiler.yaml_emit import dump

    workflow = [d for d in compiled.documents if d.get("kind", "Workflow") == "Workflow"]
    stream = f"{compiled.name}.yaml"
    return {
        "workflow_bytes": len(dump(workflow[0]).encode()),
        "total_bytes": len(files[stream].encode()),
        "configmaps": sum(1 for d in compiled.documents if d.get("kind") == "ConfigMap"),
        "kustomization_bytes": sum(len(t.encode()) for name, t in files.items()
                                   if name != stream),
    }


def _child(n: int, target: str) -> None:
    """One measured run, printed as a JSON line for the parent."""
    root = _folder()
    os.chdir(root)
    seconds, compiled, files = build_and_compile(n, root, target=target)
    memo = None
    if target == "argo":
        _, memo_compiled, memo_files = build_and_compile(n, root, memoize=True)  # bytes only
        memo = sizes_of(memo_compiled, memo_files)["total_bytes"]
    print(json.dumps({"seconds": seconds, **sizes_of(compiled, files), "memoize_bytes": memo}))


def run_kubeline(n: int, timeout: float, target: str = "argo"
                 ) -> tuple[float, dict[str, Any], float] | None:
    """A fresh-process run, like the peers get; None when it ran past the timeout."""
    start = time.perf_counter()
    try:
        done = subprocess.run([sys.executable, __file__, "--child", str(n), "--target", target],
                              capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return None
    wall = time.perf_counter() - start
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        raise PeerError(f"kubeline run at N={n} failed: {tail[0]}")
    data = json.loads(done.stdout.strip().splitlines()[-1])
    return float(data.pop("seconds")), data, wall


# -- profile ------------------------------------------------------------------------------------
def _profile_here(n: int, top: int) -> None:
    """cProfile one run as the timed runs see it (fresh process, imports done, nothing warm)."""
    import kubeline.compiler.api
    import kubeline.compiler.argo.workflow
    import kubeline.dsl.pipeline
    import kubeline.dsl.steps
    import kubeline.dsl.workspace  # noqa: F401  (imports stay out of the profile, as of the clock)

    root = _folder()
    os.chdir(root)
    prof = cProfile.Profile()
    prof.enable()
    seconds, _, _ = build_and_compile(n, root)
    prof.disable()
    print(f"\n=== cProfile of kubeline at N={n:,} ({seconds:.3f} s with profiler on) ===")
    for key in ("tottime", "cumulative"):
        out = io.StringIO()
        pstats.Stats(prof, stream=out).strip_dirs().sort_stats(key).print_stats(top)
        body = out.getvalue()
        print(f"--- top {top} by {key} ---")
        print(body[body.find("   ncalls"):].rstrip())


def profile(n: int, top: int, timeout: float) -> None:
    """Profile in a child process, so every size starts from the same cold state."""
    cmd = [sys.executable, __file__, "--child", str(n), "--profile", "--top", str(top)]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        print(f"\n=== cProfile of kubeline at N={n:,}: timeout (> {timeout:.0f} s) ===")
        return
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        raise PeerError(f"profiling kubeline at N={n} failed: {tail[0]}")
    print(done.stdout.rstrip())


# -- report -----------------------------------------------------------------------------------
def _f(value: float | None, fmt: str) -> str:
    return "-" if value is None else format(value, fmt)


def _ratio(a: float | None, b: float | None) -> str:
    return "-" if a is None or b is None or b == 0 else f"{a / b:.2f}x"


def _per(value: int | None, n: int) -> float | None:
    return None if value is None else value / n


def report(results: dict[tuple[str, int], Result], sizes: list[int], tools: list[str],
           target: str = "argo") -> bool:
    """Print the table, the ratios and the targets; True when every target checked is met."""
    print("\ncompile time and size, best of runs (each run a fresh process)")
    head = (f"{'tool':<9}{'N':>7}{'time s':>9}{'ms/step':>9}{'B/step wf':>11}"
            f"{'B/step all':>12}{'bytes all':>12}{'proc s':>8}  runs")
    print(head)
    print("-" * len(head))
    for n in sizes:
        for tool in tools:
            r = results[(tool, n)]
            if r.seconds is None:
                print(f"{tool:<9}{n:>7,}  {r.status}")
                continue
            note = "" if r.status == "ok" else f" ({r.status})"
            print(f"{tool:<9}{n:>7,}{r.seconds:>9.3f}{r.seconds / n * 1000:>9.3f}"
                  f"{_f(_per(r.workflow_bytes, n), '.0f'):>11}"
                  f"{_f(_per(r.total_bytes, n), '.0f'):>12}"
                  f"{r.total_bytes or 0:>12,}{_f(r.wall, '.2f'):>8}  "
                  f"{', '.join(f'{s:.3f}' for s in r.runs)}{note}")
    peers = [t for t in tools if t != "kubeline"]
    if peers:
        print("\nratios kubeline / peer (below 1: kubeline faster or smaller)")
        cols = [(f"time/{p}", f"wf B/{p}", f"all B/{p}") for p in peers]
        print(f"{'N':>7}" + "".join(f"{c:>12}" for trio in cols for c in trio))
        for n in sizes:
            k = results[("kubeline", n)]
            row = f"{n:>7,}"
            for p in peers:
                r = results[(p, n)]
                row += f"{_ratio(k.seconds, r.seconds):>12}"
                row += f"{_ratio(k.workflow_bytes, r.workflow_bytes):>12}"
                row += f"{_ratio(k.total_bytes, r.total_bytes):>12}"
            print(row)
    # the targets are the Argo backend's (issue 2); the KFP figures are for comparison
    return _targets(results, sizes, tools) if target == "argo" else True


def _targets(results: dict[tuple[str, int], Result], sizes: list[int], tools: list[str]) -> bool:
    lines: list[tuple[str, bool]] = []
    if 1_000 in sizes and "hera" in tools:
        k, h = results[("kubeline", 1_000)], results[("hera", 1_000)]
        if k.seconds is not None and h.seconds is not None:
            ratio = k.seconds / h.seconds
            lines.append((f"N=1,000 time at most 1/5 of hera's: {ratio:.2f}x hera "
                          f"({k.seconds:.3f} s vs {h.seconds:.3f} s)", ratio <= TARGET_HERA_RATIO))
    if 10_000 in sizes:
        k = results[("kubeline", 10_000)]
        if k.seconds is not None:
            lines.append((f"N=10,000 under {TARGET_10K_SECONDS:.0f} s: {k.seconds:.3f} s",
                          k.seconds < TARGET_10K_SECONDS))
    if "hera" in tools:
        for n in sizes:
            k, h = results[("kubeline", n)], results[("hera", n)]
            if k.workflow_bytes is None or h.workflow_bytes is None or k.total_bytes is None:
                continue
            for label, mine in (("Workflow only", k.workflow_bytes),
                                ("with spec ConfigMaps", k.total_bytes)):
                lines.append((f"N={n:,} bytes/step no more than hera's ({label}): "
                              f"{mine / n:.0f} vs {h.workflow_bytes / n:.0f}",
                              mine <= h.workflow_bytes))
    if lines:
        print("\ntargets")
        for text, ok in lines:
            print(f"  {'MET ' if ok else 'MISS'}  {text}")
    memo = [(n, results[("kubeline", n)].memoize_bytes) for n in sizes]
    if any(b for _, b in memo):
        print("\nfor reference, not a target: kubeline with cluster.argo_memoize: true (each "
              "task of a pipeline up to 200 steps passes its memoize key), B/step all: "
              + ", ".join(f"N={n:,} {b / n:.0f}" for n, b in memo if b))
    return all(ok for _, ok in lines)


NOTES = """
what each time covers (imports are outside every clock):
  kubeline  steps + Pipeline + graph() + compile_graph() + render() to YAML text
  hera      Workflow/DAG/Container construction + to_yaml()
  kfp       Compiler().compile() only: @dsl.pipeline traces the pipeline and builds its spec
            when the anchor script defines it, before its clock starts, so kfp's time leaves
            that work out ('proc s' is the whole process, imports and tracing included)
what the bytes are:
  B/step wf   the Workflow document alone (hera: its Workflow; kfp: its PipelineSpec YAML)
  B/step all  everything written for the pipeline: kubeline adds the spec ConfigMap(s),
              which carry each step's details by design; peers write one document
  kubeline's kustomization.yaml (a few dozen bytes) is counted in neither
with --target kfp:
  kubeline  steps + Pipeline + graph() + compile_graph_kfp() + YAML text, against kfp's
            Compiler on the same chain; B/step wf is the PipelineSpec document, B/step all
            the whole file (header comment and, when steps need it, the platform spec).
            kubeline's file carries each step's spec in its container arguments (KFP has no
            ConfigMap for it), so it is self-contained"""


# -- driver -----------------------------------------------------------------------------------
def _run_once(tool: str, n: int, cap: float, python: Path | None, into: Result,
              target: str = "argo") -> bool:
    """One run of one tool, kept in `into`; False when it timed out."""
    if tool == "kubeline":
        got = run_kubeline(n, cap, target)
        if got is None:
            return False
        seconds, sizes, wall = got
        into.keep(seconds, sizes["workflow_bytes"], sizes["total_bytes"], wall)
        into.memoize_bytes = sizes.get("memoize_bytes")
        return True
    if python is None:
        raise PeerError("the peer virtualenv is not set up (drop --no-peers)")
    peer = run_anchor(python, tool, n, cap)
    if peer is None:
        return False
    into.keep(peer.seconds, peer.size, peer.size, peer.wall)
    return True


def measure(sizes: list[int], tools: list[str], runs: int, timeout: float,
            budget: float, target: str = "argo") -> dict[tuple[str, int], Result]:
    """Best of `runs` per tool and N; peers stop at the first timeout or when the budget ends."""
    deadline = time.perf_counter() + budget
    python = ensure_venv() if len(tools) > 1 else None
    results = {(t, n): Result(t, n) for t in tools for n in sizes}
    timed_out: dict[str, int] = {}
    for n in sizes:
        for tool in tools:
            r = results[(tool, n)]
            if tool in timed_out:
                r.status = f"skipped (timed out at N={timed_out[tool]:,})"
                continue
            for _ in range(runs):
                left = deadline - time.perf_counter()
                if tool != "kubeline" and left <= 1:
                    if not r.runs:
                        r.status = f"skipped (time budget of {budget:.0f} s spent)"
                    break
                cap = timeout if tool == "kubeline" else min(timeout, left)
                print(f"  {tool} N={n:,} ...", end="", flush=True, file=sys.stderr)
                ran = _run_once(tool, n, cap, python, r, target)
                print(f" {r.runs[-1]:.3f} s" if ran else " timeout", file=sys.stderr, flush=True)
                if not ran:
                    why = (f"timeout (> {cap:.0f} s)" if cap >= timeout else
                           f"cut off after {cap:.0f} s: time budget of {budget:.0f} s spent")
                    r.status = why if not r.runs else f"a later run: {why}"
                    timed_out[tool] = n
                    break
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--n", type=int, action="append", metavar="N",
                        help="chain length; repeat for several (default 100, 1000, 10000)")
    parser.add_argument("--no-peers", action="store_true", help="time kubeline only")
    parser.add_argument("--runs", type=int, default=3, help="runs per tool and N (best kept)")
    parser.add_argument("--timeout", type=float, default=90.0,
                        help="seconds one run may take before it counts as 'timeout'")
    parser.add_argument("--budget", type=float, default=300.0,
                        help="seconds for all peer runs together; later ones are skipped")
    parser.add_argument("--profile", action="store_true",
                        help="also cProfile one kubeline run per N (fresh process)")
    parser.add_argument("--top", type=int, default=20, help="functions listed by --profile")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--target", choices=("argo", "kfp"), default="argo",
                        help="kubeline's backend; kfp compares with kfp's compiler only")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child is not None:
        if args.profile:
            _profile_here(args.child, args.top)
        else:
            _child(args.child, args.target)
        return 0
    sizes = sorted(set(args.n or SIZES))
    if any(n < 1 for n in sizes) or args.runs < 1:
        parser.error("--n and --runs must be at least 1")
    peers = ("kfp",) if args.target == "kfp" else PEERS
    tools = ["kubeline", *(() if args.no_peers else peers)]
    print(f"N-step chain as ../shared/bench/anchor_compile.py builds it; target {args.target}; "
          f"best of {args.runs}; sizes {', '.join(f'{n:,}' for n in sizes)}")
    try:
        results = measure(sizes, tools, args.runs, args.timeout, args.budget, args.target)
    except PeerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    ok = report(results, sizes, tools, args.target)
    print(NOTES)
    if args.profile:
        try:
            for n in sizes:
                profile(n, args.top, args.timeout)
        except PeerError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    return 1 if args.check and not ok else 0


if __name__ == "__main__":
    sys.exit(main())
