"""Compute targets, stored in kubeline.yaml; no cloud calls are made.

A target is a scheduling profile (docs/compute.md): AmlCompute names an Azure VM size and a
scale, KubernetesCompute names instance types (a nodeSelector plus resources, as AML's
Kubernetes compute does), DatabricksCompute and AdlaCompute mark where Spark steps run (on
the spark-operator). Secrets are never stored: a Databricks token becomes a Secret reference.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from kubeline.aml_surface.checker import aml_surface
from kubeline.aml_surface.data import surface
from kubeline.exceptions import ComputeTargetException
from kubeline.workspace.config import ComputeTargetConfig

if TYPE_CHECKING:
    from kubeline.dsl.workspace import Workspace

DEFAULT_VM_SIZE = "STANDARD_NC6"  # the SDK's default when vm_size is empty
_PRIORITIES = ("dedicated", "lowpriority")
_INSTANCE_TYPE_KEYS = {"nodeSelector", "resources", "tolerations", "affinity"}


class ComputeTargetStatus:
    """What ``target.status`` / ``get_status()`` return; ``serialize()`` is a plain dict."""

    def __init__(self, target: ComputeTarget) -> None:
        self._target = target
        self.provisioning_state = "Succeeded"
        props = target.properties
        self.current_node_count = int(props.get("min_nodes") or 0)
        self.target_node_count = self.current_node_count
        self.vm_size = props.get("vm_size")

    def serialize(self) -> dict[str, Any]:
        return {"name": self._target.name, "type": self._target.type,
                "provisioningState": self.provisioning_state,
                "currentNodeCount": self.current_node_count, **self._target.properties}

    def __repr__(self) -> str:
        return f"ComputeTargetStatus({self.serialize()!r})"


class ProvisioningConfiguration:
    """What ``provisioning_configuration`` / ``attach_configuration`` return."""

    def __init__(self, type_: str, properties: dict[str, Any]) -> None:
        self.type = type_
        self.properties = properties


@aml_surface(surface("ComputeTarget"))
class ComputeTarget:
    """A named compute target of the workspace; raises ComputeTargetException when absent."""

    _type: str | None = None

    def __init__(self, workspace: Workspace, name: str) -> None:
        config = workspace.config.compute_targets.get(name)
        if config is None:
            known = ", ".join(sorted(workspace.config.compute_targets)) or "none"
            raise ComputeTargetException(
                f"compute target '{name}' not found in workspace '{workspace.name}'",
                f"known targets: {known}; create it with ComputeTarget.create",
            )
        if self._type is not None and config.type != self._type:
            raise ComputeTargetException(
                f"compute target '{name}' is a {config.type}, not a {self._type}",
                f"use ComputeTarget(ws, '{name}') or a {config.type}")
        self.workspace = workspace
        self.name = name
        self.type = config.type
        self.properties = dict(config.properties)
        self.provisioning_state = "Succeeded"

    def __new__(cls, workspace: Workspace, name: str) -> ComputeTarget:
        config = workspace.config.compute_targets.get(name)
        subclass = _TYPES.get(config.type, cls) if config is not None else cls
        return object.__new__(subclass if issubclass(subclass, cls) else cls)

    @staticmethod
    def create(workspace: Workspace, name: str,
               provisioning_configuration: ProvisioningConfiguration) -> ComputeTarget:
        """Record the target in kubeline.yaml (replacing one of the same name)."""
        _check_name(name)
        targets = dict(workspace.config.compute_targets)
        targets[name] = ComputeTargetConfig(type=provisioning_configuration.type,
                                            properties=provisioning_configuration.properties)
        workspace._update(compute_targets=targets)
        return ComputeTarget(workspace, name)

    @staticmethod
    def attach(workspace: Workspace, name: str,
               attach_configuration: ProvisioningConfiguration) -> ComputeTarget:
        return ComputeTarget.create(workspace, name, attach_configuration)

    def wait_for_completion(self, show_output: bool = False, min_node_count: int | None = None,
                            timeout_in_minutes: int = 25, is_delete_operation: bool = False
                            ) -> None:
        """Returns at once: nothing is provisioned, the cluster's autoscaler does that."""
        if show_output:
            print(f"Compute target '{self.name}' ({self.type}) is ready: it is a scheduling "
                  "profile, nothing is provisioned. See `kubeline compute show "
                  f"{self.name}` for what the cluster needs.")

    def get_status(self) -> ComputeTargetStatus:
        return ComputeTargetStatus(self)

    @property
    def status(self) -> ComputeTargetStatus:
        return self.get_status()

    def serialize(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type, "properties": dict(self.properties)}

    def delete(self) -> None:
        """Remove the target from kubeline.yaml."""
        targets = dict(self.workspace.config.compute_targets)
        targets.pop(self.name, None)
        self.workspace._update(compute_targets=targets)

    detach = delete

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, properties={self.properties!r})"


def _check_name(name: str) -> None:
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z][A-Za-z0-9-]{1,31}", name):
        raise ComputeTargetException(
            f"compute target name {name!r} is not valid",
            "use 2-32 letters, digits and '-', starting with a letter (AML's rule)")


@aml_surface(surface("AmlCompute"))
class AmlCompute(ComputeTarget):
    """A VM size and a scale: pods get that size's CPUs, memory and GPUs (docs/compute.md)."""

    _type = "AmlCompute"

    @staticmethod
    def provisioning_configuration(vm_size: str = "", vm_priority: str = "dedicated",
                                   min_nodes: int = 0, max_nodes: int | None = None,
                                   **_aml_only: Any) -> ProvisioningConfiguration:
        from kubeline.compiler.scheduling import resolve_size  # the size table, data only

        size = vm_size.strip() or DEFAULT_VM_SIZE
        resolve_size(size, "AmlCompute.provisioning_configuration")
        if vm_priority not in _PRIORITIES:
            raise ComputeTargetException(
                f"AmlCompute.provisioning_configuration: vm_priority '{vm_priority}' is not "
                "valid", "use 'dedicated' or 'lowpriority'")
        top = 4 if max_nodes is None else max_nodes
        if not isinstance(min_nodes, int) or not isinstance(top, int) or min_nodes < 0 \
                or top < max(1, min_nodes):
            raise ComputeTargetException(
                f"AmlCompute.provisioning_configuration: min_nodes={min_nodes}, "
                f"max_nodes={max_nodes} are not a valid scale",
                "use 0 <= min_nodes <= max_nodes and max_nodes >= 1")
        return ProvisioningConfiguration("AmlCompute", {
            "vm_size": size.upper(), "vm_priority": vm_priority,
            "min_nodes": min_nodes, "max_nodes": top,
        })


@aml_surface(surface("KubernetesCompute"))
class KubernetesCompute(ComputeTarget):
    """A Kubernetes cluster with named instance types: name -> nodeSelector + resources."""

    _type = "KubernetesCompute"

    @staticmethod
    def attach_configuration(resource_id: str | None = None, namespace: str | None = None,
                             identity_type: str | None = None,
                             identity_ids: list[str] | None = None,
                             instance_types: dict[str, dict[str, Any]] | None = None,
                             default_instance_type: str | None = None
                             ) -> ProvisioningConfiguration:
        types = dict(instance_types or {})
        for name, spec in types.items():
            unknown = sorted(set(spec) - _INSTANCE_TYPE_KEYS) if isinstance(spec, dict) else []
            if not isinstance(spec, dict) or unknown:
                raise ComputeTargetException(
                    f"KubernetesCompute instance type '{name}': unknown fields {unknown}"
                    if unknown else f"KubernetesCompute instance type '{name}' is not a dict",
                    "use nodeSelector, resources (requests/limits), tolerations, affinity")
        if default_instance_type is not None and default_instance_type not in types:
            raise ComputeTargetException(
                f"KubernetesCompute: default_instance_type '{default_instance_type}' is not "
                "one of the instance types", "known: " + (", ".join(sorted(types)) or "none"))
        props: dict[str, Any] = {"instance_types": types}
        for key, value in (("resource_id", resource_id), ("namespace", namespace),
                           ("default_instance_type", default_instance_type)):
            if value is not None:
                props[key] = value
        return ProvisioningConfiguration("KubernetesCompute", props)


def _token_secret(name: str) -> dict[str, str]:
    from kubeline.graph.names import dns_label

    return {"name": dns_label(f"{name}-token"), "key": "token"}


@aml_surface(surface("DatabricksCompute"))
class DatabricksCompute(ComputeTarget):
    """Where DatabricksSteps run: the spark-operator. The access token is never stored."""

    _type = "DatabricksCompute"
    attach = ComputeTarget.__dict__["attach"]  # its own entry, for the SDK's old signature

    @staticmethod
    def attach_configuration(resource_group: str | None = None,
                             workspace_name: str | None = None, access_token: str = "",
                             token_secret: dict[str, str] | None = None
                             ) -> ProvisioningConfiguration:
        """``access_token`` is only checked to be given: it is a Kubernetes Secret's job to
        hold it (``token_secret``, default ``{name: <workspace_name>-token, key: token}``)."""
        if not access_token and token_secret is None:
            raise ComputeTargetException(
                "DatabricksCompute.attach_configuration: access_token is empty",
                "read it from the environment, e.g. os.environ['DATABRICKS_ACCESS_TOKEN']")
        secret = token_secret or _token_secret(workspace_name or "databricks")
        return ProvisioningConfiguration("DatabricksCompute", {
            "resource_group": resource_group, "workspace_name": workspace_name,
            "access_token_secret": dict(secret)})


@aml_surface(surface("AdlaCompute"))
class AdlaCompute(ComputeTarget):
    """Where AdlaSteps run: ADLA is retired, so its .sql scripts run as Spark SQL."""

    _type = "AdlaCompute"
    attach = ComputeTarget.__dict__["attach"]  # its own entry, for the SDK's old signature

    @staticmethod
    def attach_configuration(resource_group: str | None = None,
                             account_name: str | None = None) -> ProvisioningConfiguration:
        return ProvisioningConfiguration("AdlaCompute", {
            "resource_group": resource_group, "account_name": account_name})


_TYPES: dict[str, type[ComputeTarget]] = {
    "AmlCompute": AmlCompute,
    "KubernetesCompute": KubernetesCompute,
    "DatabricksCompute": DatabricksCompute,
    "AdlaCompute": AdlaCompute,
}
