"""The data objects of a pipeline: DataReference, DataPath, PipelineData, PipelineParameter."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kubeline.aml_surface.checker import aml_surface
from kubeline.aml_surface.data import surface
from kubeline.datapaths import safe_name, safe_path
from kubeline.exceptions import KubelineError

if TYPE_CHECKING:
    from kubeline.dsl.datastore import Datastore

_MODES = ("mount", "download", "direct")


@aml_surface(surface("DataReference"))
class DataReference:
    """A path in a datastore, read by a step in mount, download or direct mode."""

    def __init__(
        self,
        datastore: Datastore,
        data_reference_name: str | None = None,
        path_on_datastore: str | None = None,
        mode: str = "mount",
        path_on_compute: str | None = None,
        overwrite: bool = False,
    ) -> None:
        if mode not in _MODES:
            raise KubelineError(
                f"DataReference '{data_reference_name}': mode '{mode}' is not supported",
                f"use one of {', '.join(_MODES)}",
            )
        self.datastore = datastore
        self.data_reference_name = data_reference_name or datastore.name
        self.path_on_datastore = safe_path(
            path_on_datastore, f"DataReference '{self.data_reference_name}': path_on_datastore",
            store=datastore.name)
        self.mode = mode
        self.path_on_compute = path_on_compute
        self.overwrite = overwrite

    def _copy(self, **changes: Any) -> DataReference:
        values: dict[str, Any] = {
            "datastore": self.datastore,
            "data_reference_name": self.data_reference_name,
            "path_on_datastore": self.path_on_datastore,
            "mode": self.mode,
            "path_on_compute": self.path_on_compute,
            "overwrite": self.overwrite,
        }
        values.update(changes)
        return DataReference(**values)

    def as_mount(self) -> DataReference:
        return self._copy(mode="mount")

    def as_download(self, path_on_compute: str | None = None, overwrite: bool = False
                    ) -> DataReference:
        return self._copy(mode="download", path_on_compute=path_on_compute or self.path_on_compute,
                          overwrite=overwrite)

    def as_direct(self) -> DataReference:
        return self._copy(mode="direct")

    def path(self, path: str | None = None, data_reference_name: str | None = None
             ) -> DataReference:
        name = data_reference_name or self.data_reference_name
        sub = safe_path(path, f"DataReference '{name}': path", store=self.datastore.name)
        joined = "/".join(p for p in (self.path_on_datastore, sub) if p)
        return self._copy(path_on_datastore=joined,
                          data_reference_name=data_reference_name or self.data_reference_name)

    def __repr__(self) -> str:
        return (f"$AZUREML_DATAREFERENCE_{self.data_reference_name}")


@aml_surface(surface("DataPath"))
class DataPath:
    """A datastore path usable as a PipelineParameter value, so inputs can change per run."""

    path_on_datastore: str

    @property
    def datastore_name(self) -> str:
        return self.datastore.name

    def __init__(self, datastore: Datastore | None = None, path_on_datastore: str | None = None,
                 name: str | None = None) -> None:
        if datastore is None:
            raise KubelineError("DataPath: a datastore is required", "pass datastore=...")
        self.datastore = datastore
        label = f"DataPath '{name}'" if name else "DataPath"
        self.path_on_datastore = safe_path(path_on_datastore, f"{label}: path_on_datastore",
                                           store=datastore.name)
        self.name = name

    def create_data_reference(self, data_reference_name: str | None = None,
                              datapath_compute_binding: DataPathComputeBinding | None = None
                              ) -> DataReference:
        binding = datapath_compute_binding or DataPathComputeBinding()
        return DataReference(self.datastore, data_reference_name or self.name,
                             self.path_on_datastore, binding.mode, binding.path_on_compute,
                             binding.overwrite)

    def __repr__(self) -> str:
        return f"DataPath({self.datastore.name!r}, {self.path_on_datastore!r})"


@aml_surface(surface("DataPathComputeBinding"))
class DataPathComputeBinding:
    """How a DataPath parameter reaches the step: mount or download."""

    def __init__(self, mode: str = "mount", path_on_compute: str | None = None,
                 overwrite: bool = False) -> None:
        if mode not in ("mount", "download"):
            raise KubelineError(f"DataPathComputeBinding: mode '{mode}' is not supported",
                                "use 'mount' or 'download'")
        self.mode = mode
        self.path_on_compute = path_on_compute
        self.overwrite = overwrite


@aml_surface(surface("PipelineData"))
class PipelineData:
    """Data one step writes and later steps read; it orders the steps that use it."""

    name: str
    datastore: Datastore | None
    data_type: str | None

    def __init__(
        self,
        name: str,
        datastore: Datastore | None = None,
        output_name: str | None = None,
        output_mode: str = "mount",
        output_path_on_compute: str | None = None,
        output_overwrite: bool | None = None,
        data_type: str | None = None,
        is_directory: bool | None = None,
        pipeline_output_name: str | None = None,
        training_output: Any = None,
    ) -> None:
        if output_mode not in ("mount", "upload"):
            raise KubelineError(f"PipelineData '{name}': output_mode '{output_mode}' is not "
                                "supported", "use 'mount' or 'upload'")
        self.name = safe_name(name, "PipelineData")
        self.datastore = datastore
        self.output_name = output_name or name
        self.output_mode = output_mode
        self.output_path_on_compute = output_path_on_compute
        self.output_overwrite = bool(output_overwrite)
        self.data_type = data_type
        self.is_directory = bool(is_directory)
        self.pipeline_output_name = pipeline_output_name
        self.training_output = training_output  # a HyperDriveStep's TrainingOutput
        self._input_mode = "mount"
        self._input_path_on_compute: str | None = None
        self._origin: PipelineData = self
        self._producers: list[Any] = []

    def _as_input(self, mode: str, path_on_compute: str | None = None) -> PipelineData:
        clone = PipelineData.__new__(PipelineData)
        clone.__dict__.update(self.__dict__)
        clone._input_mode = mode
        clone._input_path_on_compute = path_on_compute
        clone._origin = self._origin
        return clone

    def as_download(self, input_name: str | None = None, path_on_compute: str | None = None,
                    overwrite: bool | None = None) -> PipelineData:
        return self._as_input("download", path_on_compute)

    def as_mount(self, input_name: str | None = None) -> PipelineData:
        return self._as_input("mount")

    def as_direct(self) -> PipelineData:
        return self._as_input("direct")

    def __repr__(self) -> str:
        return f"$AZUREML_DATAREFERENCE_{self.name}"


_PARAM_TYPES: dict[type, str] = {str: "string", int: "int", float: "float", bool: "bool"}


@aml_surface(surface("PipelineParameter"))
class PipelineParameter:
    """A value set when the pipeline is submitted; its default is used otherwise."""

    def __init__(self, name: str, default_value: Any) -> None:
        self.name = name
        self.default_value = default_value

    @property
    def type_name(self) -> str | None:
        """string / int / float / bool / datapath, or None when the default has another type."""
        if isinstance(self.default_value, DataPath):
            return "datapath"
        return _PARAM_TYPES.get(type(self.default_value))

    def __repr__(self) -> str:
        return f"PipelineParameter(name={self.name!r}, default_value={self.default_value!r})"
