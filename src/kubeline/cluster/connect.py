"""Which cluster, as whom, in which namespace: resolved the way kubectl resolves them.

Order (kubectl's): ``cluster.kubeconfig`` in kubeline.yaml, else ``$KUBECONFIG`` (several
files joined by ``:``), else ``~/.kube/config``; ``cluster.context`` else the file's
current context. Without any kubeconfig, inside a pod, the pod's service account
(in-cluster config). The namespace is ``cluster.namespace`` when kubeline.yaml sets it,
else the context's namespace (or the pod's), else ``kubeline``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kubeline.exceptions import KubelineError

if TYPE_CHECKING:
    from kubeline.workspace.config import ClusterConfig

IN_CLUSTER_NAMESPACE = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")
DEFAULT_NAMESPACE = "kubeline"


class ClusterError(KubelineError):
    """The cluster cannot take the run (unreachable, no Argo, forbidden, misconfigured)."""


@dataclass
class Cluster:
    """A connection to one cluster: the API client, the namespace runs go to, and where
    the settings came from (for messages)."""

    api: Any  # kubernetes.client.ApiClient
    namespace: str
    context: str
    server: str
    source: str  # the kubeconfig file(s), or "in-cluster"

    @cached_property
    def core(self) -> Any:
        from kubernetes import client

        return client.CoreV1Api(self.api)

    @cached_property
    def custom(self) -> Any:
        from kubernetes import client

        return client.CustomObjectsApi(self.api)

    @property
    def where(self) -> str:
        """How messages name this cluster: context, server and namespace."""
        return f"context '{self.context}' ({self.server}), namespace '{self.namespace}'"


def _kubeconfig_files(setting: str | None, base: Path) -> list[Path]:
    if setting:
        path = Path(os.path.expanduser(setting))
        return [path if path.is_absolute() else base / path]
    env = os.environ.get("KUBECONFIG", "")
    if env:
        return [Path(p) for p in env.split(os.pathsep) if p]
    return [Path.home() / ".kube" / "config"]


def connect(settings: ClusterConfig, base: Path) -> Cluster:
    """A Cluster for the workspace's ``cluster:`` settings (``base``: kubeline.yaml's folder,
    against which a relative ``kubeconfig`` is read)."""
    try:
        from kubernetes import client, config
        from kubernetes.config.config_exception import ConfigException
    except ImportError as exc:
        raise ClusterError("submitting to a cluster needs the kubernetes package",
                           "pip install 'kubeline[cluster]'") from exc
    files = [f for f in _kubeconfig_files(settings.kubeconfig, base) if f.is_file()]
    explicit = "namespace" in settings.model_fields_set
    if not files:
        if settings.kubeconfig or not os.environ.get("KUBERNETES_SERVICE_HOST"):
            tried = ", ".join(str(f) for f in _kubeconfig_files(settings.kubeconfig, base))
            raise ClusterError(
                f"no kubeconfig: {tried} does not exist",
                "set cluster.kubeconfig (or cluster.context) in kubeline.yaml, or KUBECONFIG, "
                "or run kubeline inside the cluster")
        configuration = client.Configuration()
        try:
            config.load_incluster_config(client_configuration=configuration)
        except ConfigException as exc:
            raise ClusterError(f"in-cluster config: {exc}",
                               "mount the pod's service account token") from exc
        pod_ns = (IN_CLUSTER_NAMESPACE.read_text().strip()
                  if IN_CLUSTER_NAMESPACE.is_file() else "")
        namespace = settings.namespace if explicit else (pod_ns or DEFAULT_NAMESPACE)
        return Cluster(client.ApiClient(configuration), namespace, "in-cluster",
                       str(configuration.host), "in-cluster")
    joined = os.pathsep.join(str(f) for f in files)
    try:
        contexts, current = config.list_kube_config_contexts(config_file=joined)
        name = settings.context or (current or {}).get("name")
        chosen = next((c for c in contexts if c.get("name") == name), None)
        if chosen is None:
            known = ", ".join(sorted(str(c.get("name")) for c in contexts)) or "none"
            raise ClusterError(f"kubeconfig {joined}: no context '{name}'",
                               f"set cluster.context to one of: {known}")
        configuration = client.Configuration()
        config.load_kube_config(config_file=joined, context=name,
                                client_configuration=configuration)
    except ConfigException as exc:
        raise ClusterError(f"kubeconfig {joined}: {exc}",
                           "check the file with 'kubectl config view'") from exc
    context_ns = str((chosen.get("context") or {}).get("namespace") or "")
    namespace = settings.namespace if explicit else (context_ns or DEFAULT_NAMESPACE)
    return Cluster(client.ApiClient(configuration), namespace, str(name),
                   str(configuration.host), joined)
