"""A workspace as data: its folder, state directory and parsed kubeline.yaml.

What a backend (compiler, server, cluster) reads of a workspace; the user API's Workspace
class provides the same three attributes, so either can be passed."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from kubeline.workspace.config import STATE_DIR, WorkspaceConfig, find_config, load_config


class WorkspaceSettings(Protocol):
    """The workspace a backend works in."""

    @property
    def root(self) -> Path: ...

    @property
    def state_dir(self) -> Path: ...

    @property
    def config(self) -> WorkspaceConfig: ...


@dataclass(frozen=True)
class WorkspaceFolder:
    """The workspace around a folder: the nearest kubeline.yaml's folder, or the folder
    itself with the default settings (as ``Workspace(_root=folder)`` finds it)."""

    root: Path
    config: WorkspaceConfig

    @property
    def state_dir(self) -> Path:
        return self.root / STATE_DIR

    @classmethod
    def find(cls, start: Path) -> WorkspaceFolder:
        folder = Path(start).resolve()
        path = find_config(folder)
        if path is not None:
            return cls(path.parent, load_config(path))
        return cls(folder, WorkspaceConfig().with_defaults())
