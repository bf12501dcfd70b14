"""``kubeline compute list`` / ``kubeline compute show NAME``: what a cluster needs for a target."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from kubeline.cli.support import user_errors


def _config(workspace: Path | None) -> Any:
    from kubeline.exceptions import ConfigError
    from kubeline.workspace.config import WorkspaceConfig, find_config, load_config

    path = find_config(workspace or Path.cwd())
    if path is None:
        if workspace is not None:
            raise ConfigError(f"{workspace}: no kubeline.yaml here or above",
                              "run from the workspace folder or pass --workspace")
        return WorkspaceConfig().with_defaults()
    return load_config(path)


@click.group("compute")
def compute_group() -> None:
    """Compute targets of the workspace (kubeline.yaml) as Kubernetes scheduling."""


@compute_group.command("list")
@click.option("--workspace", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Folder of kubeline.yaml (default: the nearest one above the cwd).")
@user_errors
def list_command(workspace: Path | None) -> None:
    """Names and types of the workspace's compute targets."""
    config = _config(workspace)
    for name, target in sorted(config.compute_targets.items()):
        click.echo(f"{name}\t{target.type}")


def _lines(info: dict[str, Any]) -> list[str]:
    lines = [f"compute target: {info['name']} ({info['type']}), cluster flavour: "
             f"{info['flavour']}"]
    node = info.get("node")
    if node:
        gpu = f", {node['gpus']} x {node['gpu_model']} GPU" if node["gpus"] else ""
        lines.append(f"node size: {node['vm_size']} ({node['family']} series): "
                     f"{node['vcpus']} vCPUs, {node['memory_gib']:g} GiB{gpu}")
    scale = info.get("scale")
    if scale:
        lines.append(f"node pool: min {scale['min_nodes']} / max {scale['max_nodes']} nodes, "
                     f"priority {scale['vm_priority']} (the cluster autoscaler's bounds)")
    pod = info.get("pod")
    if pod is not None:
        res = pod.get("resources") or {}
        for kind in ("requests", "limits"):
            if res.get(kind):
                values = ", ".join(f"{k}={v}" for k, v in res[kind].items())
                lines.append(f"pod {kind}: {values}")
        if pod.get("nodeSelector"):
            labels = ", ".join(f"{k}={v}" for k, v in pod["nodeSelector"].items())
            lines.append(f"nodes must carry labels: {labels}")
        for tol in pod.get("tolerations") or []:
            value = f"={tol['value']}" if "value" in tol else ""
            lines.append(f"pods tolerate taint: {tol.get('key', '*')}{value}:"
                         f"{tol.get('effect', '*')}")
        if not (res or pod.get("nodeSelector") or pod.get("tolerations")):
            lines.append("pods: no resources or placement (any node)")
    for warning in info.get("warnings") or []:
        lines.append(f"warning: {warning}")
    if info.get("note"):
        lines.append(info["note"])
    return lines


@compute_group.command("show")
@click.argument("name")
@click.option("--workspace", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Folder of kubeline.yaml (default: the nearest one above the cwd).")
@click.option("--json", "as_json", is_flag=True, help="Print the same facts as JSON.")
@user_errors
def show_command(name: str, workspace: Path | None, as_json: bool) -> None:
    """What the cluster needs for compute target NAME: node size, pool bounds, labels,
    taints, and the resources each step pod asks for."""
    from kubeline.compiler.scheduling import cluster_needs

    info = cluster_needs(name, _config(workspace))
    if as_json:
        click.echo(json.dumps(info, indent=2, sort_keys=True))
        return
    for line in _lines(info):
        click.echo(line)
