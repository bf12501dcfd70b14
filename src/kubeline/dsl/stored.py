"""Objects a workspace keeps as one JSON file each, ``<state dir>/<FOLDER>/<id>.json``
(pipeline drafts, modules): the half PipelineDraft and Module share."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from kubeline.dsl.workspace import Workspace


class StoredObject:
    """An object of the workspace backed by its JSON record (id, name, description, ...)."""

    FOLDER: ClassVar[str]
    JSON_INDENT: ClassVar[int | None] = None  # the record's on-disk layout

    def __init__(self, workspace: Workspace, data: dict[str, Any]) -> None:
        self.workspace = workspace
        self._data = data

    @property
    def id(self) -> str:
        return str(self._data["id"])

    @property
    def name(self) -> str:
        return str(self._data["name"])

    @property
    def description(self) -> str:
        return str(self._data["description"])

    @classmethod
    def _folder(cls, workspace: Workspace) -> Path:
        return workspace.state_dir / cls.FOLDER

    @classmethod
    def _store(cls, workspace: Workspace, data: dict[str, Any]) -> None:
        """Write a record atomically (a reader never sees half a file)."""
        folder = cls._folder(workspace)
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".{data['id']}.tmp"
        tmp.write_text(json.dumps(data, sort_keys=True, indent=cls.JSON_INDENT),
                       encoding="utf-8")
        os.replace(tmp, folder / f"{data['id']}.json")

    @classmethod
    def _records(cls, workspace: Workspace) -> list[dict[str, Any]]:
        """Every record of the workspace, by id."""
        folder = cls._folder(workspace)
        if not folder.is_dir():
            return []
        return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.json"))]

    def _persist(self) -> None:
        type(self)._store(self.workspace, self._data)
