"""Validate compiled KFP pipelines with KFP's own code (kubeline validate DIR).

1. strict protobuf parse: the PipelineSpec into kfp-pipeline-spec's ``PipelineSpec``, the
   platform spec into ``PlatformSpec`` and each executor's config into kfp-kubernetes'
   ``KubernetesExecutorConfig``, with unknown fields as errors;
2. ``kfp.components.load_component_from_file`` loads the file;
3. a kfp pipeline that calls the loaded pipeline as a sub-pipeline compiles with
   ``kfp.compiler.Compiler``.

Needs the ``kfp`` extra (``pip install 'kubeline[kfp]'``).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from kubeline.exceptions import KubelineError


def is_kfp_document(doc: Any) -> bool:
    """A PipelineSpec (as kfp writes it) rather than a Kubernetes object."""
    return isinstance(doc, dict) and "pipelineInfo" in doc and "root" in doc \
        and "kind" not in doc


def _require_kfp() -> None:
    try:
        import kfp.kubernetes  # noqa: F401
    except ImportError:
        raise KubelineError("validating KFP pipelines needs the kfp SDK",
                            "pip install 'kubeline[kfp]'") from None


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split())


def parse_strict(docs: list[Any], where: str) -> list[str]:
    """Problems of the strict protobuf parse of a KFP YAML's documents."""
    from google.protobuf import json_format
    from kfp.kubernetes import kubernetes_executor_config_pb2 as k8s_pb2
    from kfp.pipeline_spec import pipeline_spec_pb2

    problems: list[str] = []
    try:
        json_format.ParseDict(docs[0], pipeline_spec_pb2.PipelineSpec(),
                              ignore_unknown_fields=False)
    except json_format.ParseError as exc:
        problems.append(f"{where}: PipelineSpec: {_one_line(exc)}")
    for index, doc in enumerate(docs[1:], start=1):
        try:
            json_format.ParseDict(doc, pipeline_spec_pb2.PlatformSpec(),
                                  ignore_unknown_fields=False)
        except json_format.ParseError as exc:
            problems.append(f"{where}[{index}]: PlatformSpec: {_one_line(exc)}")
            continue
        executors = (doc.get("platforms", {}).get("kubernetes", {}).get("deploymentSpec", {})
                     .get("executors", {}))
        for label, config in sorted(executors.items()):
            try:
                json_format.ParseDict(config, k8s_pb2.KubernetesExecutorConfig(),
                                      ignore_unknown_fields=False)
            except json_format.ParseError as exc:
                problems.append(f"{where}[{index}]: executor {label}: "
                                f"KubernetesExecutorConfig: {_one_line(exc)}")
    return problems


def load_and_compile(path: Path) -> list[str]:
    """Problems of loading the file with the kfp SDK and compiling it as a sub-pipeline."""
    from kfp import compiler, components, dsl

    try:
        loaded = components.load_component_from_file(str(path))
    except Exception as exc:  # kfp raises many kinds; each is a finding about the file
        return [f"{path.name}: kfp.components.load_component_from_file: {_one_line(exc)}"]

    def outer():  # type: ignore[no-untyped-def]  # kfp reads a "-> None" as an output
        loaded()

    with tempfile.TemporaryDirectory(prefix="kubeline-kfp-validate-") as tmp:
        try:
            pipeline = dsl.pipeline(name="kubeline-validate-outer")(outer)
            compiler.Compiler().compile(pipeline, str(Path(tmp) / "outer.yaml"))
        except Exception as exc:
            return [f"{path.name}: kfp.compiler.Compiler (as a sub-pipeline): "
                    f"{_one_line(exc)}"]
    return []


def validate_kfp_file(path: Path, docs: list[Any]) -> list[str]:
    """Every problem KFP's own code finds in one compiled file ([] when KFP accepts it)."""
    _require_kfp()
    problems = parse_strict(docs, path.name)
    if problems:
        return problems
    return load_and_compile(path)
