"""DatabricksStep and AdlaStep: Spark work that runs as a spark-operator SparkApplication.

The SDK's arguments are kept. What Databricks would run on a cluster it manages runs on the
Kubernetes cluster's spark-operator instead (docs/spark.md): a Python script, a JAR main
class or a notebook, with inputs and outputs reaching it as datastore URIs (s3a://, abfss://)
named after the data. ADLA is retired: an AdlaStep's .sql script runs as Spark SQL.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import PurePosixPath
from typing import Any

from kubeline.aml_surface.checker import aml_surface
from kubeline.aml_surface.data import surface
from kubeline.dsl.compute import ComputeTarget
from kubeline.dsl.data import DataReference, PipelineData, PipelineParameter
from kubeline.dsl.runconfig import RunConfiguration
from kubeline.dsl.steps import PipelineStep
from kubeline.exceptions import KubelineError


class PyPiLibrary:
    """A PyPI package for the Spark job (azureml.core.databricks.PyPiLibrary)."""

    def __init__(self, package: str, repo: str | None = None) -> None:
        self.package = package
        self.repo = repo


class MavenLibrary:
    """A Maven coordinate for the Spark job (azureml.core.databricks.MavenLibrary)."""

    def __init__(self, coordinates: str, repo: str | None = None,
                 exclusions: Sequence[str] | None = None) -> None:
        self.coordinates = coordinates
        self.repo = repo
        self.exclusions = list(exclusions or [])


class JarLibrary:
    """A JAR (a URI) for the Spark job (azureml.core.databricks.JarLibrary)."""

    def __init__(self, library: str | None = None) -> None:
        if not isinstance(library, str) or not library:
            raise KubelineError(f"{type(self).__name__}: library must be the URI of the file",
                                "e.g. JarLibrary('dbfs:/jars/main.jar')")
        self.library = library


class EggLibrary(JarLibrary):
    """An egg (a URI), added to the Python path of the Spark job."""


class RCranLibrary:
    """An R package; R Spark jobs are not supported, kept for the SDK's signature."""

    def __init__(self, package: str, repo: str | None = None) -> None:
        self.package = package
        self.repo = repo


def _libs(name: str, items: Sequence[Any] | None, attr: str) -> list[Any]:
    out: list[Any] = []
    for item in items or []:
        if isinstance(item, str):
            out.append(item)
        elif hasattr(item, attr):
            if isinstance(item, MavenLibrary) and (item.repo or item.exclusions):
                out.append({"coordinates": item.coordinates, "repo": item.repo or "",
                            "exclusions": item.exclusions})
            elif isinstance(item, PyPiLibrary) and item.repo:
                out.append({"package": item.package, "repo": item.repo})
            else:
                out.append(str(getattr(item, attr)))
        else:
            raise KubelineError(f"{name}: {item!r} is not a library",
                                f"pass strings or objects with .{attr}")
    return out


def _data_args(step_name: str, inputs: Sequence[Any], outputs: Sequence[Any]) -> list[Any]:
    """``--<data name> <URI>`` for every input and output, as the SDK passes them."""
    args: list[Any] = []
    for item in [*inputs, *outputs]:
        if isinstance(item, DataReference):
            args += [f"--{item.data_reference_name}", item]
        elif isinstance(item, PipelineData):
            args += [f"--{item.name}", item]
        else:
            raise KubelineError(f"step '{step_name}': {item!r} is not a DataReference or "
                                "PipelineData", "Spark steps take datastore data only")
    return args


def _script_params(params: Sequence[Any] | None) -> list[Any]:
    """A PipelineParameter among the params becomes ``--NAME value`` (the SDK's rule)."""
    out: list[Any] = []
    for value in params or []:
        if isinstance(value, PipelineParameter):
            out += [f"--{value.name}", value]
        else:
            out.append(value)
    return out


class SparkStep(PipelineStep):
    """What DatabricksStep and AdlaStep share: settings for the SparkApplication."""

    kind = "spark"

    def spark_settings(self) -> dict[str, Any]:
        return dict(self._settings)

    def _init_settings(self, settings: dict[str, Any]) -> None:
        self._settings = {k: v for k, v in settings.items() if v not in (None, [], {}, "")}
        json.dumps(self._settings)  # settings must be plain JSON


@aml_surface(surface("DatabricksStep"))
class DatabricksStep(SparkStep):
    """A Databricks job (script, JAR or notebook) run as a spark-operator SparkApplication."""

    def __init__(
        self,
        name: str,
        inputs: Sequence[Any] | None = None,
        outputs: Sequence[PipelineData] | None = None,
        existing_cluster_id: str | None = None,
        spark_version: str | None = None,
        node_type: str | None = None,
        instance_pool_id: str | None = None,
        num_workers: int | None = None,
        min_workers: int | None = None,
        max_workers: int | None = None,
        spark_env_variables: dict[str, str] | None = None,
        spark_conf: dict[str, str] | None = None,
        init_scripts: Sequence[str] | None = None,
        cluster_log_dbfs_path: str | None = None,
        notebook_path: str | None = None,
        notebook_params: dict[str, Any] | None = None,
        python_script_path: str | None = None,
        python_script_params: Sequence[Any] | None = None,
        main_class_name: str | None = None,
        jar_params: Sequence[Any] | None = None,
        python_script_name: str | None = None,
        source_directory: str | None = None,
        hash_paths: Sequence[str] | None = None,
        run_name: str | None = None,
        timeout_seconds: int | None = None,
        runconfig: RunConfiguration | None = None,
        maven_libraries: Sequence[Any] | None = None,
        pypi_libraries: Sequence[Any] | None = None,
        egg_libraries: Sequence[Any] | None = None,
        jar_libraries: Sequence[Any] | None = None,
        rcran_libraries: Sequence[Any] | None = None,
        compute_target: ComputeTarget | str | None = None,
        allow_reuse: bool = True,
        version: str | None = None,
        permit_cluster_restart: bool | None = None,
    ) -> None:
        where = f"DatabricksStep '{name}'"
        chosen = [k for k, v in (("notebook_path", notebook_path),
                                 ("python_script_path", python_script_path),
                                 ("python_script_name", python_script_name),
                                 ("main_class_name", main_class_name)) if v]
        if len(chosen) != 1:
            raise KubelineError(
                f"{where}: give exactly one of notebook_path, python_script_path, "
                f"python_script_name, main_class_name (got {', '.join(chosen) or 'none'})")
        if existing_cluster_id:
            raise KubelineError(f"{where}: existing_cluster_id is not supported",
                                "every run gets its own SparkApplication; set num_workers "
                                "or min_workers/max_workers and node_type instead")
        if num_workers is not None and (min_workers is not None or max_workers is not None):
            raise KubelineError(f"{where}: give num_workers or min_workers/max_workers, "
                                "not both")
        if (min_workers is None) != (max_workers is None):
            raise KubelineError(f"{where}: min_workers and max_workers go together")
        if rcran_libraries:
            raise KubelineError(f"{where}: rcran_libraries are not supported",
                                "R jobs do not run on the spark-operator path")
        if init_scripts:
            raise KubelineError(f"{where}: init_scripts are not supported",
                                "bake what they install into the Spark image (runconfig)")
        if python_script_name and not source_directory:
            raise KubelineError(f"{where}: python_script_name needs source_directory")
        ins, outs = list(inputs or []), list(outputs or [])
        data = _data_args(name, ins, outs)
        app = ("notebook" if notebook_path else "jar" if main_class_name else "python")
        if app == "python":
            arguments = [*_script_params(python_script_params), *data]
        elif app == "jar":
            arguments = [*_script_params(jar_params), *data]
        else:
            arguments = []
        super().__init__(name, ins, outs, arguments, compute_target, runconfig,
                         source_directory, allow_reuse, version, hash_paths)
        widgets = {str(k): v for k, v in (notebook_params or {}).items()}
        for key, value in widgets.items():
            if isinstance(value, PipelineParameter | DataReference | PipelineData):
                self.params[key] = value
        self.notebook_params = {k: v for k, v in widgets.items() if k not in self.params}
        self.python_script_name = python_script_name
        self._init_settings({
            "app": app,
            "script": python_script_name or notebook_path or "",
            "script_uri": python_script_path,
            "main_class": main_class_name,
            "notebook_params": {k: str(v) for k, v in self.notebook_params.items()},
            "spark_version": spark_version,
            "node_type": node_type,
            "num_workers": num_workers,
            "min_workers": min_workers,
            "max_workers": max_workers,
            "spark_conf": {str(k): str(v) for k, v in (spark_conf or {}).items()},
            "spark_env_variables": {str(k): str(v)
                                    for k, v in (spark_env_variables or {}).items()},
            "pypi_libraries": _libs(f"{where} pypi_libraries", pypi_libraries, "package"),
            "maven_libraries": _libs(f"{where} maven_libraries", maven_libraries,
                                     "coordinates"),
            "jar_libraries": _libs(f"{where} jar_libraries", jar_libraries, "library"),
            "egg_libraries": _libs(f"{where} egg_libraries", egg_libraries, "library"),
            "run_name": run_name,
            "timeout_seconds": timeout_seconds,
        })
        if app == "jar" and not self._settings.get("jar_libraries"):
            raise KubelineError(f"{where}: main_class_name needs the JAR in jar_libraries")


@aml_surface(surface("AdlaStep"))
class AdlaStep(SparkStep):
    """An Azure Data Lake Analytics script; ADLA is retired, so a .sql script runs as Spark
    SQL on the spark-operator. U-SQL (.usql) is refused: it is not translated."""

    def __init__(
        self,
        script_name: str,
        name: str | None = None,
        inputs: Sequence[Any] | None = None,
        outputs: Sequence[PipelineData] | None = None,
        params: dict[str, Any] | None = None,
        degree_of_parallelism: int | None = None,
        priority: int | None = None,
        runtime_version: str | None = None,
        compute_target: ComputeTarget | str | None = None,
        source_directory: str | None = None,
        allow_reuse: bool = True,
        version: str | None = None,
        hash_paths: Sequence[str] | None = None,
    ) -> None:
        step_name = name or script_name
        suffix = PurePosixPath(script_name).suffix.lower()
        if suffix == ".usql":
            raise KubelineError(
                f"AdlaStep '{step_name}': '{script_name}' is U-SQL, which kubeline does not "
                "translate (Azure Data Lake Analytics is retired)",
                "rewrite it as Spark SQL in a .sql file (docs/spark.md shows the mapping), "
                "or as a DatabricksStep")
        if suffix != ".sql":
            raise KubelineError(f"AdlaStep '{step_name}': script_name must be a .sql file",
                                "AdlaStep runs Spark SQL scripts")
        if not source_directory:
            raise KubelineError(f"AdlaStep '{step_name}': source_directory is required")
        ins, outs = list(inputs or []), list(outputs or [])
        _data_args(step_name, ins, outs)  # type checks only: SQL sees data as ${name}
        super().__init__(step_name, ins, outs, [], compute_target, None, source_directory,
                         allow_reuse, version, hash_paths, params)
        self.script_name = script_name
        self._init_settings({
            "app": "sql",
            "script": script_name,
            "num_workers": degree_of_parallelism,
        })
