"""Compile pipeline files into an output folder of manifests (the ``kubeline compile`` core)."""

from __future__ import annotations

import contextlib
import difflib
import logging
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kubeline._gc import paused_gc
from kubeline.compiler.argo.compiled import CompiledPipeline, Kind
from kubeline.compiler.cache import compile_cached
from kubeline.compiler.loader import load_pipelines, pipeline_folder
from kubeline.compiler.yaml_emit import dump, dump_all
from kubeline.exceptions import KubelineError

if TYPE_CHECKING:
    from kubeline.graph.model import PipelineGraph
    from kubeline.workspace.settings import WorkspaceSettings

KUSTOMIZATION = "kustomization.yaml"


def compile_pipelines(path: Path, kind: Kind = "workflow", publish: bool = False,
                      cached: bool = False, memoize: bool | None = None
                      ) -> list[CompiledPipeline]:
    """Every pipeline of a file, compiled; validation problems raise one line each.

    With publish, each step's source snapshot is uploaded to the pipeline's default
    datastore (content-addressed, skipped when present), where the step's shim fetches it.
    With cached, an unchanged pipeline's manifest comes from the workspace's compile cache.
    ``memoize`` overrides the workspace's cluster.argo_memoize.
    """
    compiled = []
    for graph, workspace in file_graphs(path, publish):
        cache_dir = workspace.state_dir / "cache" / "compiled" if cached else None
        compiled.append(compile_cached(graph, workspace.config, kind, cache_dir, memoize))
    return compiled


def file_graphs(path: Path, publish: bool = False
                ) -> Iterator[tuple[PipelineGraph, WorkspaceSettings]]:
    """Each pipeline of a file as its graph and workspace, in definition order: the one
    loop every compile target shares. The graph is built in the file's folder (relative
    source directories resolve as ``python pipeline.py`` sees them); with publish, its
    steps' snapshots are uploaded before the graph is handed on."""
    path = path.resolve()
    for pipeline in load_pipelines(path).values():
        with pipeline_folder(path):
            graph = pipeline.graph()
            if publish:
                publish_snapshots(graph, pipeline.workspace)
        yield graph, pipeline.workspace


def publish_snapshots(graph: PipelineGraph, workspace: WorkspaceSettings) -> int:
    """Upload the snapshot archive of every source folder the graph uses; returns how many."""
    from kubeline.runtime.snapshots import publish
    from kubeline.stores import open_store

    config = workspace.config.datastores[graph.default_datastore]
    store = open_store(graph.default_datastore, config, workspace.root)
    done: set[tuple[str, tuple[str, ...]]] = set()
    for step in graph.steps:
        key = (step.source_directory, step.hash_paths)
        if step.snapshot and key not in done:
            done.add(key)
            published = publish(Path(step.source_directory), step.hash_paths, store)
            if published != step.snapshot:
                raise KubelineError(f"step '{step.name}': source_directory "
                                    f"'{step.source_directory}' changed while compiling",
                                    "compile again")
    return len(done)


TARGETS = ("argo", "kfp")  # kubeline compile --target


def compile_to_files(path: Path, kind: Kind = "workflow", publish: bool = False,
                     memoize: bool | None = None, target: str = "argo") -> dict[str, str]:
    """The output folder's files for a pipeline file: Argo manifests plus
    kustomization.yaml, or with target "kfp" one KFP PipelineSpec YAML per pipeline."""
    if target == "kfp":
        from kubeline.compiler.kfp.render import kfp_files

        return kfp_files(path, publish)
    compiled = compile_pipelines(path, kind, publish, memoize=memoize)
    return render(compiled, compiled[0].namespace if compiled else None)


def compile_file(path: Path, kind: Kind = "workflow", pipeline: str | None = None
                 ) -> list[dict[str, Any]]:
    """The documents of the file's one pipeline (or the one named), for the local executor;
    snapshots are published so the run finds them. Local runs always get the memoize fast
    path: the local memo store has none of Argo's ConfigMap limits, and a reused step then
    starts no process."""
    with local_compile():
        compiled = compile_pipelines(path, kind, publish=True, cached=True, memoize=True)
    if pipeline is not None:
        compiled = [c for c in compiled if c.name == pipeline]
    if len(compiled) != 1:
        names = ", ".join(c.name for c in compiled) or "none of that name"
        raise KubelineError(f"{path.name}: defines pipelines {names}",
                            "choose one with --pipeline NAME")
    return compiled[0].documents


@contextlib.contextmanager
def local_compile() -> Iterator[None]:
    """Compiling for a run on this machine: the compiler's warnings are about clusters (GPUs
    a kind cluster lacks, image tags a registry may move), so they are not shown."""
    logger = logging.getLogger("kubeline.compile")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def render(compiled: list[CompiledPipeline], namespace: str | None = None) -> dict[str, str]:
    """File name -> text of the output folder: one multi-document YAML per pipeline."""
    with paused_gc():
        files = {f"{c.name}.yaml": dump_all(c.documents) for c in compiled}
    kustomization: dict[str, Any] = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
    }
    if namespace:
        kustomization["namespace"] = namespace
    kustomization["resources"] = sorted(files)
    files[KUSTOMIZATION] = dump(kustomization)
    return dict(sorted(files.items()))


@dataclass(frozen=True)
class Drift:
    """How an output folder differs from what compile would write."""

    added: list[str]
    changed: list[tuple[str, int, int]]
    removed: list[str]

    @property
    def clean(self) -> bool:
        return not (self.added or self.changed or self.removed)

    def summary(self) -> list[str]:
        lines = [f"would add {n}" for n in self.added]
        lines += [f"would change {n} (+{a} -{r} lines)" for n, a, r in self.changed]
        lines += [f"would remove {n}" for n in self.removed]
        return lines


def _managed(outdir: Path) -> list[str]:
    """Files a previous compile wrote: the kustomization and the resources it lists, and
    KFP pipeline files (known by their first line)."""
    from kubeline.compiler.kfp.render import is_kfp_file

    kfp = sorted(p.name for p in outdir.glob("*.yaml") if is_kfp_file(p))
    kfile = outdir / KUSTOMIZATION
    if not kfile.is_file():
        return kfp
    import yaml

    try:
        data = yaml.safe_load(kfile.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError:
        return [KUSTOMIZATION, *kfp]
    return [KUSTOMIZATION, *[str(r) for r in data.get("resources", []) if "/" not in str(r)],
            *kfp]


def drift(files: dict[str, str], outdir: Path) -> Drift:
    added, changed = [], []
    for name, text in files.items():
        target = outdir / name
        if not target.is_file():
            added.append(name)
            continue
        old = target.read_text(encoding="utf-8")
        if old != text:
            diff = list(difflib.unified_diff(old.splitlines(), text.splitlines(), lineterm="", n=0))
            plus = sum(1 for d in diff if d.startswith("+") and not d.startswith("+++"))
            minus = sum(1 for d in diff if d.startswith("-") and not d.startswith("---"))
            changed.append((name, plus, minus))
    removed = sorted(n for n in _managed(outdir) if n not in files and (outdir / n).exists())
    return Drift(added, changed, removed)


def write_output(files: dict[str, str], outdir: Path) -> Drift:
    """Write changed files atomically and remove resources a previous compile left behind."""
    result = drift(files, outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    for name in [*result.added, *(c[0] for c in result.changed)]:
        fd, tmp = tempfile.mkstemp(dir=outdir, prefix=f".{name}.")
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(files[name])
        os.replace(tmp, outdir / name)
    for name in result.removed:
        (outdir / name).unlink()
    return result
