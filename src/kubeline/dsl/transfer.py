"""DataTransferStep: copy a file or a folder from one datastore to another.

On Argo the step is a template whose input artifact is the source and whose output artifact
is the destination, so Argo's own artifact drivers move the bytes; the local executor runs
the same template with the same drivers (docs/spark.md, "DataTransferStep").
"""

from __future__ import annotations

from typing import Any

from kubeline.aml_surface.checker import aml_surface
from kubeline.aml_surface.data import surface
from kubeline.dsl.compute import ComputeTarget
from kubeline.dsl.data import DataReference
from kubeline.dsl.steps import PipelineStep
from kubeline.exceptions import KubelineError

_TYPES = (None, "file", "directory")


@aml_surface(surface("DataTransferStep"))
class DataTransferStep(PipelineStep):
    """The SDK's DataTransferStep between any two datastores (local, S3, Azure Blob)."""

    kind = "data_transfer"

    def __init__(
        self,
        name: str,
        source_data_reference: Any = None,
        destination_data_reference: Any = None,
        compute_target: ComputeTarget | str | None = None,
        source_reference_type: str | None = None,
        destination_reference_type: str | None = None,
        allow_reuse: bool = True,
    ) -> None:
        where = f"DataTransferStep '{name}'"
        for label, ref in (("source_data_reference", source_data_reference),
                           ("destination_data_reference", destination_data_reference)):
            if not isinstance(ref, DataReference):
                raise KubelineError(
                    f"{where}: {label} must be a DataReference, got {type(ref).__name__}",
                    "pass DataReference(datastore, path_on_datastore=...)")
        for label, kind in (("source_reference_type", source_reference_type),
                            ("destination_reference_type", destination_reference_type)):
            if kind not in _TYPES:
                raise KubelineError(f"{where}: {label} '{kind}' is not valid",
                                    "use 'file' or 'directory'")
        src: DataReference = source_data_reference
        dst: DataReference = destination_data_reference
        if not dst.path_on_datastore.strip("/"):
            raise KubelineError(f"{where}: the destination needs a path_on_datastore",
                                "copying onto a datastore's root is refused")
        if src.data_reference_name == dst.data_reference_name:
            raise KubelineError(f"{where}: source and destination have the same "
                                f"data_reference_name '{src.data_reference_name}'",
                                "name one of them differently")
        super().__init__(name, [src.as_download()], None, None, compute_target, None, None,
                         allow_reuse, None, None)
        self.source = src
        self.destination = dst
        self.source_reference_type = source_reference_type
        self.destination_reference_type = destination_reference_type

    def transfer_settings(self) -> dict[str, Any]:
        return {
            "source_type": self.source_reference_type or "",
            "destination": {"name": self.destination.data_reference_name,
                            "datastore": self.destination.datastore.name,
                            "path": self.destination.path_on_datastore.strip("/")},
            "destination_type": self.destination_reference_type or "",
        }
