"""HyperDriveStep and TrainingOutput: a pipeline step that tunes a script's hyperparameters.

The step runs its ScriptRunConfig's script once per sampled trial, with the trial's values
appended to the arguments (``--learning-rate 0.01``); the best trial by the primary metric
gives the step its outputs: its PipelineData outputs, and outputs declared with
``training_output=TrainingOutput("Metrics")`` (every trial's metrics, JSON) or
``TrainingOutput("Model", model_file="outputs/model.pkl")`` (a file or folder the best trial
wrote under ./outputs). How it compiles and runs: docs/hyperdrive.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kubeline.aml_surface.checker import Params, Surface, aml_surface
from kubeline.dsl.data import PipelineData
from kubeline.dsl.hyperdrive_config import HyperDriveConfig, HyperDriveConfigError
from kubeline.dsl.steps import PythonScriptStep

TRAINING_TYPES = ("Metrics", "Model")
_AUTOML_ONLY = "an AutoML setting: kubeline's HyperDriveStep picks the best trial itself"


@aml_surface(Surface(params={"__init__": Params(refused={
    "iteration": (None, _AUTOML_ONLY), "metric": (None, _AUTOML_ONLY)})}))
class TrainingOutput:
    """Which result of a HyperDriveStep a PipelineData holds: "Metrics" or "Model"."""

    def __init__(self, type: str, model_file: str | None = None) -> None:
        if type not in TRAINING_TYPES:
            raise HyperDriveConfigError(f"TrainingOutput: type {type!r} is not supported",
                                        "use 'Metrics' or 'Model'")
        if model_file is not None and (not isinstance(model_file, str) or not model_file.strip()
                                       or model_file.startswith("/") or ".." in
                                       model_file.split("/")):
            raise HyperDriveConfigError(f"TrainingOutput: model_file {model_file!r} is not a "
                                        "path inside the trial's folder",
                                        "e.g. 'outputs/model/saved_model.pb'")
        if type == "Metrics" and model_file is not None:
            raise HyperDriveConfigError("TrainingOutput: model_file applies to type 'Model'")
        self._type = type
        self._model_file = model_file

    @property
    def type(self) -> str:
        return self._type

    @property
    def model_file(self) -> str | None:
        return self._model_file

    @property
    def iteration(self) -> None:
        return None

    @property
    def metric(self) -> None:
        return None


@aml_surface(Surface())
class HyperDriveStep(PythonScriptStep):
    """Tunes a script: a bounded fan-out of trials, then the best trial's outputs."""

    kind = "hyperdrive"

    def __init__(self, name: str, hyperdrive_config: HyperDriveConfig,
                 estimator_entry_script_arguments: Sequence[Any] | None = None,
                 inputs: Sequence[Any] | None = None,
                 outputs: Sequence[PipelineData] | None = None,
                 metrics_output: PipelineData | None = None, allow_reuse: bool = True,
                 version: str | None = None) -> None:
        if not isinstance(hyperdrive_config, HyperDriveConfig):
            raise HyperDriveConfigError(f"HyperDriveStep '{name}': hyperdrive_config is a "
                                        f"{type(hyperdrive_config).__name__}",
                                        "pass a HyperDriveConfig")
        if isinstance(estimator_entry_script_arguments, str | bytes):
            raise HyperDriveConfigError(f"HyperDriveStep '{name}': "
                                        "estimator_entry_script_arguments must be a list")
        src = hyperdrive_config.run_config
        all_outputs = list(outputs or [])
        if metrics_output is not None:
            if not isinstance(metrics_output, PipelineData):
                raise HyperDriveConfigError(f"HyperDriveStep '{name}': metrics_output must be "
                                            "a PipelineData")
            if metrics_output.training_output is None:
                metrics_output.training_output = TrainingOutput("Metrics")
            if all(o is not metrics_output for o in all_outputs):
                all_outputs.append(metrics_output)
        for output in all_outputs:
            training = getattr(output, "training_output", None)
            if training is not None and not isinstance(training, TrainingOutput):
                raise HyperDriveConfigError(f"HyperDriveStep '{name}': output '{output.name}' "
                                            "has a training_output that is not a "
                                            "TrainingOutput")
        target = src.compute_target
        if isinstance(target, str) and target.lower() == "local":
            target = None
        super().__init__(
            script_name=str(src.script), name=name,
            arguments=[*src.arguments, *(estimator_entry_script_arguments or [])],
            compute_target=target, runconfig=src.run_config, inputs=inputs,
            outputs=all_outputs, source_directory=src.source_directory,
            allow_reuse=allow_reuse, version=version)
        self.hyperdrive_config = hyperdrive_config
        self.metrics_output = metrics_output

    def kind_settings(self) -> tuple[dict[str, Any], str]:
        """The graph's settings of this step kind (the builder's hook; the script is the
        step's own script_name)."""
        return self.hyperdrive_settings(), ""

    def hyperdrive_settings(self) -> dict[str, Any]:
        """The step's tuning settings with its training outputs (JSON for the graph)."""
        training = {}
        for output in self.outputs:
            spec = getattr(output, "training_output", None)
            if isinstance(spec, TrainingOutput):
                training[output.name] = {"type": spec.type, "model_file": spec.model_file}
        return {**self.hyperdrive_config.settings(), "training_outputs": training}
