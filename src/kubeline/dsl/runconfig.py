"""RunConfiguration / Environment: kubeline uses them to choose a step's container image."""

from __future__ import annotations

from typing import Any

from kubeline.workspace.config import DEFAULT_IMAGE

DEFAULT_CPU_IMAGE = DEFAULT_IMAGE
DEFAULT_GPU_IMAGE = "nvidia/cuda:12.4.1-runtime-ubuntu22.04"


class DockerSection:
    def __init__(self) -> None:
        self.enabled = True
        self.base_image: str | None = None
        self.gpu_support = False


class CondaDependencies:
    """Recorded for compatibility; packages must already be in the step image."""

    def __init__(self) -> None:
        self.conda_packages: list[str] = []
        self.pip_packages: list[str] = []

    @staticmethod
    def create(conda_packages: list[str] | None = None, pip_packages: list[str] | None = None,
               **_aml_only: Any) -> CondaDependencies:
        deps = CondaDependencies()
        deps.conda_packages = list(conda_packages or [])
        deps.pip_packages = list(pip_packages or [])
        return deps


class PythonSection:
    def __init__(self) -> None:
        self.conda_dependencies = CondaDependencies()
        self.user_managed_dependencies = False


class Environment:
    def __init__(self, name: str = "default") -> None:
        self.name = name
        self.docker = DockerSection()
        self.python = PythonSection()
        self.environment_variables: dict[str, str] = {}


class RunConfiguration:
    """Only ``environment.docker.base_image`` (the image) matters to kubeline."""

    def __init__(self, script: str | None = None, arguments: list[str] | None = None,
                 framework: str | None = None, communicator: str | None = None,
                 conda_dependencies: CondaDependencies | None = None, **_aml_only: Any) -> None:
        self.environment = Environment()
        if conda_dependencies is not None:
            self.environment.python.conda_dependencies = conda_dependencies
        self.target: Any = None

    def image(self, default: str) -> str:
        return self.environment.docker.base_image or default
