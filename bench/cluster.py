"""The in-box cluster, measured (issue 12 point 8): cold start, a 20-step chain compiled by
kubeline against the same chain as plain Argo container steps (hera), and the pods an
all-reused rerun creates with and without ``cluster.argo_memoize``.

Usage (root; the box's binaries and images built once before):
    python bench/cluster.py [--n 20] [--no-restart | --up-log FILE]

- cold start: `scripts/cluster/down.sh` then `scripts/cluster/up.sh`, its own timeline
  (processes launched -> node Ready -> Argo ready); --up-log reads that timeline from the
  output of an earlier `make cluster-up` instead (a box others are using must not restart);
  --no-restart skips it.
- chain: kubeline's N PythonScriptSteps, each passing a folder to the next through the box's
  S3 store (allow_reuse=False: every step works), against hera's N python containers passing
  an S3 artifact (Argo's artifact repository, the same store), both from create to
  Succeeded, watched; per-step wall time and the ratio kubeline / hera.
- rerun: kubeline's chain with allow_reuse=True (a fresh snapshot: its first run computes),
  then unchanged reruns: as GitOps users run it (`kubectl apply` of the compiled manifest,
  without and with argo_memoize), and as kubeline submits it (kubeline.cluster.reuse resolves
  the hits first: reused steps are Skipped); the pods each creates and its wall time against
  the first run's.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from tests.cluster.box import BOX_CONFIG, Box, BoxDown, load_docs  # noqa: E402

NAMESPACE = "kubeline"
STEP = textwrap.dedent("""\
    import os, sys
    # NONCE
    out = sys.argv[sys.argv.index("--out") + 1]
    os.makedirs(out, exist_ok=True)
    value = 0
    if "--in" in sys.argv:
        with open(os.path.join(sys.argv[sys.argv.index("--in") + 1], "v.txt")) as handle:
            value = int(handle.read())
    with open(os.path.join(out, "v.txt"), "w") as handle:
        handle.write(str(value + 1))
""")
PIPELINE = textwrap.dedent("""\
    import os
    from kubeline import Pipeline, PipelineData, PythonScriptStep, Workspace
    ws = Workspace.from_config()
    steps, prev = [], None
    for i in range(int(os.environ["LENGTH"])):
        out = PipelineData(f"o{i}")
        args = ["--out", out] + (["--in", prev] if prev is not None else [])
        steps.append(PythonScriptStep("step.py", name=f"s{i}", arguments=args,
                                      inputs=[prev] if prev is not None else [],
                                      outputs=[out], source_directory="scripts",
                                      allow_reuse=os.environ["REUSE"] == "1"))
        prev = out
    pipeline = Pipeline(ws, steps=steps)
""")


def cold_start() -> dict[str, float]:
    subprocess.run(["bash", str(REPO / "scripts/cluster/down.sh"), "--quiet"], check=True)
    start = time.perf_counter()
    done = subprocess.run(["bash", str(REPO / "scripts/cluster/up.sh")], capture_output=True,
                          text=True, check=False)
    total = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"cluster-up failed: {done.stderr.strip()[-800:]}")
    return {**up_marks(done.stderr), "cluster-up total": total}


def up_marks(log: str) -> dict[str, float]:
    """The cold-start milestones in cluster-up's timeline (its ``cluster: [ N.Ns] ...`` lines)."""
    marks = {}
    for line in log.splitlines():
        match = re.match(r"cluster: \[\s*([0-9.]+)s\] (.*)", line)
        if not match:
            continue
        at, what = float(match.group(1)), match.group(2)
        if what.startswith("started etcd"):
            marks["launched"] = at
        elif what.startswith("node ") and what.endswith(" Ready"):
            marks["node Ready"] = at
        elif what == "Argo ready":
            marks["Argo ready"] = at
        elif what.startswith("cluster up:"):
            marks["cluster-up total"] = at
    return marks


def kubeline_chain(box: Box, n: int, reuse: bool, memoize: bool, nonce: str = ""
                   ) -> tuple[Path, str]:
    root = Path(tempfile.mkdtemp(prefix="kubeline-bench-cluster-"))
    (root / "scripts").mkdir()
    (root / "scripts" / "step.py").write_text(STEP.replace("NONCE", nonce), encoding="utf-8")
    (root / "pipeline.py").write_text(PIPELINE, encoding="utf-8")
    config = yaml.safe_load(BOX_CONFIG.read_text())
    config["cluster"]["argo_memoize"] = memoize
    if nonce:  # its own prefix: a cluster test's forget_reuse on a shared box cannot touch it
        config["datastores"]["workspaceblobstore"]["prefix"] = f"bench/{nonce}"
    (root / "kubeline.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    env = {**os.environ, **box.s3_env(), "KUBELINE_CONFIG": str(root / "kubeline.yaml"),
           "LENGTH": str(n), "REUSE": "1" if reuse else "0"}
    subprocess.run([sys.executable, "-m", "kubeline.cli", "compile", "pipeline.py", "-o",
                    "build"], cwd=root, env=env, check=True, capture_output=True)
    docs = load_docs(root / "build")
    [wf] = [d for d in docs if d["kind"] == "Workflow"]
    return root / "build", str(wf["metadata"]["name"])


def timed_apply(box: Box, build: Path, name: str) -> tuple[float, dict[str, Any]]:
    box.kubectl("-n", NAMESPACE, "delete", "workflow", name, "--ignore-not-found", "--wait")
    start = time.perf_counter()
    box.kubectl("apply", "-k", str(build))
    wf = box.wait_workflow(name, NAMESPACE, timeout=3600)
    wall = time.perf_counter() - start
    if wf["status"]["phase"] != "Succeeded":
        raise SystemExit(f"{name}: {box.describe(name, NAMESPACE)}")
    return wall, wf


def hera_chain(n: int) -> dict[str, Any]:
    """N python containers in sequence, each reading the previous one's S3 artifact."""
    from hera.workflows import Artifact, Container, Steps, Workflow

    code_first = ("import os; os.makedirs('/tmp/o', exist_ok=True); "
                  "open('/tmp/o/v.txt','w').write('1')")
    code_next = ("import os; os.makedirs('/tmp/o', exist_ok=True); "
                 "v=int(open('/tmp/i/v.txt').read()); open('/tmp/o/v.txt','w').write(str(v+1))")
    with Workflow(name="hera-chain", namespace=NAMESPACE, entrypoint="chain",
                  service_account_name="kubeline-workflow") as w:
        first = Container(name="first", image="python:alpine3.23",
                          command=["python3", "-c", code_first],
                          outputs=[Artifact(name="o", path="/tmp/o")])
        step = Container(name="next", image="python:alpine3.23",
                         command=["python3", "-c", code_next],
                         inputs=[Artifact(name="i", path="/tmp/i")],
                         outputs=[Artifact(name="o", path="/tmp/o")])
        with Steps(name="chain"):
            prev = first(name="s0")
            for i in range(1, n):
                prev = step(name=f"s{i}", arguments=[prev.get_artifact("o").with_name("i")])
    doc: dict[str, Any] = w.to_dict()
    return doc


def forget(box: Box, name: str) -> None:
    """Delete what a measured chain left on the box: its Workflow, spec ConfigMap and memoize
    cache."""
    box.delete_workflow(name, NAMESPACE)
    box.kubectl("-n", NAMESPACE, "delete", "configmap", f"{name}-spec", "--ignore-not-found")
    box.kubectl("-n", "argo", "delete", "configmap", f"{name}-memoize-cache",
                "--ignore-not-found")


def pods_created(wf: dict[str, Any]) -> int:
    """Argo creates a pod for every Pod node except memoize cache hits; Skipped nodes are not
    Pod nodes."""
    return sum(1 for node in wf["status"]["nodes"].values() if node["type"] == "Pod"
               and not (node.get("memoizationStatus") or {}).get("hit"))


def resolved_rerun(box: Box, build: Path, name: str) -> tuple[float, float, dict[str, Any]]:
    """The rerun as kubeline submits it: resolve the hits, create, record; (resolve seconds,
    create -> Succeeded seconds including the resolve, the finished Workflow)."""
    from kubeline.cluster.reuse import resolve_reuse

    docs = load_docs(build)
    [wf] = [d for d in docs if d["kind"] == "Workflow"]
    box.kubectl("-n", NAMESPACE, "delete", "workflow", name, "--ignore-not-found", "--wait")
    start = time.perf_counter()
    plan = resolve_reuse(wf, build.parent, docs)
    resolved = time.perf_counter() - start
    created = box.custom.create_namespaced_custom_object(
        "argoproj.io", "v1alpha1", NAMESPACE, "workflows", plan.workflow)
    plan.record(created)
    done = box.wait_workflow(name, NAMESPACE, timeout=3600)
    wall = time.perf_counter() - start
    if done["status"]["phase"] != "Succeeded":
        raise SystemExit(f"{name}: {box.describe(name, NAMESPACE)}")
    if len(plan.reused) != len([d for d in wf["spec"]["templates"][0]["dag"]["tasks"]]):
        raise SystemExit(f"{name}: only {len(plan.reused)} steps resolved as reused")
    return resolved, wall, done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20)
    parser.add_argument("--no-restart", action="store_true")
    parser.add_argument("--no-chain", action="store_true",
                        help="skip the kubeline / hera chain comparison")
    parser.add_argument("--up-log", type=Path, help="read the cold start from this cluster-up "
                        "output instead of restarting the box")
    args = parser.parse_args()
    if args.up_log:
        marks = up_marks(args.up_log.read_text())
        print(f"cold start (seconds since cluster-up began; from {args.up_log}):")
    elif not args.no_restart:
        marks = cold_start()
        print("cold start (seconds since cluster-up began):")
    for what, at in (marks.items() if args.up_log or not args.no_restart else []):
        print(f"  {what:18} {at:7.1f}")
    box = Box()
    try:
        box.check()
    except BoxDown as exc:
        raise SystemExit(f"the in-box cluster is down ({exc}): run `make cluster-up` first"
                         ) from None
    os.environ.update(box.s3_env())

    if not args.no_chain:
        compare_chains(box, args.n)
    rerun(box, args.n)


def compare_chains(box: Box, n: int) -> None:
    build, name = kubeline_chain(box, n, reuse=False, memoize=False)
    kube_wall, _ = timed_apply(box, build, name)
    forget(box, name)
    shutil.rmtree(build.parent, ignore_errors=True)
    hera = hera_chain(n)
    box.kubectl("-n", NAMESPACE, "delete", "workflow", "hera-chain", "--ignore-not-found",
                "--wait")
    start = time.perf_counter()
    box.create_workflow(hera, NAMESPACE)
    wf = box.wait_workflow("hera-chain", NAMESPACE, timeout=3600)
    hera_wall = time.perf_counter() - start
    if wf["status"]["phase"] != "Succeeded":
        raise SystemExit(f"hera-chain: {box.describe('hera-chain', NAMESPACE)}")
    box.delete_workflow("hera-chain", NAMESPACE)
    print(f"{n}-step chain, create -> Succeeded:", flush=True)
    print(f"  kubeline (PythonScriptStep)   {kube_wall:7.1f} s  {kube_wall / n:5.2f} s/step")
    print(f"  hera (python containers, S3)  {hera_wall:7.1f} s  {hera_wall / n:5.2f} s/step")
    print(f"  ratio kubeline / hera         {kube_wall / hera_wall:7.2f}", flush=True)


def rerun(box: Box, n: int) -> None:

    nonce = uuid.uuid4().hex  # a fresh snapshot: the first run computes every step
    build, name = kubeline_chain(box, n, reuse=True, memoize=False, nonce=nonce)
    first, wf = timed_apply(box, build, name)
    print(f"{n}-step chain with allow_reuse=True:")
    print(f"  first run (computes)                          pods {pods_created(wf):3d}  "
          f"wall {first:6.1f} s")
    print("unchanged reruns:")
    wall, wf = timed_apply(box, build, name)
    print(f"  kubectl apply, argo_memoize: false (GitOps)   pods {pods_created(wf):3d}  "
          f"wall {wall:6.1f} s  {wall / first:5.1%} of the first run", flush=True)
    resolved, wall, wf = resolved_rerun(box, build, name)
    skipped = sum(1 for n in wf["status"]["nodes"].values() if n["phase"] == "Skipped")
    print(f"  kubeline submit (resolve_reuse)               pods {pods_created(wf):3d}  "
          f"wall {wall:6.1f} s  {wall / first:5.1%} of the first run "
          f"(resolve {resolved:.1f} s, {skipped} Skipped)", flush=True)
    forget(box, name)
    shutil.rmtree(build.parent, ignore_errors=True)
    build, name = kubeline_chain(box, n, reuse=True, memoize=True, nonce=nonce)
    timed_apply(box, build, name)  # fills Argo's memoize cache (the shim's index serves it)
    wall, wf = timed_apply(box, build, name)
    print(f"  kubectl apply, argo_memoize: true (GitOps)    pods {pods_created(wf):3d}  "
          f"wall {wall:6.1f} s  {wall / first:5.1%} of the first run")
    forget(box, name)
    shutil.rmtree(build.parent, ignore_errors=True)


if __name__ == "__main__":
    main()
