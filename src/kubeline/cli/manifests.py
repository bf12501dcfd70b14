"""``kubeline compile`` and ``kubeline validate``: pipelines to manifests, manifests checked."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from kubeline.cli.support import user_errors
from kubeline.exceptions import ValidationError, yaml_problem


@click.command("compile")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("-o", "--output", "outdir", type=click.Path(path_type=Path, file_okay=False),
              required=True, help="Folder for the manifests and kustomization.yaml.")
@click.option("--target", type=click.Choice(["argo", "kfp"]), default="argo", show_default=True,
              help="argo: Argo Workflows manifests; kfp: Kubeflow Pipelines v2 PipelineSpec.")
@click.option("--kind", type=click.Choice(["workflow", "workflowtemplate"]), default=None,
              help="Argo object to emit for each pipeline (default workflow; --target argo).")
@click.option("--check", is_flag=True,
              help="Write nothing; exit 1 listing the differences if the folder would change.")
@click.option("--no-publish", is_flag=True,
              help="Do not upload source snapshots to the default datastore.")
@user_errors
def compile_command(file: Path, outdir: Path, target: str, kind: str | None, check: bool,
                    no_publish: bool) -> None:
    """Compile the pipelines defined in FILE into Argo manifests (or KFP pipelines).

    Source snapshots are uploaded to the default datastore (where step pods fetch them)
    unless --check or --no-publish is given.
    """
    from kubeline.compiler.api import compile_to_files, drift, write_output
    from kubeline.exceptions import KubelineError

    if kind is not None and target != "argo":
        raise KubelineError(f"--kind applies to --target argo, not {target}",
                            "drop --kind: a KFP pipeline is one PipelineSpec")
    files = compile_to_files(file, kind or "workflow",  # type: ignore[arg-type]
                             publish=not (check or no_publish), target=target)
    if check:
        result = drift(files, outdir)
        if result.clean:
            click.echo(f"{outdir}: up to date ({len(files)} files)")
            return
        for line in result.summary():
            click.echo(line)
        sys.exit(1)
    result = write_output(files, outdir)
    for name in [*result.added, *(c[0] for c in result.changed)]:
        click.echo(f"wrote {outdir / name}")
    for name in result.removed:
        click.echo(f"removed {outdir / name}")
    unchanged = len(files) - len(result.added) - len(result.changed)
    click.echo(f"{len(result.added)} added, {len(result.changed)} changed, "
               f"{len(result.removed)} removed, {unchanged} unchanged in {outdir}")


@click.command("validate")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--no-lint", is_flag=True, help="Skip 'argo lint --offline' even if available.")
@user_errors
def validate_command(path: Path, no_lint: bool) -> None:
    """Check compiled manifests against Argo's API (strict) and Argo's own linter, or KFP
    pipelines with KFP's own code (strict protobuf parse, SDK load, sub-pipeline compile)."""
    import yaml

    from kubeline.compiler.kfp.validate import is_kfp_document, validate_kfp_file
    from kubeline.compiler.validate import validate_document

    files = sorted(path.glob("*.yaml")) if path.is_dir() else [path]
    files = [f for f in files if f.name != "kustomization.yaml"]
    problems: list[str] = []
    count = 0
    kfp_files = []
    for file in files:
        try:
            docs = [d for d in yaml.safe_load_all(file.read_text(encoding="utf-8")) if d]
        except yaml.YAMLError as exc:
            problems.append(f"{file}: not valid YAML at {yaml_problem(exc)}")
            continue
        if docs and is_kfp_document(docs[0]):
            kfp_files.append(file)
            problems += validate_kfp_file(file, docs)
            continue
        for index, doc in enumerate(docs):
            count += 1
            problems += validate_document(doc, f"{file.name}[{index}]")
    if problems:
        raise ValidationError(problems)
    if kfp_files:
        click.echo(f"kfp: {len(kfp_files)} pipelines valid (strict protobuf parse, "
                   "kfp.components.load_component_from_file, sub-pipeline compile)")
    files = [f for f in files if f not in kfp_files]
    if not files:
        return
    click.echo(f"schema: {count} objects in {len(files)} files valid")
    if no_lint:
        return
    try:
        from kubeline.compiler.argo_lint import find_argo, lint_offline
    except ImportError:
        return
    if find_argo() is None:
        click.echo("argo lint: skipped (argo CLI not found; build it with scripts/build-argo.sh)")
        return
    result = lint_offline(files)
    if not result.ok:
        raise ValidationError([f"argo lint: {m}" for m in result.messages] or ["argo lint failed"])
    click.echo("argo lint: ok")
