"""NotebookRunnerStep (azureml.contrib.notebook): a notebook run as a step with papermill.

The step is a CommandStep running ``python -m kubeline.runtime.notebook``: its parameters
(strings, numbers, PipelineParameters, data objects) are injected into the notebook's
``parameters`` cell, and the executed notebook is kept as a PipelineData output
(``output_notebook_pipeline_data_name``, default ``output_notebook``), so a later step or
``StepRun.get_output_data(...).download()`` reads it. papermill and a Jupyter kernel must be
in the step's environment (locally: this interpreter's; on a cluster: the image).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from kubeline.aml_surface.checker import aml_surface
from kubeline.aml_surface.data import surface
from kubeline.dsl.data import PipelineData
from kubeline.dsl.runconfig import RunConfiguration
from kubeline.dsl.steps import CommandStep
from kubeline.exceptions import KubelineError


@aml_surface(surface("NotebookRunConfig"))
class NotebookRunConfig:
    """Which notebook to run, from which folder, with which parameters and kernel."""

    def __init__(self, source_directory: str, notebook: str, output_notebook: str | None = None,
                 parameters: Mapping[str, Any] | None = None, kernel_name: str | None = None,
                 run_config: RunConfiguration | None = None, _telemetry_values: Any = None
                 ) -> None:
        if not notebook.endswith(".ipynb"):
            raise KubelineError(f"NotebookRunConfig: notebook '{notebook}' is not an .ipynb "
                                "file", "name the notebook relative to source_directory")
        self.source_directory = source_directory
        self.notebook = notebook
        self.output_notebook = output_notebook or f"{Path(notebook).stem}.output.ipynb"
        self.parameters = dict(parameters or {})
        self.kernel_name = kernel_name
        self.run_config = run_config


@aml_surface(surface("NotebookRunnerStep"))
class NotebookRunnerStep(CommandStep):
    """Runs a notebook with papermill; the executed notebook is the step's output."""

    def __init__(self, notebook_run_config: NotebookRunConfig, name: str | None = None,
                 allow_reuse: bool = True, version: str | None = None,
                 inputs: Sequence[Any] | None = None, outputs: Sequence[Any] | None = None,
                 output_notebook_pipeline_data_name: str | None = None,
                 compute_target: Any = None) -> None:
        if not isinstance(notebook_run_config, NotebookRunConfig):
            raise KubelineError(f"NotebookRunnerStep: notebook_run_config is a "
                                f"{type(notebook_run_config).__name__}",
                                "pass NotebookRunConfig(source_directory, notebook, ...)")
        config = notebook_run_config
        self.output_notebook = PipelineData(output_notebook_pipeline_data_name or
                                            "output_notebook", is_directory=True)
        command: list[Any] = ["python", "-m", "kubeline.runtime.notebook", config.notebook,
                              self.output_notebook, config.output_notebook]
        if config.kernel_name:
            command += ["--kernel", config.kernel_name]
        for key, value in sorted(config.parameters.items()):
            command += ["-p", str(key), value]
        super().__init__(command, name=name or Path(config.notebook).stem,
                         compute_target=compute_target, runconfig=config.run_config,
                         inputs=list(inputs or []),
                         outputs=[*list(outputs or []), self.output_notebook],
                         source_directory=config.source_directory, allow_reuse=allow_reuse,
                         version=version)
        self.notebook_run_config = config
