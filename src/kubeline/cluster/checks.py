"""What must hold before a run is submitted, each failure one line naming what is missing
and what to do: the API server answers, Argo's CRDs are installed, the namespace exists,
this user may create what a run needs (SelfSubjectAccessReview), and the workflow's
service account exists (Argo would otherwise fail the first step with a bare
``serviceaccount "..." not found``)."""

from __future__ import annotations

from typing import Any

from kubeline.cluster.connect import Cluster, ClusterError

ARGO_GROUP, ARGO_VERSION = "argoproj.io", "v1alpha1"
WORKFLOWS = "workflows"
CHECK_TIMEOUT = 10  # seconds for each preflight request

# (API group, resource, verb): what submitting and following a run does
NEEDED = (
    (ARGO_GROUP, WORKFLOWS, "create"),
    (ARGO_GROUP, WORKFLOWS, "get"),
    (ARGO_GROUP, WORKFLOWS, "watch"),
    (ARGO_GROUP, WORKFLOWS, "patch"),
    ("", "configmaps", "create"),
    ("", "configmaps", "get"),
    ("", "configmaps", "patch"),
    ("", "pods/log", "get"),
)


def _status(exc: BaseException) -> int | None:
    return getattr(exc, "status", None)


def reachable(cluster: Cluster) -> None:
    """The API server answers (its /version), or one line saying it does not."""
    from kubernetes import client

    try:
        client.VersionApi(cluster.api).get_code(_request_timeout=CHECK_TIMEOUT)
    except Exception as exc:  # transport errors come in many types; all mean the same here
        if _status(exc) in (401, 403):
            raise ClusterError(f"the API server of {cluster.where} refuses these credentials "
                               f"(HTTP {_status(exc)})",
                               "log in again or fix the user of the kubeconfig context"
                               ) from None
        reason = str(getattr(exc, "reason", "") or type(exc).__name__).splitlines()[0]
        raise ClusterError(f"the API server of {cluster.where} does not answer ({reason})",
                           "check that the cluster is up and the kubeconfig points at it"
                           ) from None


def argo_installed(cluster: Cluster, group: str = ARGO_GROUP) -> None:
    """Argo's Workflow CRD is served (discovery of argoproj.io/v1alpha1)."""
    try:
        found = cluster.api.call_api(
            f"/apis/{group}/{ARGO_VERSION}", "GET", response_type="object",
            auth_settings=["BearerToken"], _return_http_data_only=True,
            _request_timeout=CHECK_TIMEOUT)
    except Exception as exc:
        if _status(exc) == 404:
            found = {}
        else:
            raise ClusterError(f"cannot read the API groups of {cluster.where} ({exc})") from None
    names = {r.get("name") for r in (found or {}).get("resources") or []}
    if WORKFLOWS not in names:
        raise ClusterError(
            f"Argo Workflows is not installed on {cluster.where}: no "
            f"{WORKFLOWS}.{group} CRD",
            "install Argo Workflows (its CRDs and controller), see docs/cluster.md")


def namespace_exists(cluster: Cluster) -> None:
    try:
        cluster.core.read_namespace(cluster.namespace, _request_timeout=CHECK_TIMEOUT)
    except Exception as exc:
        if _status(exc) == 404:
            raise ClusterError(f"namespace '{cluster.namespace}' does not exist on "
                               f"{cluster.where}",
                               f"kubectl create namespace {cluster.namespace}, or set "
                               "cluster.namespace in kubeline.yaml") from None
        if _status(exc) != 403:  # may not read namespaces: the other checks still tell
            raise ClusterError(f"cannot read namespace '{cluster.namespace}' ({exc})") from None


def allowed(cluster: Cluster) -> None:
    """Every permission in NEEDED, asked of the API server for this user."""
    from kubernetes import client

    auth = client.AuthorizationV1Api(cluster.api)
    missing = []
    for group, resource, verb in NEEDED:
        sub = resource.split("/", 1)
        review = client.V1SelfSubjectAccessReview(spec=client.V1SelfSubjectAccessReviewSpec(
            resource_attributes=client.V1ResourceAttributes(
                group=group, resource=sub[0], subresource=sub[1] if len(sub) > 1 else None,
                verb=verb, namespace=cluster.namespace)))
        answer = auth.create_self_subject_access_review(review, _request_timeout=CHECK_TIMEOUT)
        if not answer.status.allowed:
            missing.append(f"{verb} {resource}{'.' + group if group else ''}")
    if missing:
        raise ClusterError(
            f"RBAC on {cluster.where} forbids this user to {', '.join(missing)}",
            "ask for the Role in docs/cluster.md (\"The RBAC a submitter needs\") bound "
            f"in namespace {cluster.namespace}")


def service_account_exists(cluster: Cluster, name: str) -> None:
    try:
        cluster.core.read_namespaced_service_account(name, cluster.namespace,
                                                     _request_timeout=CHECK_TIMEOUT)
    except Exception as exc:
        if _status(exc) == 404:
            raise ClusterError(
                f"service account '{name}' (the workflow's) does not exist in namespace "
                f"'{cluster.namespace}' on {cluster.where}",
                "apply manifests/base (kubectl apply -k manifests/base) or set "
                "cluster.service_account in kubeline.yaml") from None
        if _status(exc) != 403:  # may not read service accounts: Argo will tell
            raise ClusterError(f"cannot read service account '{name}' ({exc})") from None


def workflow_service_account(docs: list[dict[str, Any]]) -> str | None:
    for doc in docs:
        if doc.get("kind") in ("Workflow", "WorkflowTemplate"):
            name = (doc.get("spec") or {}).get("serviceAccountName")
            return str(name) if name else None
    return None


def preflight(cluster: Cluster, docs: list[dict[str, Any]]) -> None:
    """All checks, cheapest and most basic first (the first failure is the one reported)."""
    reachable(cluster)
    argo_installed(cluster)
    namespace_exists(cluster)
    allowed(cluster)
    account = workflow_service_account(docs)
    if account:
        service_account_exists(cluster, account)
