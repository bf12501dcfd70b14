"""Compiled manifests kept by content, so an unchanged pipeline recompiles without loading
Argo's models (their import is most of a rerun's start-up: about half a second).

The key covers everything compile_graph reads: the step spec files (every step's settings,
snapshot hashes and the datastores they use), the workspace config, the git revision, the
kind, and the compiler's own source files (so a kubeline upgrade or edit never reuses an
old entry).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

from kubeline.compiler.argo.compiled import CompiledPipeline, Kind
from kubeline.graph.model import PipelineGraph
from kubeline.workspace.config import WorkspaceConfig

_COMPILER = Path(__file__).resolve().parent


def _compiler_version() -> str:
    """Paths, sizes and mtimes of the compiler and graph sources: a stat per file."""
    parts = []
    for folder in (_COMPILER, _COMPILER.parent / "graph", _COMPILER.parent / "reuse"):
        for path in sorted(folder.rglob("*.py")):
            stat = path.stat()
            parts.append(f"{path.relative_to(_COMPILER.parent)}:{stat.st_size}:{stat.st_mtime_ns}")
    return "\n".join(parts)


def cache_key(graph: PipelineGraph, config: WorkspaceConfig, kind: Kind,
              files: dict[str, str], memoize: bool | None = None) -> str:
    """``files`` are the graph's spec files (kubeline.compiler.argo.spec.spec_files)."""
    from kubeline._version import __version__

    digest = hashlib.sha256()
    for part in (__version__, kind, str(memoize), _compiler_version(),
                 json.dumps(files, sort_keys=True),
                 config.model_dump_json(),
                 json.dumps([graph.git.commit, graph.git.dirty] if graph.git else None)):
        digest.update(part.encode("utf-8") + b"\0")
    return digest.hexdigest()


def compile_cached(graph: PipelineGraph, config: WorkspaceConfig, kind: Kind,
                   cache_dir: Path | None, memoize: bool | None = None) -> CompiledPipeline:
    """compile_graph's result, from cache_dir when this exact input was compiled before;
    ``memoize`` as compile_graph takes it."""
    if cache_dir is None:
        from kubeline.compiler.argo.workflow import compile_graph

        return compile_graph(graph, config, kind, memoize=memoize)
    from kubeline.compiler.argo.spec import spec_files

    files = spec_files(graph, config)  # made once: the key and, on a miss, the ConfigMap
    entry = cache_dir / f"{cache_key(graph, config, kind, files, memoize)}.json"
    try:
        data = json.loads(entry.read_text(encoding="utf-8"))
        return CompiledPipeline(data["name"], data["documents"], data["namespace"])
    except (OSError, ValueError, KeyError, TypeError):
        pass
    from kubeline.compiler.argo.workflow import compile_graph

    compiled = compile_graph(graph, config, kind, files, memoize)
    cache_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=cache_dir, prefix=".compiled-")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump({"name": compiled.name, "documents": compiled.documents,
                   "namespace": compiled.namespace}, handle)
    os.replace(tmp, entry)
    return compiled
