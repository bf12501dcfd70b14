"""Workspace: the AML entry point, backed by kubeline.yaml instead of an Azure resource."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kubeline.aml_surface.checker import aml_surface
from kubeline.aml_surface.data import surface
from kubeline.exceptions import ConfigError
from kubeline.workspace.config import (
    CONFIG_FILE,
    STATE_DIR,
    WorkspaceConfig,
    find_config,
    load_config,
    save_config,
)

_LOG = logging.getLogger("kubeline.workspace")

if TYPE_CHECKING:
    from kubeline.dsl.compute import ComputeTarget
    from kubeline.dsl.datastore import Datastore
    from kubeline.dsl.experiment import Experiment


@aml_surface(surface("Workspace"))
class Workspace:
    """A folder with kubeline.yaml (or none: then a local workspace in the current folder).

    AML-only arguments (subscription_id, resource_group, location) are accepted and recorded.
    """

    def __init__(
        self,
        subscription_id: str | None = None,
        resource_group: str | None = None,
        workspace_name: str | None = None,
        *,
        _root: Path | None = None,
        _config: WorkspaceConfig | None = None,
        **_aml_only: Any,
    ) -> None:
        root = (_root or Path.cwd()).resolve()
        config_path = find_config(root) if _config is None else None
        if config_path is not None:
            root = config_path.parent
            config = load_config(config_path)
        else:
            config = (_config or WorkspaceConfig()).with_defaults()
        updates = {
            key: value
            for key, value in (
                ("name", workspace_name),
                ("subscription_id", subscription_id),
                ("resource_group", resource_group),
            )
            if value is not None
        }
        self._config = config.model_copy(update=updates) if updates else config
        self._root = root
        self._persisted = config_path is not None

    # -- AML constructors -------------------------------------------------------------------
    @classmethod
    def create(
        cls,
        name: str,
        subscription_id: str | None = None,
        resource_group: str | None = None,
        location: str | None = None,
        exist_ok: bool = False,
        **_aml_only: Any,
    ) -> Workspace:
        """Open the workspace of the current folder, recording the AML identifiers given."""
        existing = find_config(Path.cwd())
        if existing is not None and not exist_ok:
            raise ConfigError(
                f"workspace already exists at {existing}",
                "pass exist_ok=True or use Workspace.from_config()",
            )
        ws = cls(subscription_id, resource_group, name)
        if location is not None:
            ws._config = ws._config.model_copy(update={"location": location})
        return ws

    @classmethod
    def from_config(cls, path: str | None = None, **_aml_only: Any) -> Workspace:
        """Load kubeline.yaml from path (a file or folder), else the nearest one upward.

        With no path and no kubeline.yaml anywhere up, the current folder is a local workspace
        (as ``Workspace()``): the how-to page's first line then just works on a laptop. A
        path given explicitly must hold (or be under) a kubeline.yaml.
        """
        start = Path(path) if path else Path.cwd()
        if start.is_file():
            return cls(_root=start.parent)
        found = find_config(start)
        if found is None and path is None:
            _LOG.warning("kubeline: no %s in %s or above: using a local workspace there "
                         "(state in .kubeline/; ws.write_config() saves its settings)",
                         CONFIG_FILE, start.resolve())
            return cls(_root=start)
        if found is None:
            raise ConfigError(
                f"no {CONFIG_FILE} found in {start.resolve()} or above",
                "pass the folder holding it, or create one with Workspace.create(...)"
                ".write_config()",
            )
        return cls(_root=found.parent)

    @classmethod
    def get(cls, name: str, **_aml_only: Any) -> Workspace:
        return cls(workspace_name=name)

    # -- properties ---------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self._config.name

    @property
    def subscription_id(self) -> str:
        """As in AML, always a string ("" for a local workspace that has none)."""
        return self._config.subscription_id or ""

    @property
    def resource_group(self) -> str:
        """As in AML, always a string ("" for a local workspace that has none)."""
        return self._config.resource_group or ""

    @property
    def location(self) -> str:
        """As in AML, always a string ("" for a local workspace that has none)."""
        return self._config.location or ""

    @property
    def root(self) -> Path:
        """The folder holding kubeline.yaml and .kubeline/."""
        return self._root

    @property
    def state_dir(self) -> Path:
        return self._root / STATE_DIR

    @property
    def config(self) -> WorkspaceConfig:
        return self._config

    @property
    def datastores(self) -> dict[str, Datastore]:
        from kubeline.dsl.datastore import Datastore

        return {name: Datastore(self, name) for name in sorted(self._config.datastores)}

    @property
    def compute_targets(self) -> dict[str, ComputeTarget]:
        from kubeline.dsl.compute import ComputeTarget

        return {name: ComputeTarget(self, name) for name in sorted(self._config.compute_targets)}

    @property
    def experiments(self) -> dict[str, Experiment]:
        """Experiments with runs in this workspace's run history, by name."""
        from kubeline.dsl.experiment import Experiment

        return {e.name: e for e in Experiment.list(self)}

    @property
    def environments(self) -> dict[str, Any]:
        """Registered environments by name (latest version of each)."""
        from kubeline.dsl.runconfig import Environment

        return dict(Environment.list(self))

    @property
    def models(self) -> dict[str, Any]:
        """Registered models by name (latest version of each)."""
        from kubeline.dsl.model import Model

        return {m.name: m for m in Model.list(self, latest=True)}

    def get_details(self) -> dict[str, Any]:
        """The workspace's settings as a dict (no secrets: only Secret references)."""
        return {"name": self.name, "root": str(self._root), "subscriptionId":
                self.subscription_id, "resourceGroup": self.resource_group,
                "location": self.location, "defaultDatastore": self._config.default_datastore,
                "datastores": sorted(self._config.datastores),
                "computeTargets": sorted(self._config.compute_targets)}

    def get_default_datastore(self) -> Datastore:
        from kubeline.dsl.datastore import Datastore

        return Datastore(self, self._config.default_datastore)

    def set_default_datastore(self, name: str) -> None:
        self._update(default_datastore=name)

    def write_config(self, path: str | None = None, file_name: str | None = None) -> None:
        """Write kubeline.yaml (AML writes config.json; same role)."""
        folder = Path(path) if path else self._root
        save_config(self._config, folder / (file_name or CONFIG_FILE))
        self._root = folder.resolve()
        self._persisted = True

    # -- internal -----------------------------------------------------------------------------
    def _update(self, **changes: Any) -> None:
        """Change the config and persist it, as AML's registrations persist in the service."""
        self._config = self._config.model_copy(update=changes)
        save_config(self._config, self._root / CONFIG_FILE)
        self._persisted = True

    def __repr__(self) -> str:
        return f"Workspace(name={self.name!r}, root={str(self._root)!r})"
