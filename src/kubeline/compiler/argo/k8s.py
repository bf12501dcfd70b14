"""The one Kubernetes object hera's models lack: a ConfigMap (typed, strict like the rest)."""

from __future__ import annotations

from typing import Literal

from hera.workflows.models import ObjectMeta
from pydantic import BaseModel, ConfigDict, Field


class ConfigMap(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    api_version: Literal["v1"] = Field("v1", alias="apiVersion")
    kind: Literal["ConfigMap"] = "ConfigMap"
    metadata: ObjectMeta
    data: dict[str, str]
