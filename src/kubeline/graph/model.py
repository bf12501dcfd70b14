"""The pipeline graph: the one immutable, serialisable input of every backend.

DSL objects never reach a backend; ``Pipeline.graph()`` turns them into these frozen
records. Step ids are already valid Argo/Kubernetes names; the user's names are kept
beside them for display and annotations.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

ParamType = Literal["string", "int", "float", "bool", "datapath"]
InputMode = Literal["mount", "download", "direct"]
OutputMode = Literal["mount", "upload"]
StepKind = Literal["python_script", "command", "spark", "data_transfer", "hyperdrive"]


@dataclass(frozen=True, slots=True)
class DataPathValue:
    """A datastore and a path in it: the value of a DataPath pipeline parameter."""

    datastore: str
    path: str


@dataclass(frozen=True, slots=True)
class Parameter:
    """A pipeline parameter; it becomes a workflow argument of the same name."""

    name: str
    type: ParamType
    default: str | int | float | bool | DataPathValue


@dataclass(frozen=True, slots=True)
class Lit:
    """A literal command-line token."""

    value: str
    kind: Literal["lit"] = "lit"


@dataclass(frozen=True, slots=True)
class ParamRef:
    """A pipeline parameter's value, substituted at run time."""

    name: str
    kind: Literal["param"] = "param"


@dataclass(frozen=True, slots=True)
class DataRef:
    """The local path of one of the step's inputs or outputs, by data name."""

    name: str
    kind: Literal["data"] = "data"


Arg = Lit | ParamRef | DataRef


@dataclass(frozen=True, slots=True)
class StepInput:
    """Data a step reads: a datastore path, another step's output, or a DataPath parameter."""

    name: str
    source: Literal["datastore", "pipeline_data", "datapath_param"]
    datastore: str
    mode: InputMode = "mount"
    path: str = ""
    producer: str = ""
    parameter: str = ""
    path_on_compute: str = ""
    overwrite: bool = False


@dataclass(frozen=True, slots=True)
class StepOutput:
    """Data a step writes (PipelineData); stored under a location derived from its cache key."""

    name: str
    datastore: str
    mode: OutputMode = "mount"
    path_on_compute: str = ""
    overwrite: bool = False
    is_directory: bool = False


@dataclass(frozen=True, slots=True)
class Step:
    """One step, with everything a backend needs and nothing bound to a machine."""

    id: str
    name: str
    kind: StepKind
    image: str
    script: str = ""
    command: tuple[str, ...] = ()
    arguments: tuple[Arg, ...] = ()
    params: tuple[tuple[str, Arg], ...] = ()
    inputs: tuple[StepInput, ...] = ()
    outputs: tuple[StepOutput, ...] = ()
    source_directory: str = ""
    snapshot: str = ""
    compute_target: str = ""
    allow_reuse: bool = True
    version: str = ""
    hash_paths: tuple[str, ...] = ()
    depends_on: tuple[str, ...] = ()
    settings: str = ""  # canonical JSON of kind-specific settings (spark, data_transfer,
    # hyperdrive)


@dataclass(frozen=True, slots=True)
class GitInfo:
    """Where the source came from, recorded with runs and as annotations."""

    commit: str
    branch: str
    dirty: bool


@dataclass(frozen=True, slots=True)
class PipelineGraph:
    """A validated pipeline: steps in a deterministic topological order."""

    name: str
    parameters: tuple[Parameter, ...]
    steps: tuple[Step, ...]
    default_datastore: str
    description: str = ""
    git: GitInfo | None = None
    datastores: tuple[str, ...] = field(default=())

    def step(self, step_id: str) -> Step:
        for step in self.steps:
            if step.id == step_id:
                return step
        raise KeyError(step_id)
