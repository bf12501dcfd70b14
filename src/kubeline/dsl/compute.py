"""Compute targets, stored in kubeline.yaml; no cloud calls are made."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kubeline.exceptions import ComputeTargetException
from kubeline.workspace.config import ComputeTargetConfig

if TYPE_CHECKING:
    from kubeline.dsl.workspace import Workspace


class ComputeTargetStatus:
    def __init__(self, target: ComputeTarget) -> None:
        self._target = target

    def serialize(self) -> dict[str, Any]:
        return {"name": self._target.name, "type": self._target.type,
                "provisioningState": "Succeeded", **self._target.properties}


class ProvisioningConfiguration:
    """What ``AmlCompute.provisioning_configuration`` returns: the VM size and scale."""

    def __init__(self, type_: str, properties: dict[str, Any]) -> None:
        self.type = type_
        self.properties = properties


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
        self.workspace = workspace
        self.name = name
        self.type = config.type
        self.properties = dict(config.properties)

    def __new__(cls, workspace: Workspace, name: str) -> ComputeTarget:
        config = workspace.config.compute_targets.get(name)
        subclass = _TYPES.get(config.type, cls) if config is not None else cls
        return object.__new__(subclass if issubclass(subclass, cls) else cls)

    @staticmethod
    def create(workspace: Workspace, name: str,
               provisioning_configuration: ProvisioningConfiguration) -> ComputeTarget:
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
                            timeout_in_minutes: int = 20, is_delete_operation: bool = False
                            ) -> None:
        if show_output:
            print(f"Compute target '{self.name}' ({self.type}) is ready: it is a scheduling "
                  "profile, nothing is provisioned.")

    @property
    def status(self) -> ComputeTargetStatus:
        return ComputeTargetStatus(self)

    def get_status(self) -> ComputeTargetStatus:
        return self.status

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, properties={self.properties!r})"


class AmlCompute(ComputeTarget):
    _type = "AmlCompute"

    @staticmethod
    def provisioning_configuration(vm_size: str = "", vm_priority: str = "dedicated",
                                   min_nodes: int = 0, max_nodes: int | None = None,
                                   **_aml_only: Any) -> ProvisioningConfiguration:
        return ProvisioningConfiguration("AmlCompute", {
            "vm_size": vm_size.upper(), "vm_priority": vm_priority,
            "min_nodes": min_nodes, "max_nodes": max_nodes,
        })


_TYPES: dict[str, type[ComputeTarget]] = {"AmlCompute": AmlCompute}
