"""Signature parity of kubeline's ``azureml`` package with Microsoft's AML SDK v1.

Installs Microsoft's packages (pinned below) into a virtualenv of their own under
``~/.cache/kubeline/azureml-sdk-<hash>`` (never the project's), introspects every class and
function of the compatibility surface there and in kubeline (scripts/aml_parity_introspect.py)
and compares them. The surface is every name the reference notebooks import
(scripts/aml_imports.py) plus the names issue 13 lists. For each SDK callable and parameter:

* accepted: kubeline has it (a parameter of the same name; a default that differs is shown);
* refused: kubeline refuses it in one line naming it (the class, the method or the parameter
  carries ``__kubeline_refused__`` / ``__kubeline_refused_params__``, or its module refuses
  to import);
* missing: anything else.

Prints the table (``--all`` also lists accepted rows) and the counts; exits 1 when anything
is missing.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SDK_PACKAGES = ("azureml-core==1.61.0.post4", "azureml-pipeline-core==1.62.0",
                "azureml-pipeline-steps==1.62.0", "azureml-train-core==1.62.0",
                "azureml-widgets==1.62.0",
                "ipython<8.17")  # azureml-widgets imports a name newer IPython dropped
CACHE = Path.home() / ".cache" / "kubeline"

# issue 13, point 1: the most used names, beyond what the notebooks import
ISSUE_SURFACE = {
    "azureml.core": ["Workspace", "Experiment", "Datastore", "Dataset", "Environment", "Run",
                     "ScriptRunConfig", "RunConfiguration", "Model"],
    "azureml.core.conda_dependencies": ["CondaDependencies"],
    "azureml.core.runconfig": ["DEFAULT_CPU_IMAGE", "RunConfiguration"],
    "azureml.core.compute": ["ComputeTarget", "AmlCompute", "DatabricksCompute", "AdlaCompute"],
    "azureml.exceptions": ["ComputeTargetException"],
    "azureml.core.compute_target": ["ComputeTargetException"],
    "azureml.data": ["OutputFileDatasetConfig"],
    "azureml.data.data_reference": ["DataReference"],
    "azureml.data.datapath": ["DataPath", "DataPathComputeBinding"],
    "azureml.data.dataset_consumption_config": ["DatasetConsumptionConfig"],
    "azureml.pipeline.core": ["Pipeline", "PipelineData", "PipelineParameter", "PipelineRun",
                              "StepRun", "PublishedPipeline", "PipelineEndpoint", "Schedule",
                              "ScheduleRecurrence", "TrainingOutput", "StepSequence",
                              "PipelineDraft", "Module"],
    "azureml.pipeline.core.schedule": ["TimeZone"],
    "azureml.pipeline.steps": ["PythonScriptStep", "CommandStep", "ParallelRunStep",
                               "ParallelRunConfig", "HyperDriveStep", "HyperDriveStepRun",
                               "DataTransferStep", "DatabricksStep", "AdlaStep", "ModuleStep"],
    "azureml.train.hyperdrive": ["HyperDriveConfig", "RandomParameterSampling",
                                 "GridParameterSampling", "choice", "uniform", "loguniform",
                                 "BanditPolicy", "MedianStoppingPolicy",
                                 "TruncationSelectionPolicy", "PrimaryMetricGoal"],
    "azureml.widgets": ["RunDetails"],
    "azureml.core.authentication": ["InteractiveLoginAuthentication",
                                    "ServicePrincipalAuthentication", "AzureCliAuthentication"],
}
NOT_IN_SDK_PACKAGES = {"azureml_user.parallel_run"}  # made by ParallelRunStep's runtime


def surface() -> dict[str, list[str]]:
    sys.path.insert(0, str(HERE))
    from aml_imports import collect, default_root

    table: dict[str, set[str]] = {m: set(n) for m, n in ISSUE_SURFACE.items()}
    root = default_root()
    if root.is_dir():
        for module, name in collect(root):
            table.setdefault(module, set()).add(name)
    return {m: sorted(n) for m, n in sorted(table.items()) if m not in NOT_IN_SDK_PACKAGES}


def sdk_python() -> Path:
    """The SDK virtualenv's interpreter, made (once) when missing."""
    digest = hashlib.sha256("\n".join(SDK_PACKAGES).encode()).hexdigest()[:10]
    venv = CACHE / f"azureml-sdk-{digest}"
    python = venv / "bin" / "python"
    marker = venv / ".installed"
    if not marker.exists():
        print(f"aml_parity: installing Microsoft's SDK into {venv} (once)", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *SDK_PACKAGES], check=True)
        marker.write_text("\n".join(SDK_PACKAGES) + "\n", encoding="utf-8")
    return python


def introspect(python: Path, wanted: dict[str, list[str]], kubeline: bool) -> dict[str, Any]:
    cmd = [str(python), str(HERE / "aml_parity_introspect.py")] + (["--kubeline"] if kubeline
                                                                     else [])
    done = subprocess.run(cmd, input=json.dumps(wanted), capture_output=True, text=True,
                          check=False)
    if done.returncode != 0:
        raise SystemExit(f"aml_parity: introspection failed: {done.stderr.strip()[-400:]}")
    result: dict[str, Any] = json.loads(done.stdout)
    return result


Row = tuple[str, str, str, str]  # (where, parameter, status, detail)


def _real(params: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [p for p in params if p["kind"] not in ("VAR_POSITIONAL", "VAR_KEYWORD")
            and not p["name"].startswith("_")]


def compare_params(where: str, sdk: list[dict[str, Any]], ours: list[dict[str, Any]] | None,
                   refused: str | None, refused_params: dict[str, str],
                   ignored_params: dict[str, str] | None = None) -> list[Row]:
    rows: list[Row] = [(where, "", "refused" if refused else "accepted" if ours is not None
                        else "missing", refused or "")]
    mine = {p["name"]: p for p in ours or []}
    for param in _real(sdk):
        name = param["name"]
        if refused:
            rows.append((where, name, "refused", "refused with its callable"))
        elif name in refused_params:
            rows.append((where, name, "refused", refused_params[name]))
        elif name in (ignored_params or {}):
            rows.append((where, name, "accepted", f"ignored: {(ignored_params or {})[name]}"))
        elif name in mine:
            theirs = param["default"]
            own = mine[name]["default"] if mine[name]["has_default"] else "(required)"
            detail = "" if theirs == own or not param["has_default"] else \
                f"default: SDK {theirs}, kubeline {own}"
            rows.append((where, name, "accepted", detail))
        else:
            rows.append((where, name, "missing", f"SDK default {param['default']}"
                         if param["has_default"] else "required in the SDK"))
    return rows


def compare(sdk: dict[str, Any], ours: dict[str, Any]) -> list[Row]:
    rows: list[Row] = []
    for module, names in sorted(sdk.items()):
        mine_module = ours.get(module, {})
        module_refused = "__error__" in mine_module and mine_module.get("__refused__")
        if "__error__" in names:
            rows.append((module, "", "skipped", f"SDK import failed: {names['__error__']}"))
            continue
        for name, desc in sorted(names.items()):
            where = f"{module}.{name}" if name != "*module*" else module
            if module_refused:
                rows.append((where, "", "refused", mine_module["__error__"]))
                continue
            if "__error__" in mine_module:
                rows.append((where, "", "missing", mine_module["__error__"]))
                continue
            mine = mine_module.get(name, {"kind": "absent"})
            rows += compare_name(where, desc, mine)
    return rows


def compare_name(where: str, desc: dict[str, Any], mine: dict[str, Any]) -> list[Row]:
    if mine["kind"] in ("absent", "error"):
        return [(where, "", "missing", mine.get("error", "not in kubeline"))]
    if desc["kind"] in ("module", "value", "exception", "enum"):
        if desc["kind"] == "enum" and mine["kind"] == "enum":
            gone = sorted(set(desc["members"]) - set(mine["members"]))
            return [(where, "", "missing" if gone else "accepted",
                     f"members not in kubeline: {', '.join(gone[:5])}" if gone else "")]
        return [(where, "", "refused" if mine.get("refused") else "accepted", "")]
    if desc["kind"] == "function":
        return compare_params(where, desc["params"], mine.get("params"), mine.get("refused"),
                              mine.get("refused_params", {}), mine.get("ignored_params", {}))
    refused = mine.get("refused")
    rows = compare_params(where, desc["init"], mine.get("init"), refused,
                          mine.get("init_refused_params", {}), mine.get("init_ignored_params", {}))
    members = mine.get("members", {})
    for member, info in sorted(desc.get("members", {}).items()):
        sub = f"{where}.{member}"
        own = members.get(member)
        if refused:
            rows.append((sub, "", "refused", "refused with its class"))
        elif own is None:
            rows.append((sub, "", "missing", f"{info['kind']} not in kubeline"))
        elif info["kind"] == "property":
            rows.append((sub, "", "refused" if own.get("refused") else "accepted", ""))
        else:
            rows += compare_params(sub, info["params"], own.get("params"), own.get("refused"),
                                   own.get("refused_params", {}), own.get("ignored_params", {}))
    return rows


MEMBERS_FILE = HERE.parent / "src" / "kubeline" / "aml_surface" / "sdk_members.py"
MEMBERS_HEADER = (
    '"""The public members of the SDK\'s classes on the compatibility surface (parity data).\n'
    "\n"
    "Generated by ``python scripts/aml_parity.py --write-members`` from Microsoft's SDK; do\n"
    "not edit. kubeline.aml_surface.data refuses, in one line, every member listed here that\n"
    "a kubeline class does not implement. Standard library only. The SDK:\n"
    "\n"
    "{pins}\n"
    '"""\n'
    "\n"
    "SDK_MEMBERS: dict[str, dict[str, str]] = {{\n")


def sdk_classes(sdk: dict[str, Any]) -> dict[str, dict[str, str]]:
    """Class name -> {public member: "method" / "static" / "class" / "property"} of every
    SDK class on the surface (a class re-exported by several modules is one class)."""
    found: dict[str, dict[str, str]] = {}
    for _module, names in sorted(sdk.items()):
        if "__error__" in names:
            continue
        for name, desc in sorted(names.items()):
            if desc.get("kind") == "class":
                found[name] = {m: str(info["kind"]) for m, info in
                               sorted(desc.get("members", {}).items())}
    return dict(sorted(found.items()))


def members_text(sdk: dict[str, Any]) -> str:
    """The text of kubeline/aml_surface/sdk_members.py for this SDK description."""
    lines = [MEMBERS_HEADER.format(pins="\n".join(SDK_PACKAGES[:-1]))]
    for name, members in sdk_classes(sdk).items():
        lines.append(f'    "{name}": {{\n')
        lines += [f'        "{member}": "{kind}",\n' for member, kind in members.items()]
        lines.append("    },\n")
    lines.append("}\n")
    return "".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--all", action="store_true", help="list accepted rows too")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    parser.add_argument("--sdk-python", type=Path, help="an interpreter with the SDK installed")
    parser.add_argument("--write-members", action="store_true",
                        help=f"write the SDK's class members to {MEMBERS_FILE.name} and stop")
    args = parser.parse_args(argv)
    wanted = surface()
    sdk = introspect(args.sdk_python or sdk_python(), wanted, kubeline=False)
    if args.write_members:
        MEMBERS_FILE.write_text(members_text(sdk), encoding="utf-8")
        print(f"aml_parity: wrote {MEMBERS_FILE}")
        return 0
    ours = introspect(Path(sys.executable), wanted, kubeline=True)
    rows = compare(sdk, ours)
    counts = Counter(status for _, _, status, _ in rows)
    if args.json:
        print(json.dumps([dict(zip(("where", "parameter", "status", "detail"), r, strict=True))
                          for r in rows], indent=1))
    else:
        width = max(len(f"{w} {p}") for w, p, _, _ in rows)
        for where, param, status, detail in rows:
            if status == "accepted" and not detail and not args.all:
                continue
            label = f"{where}({param})" if param else where
            print(f"{label:<{width + 2}} {status:<9} {detail}")
    skipped = f"; {counts['skipped']} skipped" if counts["skipped"] else ""
    print(f"parity: {counts['accepted']} accepted / {counts['refused']} refused / "
          f"{counts['missing']} missing ({sum(len(v) for v in wanted.values())} names in "
          f"{len(wanted)} modules{skipped})")
    return 1 if counts["missing"] else 0


if __name__ == "__main__":
    sys.exit(main())
