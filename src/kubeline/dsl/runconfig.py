"""RunConfiguration, Environment, CondaDependencies, ScriptRunConfig: a step's image and the
packages it needs.

kubeline runs a step in ``environment.docker.base_image`` on a cluster (the workspace's
default image otherwise). Nothing is installed at run time: on a cluster the image must
already hold the step's pip/conda packages (and kubeline's runtime, docs/runtime.md); a local
run uses the interpreter kubeline runs under, and submit says in one line which declared
packages that interpreter lacks (``missing_packages``). Environments registered with
``Environment.register`` are kept, with versions, in ``.kubeline/environments.json``.
"""

from __future__ import annotations

import builtins
import importlib.metadata
import json
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kubeline.aml_surface.checker import aml_surface
from kubeline.aml_surface.data import surface
from kubeline.exceptions import KubelineError
from kubeline.workspace.config import DEFAULT_IMAGE

if TYPE_CHECKING:
    from kubeline.dsl.workspace import Workspace

DEFAULT_CPU_IMAGE = DEFAULT_IMAGE
DEFAULT_GPU_IMAGE = "nvidia/cuda:12.4.1-runtime-ubuntu22.04"
ENVIRONMENTS_FILE = "environments.json"

# AML's curated environments that have a public image of the same framework and version;
# the newer ones (no public counterpart) keep AML's own image name,
# mcr.microsoft.com/azureml/curated/<name without "AzureML-", lowercased>:latest.
# A local run uses the interpreter kubeline runs under whatever the image (docs/aml-compat.md).
CURATED_REGISTRY = "mcr.microsoft.com/azureml/curated/"


def curated_image(name: str) -> str:
    """AML's image name of a curated environment: AzureML-tensorflow-2.16-cuda12 ->
    mcr.microsoft.com/azureml/curated/tensorflow-2.16-cuda12:latest."""
    return f"{CURATED_REGISTRY}{name.removeprefix('AzureML-').lower()}:latest"


CURATED_IMAGES = {
    "AzureML-tensorflow-2.16-cuda12": curated_image("AzureML-tensorflow-2.16-cuda12"),
    "AzureML-Minimal": DEFAULT_IMAGE,
    "AzureML-Tutorial": DEFAULT_IMAGE,
    "AzureML-sklearn-0.24-ubuntu18.04-py37-cpu": DEFAULT_IMAGE,
    "AzureML-TensorFlow-2.3-CPU": "tensorflow/tensorflow:2.3.0",
    "AzureML-TensorFlow-2.3-GPU": "tensorflow/tensorflow:2.3.0-gpu",
    "AzureML-TensorFlow-2.2-GPU": "tensorflow/tensorflow:2.2.0-gpu",
    "AzureML-PyTorch-1.6-CPU": "pytorch/pytorch:1.6.0-cuda10.1-cudnn7-runtime",
    "AzureML-PyTorch-1.6-GPU": "pytorch/pytorch:1.6.0-cuda10.1-cudnn7-runtime",
}


class EnvironmentDefError(KubelineError):
    """An environment that cannot be found or read."""


_SPEC = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def package_name(spec: str) -> str:
    """``scikit-learn==1.4`` -> ``scikit-learn``; ``conda-forge::numpy`` -> ``numpy``."""
    text = spec.split("::")[-1]
    match = _SPEC.match(text)
    return match.group(1) if match else text.strip()


@aml_surface(surface("CondaDependencies"))
class CondaDependencies:
    """The conda and pip packages a step needs (the SDK's class; nothing is installed)."""

    def __init__(self, conda_dependencies_file_path: str | None = None,
                 _underlying_structure: dict[str, Any] | None = None) -> None:
        self._conda: list[str] = []
        self._pip: list[str] = []
        self._channels: list[str] = []
        self.python_version: str | None = None
        if conda_dependencies_file_path is not None:
            self._read(Path(conda_dependencies_file_path))
        elif _underlying_structure is not None:
            self._load(_underlying_structure)

    def _read(self, path: Path) -> None:
        import yaml

        if not path.is_file():
            raise EnvironmentDefError(f"CondaDependencies: conda file '{path}' does not exist",
                                    "pass the path of an environment .yml")
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise EnvironmentDefError(f"CondaDependencies: '{path}' is not YAML ({exc})") from None
        if not isinstance(data, dict):
            raise EnvironmentDefError(f"CondaDependencies: '{path}' is not a conda environment")
        self._load(data)

    def _load(self, data: dict[str, Any]) -> None:
        self._channels = [str(c) for c in data.get("channels") or []]
        for item in data.get("dependencies") or []:
            if isinstance(item, dict):
                self._pip += [str(p) for p in item.get("pip") or []]
            elif package_name(str(item)) == "python":
                self.python_version = str(item).partition("=")[2].lstrip("=") or None
            elif package_name(str(item)) != "pip":
                self._conda.append(str(item))

    @staticmethod
    def create(pip_indexurl: str | None = None, pip_packages: builtins.list[str] | None = None,
               conda_packages: builtins.list[str] | None = None,
               python_version: str | None = None, pin_sdk_version: bool = True
               ) -> CondaDependencies:
        deps = CondaDependencies()
        for name, value in (("pip_packages", pip_packages), ("conda_packages", conda_packages)):
            if value is not None and (isinstance(value, str) or not all(
                    isinstance(v, str) for v in value)):
                raise EnvironmentDefError(f"CondaDependencies.create: {name} must be a list of "
                                        "package names", f"write {name}=['scikit-learn']")
        deps._pip = list(pip_packages or [])
        deps._conda = list(conda_packages or [])
        deps.python_version = python_version
        return deps

    @property
    def conda_packages(self) -> builtins.list[str]:
        return list(self._conda)

    @property
    def pip_packages(self) -> builtins.list[str]:
        return list(self._pip)

    @property
    def conda_channels(self) -> builtins.list[str]:
        return list(self._channels)

    def add_conda_package(self, conda_package: str) -> None:
        if conda_package not in self._conda:
            self._conda.append(conda_package)

    def add_pip_package(self, pip_package: str) -> None:
        if pip_package not in self._pip:
            self._pip.append(pip_package)

    def add_channel(self, channel: str) -> None:
        if channel not in self._channels:
            self._channels.append(channel)

    def remove_conda_package(self, conda_package: str) -> None:
        self._conda = [p for p in self._conda if package_name(p) != package_name(conda_package)]

    def remove_pip_package(self, pip_package: str) -> None:
        self._pip = [p for p in self._pip if package_name(p) != package_name(pip_package)]

    def get_python_version(self) -> str | None:
        return self.python_version

    def set_python_version(self, version: str) -> None:
        self.python_version = version

    def as_dict(self) -> dict[str, Any]:
        deps: builtins.list[Any] = [f"python={self.python_version}"] if self.python_version \
            else []
        deps += self._conda
        if self._pip:
            deps += ["pip", {"pip": list(self._pip)}]
        return {"name": "project_environment", "channels": self._channels or ["conda-forge"],
                "dependencies": deps}

    def serialize_to_string(self) -> str:
        import yaml

        return str(yaml.safe_dump(self.as_dict(), sort_keys=False))

    def save(self, path: str | None = None) -> str:
        target = Path(path or "conda_dependencies.yml")
        target.write_text(self.serialize_to_string(), encoding="utf-8")
        return str(target)

    def save_to_file(self, base_directory: str, conda_file_path: str | None = None) -> str:
        return self.save(str(Path(base_directory) / (conda_file_path or
                                                     "conda_dependencies.yml")))

    def package_names(self) -> builtins.list[str]:
        """Every declared package, by distribution name."""
        return sorted({package_name(p) for p in self._conda + self._pip})

    def __repr__(self) -> str:
        return f"CondaDependencies(conda={self._conda!r}, pip={self._pip!r})"


class DockerSection:
    def __init__(self) -> None:
        self.enabled = True
        self.base_image: str | None = None
        self.base_dockerfile: str | None = None
        self.gpu_support = False
        self.shm_size: str | None = None
        self.arguments: builtins.list[str] = []


class PythonSection:
    def __init__(self) -> None:
        self.conda_dependencies = CondaDependencies()
        self.user_managed_dependencies = False
        self.interpreter_path = "python"


class SparkSection:
    """The SDK's Spark settings of an environment (Maven packages for a Spark step); kept,
    unused by kubeline's local runs (SynapseSparkStep's packages come from its own image)."""

    def __init__(self) -> None:
        self.repositories: builtins.list[str] = []
        self.packages: builtins.list[dict[str, str]] = []
        self.precache_packages = True


@aml_surface(surface("Environment"))
class Environment:
    """An image and the packages a step needs; registered ones keep versions."""

    environment_variables: dict[str, str]

    def __init__(self, name: str = "default", _skip_validation: bool = False) -> None:
        if not isinstance(name, str) or not name:
            raise EnvironmentDefError("Environment: name must be a non-empty string")
        self.name = name
        self.version: str | None = None
        self.docker = DockerSection()
        self.python = PythonSection()
        self.spark = SparkSection()
        self.environment_variables: dict[str, str] = {}
        self.inferencing_stack_version: str | None = None

    # --- the SDK's constructors --------------------------------------------------------
    @staticmethod
    def from_conda_specification(name: str, file_path: str) -> Environment:
        env = Environment(name)
        env.python.conda_dependencies = CondaDependencies(file_path)
        return env

    @staticmethod
    def from_pip_requirements(name: str, file_path: str, pip_version: str | None = None
                              ) -> Environment:
        path = Path(file_path)
        if not path.is_file():
            raise EnvironmentDefError(f"Environment.from_pip_requirements: '{file_path}' does not "
                                    "exist", "pass the path of a requirements.txt")
        env = Environment(name)
        for line in path.read_text(encoding="utf-8").splitlines():
            line = line.split("#", 1)[0].strip()
            if line and not line.startswith("-"):
                env.python.conda_dependencies.add_pip_package(line)
        return env

    @staticmethod
    def from_docker_image(name: str, image: str, container_registry: Any = None,
                          conda_specification: str | None = None,
                          pip_requirements: str | None = None) -> Environment:
        if conda_specification is not None:
            env = Environment.from_conda_specification(name, conda_specification)
        elif pip_requirements is not None:
            env = Environment.from_pip_requirements(name, pip_requirements)
        else:
            env = Environment(name)
        env.docker.base_image = image
        return env

    def clone(self, new_name: str) -> Environment:
        """A copy under another name (unregistered)."""
        env = Environment._from_json(new_name, self._to_json())
        env.inferencing_stack_version = self.inferencing_stack_version
        return env

    # --- the workspace's environments --------------------------------------------------
    def register(self, workspace: Workspace) -> Environment:
        """Store this environment as the next version of its name."""
        data = _load(workspace)
        versions = data.setdefault(self.name, {})
        version = str(max((int(v) for v in versions), default=0) + 1)
        versions[version] = self._to_json()
        _store(workspace, data)
        self.version = version
        return self

    @staticmethod
    def get(workspace: Workspace, name: str, version: str | None = None,
            label: str | None = None) -> Environment:
        """A registered environment (latest version unless given) or a curated AzureML-* one."""
        versions = _load(workspace).get(name)
        if versions:
            chosen = str(version) if version is not None else max(versions, key=int)
            if chosen not in versions:
                raise EnvironmentDefError(f"Environment '{name}' has no version '{chosen}'",
                                        f"its versions are {', '.join(sorted(versions))}")
            env = Environment._from_json(name, versions[chosen])
            env.version = chosen
            return env
        if name in CURATED_IMAGES:
            env = Environment(name)
            env.docker.base_image = CURATED_IMAGES[name]
            env.python.user_managed_dependencies = True
            return env
        known = sorted(_load(workspace)) + sorted(CURATED_IMAGES)
        raise EnvironmentDefError(f"Environment '{name}' is not registered in workspace "
                                f"'{workspace.name}'", f"known: {', '.join(known)}; register "
                                "one with Environment(name).register(ws)")

    @staticmethod
    def list(workspace: Workspace) -> dict[str, Environment]:
        return {name: Environment.get(workspace, name) for name in sorted(_load(workspace))}

    def _to_json(self) -> dict[str, Any]:
        deps = self.python.conda_dependencies
        return {"image": self.docker.base_image, "conda": deps.conda_packages,
                "pip": deps.pip_packages, "channels": deps.conda_channels,
                "python": deps.python_version,
                "user_managed": self.python.user_managed_dependencies,
                "environment_variables": dict(self.environment_variables)}

    @staticmethod
    def _from_json(name: str, data: dict[str, Any]) -> Environment:
        env = Environment(name)
        env.docker.base_image = data.get("image")
        env.python.conda_dependencies = CondaDependencies(_underlying_structure={
            "channels": data.get("channels") or [],
            "dependencies": [*data.get("conda", []), {"pip": data.get("pip", [])}]})
        env.python.conda_dependencies.python_version = data.get("python")
        env.python.user_managed_dependencies = bool(data.get("user_managed"))
        env.environment_variables = dict(data.get("environment_variables") or {})
        return env

    def __repr__(self) -> str:
        return (f"Environment(Name: {self.name}, Version: {self.version}, "
                f"Image: {self.docker.base_image})")


def _load(workspace: Workspace) -> dict[str, dict[str, Any]]:
    path = workspace.state_dir / ENVIRONMENTS_FILE
    if not path.is_file():
        return {}
    data: dict[str, dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _store(workspace: Workspace, data: dict[str, Any]) -> None:
    path = workspace.state_dir / ENVIRONMENTS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, sort_keys=True, indent=1), encoding="utf-8")
    os.replace(tmp, path)


class DistributedConfiguration:
    """MpiConfiguration / PyTorchConfiguration / TensorflowConfiguration: recorded; a local
    run starts one process (docs/aml-compat.md)."""

    def __init__(self, process_count_per_node: int = 1, node_count: int = 1) -> None:
        for label, value in (("process_count_per_node", process_count_per_node),
                             ("node_count", node_count)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise KubelineError(f"{type(self).__name__}: {label} {value!r} must be an "
                                    "integer of at least 1")
        self.process_count_per_node = process_count_per_node
        self.node_count = node_count


@aml_surface(surface("MpiConfiguration"))
class MpiConfiguration(DistributedConfiguration):
    """MPI settings of a distributed step."""


@aml_surface(surface("PyTorchConfiguration"))
class PyTorchConfiguration(DistributedConfiguration):
    """torch.distributed settings of a distributed step."""

    def __init__(self, communication_backend: str = "Nccl", process_count: int | None = None,
                 node_count: int = 1) -> None:
        super().__init__(1, node_count)
        self.communication_backend = communication_backend
        self.process_count = process_count


@aml_surface(surface("TensorflowConfiguration"))
class TensorflowConfiguration(DistributedConfiguration):
    """TensorFlow parameter-server settings of a distributed step."""

    def __init__(self, worker_count: int = 1, parameter_server_count: int = 1) -> None:
        super().__init__(1, worker_count)
        self.worker_count = worker_count
        self.parameter_server_count = parameter_server_count


@aml_surface(surface("RunConfiguration"))
class RunConfiguration:
    """A step's environment (image, packages) and where it runs."""

    target: Any
    environment_variables: dict[str, str]
    auto_prepare_environment: bool

    def __init__(self, script: str | None = None, arguments: builtins.list[str] | None = None,
                 framework: str | None = None, communicator: str | None = None,
                 conda_dependencies: CondaDependencies | None = None,
                 _history_enabled: bool | None = None, _path: str | None = None,
                 _name: str | None = None, command: str | builtins.list[str] | None = None
                 ) -> None:
        self.environment = Environment()
        if conda_dependencies is not None:
            self.environment.python.conda_dependencies = conda_dependencies
        self.target = None
        self.environment_variables = {}
        self.auto_prepare_environment = False
        self.script = script
        self.arguments = list(arguments or [])
        self.framework = framework or "Python"
        self.communicator = communicator or "None"
        self.command = command
        self.node_count = 1
        self.mpi: MpiConfiguration | None = None

    def image(self, default: str) -> str:
        return self.environment.docker.base_image or default


@aml_surface(surface("ScriptRunConfig"))
class ScriptRunConfig:
    """A script or command with its folder, compute and environment (CommandStep's runconfig)."""

    def __init__(self, source_directory: str, script: str | None = None,
                 arguments: builtins.list[Any] | None = None,
                 run_config: RunConfiguration | None = None, _telemetry_values: Any = None,
                 compute_target: Any = None, environment: Environment | None = None,
                 distributed_job_config: DistributedConfiguration | None = None,
                 resume_from: Any = None, max_run_duration_seconds: int = 2592000,
                 command: str | builtins.list[Any] | None = None,
                 docker_runtime_config: Any = None) -> None:
        if script is not None and command is not None:
            raise KubelineError("ScriptRunConfig: give script or command, not both")
        if environment is not None and not isinstance(environment, Environment):
            raise KubelineError(f"ScriptRunConfig: environment is a "
                                f"{type(environment).__name__}", "pass an Environment")
        self.source_directory = source_directory
        self.script = script
        self.arguments = list(arguments or [])
        self.command = command
        self.run_config = run_config or RunConfiguration()
        if environment is not None:
            self.run_config.environment = environment
        if compute_target is not None:
            self.run_config.target = compute_target
        self.distributed_job_config = distributed_job_config
        self.max_run_duration_seconds = max_run_duration_seconds

    @property
    def compute_target(self) -> Any:
        return self.run_config.target

    @property
    def environment(self) -> Environment:
        return self.run_config.environment


def missing_packages(runconfig: RunConfiguration | None) -> builtins.list[str]:
    """Declared packages the local interpreter does not have (by distribution name)."""
    if runconfig is None:
        return []
    deps = runconfig.environment.python.conda_dependencies
    missing = []
    for name in deps.package_names():
        if name in ("python", "pip"):
            continue
        try:
            importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            missing.append(name)
    return missing
