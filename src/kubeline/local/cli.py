"""``kubeline run``: run a manifest (or a pipeline .py, compiled first) on this machine.

Exit codes: 0 Succeeded, 1 Failed/Error, 2 usage or validation errors (one line each).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import click
import yaml

from kubeline.exceptions import KubelineError


def _fail(message: str, code: int = 2) -> None:
    for line in str(message).splitlines() or [str(message)]:
        click.echo(f"kubeline: error: {line}", err=True)
    sys.exit(code)


def _parse_params(values: tuple[str, ...]) -> dict[str, str]:
    out: dict[str, str] = {}
    for v in values:
        if "=" not in v:
            raise KubelineError(f"-p {v}: expected name=value")
        name, value = v.split("=", 1)
        out[name.strip()] = value
    return out


def load_documents(file: Path) -> list[dict[str, Any]]:
    """YAML documents of a manifest, or the compiled documents of a pipeline .py."""
    if file.suffix == ".py":
        try:
            from kubeline.compiler.api import compile_file
        except ImportError as exc:
            raise KubelineError(
                f"{file}: compiling pipelines needs kubeline.compiler.api ({exc})"
            ) from exc
        return list(compile_file(file))
    try:
        text = file.read_text()
    except OSError as exc:
        raise KubelineError(f"{file}: cannot read ({exc.strerror or exc})") from exc
    try:
        docs = [d for d in yaml.safe_load_all(text) if d is not None]
    except yaml.YAMLError as exc:
        raise KubelineError(f"{file}: not valid YAML ({' '.join(str(exc).split())})") from exc
    return docs


def workspace_root(pipeline_file: Path) -> Path:
    """The folder of the kubeline.yaml a pipeline file uses (as Workspace.from_config finds
    it from the file's folder), or the file's folder for a workspace without one."""
    from kubeline.workspace import find_config

    folder = pipeline_file.resolve().parent
    config = find_config(folder)
    return config.parent if config is not None else folder


@click.command("run")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "-p", "--parameter", "params", multiple=True, metavar="NAME=VALUE", help="Workflow argument."
)
@click.option("--json", "as_json", is_flag=True, help="Print the run summary as JSON when it ends.")
@click.option(
    "--resume", metavar="RUN_ID", help="Finish an interrupted run without rerunning finished nodes."
)
@click.option(
    "--parallelism", type=int, metavar="N", help="Most node processes at once (default: cores)."
)
@click.option(
    "--state-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Where runs, artifacts and the cache live (default: the workspace's .kubeline/, "
    "i.e. beside the kubeline.yaml above a pipeline file, else ./.kubeline).",
)
def run_command(
    file: Path,
    params: tuple[str, ...],
    as_json: bool,
    resume: str | None,
    parallelism: int | None,
    state_dir: Path | None,
) -> None:
    """Run the Argo Workflow in FILE (or the pipeline in FILE.py) on this machine."""
    from kubeline.local import run_manifest
    from kubeline.local.progress import reporter_for

    try:
        docs = load_documents(file)
        if file.suffix == ".py":
            root = workspace_root(file)
            os.environ["KUBELINE_WORKSPACE"] = str(root)  # node processes inherit it
            state_dir = state_dir or root / ".kubeline"
        state_dir = state_dir or Path(".kubeline")
        parameters = _parse_params(params)
        reporter = reporter_for(sys.stderr)
        summary = run_manifest(
            docs,
            parameters=parameters,
            state_dir=state_dir,
            resume=resume,
            parallelism=parallelism,
            reporter=reporter,
        )
    except KubelineError as exc:
        if os.environ.get("KUBELINE_DEBUG"):
            raise
        _fail(str(exc), exc.exit_code if exc.exit_code != 1 else 2)
        return
    if as_json:
        click.echo(json.dumps(summary.to_json(), indent=2))
    else:
        click.echo(f"run:     {summary.id}")
        click.echo(
            f"phase:   {summary.phase}" + (f" ({summary.message})" if summary.message else "")
        )
        click.echo(f"nodes:   {Path(summary.state_dir) / 'runs' / summary.id / 'nodes'}")
        click.echo(f"outputs: {summary.artifacts_dir}")
    sys.exit(0 if summary.phase == "Succeeded" else 1)


if __name__ == "__main__":  # ``python -m kubeline.local.cli`` (used by tests and benchmarks)
    run_command()
