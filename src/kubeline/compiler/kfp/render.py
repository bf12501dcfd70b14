"""``kubeline compile --target kfp``: a pipeline file's pipelines as KFP YAML files."""

from __future__ import annotations

from pathlib import Path

from kubeline._gc import paused_gc
from kubeline.compiler.api import file_graphs
from kubeline.compiler.kfp.pipeline import HEADER, compile_graph_kfp
from kubeline.compiler.yaml_emit import dump


def is_kfp_file(path: Path) -> bool:
    """A file this backend wrote (what --check and stale-file removal manage)."""
    try:
        with path.open(encoding="utf-8") as handle:
            return handle.readline().rstrip("\n") == HEADER
    except (OSError, UnicodeDecodeError):
        return False


def kfp_files(path: Path, publish: bool = False) -> dict[str, str]:
    """File name -> text: ``<pipeline>.yaml`` per pipeline, the PipelineSpec then (when
    steps need pod placement or Secrets) the kubernetes platform spec, as kfp writes them."""
    files: dict[str, str] = {}
    for graph, workspace in file_graphs(path, publish):
        compiled = compile_graph_kfp(graph, workspace.config)
        with paused_gc():
            body = "---\n".join(dump(doc) for doc in compiled.documents)
        files[f"{compiled.name}.yaml"] = f"{HEADER}\n{body}"
    return dict(sorted(files.items()))
