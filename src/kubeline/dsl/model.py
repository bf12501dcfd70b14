"""Model: a model registry kept in the workspace's default datastore, with versions.

``Model.register(ws, model_path, model_name)`` uploads the file or folder to
``kubeline/models/<name>/<version>/`` and writes ``kubeline/models/<name>/<version>.json``
(tags, properties, description, files). The next version number is claimed with a
create-if-absent write of that JSON object, so two registrations at once never share a
version, on every datastore kind. Clusters and laptops that share the datastore share the
registry; nothing else holds it.
"""

from __future__ import annotations

import builtins
import json
import os
import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kubeline.aml_surface.checker import aml_surface
from kubeline.aml_surface.data import surface
from kubeline.exceptions import (
    ModelNotFoundException,
    ModelPathNotFoundException,
    UserErrorException,
)
from kubeline.stores import versions as versioned

if TYPE_CHECKING:
    from kubeline.dsl.workspace import Workspace
    from kubeline.stores.base import Store

PREFIX = "kubeline/models"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,254}$")


def _store(workspace: Workspace) -> Store:
    return workspace.get_default_datastore()._store()


def _versions(store: Store, name: str) -> builtins.list[int]:
    return versioned.versions(store, PREFIX, name)


@aml_surface(surface("Model"))
class Model:
    """A registered model version (the SDK's Model)."""

    def __init__(self, workspace: Workspace, name: str | None = None, id: str | None = None,
                 tags: Sequence[Any] | Mapping[str, Any] | None = None,
                 properties: Sequence[Any] | Mapping[str, Any] | None = None,
                 version: int | None = None, run_id: str | None = None,
                 model_framework: str | None = None, expand: bool = True,
                 sample_input_dataset: Any = None, sample_output_dataset: Any = None,
                 resource_configuration: Any = None) -> None:
        self.workspace = workspace
        if id is not None:
            name, _, text = id.partition(":")
            version = int(text) if text.isdigit() else version
        if not name:
            raise ModelNotFoundException("Model: give name or id", "e.g. Model(ws, 'my-model')")
        store = _store(workspace)
        versions = _versions(store, name)
        if (version is not None and version not in versions) or not versions:
            raise ModelNotFoundException(
                f"model '{name}'" + (f" version {version}" if version is not None else "")
                + f" is not registered in workspace '{workspace.name}'",
                f"its versions are {', '.join(map(str, versions))}" if versions else
                "register it with Model.register(ws, model_path, model_name)")
        chosen = version if version is not None else versions[-1]
        self._data = json.loads(store.get_bytes(f"{PREFIX}/{name}/{chosen}.json"))

    @classmethod
    def _of(cls, workspace: Workspace, data: dict[str, Any]) -> Model:
        model = cls.__new__(cls)
        model.workspace = workspace
        model._data = dict(data)
        return model

    # --- properties ----------------------------------------------------------------------
    @property
    def name(self) -> str:
        return str(self._data["name"])

    @property
    def version(self) -> int:
        return int(self._data["version"])

    @property
    def id(self) -> str:
        return f"{self.name}:{self.version}"

    @property
    def tags(self) -> dict[str, Any]:
        return dict(self._data.get("tags") or {})

    @property
    def properties(self) -> dict[str, Any]:
        return dict(self._data.get("properties") or {})

    @property
    def description(self) -> str:
        return str(self._data.get("description") or "")

    @property
    def created_time(self) -> str:
        return str(self._data.get("created_time"))

    @property
    def model_framework(self) -> str | None:
        value = self._data.get("model_framework")
        return None if value is None else str(value)

    @property
    def url(self) -> str:
        """Where the files are: ``<datastore>/kubeline/models/<name>/<version>``."""
        return f"{self._data['datastore']}/{PREFIX}/{self.name}/{self.version}"

    # --- register, list --------------------------------------------------------------------
    @staticmethod
    def register(workspace: Workspace, model_path: str, model_name: str,
                 tags: Mapping[str, Any] | None = None,
                 properties: Mapping[str, Any] | None = None, description: str | None = None,
                 datasets: Any = None, model_framework: str | None = None,
                 model_framework_version: str | None = None,
                 child_paths: Sequence[str] | None = None, sample_input_dataset: Any = None,
                 sample_output_dataset: Any = None, resource_configuration: Any = None
                 ) -> Model:
        """Upload model_path (a file or a folder) as the next version of model_name."""
        if not isinstance(model_name, str) or not _NAME.match(model_name):
            raise UserErrorException(f"Model.register: model_name {model_name!r} is not valid",
                                     "use letters, digits, '_', '.' or '-' (up to 255)")
        source = Path(model_path)
        if not source.exists():
            raise ModelPathNotFoundException(f"Model.register: model_path '{model_path}' does "
                                             "not exist", "pass a file or a folder")
        files = [source] if source.is_file() else sorted(p for p in source.rglob("*")
                                                           if p.is_file())
        if child_paths is not None:
            wanted = {str(Path(c)) for c in child_paths}
            files = [f for f in files if str(f.relative_to(source)) in wanted]
        store = _store(workspace)
        data: dict[str, Any] = {
            "name": model_name, "tags": dict(tags or {}),
            "properties": dict(properties or {}), "description": description or "",
            "model_framework": model_framework,
            "model_framework_version": model_framework_version,
            "created_time": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "datastore": workspace.config.default_datastore,
            "path": source.name,
            "files": [f.name if f == source else f.relative_to(source).as_posix()
                      for f in files]}
        version = versioned.claim(store, PREFIX, model_name, {**data, "complete": False})
        data["version"] = version
        base = f"{PREFIX}/{model_name}/{version}"
        for file, rel in zip(files, data["files"], strict=True):
            key = f"{base}/{source.name}" if file == source else f"{base}/{source.name}/{rel}"
            store.put_file(file, key)
        store.put_bytes(f"{PREFIX}/{model_name}/{version}.json",
                        json.dumps({**data, "complete": True}, sort_keys=True).encode())
        print(f"Registering model {model_name}")
        return Model._of(workspace, {**data, "complete": True})

    @staticmethod
    def list(workspace: Workspace, name: str | None = None,
             tags: Sequence[Any] | None = None, properties: Sequence[Any] | None = None,
             run_id: str | None = None, latest: bool = False, dataset_id: str | None = None,
             expand: bool = True, page_count: int = 255, model_framework: str | None = None
             ) -> builtins.list[Model]:
        """Registered versions, newest first (``latest``: one per name)."""
        store = _store(workspace)
        names = sorted({info.key[len(PREFIX) + 1:].split("/", 1)[0]
                        for info in store.list(f"{PREFIX}/")})
        found: builtins.list[Model] = []
        for model_name in names:
            if name is not None and model_name != name:
                continue
            versions = _versions(store, model_name)
            for version in reversed(versions[-1:] if latest else versions):
                data = json.loads(store.get_bytes(f"{PREFIX}/{model_name}/{version}.json"))
                if data.get("complete"):
                    found.append(Model._of(workspace, data))
        if model_framework is not None:
            found = [m for m in found if m.model_framework == model_framework]
        for tag in tags or []:
            key, value = (tag[0], tag[1]) if isinstance(tag, (list, tuple)) else (tag, None)
            found = [m for m in found if key in m.tags and value in (None, m.tags[key])]
        return found[:page_count]

    @staticmethod
    def get_model_path(model_name: str, version: int | None = None,
                       _workspace: Workspace | None = None) -> str:
        """Download the model (once) into ``./azureml-models/<name>/<version>/`` and return
        the path of its file or folder there."""
        from kubeline.dsl.workspace import Workspace

        model = Model(_workspace or _run_workspace() or Workspace.from_config(), model_name,
                      version=version)
        target = Path("azureml-models") / model.name / str(model.version)
        path = target / str(model._data["path"])
        if not path.exists():
            model.download(str(target), exist_ok=True)
        return str(path)

    def download(self, target_dir: str = ".", exist_ok: bool = False,
                 exists_ok: bool | None = None) -> str:
        """Copy the model's files to target_dir; returns the path of the file or folder."""
        store = _store(self.workspace)
        root = Path(target_dir) / str(self._data["path"])
        if root.exists() and not (exist_ok or exists_ok):
            raise UserErrorException(f"Model.download: '{root}' exists",
                                     "pass exist_ok=True to overwrite")
        base = f"{PREFIX}/{self.name}/{self.version}/{self._data['path']}"
        single = self._data["files"] == [self._data["path"]]
        for rel in self._data["files"]:
            dest = root if single else root / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            store.get_file(base if single else f"{base}/{rel}", dest)
        return str(root)

    def _rewrite(self) -> None:
        _store(self.workspace).put_bytes(f"{PREFIX}/{self.name}/{self.version}.json",
                                         json.dumps(self._data, sort_keys=True).encode())

    def add_tags(self, tags: Mapping[str, Any]) -> None:
        self._data["tags"] = {**self.tags, **dict(tags)}
        self._rewrite()

    def add_properties(self, properties: Mapping[str, Any]) -> None:
        self._data["properties"] = {**self.properties, **dict(properties)}
        self._rewrite()

    def remove_tags(self, tags: Sequence[str]) -> None:
        self._data["tags"] = {k: v for k, v in self.tags.items() if k not in set(tags)}
        self._rewrite()

    def update(self, tags: Mapping[str, Any] | None = None, description: str | None = None,
               sample_input_dataset: Any = None, sample_output_dataset: Any = None,
               resource_configuration: Any = None) -> None:
        if tags is not None:
            self._data["tags"] = dict(tags)
        if description is not None:
            self._data["description"] = description
        self._rewrite()

    def delete(self) -> None:
        store = _store(self.workspace)
        base = f"{PREFIX}/{self.name}/{self.version}"
        for info in builtins.list(store.list(base + "/")):
            store.delete(info.key)
        store.delete(base + ".json")

    def serialize(self) -> dict[str, Any]:
        return {**self._data, "id": self.id}

    def __repr__(self) -> str:
        return f"Model(workspace={self.workspace.name}, name={self.name}, id={self.id}, " \
               f"version={self.version}, tags={self.tags}, properties={self.properties})"


def _run_workspace() -> Workspace | None:
    """Inside a step of a local run, the workspace the run belongs to (as AML's
    get_model_path uses the run's workspace): the step's folder is a snapshot outside it."""
    from kubeline.dsl.workspace import Workspace
    from kubeline.workspace.config import CONFIG_FILE

    root = os.environ.get("KUBELINE_WORKSPACE")
    if os.environ.get("KUBELINE_RUN_ID") and root and (Path(root) / CONFIG_FILE).is_file():
        return Workspace(_root=Path(root))
    return None
