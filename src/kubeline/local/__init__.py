"""kubeline.local: run Argo Workflow manifests on this machine, as Argo would.

Entry point: ``run_manifest(docs, parameters=..., state_dir=...)`` -> ``RunSummary``.
See docs/local-executor.md for the semantics and every difference from Argo.
"""

from kubeline.local.executor import run_manifest
from kubeline.local.summary import NodeSummary, RunSummary

__all__ = ["NodeSummary", "RunSummary", "run_manifest"]
