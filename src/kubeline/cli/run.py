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

from kubeline.cli import support as cli_support
from kubeline.exceptions import KubelineError, yaml_problem
from kubeline.local.param_types import check_datapath_shaped


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
        raise KubelineError(f"{file}: not valid YAML at {yaml_problem(exc)}") from exc
    return docs


def workspace_root(pipeline_file: Path) -> Path:
    """The folder of the kubeline.yaml a pipeline file uses (as Workspace.from_config finds
    it from the file's folder), or the file's folder for a workspace without one."""
    return cli_support.workspace_root(pipeline_file.resolve().parent)


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
    help="Where runs, artifacts, the cache and the run history live (default: the "
    "workspace's .kubeline/, i.e. beside the kubeline.yaml above a pipeline file, else "
    "./.kubeline).",
)
@click.option(
    "--regenerate", is_flag=True,
    help="Rerun every step of this run (AML regenerate_outputs); later runs may reuse the "
    "fresh outputs.",
)
@click.option(
    "--content-aware", is_flag=True,
    help="Add each DataReference input's current version (ETag / content hash) to its "
    "step's cache key, so changed data at an unchanged path reruns the step.",
)
@click.option(
    "--experiment", metavar="NAME",
    help="Experiment to record the run under (default: the file's own submit call, else "
    "the pipeline's name).",
)
def run_command(
    file: Path,
    params: tuple[str, ...],
    as_json: bool,
    resume: str | None,
    parallelism: int | None,
    state_dir: Path | None,
    regenerate: bool,
    content_aware: bool,
    experiment: str | None,
) -> None:
    """Run the Argo Workflow in FILE (or the pipeline in FILE.py) on this machine.

    A .py file that submits under `if __name__ == "__main__":` runs as `python FILE` would,
    with its submissions run here in the foreground. Every run is recorded in the run
    history (`kubeline runs list`).
    """
    from kubeline.exceptions import StepRunError
    from kubeline.history.manifest import CONTENT_AWARE_PARAMETER, REGENERATE_PARAMETER, RunInfo
    from kubeline.local.procs import stop_on_sigterm
    from kubeline.local.progress import reporter_for
    from kubeline.local.recorder import run_with_history

    runs: list[tuple[Any, str]] = []
    script_error: StepRunError | None = None
    stop_on_sigterm()
    try:
        parameters = _parse_params(params)
        check_datapath_shaped(parameters)
        reporter = reporter_for(sys.stderr)
        main_mode = False
        if file.suffix == ".py":
            from kubeline.cli.mainrun import submits_under_main

            root = workspace_root(file)
            os.environ["KUBELINE_WORKSPACE"] = str(root)  # node processes inherit it
            state_dir = state_dir or root / ".kubeline"
            main_mode = resume is None and experiment is None and submits_under_main(file)
        state_dir = (state_dir or Path(".kubeline")).resolve()
        if main_mode:
            from kubeline.cli.mainrun import run_main
            from kubeline.dsl.experiment import Foreground

            switches = {REGENERATE_PARAMETER: "true"} if regenerate else {}
            if content_aware:
                switches[CONTENT_AWARE_PARAMETER] = "true"
            options = Foreground({**parameters, **switches}, reporter, parallelism, state_dir)
            try:
                run_main(file, options, stdout_to_stderr=as_json)
            except StepRunError as exc:  # the file's wait_for_completion raised
                script_error = exc
            runs = list(options.runs)
        if not runs:
            docs = load_documents(file)
            info = RunInfo(started_by="kubeline run", experiment=experiment,
                           git=_git(file), properties={"file": str(file.resolve())},
                           regenerate_outputs=regenerate, content_aware=content_aware)
            runs = [run_with_history(docs, parameters=parameters, state_dir=state_dir,
                                     info=info, resume=resume, parallelism=parallelism,
                                     reporter=reporter)]
    except KubelineError as exc:
        if os.environ.get("KUBELINE_DEBUG"):
            raise
        cli_support.fail(str(exc), exc.exit_code if exc.exit_code != 1 else 2)
        return
    ok = True
    for summary, run_id in runs:
        ok = ok and summary.phase == "Succeeded"
        if as_json:
            click.echo(json.dumps({**summary.to_json(), "historyId": run_id}, indent=2))
            if summary.phase != "Succeeded":
                _show_failures(state_dir, run_id)
            continue
        click.echo(f"run:     {run_id} (workflow {summary.id})")
        click.echo(
            f"phase:   {summary.phase}" + (f" ({summary.message})" if summary.message else "")
        )
        click.echo(f"nodes:   {Path(summary.state_dir) / 'runs' / summary.id / 'nodes'}")
        click.echo(f"outputs: {summary.artifacts_dir}")
        click.echo(f"history: kubeline runs show {run_id}")
        if summary.phase != "Succeeded":
            _show_failures(state_dir, run_id)
    if script_error is not None and ok:
        cli_support.fail(str(script_error), 1)
    sys.exit(0 if ok else 1)


def _git(file: Path) -> dict[str, Any] | None:
    if file.suffix != ".py":
        return None
    from kubeline.reuse.snapshot import git_info

    info = git_info(file.resolve().parent)
    return None if info is None else {"commit": info.commit, "branch": info.branch,
                                      "dirty": info.dirty}


def _show_failures(state_dir: Path, run_id: str) -> None:
    """Each failed step's exit code and stderr tail, then the one-line error (stderr)."""
    from kubeline.history.db import History
    from kubeline.history.failures import failed_steps, failure_text, step_error

    with History(state_dir) as db:
        failed = failed_steps(db, run_id)
        error = step_error(db.get_run(run_id), failed)
    for step in failed:
        click.echo(failure_text(step), err=True)
    click.echo(f"kubeline: error: {error}", err=True)


if __name__ == "__main__":  # ``python -m kubeline.cli.run`` (used by tests)
    run_command()
