"""kubeline.yaml: the one file that says where data lives and what compute targets exist.

It plays the part of AML's config.json plus the workspace's registered datastores and
compute. With no file, a local workspace is used: one local datastore named
``workspaceblobstore`` under ``.kubeline/datastores/``.
"""

from __future__ import annotations

import difflib
import os
import tempfile
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticValidationError

from kubeline.exceptions import ConfigError, yaml_problem
from kubeline.stores.config import (
    AzureBlobDatastore,
    LocalDatastore,
    S3Datastore,
    datastore_to_dict,
)

CONFIG_FILE = "kubeline.yaml"
STATE_DIR = ".kubeline"
DEFAULT_DATASTORE = "workspaceblobstore"
RUNTIME_IMAGE = "ghcr.io/kubeline/runtime:0.1.0"
DEFAULT_IMAGE = RUNTIME_IMAGE  # python 3.11 with kubeline installed

Flavour = Literal["aks", "eks", "gke", "kind", "generic"]
DatastoreConfig = Annotated[LocalDatastore | S3Datastore | AzureBlobDatastore,
                            Field(discriminator="kind")]


class ClusterConfig(BaseModel):
    """Where compiled workflows go: namespace, flavour, service account, runtime image."""

    model_config = ConfigDict(extra="forbid")
    # generic by default: a GPU size keeps its nvidia.com/gpu limit unless the workspace says
    # it targets kind, whose nodes have none (docs/decisions/0019-generic-flavour-default.md)
    flavour: Flavour = "generic"
    namespace: str = "kubeline"
    service_account: str = "kubeline-workflow"
    runtime_image: str = RUNTIME_IMAGE
    default_image: str = DEFAULT_IMAGE
    # installed: images carry kubeline (python3 -m kubeline.runtime); inject: an init container
    # copies the runtime in from runtime_image (docs/decisions/0005-runtime-in-image.md)
    runtime: Literal["installed", "inject"] = "installed"
    # Argo's memoize as a pod-free fast path for reused steps: off by default, since each
    # task then carries its key expression (docs/decisions/0011-compact-manifests.md);
    # local runs always use it
    argo_memoize: bool = False
    # submission to a cluster (docs/cluster.md "Submitting runs"): the kubeconfig context
    # and file kubectl would use when unset; submit sends Experiment.submit and kubeline run
    # there instead of the local executor
    context: str | None = None
    kubeconfig: str | None = None
    submit: bool = False


class ServeConfig(BaseModel):
    """Settings of `kubeline serve` for this workspace."""

    model_config = ConfigDict(extra="forbid")
    cors_origins: list[str] = Field(default_factory=list)


class ComputeTargetConfig(BaseModel):
    """A compute target as stored by ComputeTarget.create / attach."""

    model_config = ConfigDict(extra="allow")
    type: str
    properties: dict[str, Any] = Field(default_factory=dict)


class WorkspaceConfig(BaseModel):
    """The parsed kubeline.yaml. AML-only fields are kept so they round-trip."""

    model_config = ConfigDict(extra="forbid")
    name: str = "local"
    subscription_id: str | None = None
    resource_group: str | None = None
    location: str | None = None
    default_datastore: str = DEFAULT_DATASTORE
    datastores: dict[str, DatastoreConfig] = Field(default_factory=dict)
    compute_targets: dict[str, ComputeTargetConfig] = Field(default_factory=dict)
    cluster: ClusterConfig = Field(default_factory=ClusterConfig)
    serve: ServeConfig = Field(default_factory=ServeConfig)

    def with_defaults(self) -> WorkspaceConfig:
        """The default datastore exists even when the file does not name it."""
        if DEFAULT_DATASTORE in self.datastores:
            return self
        stores = dict(self.datastores)
        stores[DEFAULT_DATASTORE] = LocalDatastore(
            path=f"{STATE_DIR}/datastores/{DEFAULT_DATASTORE}")
        return self.model_copy(update={"datastores": stores})


def find_config(start: Path) -> Path | None:
    """KUBELINE_CONFIG when set (one pipeline, several clusters), else the nearest
    kubeline.yaml at or above start."""
    chosen = os.environ.get("KUBELINE_CONFIG")
    if chosen:
        path = Path(chosen).resolve()
        if not path.is_file():
            raise ConfigError(f"KUBELINE_CONFIG={chosen}: no such file",
                              "point it at a workspace config such as kubeline.yaml")
        return path
    start = start.resolve()
    for folder in (start, *start.parents):
        candidate = folder / CONFIG_FILE
        if candidate.is_file():
            return candidate
    return None


def load_config(path: Path) -> WorkspaceConfig:
    """Parse kubeline.yaml; any mistake is one line naming the field."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML at {yaml_problem(exc)}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    try:
        return WorkspaceConfig.model_validate(raw).with_defaults()
    except PydanticValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        hint = "see docs/workspace.md"
        if err["type"] == "extra_forbidden" and err["loc"]:
            close = difflib.get_close_matches(str(err["loc"][-1]), _field_names(), n=1)
            if close:
                hint = f"did you mean '{close[0]}'? {hint}"
        raise ConfigError(f"{path}: field '{where}': {err['msg']}", hint) from None


def _field_names() -> list[str]:
    """Every field name of kubeline.yaml's models, for did-you-mean hints."""
    names: set[str] = set()
    for value in list(globals().values()):
        if isinstance(value, type) and issubclass(value, BaseModel) and value is not BaseModel:
            names.update(value.model_fields)
    return sorted(names)


def save_config(config: WorkspaceConfig, path: Path) -> None:
    """Write kubeline.yaml atomically so a crash never leaves half a file."""
    data = config.model_dump(mode="json", exclude_defaults=True)
    data["datastores"] = {
        name: datastore_to_dict(store) for name, store in sorted(config.datastores.items())
    }
    text = yaml.safe_dump(data, sort_keys=True, default_flow_style=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".kubeline.yaml.")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(tmp, path)
