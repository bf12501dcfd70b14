"""Module, ModuleVersion and ModuleStep: a script published once, reused by version.

``Module.create(ws, name, description)`` names a module; ``publish_python_script`` copies the
source folder into ``.kubeline/modules/<module id>/<version>/`` (so a version never changes
after it is published) with the script, the ports and the default arguments; a ModuleStep
runs one version (the module's default unless ``version`` names one) as a PythonScriptStep
over that copy, with the ports bound through ``inputs_map``/``outputs_map``.
"""

from __future__ import annotations

import builtins
import shutil
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kubeline.aml_surface.checker import aml_surface
from kubeline.aml_surface.data import surface
from kubeline.dsl.steps import PythonScriptStep
from kubeline.dsl.stored import StoredObject
from kubeline.exceptions import KubelineError

if TYPE_CHECKING:
    from kubeline.dsl.runconfig import RunConfiguration
    from kubeline.dsl.workspace import Workspace

MODULES_DIR = "modules"
_IGNORED = shutil.ignore_patterns(".git", ".kubeline", "__pycache__", ".env", ".env.*")


class ModuleError(KubelineError):
    """A module or module version that does not exist or cannot be used as asked."""


@aml_surface(surface("InputPortDef"))
class InputPortDef:
    """A named input of a module (the SDK's InputPortDef)."""

    def __init__(self, name: str, default_datastore_mode: str = "mount",
                 default_path_on_compute: str | None = None, is_optional: bool = False,
                 default_overwrite: bool = False, default_data_reference_name: str | None = None,
                 is_resource: bool = False, label: str | None = None,
                 data_types: builtins.list[str] | None = None) -> None:
        if not isinstance(name, str) or not name:
            raise ModuleError("InputPortDef: name must be a non-empty string")
        if default_datastore_mode not in ("mount", "download", "direct"):
            raise ModuleError(f"InputPortDef '{name}': default_datastore_mode "
                              f"'{default_datastore_mode}' is not valid",
                              "use 'mount', 'download' or 'direct'")
        self.name = name
        self.default_datastore_mode = default_datastore_mode
        self.is_optional = bool(is_optional)
        self.label = label

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "optional": self.is_optional}


@aml_surface(surface("OutputPortDef"))
class OutputPortDef:
    """A named output of a module (the SDK's OutputPortDef)."""

    def __init__(self, name: str, default_datastore_name: str | None = None,
                 default_datastore_mode: str = "mount",
                 default_path_on_compute: str | None = None, is_directory: bool = False,
                 data_type: str | None = None, default_overwrite: bool | None = None,
                 training_output: Any = None, label: str | None = None) -> None:
        if not isinstance(name, str) or not name:
            raise ModuleError("OutputPortDef: name must be a non-empty string")
        self.name = name
        self.default_datastore_name = default_datastore_name
        self.is_directory = bool(is_directory)
        self.label = label

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "optional": False}


@aml_surface(surface("ModuleVersion"))
class ModuleVersion:
    """One published version of a module: a script, its folder copy and its ports."""

    def __init__(self, module: Module, version: str, data: dict[str, Any]) -> None:
        self.module_obj = module
        self.version = version
        self._data = data

    @property
    def module_id(self) -> str:
        return self.module_obj.id

    @property
    def module_version_id(self) -> str:
        return f"{self.module_obj.id}:{self.version}"

    @property
    def status(self) -> str:
        return str(self._data.get("status", "Active"))

    @property
    def description(self) -> str:
        return str(self._data.get("description", ""))

    @property
    def script_name(self) -> str:
        return str(self._data["script_name"])

    @property
    def source_directory(self) -> str:
        return str(self._data["source_directory"])

    @property
    def inputs(self) -> builtins.list[dict[str, Any]]:
        return list(self._data["inputs"])

    @property
    def outputs(self) -> builtins.list[dict[str, Any]]:
        return list(self._data["outputs"])

    def module(self, _workflow_provider: Any = None) -> Module:
        return self.module_obj

    def __repr__(self) -> str:
        return (f"ModuleVersion(Module: {self.module_obj.name}, Version: {self.version}, "
                f"Script: {self.script_name})")


@aml_surface(surface("Module"))
class Module(StoredObject):
    """A named, versioned script (the SDK's Module)."""

    FOLDER = MODULES_DIR
    JSON_INDENT = 1

    def __init__(self, workspace: Workspace, data: dict[str, Any]) -> None:
        super().__init__(workspace, data)  # here, so the SDK's signature checks wrap it

    @property
    def status(self) -> str:
        return str(self._data.get("status", "Active"))

    @property
    def default_version(self) -> str | None:
        return self._data.get("default_version")

    @staticmethod
    def create(workspace: Workspace, name: str, description: str,
               is_deterministic: bool = True, _workflow_provider: Any = None,
               _service_endpoint: Any = None) -> Module:
        if not isinstance(name, str) or not name.strip():
            raise ModuleError("Module.create: name must be a non-empty string")
        if any(m.name == name for m in Module._all(workspace)):
            raise ModuleError(f"Module.create: a module named '{name}' exists",
                              "use Module.get(ws, name=...) and publish a new version")
        data = {"id": str(uuid.uuid4()), "name": name, "description": description or "",
                "deterministic": bool(is_deterministic), "status": "Active",
                "default_version": None, "versions": {}}
        Module._store(workspace, data)
        return Module(workspace, data)

    @staticmethod
    def _all(workspace: Workspace) -> builtins.list[Module]:
        return [Module(workspace, data) for data in Module._records(workspace)]

    @staticmethod
    def get(workspace: Workspace, module_id: str | None = None, name: str | None = None,
            _workflow_provider: Any = None, _service_endpoint: Any = None) -> Module:
        if module_id is None and name is None:
            raise ModuleError("Module.get: give module_id or name")
        for module in Module._all(workspace):
            if module.id == module_id or (module_id is None and module.name == name):
                return module
        raise ModuleError(f"module '{module_id or name}' does not exist in workspace "
                          f"'{workspace.name}'", "create it with Module.create(ws, name, "
                          "description)")

    def _reload(self) -> None:
        self._data = Module.get(self.workspace, self.id)._data

    def publish_python_script(self, script_name: str, description: str,
                              inputs: Sequence[InputPortDef], outputs: Sequence[OutputPortDef],
                              params: Mapping[str, Any] | None = None,
                              create_sequencing_ports: bool = True, version: str | None = None,
                              is_default: bool = False, source_directory: str | None = None,
                              hash_paths: Sequence[str] | None = None,
                              category: str | None = None,
                              arguments: Sequence[Any] | None = None,
                              runconfig: RunConfiguration | None = None) -> ModuleVersion:
        """Publish ``script_name`` from ``source_directory`` as a new version (copied now)."""
        self._reload()
        folder = Path(source_directory or ".")
        where = f"Module '{self.name}'.publish_python_script"
        if not (folder / script_name).is_file():
            raise ModuleError(f"{where}: script '{script_name}' is not in source_directory "
                              f"'{folder}'", "fix script_name or source_directory")
        for label, ports, kind in (("inputs", inputs, InputPortDef),
                                   ("outputs", outputs, OutputPortDef)):
            if isinstance(ports, (str, bytes)) or not all(isinstance(p, kind) for p in ports):
                raise ModuleError(f"{where}: {label} must be a list of {kind.__name__}")
        versions: dict[str, Any] = self._data["versions"]
        chosen = str(version) if version is not None else str(
            max((int(v) for v in versions if v.isdigit()), default=0) + 1)
        if chosen in versions:
            raise ModuleError(f"{where}: version '{chosen}' exists",
                              "versions are immutable: publish another version")
        copy = self._folder(self.workspace) / self.id / chosen
        if copy.exists():
            shutil.rmtree(copy)
        shutil.copytree(folder, copy, ignore=_IGNORED)
        versions[chosen] = {
            "description": description or "", "script_name": script_name,
            "source_directory": str(copy.resolve()),
            "inputs": [p.to_json() for p in inputs], "outputs": [p.to_json() for p in outputs],
            "arguments": [str(a) for a in arguments or [] if isinstance(a, (str, int, float))],
            "params": {str(k): v for k, v in (params or {}).items()},
            "hash_paths": [str(p) for p in hash_paths or []], "status": "Active",
            "category": category}
        if is_default or self._data.get("default_version") is None:
            self._data["default_version"] = chosen
        self._persist()
        return ModuleVersion(self, chosen, versions[chosen])

    def resolve(self, version: str | None = None) -> ModuleVersion:
        """The version given, else the default one."""
        self._reload()
        versions: dict[str, Any] = self._data["versions"]
        chosen = str(version) if version is not None else self.default_version
        if chosen is None or chosen not in versions:
            raise ModuleError(f"module '{self.name}' has no version '{chosen}'",
                              f"its versions are {', '.join(sorted(versions)) or 'none'}")
        return ModuleVersion(self, chosen, versions[chosen])

    @staticmethod
    def get_versions(workspace: Workspace, name: str, _workflow_provider: Any = None,
                     _service_endpoint: Any = None) -> builtins.list[ModuleVersion]:
        """Every version of the module called name."""
        module = Module.get(workspace, name=name)
        return [ModuleVersion(module, v, d)
                for v, d in sorted(module._data["versions"].items())]

    def module_version_list(self) -> builtins.list[ModuleVersion]:
        self._reload()
        return [ModuleVersion(self, v, d) for v, d in sorted(self._data["versions"].items())]

    def get_default_version(self) -> str | None:
        self._reload()
        return self.default_version

    def get_default(self) -> ModuleVersion:
        return self.resolve()

    def set_default_version(self, version_id: str) -> None:
        self.resolve(version_id)
        self._data["default_version"] = str(version_id)
        self._persist()

    def set_name(self, name: str) -> None:
        self._reload()
        self._data["name"] = name
        self._persist()

    def set_description(self, description: str) -> None:
        self._reload()
        self._data["description"] = description
        self._persist()

    def _set_status(self, status: str) -> None:
        self._reload()
        self._data["status"] = status
        self._persist()

    def enable(self) -> None:
        self._set_status("Active")

    def disable(self) -> None:
        self._set_status("Disabled")

    def deprecate(self) -> None:
        self._set_status("Deprecated")

    def __repr__(self) -> str:
        return f"Module(Name: {self.name}, Id: {self.id}, Default version: {self.default_version})"


@aml_surface(surface("ModuleStep"))
class ModuleStep(PythonScriptStep):
    """Runs one version of a Module as a step, its ports bound to pipeline data."""

    def __init__(self, module: Module | None = None, version: str | None = None,
                 module_version: ModuleVersion | None = None,
                 inputs_map: Mapping[str, Any] | None = None,
                 outputs_map: Mapping[str, Any] | None = None, compute_target: Any = None,
                 runconfig: RunConfiguration | None = None,
                 runconfig_pipeline_params: Mapping[str, Any] | None = None,
                 arguments: Sequence[Any] | None = None,
                 params: Mapping[str, Any] | None = None, name: str | None = None,
                 _workflow_provider: Any = None) -> None:
        if module_version is None:
            if not isinstance(module, Module):
                raise ModuleError("ModuleStep: give module=Module (with version=...) or "
                                  "module_version=ModuleVersion")
            module_version = module.resolve(version)
        elif not isinstance(module_version, ModuleVersion):
            raise ModuleError(f"ModuleStep: module_version is a "
                              f"{type(module_version).__name__}", "pass a ModuleVersion")
        mv = module_version
        label = name or mv.module_obj.name
        bound_in = self._bind(label, "inputs_map", inputs_map, mv.inputs)
        bound_out = self._bind(label, "outputs_map", outputs_map, mv.outputs)
        super().__init__(
            mv.script_name, name=label,
            arguments=list(arguments) if arguments is not None else list(
                mv._data["arguments"]),
            compute_target=compute_target, runconfig=runconfig,
            inputs=bound_in, outputs=bound_out,
            params={**mv._data["params"], **dict(params or {})},
            source_directory=mv.source_directory,
            allow_reuse=bool(mv.module_obj._data.get("deterministic", True)),
            version=f"module:{mv.module_obj.name}:{mv.version}",
            hash_paths=mv._data["hash_paths"])
        self.module_version = mv

    @staticmethod
    def _bind(step: str, label: str, given: Mapping[str, Any] | None,
              ports: builtins.list[dict[str, Any]]) -> builtins.list[Any]:
        given = dict(given or {})
        names = [p["name"] for p in ports]
        unknown = sorted(set(given) - set(names))
        if unknown:
            raise ModuleError(f"ModuleStep '{step}': {label} names unknown port(s) "
                              f"{', '.join(unknown)}",
                              f"the ports are {', '.join(names) or 'none'}")
        missing = [p["name"] for p in ports if not p["optional"] and p["name"] not in given]
        if missing:
            raise ModuleError(f"ModuleStep '{step}': {label} lacks port(s) {', '.join(missing)}",
                              f"bind every port: {label}={{'{missing[0]}': ...}}")
        return [given[n] for n in names if n in given]
