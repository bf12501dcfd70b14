"""``python3 -m kubeline.runtime.kfp``: the container command of steps compiled for KFP.

KFP passes everything through the container's arguments (its placeholders are resolved in
arguments, not in environment values), and has no ConfigMap for the step spec. This entry
point turns those arguments into what the shim reads on Argo: the spec files in a folder,
``KUBELINE_PARAM_<i>``, the run identity, ``--upstream`` keys and importer-downloaded
DataReference inputs in the inputs folder. It then runs the same StepRunner, writes the
step's key to KFP's output parameter file and places each committed output (fresh or
reused) at its KFP output artifact path. ``--transfer`` runs a DataTransferStep's copy with
kubeline's datastore drivers. Errors print one line and exit 2, as the shim does.
"""

from __future__ import annotations

import argparse
import json
import os
import posixpath
import sys
import tempfile
from pathlib import Path

from kubeline.exceptions import KubelineError
from kubeline.graph.model import Step
from kubeline.graph.names import param_name
from kubeline.runtime import inputs, records
from kubeline.runtime.datastores import Datastores
from kubeline.runtime.paths import RuntimeEnv
from kubeline.runtime.shim import StepRunner
from kubeline.runtime.shim import parse_args as shim_args
from kubeline.runtime.spec import PIPELINE_FILE, load_pipeline, load_step, step_file


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python3 -m kubeline.runtime.kfp",
                                     description="Run one kubeline step inside a KFP task.")
    parser.add_argument("--step", required=True)
    parser.add_argument("--pipeline-json", required=True)
    parser.add_argument("--step-json", required=True)
    parser.add_argument("--run-id", required=True)
    parser.add_argument("--run-name", default="")
    parser.add_argument("--task", default="")
    parser.add_argument("--param", action="append", default=[], help="INDEX=VALUE")
    parser.add_argument("--upstream", action="append", default=[], help="PRODUCER=KEY")
    parser.add_argument("--input", action="append", default=[], help="NAME=PATH")
    parser.add_argument("--output", action="append", default=[], help="NAME=PATH")
    parser.add_argument("--key-file", default="")
    parser.add_argument("--executor-input", default="",
                        help="KFP's executor input ({{$}}): where to write the executor output")
    parser.add_argument("--regenerate-outputs", default="false")
    parser.add_argument("--content-aware", default="false")
    parser.add_argument("--transfer", action="store_true")
    return parser.parse_args(argv)


def _pairs(items: list[str], flag: str) -> list[tuple[str, str]]:
    pairs = []
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise KubelineError(f"{flag} {item!r} is not NAME=VALUE", "recompile the pipeline")
        pairs.append((name, value))
    return pairs


def _environ(ns: argparse.Namespace, root: Path) -> dict[str, str]:
    """The environment the shim would get from an Argo template, for this KFP task."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KUBELINE_PARAM_")}
    env.update({
        "KUBELINE_SPEC_DIR": str(root / "spec"),
        "KUBELINE_INPUTS_DIR": str(root / "inputs"),
        "KUBELINE_OUT_DIR": str(root / "out"),
        "KUBELINE_RUN_ID": ns.run_id,
        "KUBELINE_WORKFLOW": ns.run_name or ns.run_id,
        "KUBELINE_NODE": ns.task or ns.step,
        "KUBELINE_REGENERATE_OUTPUTS": ns.regenerate_outputs,
        "KUBELINE_CONTENT_AWARE": ns.content_aware,
    })
    env.setdefault("KUBELINE_WORKDIR", str(root / "work"))
    for index, value in _pairs(ns.param, "--param"):
        env[f"KUBELINE_PARAM_{index}"] = value
    return env


def _prepare(ns: argparse.Namespace, root: Path) -> None:
    """Spec files, the inputs folder (links to what KFP downloaded) and the out folder."""
    spec = root / "spec"
    spec.mkdir()
    (spec / PIPELINE_FILE).write_text(ns.pipeline_json, encoding="utf-8")
    step_file(spec, ns.step).write_text(ns.step_json, encoding="utf-8")
    (root / "inputs").mkdir()
    (root / "out").mkdir()
    for name, path in _pairs(ns.input, "--input"):
        if Path(path).exists():  # else (e.g. no downloader here) the shim fetches it itself
            (root / "inputs" / param_name(name)).symlink_to(Path(path).absolute())


def _place_outputs(ns: argparse.Namespace, step: Step, stores: Datastores, key: str) -> None:
    by_name = {param_name(o.name): o for o in step.outputs}
    for name, path in _pairs(ns.output, "--output"):
        output = by_name.get(name)
        if output is None:
            raise KubelineError(f"--output {name}: step '{step.name}' has no such output",
                                "recompile the pipeline")
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        records.fetch(stores.get(output.datastore), key, output.name, step.id, Path(path))


def write_executor_output(executor_input: str, key: str, step: Step) -> None:
    """KFP's ExecutorOutput: the output artifacts KFP named in the executor input (now
    holding the step's outputs) and the key parameter. KFP's launcher and local runner both
    read it; the local runner registers a container's output artifacts only from it."""
    if not executor_input:
        return
    try:
        outputs = json.loads(executor_input).get("outputs", {})
    except ValueError as exc:
        raise KubelineError(f"--executor-input is not JSON: {exc}",
                            "KFP passes {{$}} here; recompile the pipeline") from exc
    artifacts = {}
    for name, listed in sorted(outputs.get("artifacts", {}).items()):
        artifacts[name] = {"artifacts": [
            {"name": item.get("name", name), "uri": item.get("uri", ""),
             "metadata": {**item.get("metadata", {}), "kubeline_key": key,
                          "kubeline_step": step.id}}
            for item in listed.get("artifacts", [])]}
    target = outputs.get("outputFile")
    if not target:
        return
    Path(target).parent.mkdir(parents=True, exist_ok=True)
    Path(target).write_text(json.dumps({"artifacts": artifacts,
                                        "parameterValues": {"kubeline_key": key}},
                                       sort_keys=True), encoding="utf-8")


def transfer(step: Step, stores: Datastores, root: Path) -> None:
    """Copy a DataTransferStep's source to its destination, with the semantics of the Argo
    backend's copy script: folder to folder, file to file, or a file into a folder."""
    settings = json.loads(step.settings)
    dest = settings["destination"]
    source = step.inputs[0]
    ctx = inputs.InputContext(stores, {}, {}, root / "inputs", root / "fetched", root)
    (root / "fetched").mkdir()
    local = Path(inputs.materialise(source, ctx))
    stype = settings.get("source_type") or ("directory" if local.is_dir() else "file")
    dtype = settings.get("destination_type") or stype
    target = stores.get(dest["datastore"])
    if stype == "directory":
        if not local.is_dir():
            raise KubelineError(f"step '{step.name}': the source is a file, not a directory",
                                "set source_reference_type='file'")
        if dtype != "directory":
            raise KubelineError(f"step '{step.name}': a directory cannot be copied onto a "
                                "file destination", "set destination_reference_type="
                                "'directory'")
        target.put_dir(local, dest["path"])  # type: ignore[attr-defined]
    elif dtype == "directory":
        name = posixpath.basename(source.path.rstrip("/")) or "data"
        target.put_file(local, f"{dest['path'].rstrip('/')}/{name}")
    else:
        target.put_file(local, dest["path"])
    print(f"kubeline: copied {stype} to {dtype}", file=sys.stderr)


def run(ns: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="kubeline-kfp-") as tmp:
        root = Path(tmp)
        _prepare(ns, root)
        env = RuntimeEnv.from_environ(_environ(ns, root))
        pipeline = load_pipeline(env.spec_dir)
        step, _ = load_step(env.spec_dir, ns.step, pipeline)
        stores = Datastores(pipeline.datastores, pipeline.default_datastore, env.workspace)
        if ns.transfer:
            transfer(step, stores, root)
            return 0
        upstream = " ".join(f"{p}:{k}" for p, k in _pairs(ns.upstream, "--upstream"))
        code = StepRunner(env, shim_args(["--step", ns.step, "--upstream", upstream])).execute()
        if code != 0:
            return code
        key = (env.out_dir / "key").read_text(encoding="utf-8").strip()
        if ns.key_file:
            Path(ns.key_file).parent.mkdir(parents=True, exist_ok=True)
            Path(ns.key_file).write_text(key, encoding="utf-8")
        _place_outputs(ns, step, stores, key)
        write_executor_output(ns.executor_input, key, step)
        return 0


def main(argv: list[str] | None = None) -> int:
    ns = parse_args(argv)
    try:
        return run(ns)
    except KubelineError as exc:
        print(f"kubeline: error: {exc}", file=sys.stderr)
        return exc.exit_code


if __name__ == "__main__":
    sys.exit(main())
