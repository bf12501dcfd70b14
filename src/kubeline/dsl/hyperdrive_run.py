"""HyperDriveStepRun: a HyperDriveStep's run with its trials (AML's child runs); HyperDriveRun:
a HyperDriveConfig submitted on its own, which runs as a pipeline of one HyperDriveStep.

The step's best phase writes ``kubeline/runs/<run>/steps/<step>/hyperdrive.json`` in the
default datastore (kubeline.runtime.hyperdrive): every trial's values, status, metrics and
where its files are. This class reads it, whatever ran the pipeline (the local executor or
a cluster), through the run's datastores.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kubeline.aml_surface.checker import Params, Surface, aml_surface
from kubeline.dsl.pipeline_run import PipelineRun, StepRun
from kubeline.exceptions import KubelineError
from kubeline.stores import Store
from kubeline.tuning.ranking import ranked

if TYPE_CHECKING:
    from kubeline.dsl.experiment import Experiment
    from kubeline.dsl.hyperdrive_config import HyperDriveConfig


class TrialRun:
    """One trial of a HyperDriveStep (AML's child run of a HyperDrive run)."""

    def __init__(self, step_run: HyperDriveStepRun, trial: dict[str, Any]) -> None:
        self._step_run = step_run
        self._parent: HyperDriveStepRun | HyperDriveRun = step_run
        self._trial = trial
        self.id: str = str(trial["run_id"])
        self.number: int = int(trial["n"])

    @property
    def parent(self) -> HyperDriveStepRun | HyperDriveRun:
        """The HyperDriveStepRun, or the HyperDriveRun of a sweep submitted on its own."""
        return self._parent

    @property
    def status(self) -> str:
        return str(self._trial["status"])

    def get_status(self) -> str:
        return self.status

    @property
    def hyperparameters(self) -> dict[str, Any]:
        return dict(self._trial["hyperparameters"])

    def get_metrics(self, name: str | None = None, **_aml_only: Any) -> dict[str, Any]:
        found: dict[str, Any] = dict(self._trial.get("metrics") or {})
        return found if name is None else {k: v for k, v in found.items() if k == name}

    def get_details(self) -> dict[str, Any]:
        return {"runId": self.id, "status": self.status, "hyperparameters": self.hyperparameters,
                "best_primary_metric": self._trial.get("best_primary_metric"),
                "error": self._trial.get("error")}

    def get_file_names(self) -> list[str]:
        """Files the trial kept: ./outputs and Run.upload_file names."""
        prefix = f"{self._trial['files']}/"
        return sorted(o.key[len(prefix):] for o in self._step_run._store().list(prefix))

    def download_file(self, name: str, output_file_path: str | None = None,
                      _validate_checksum: bool = False) -> None:
        target = Path(output_file_path or os.path.basename(name))
        if target.is_dir():
            target = target / os.path.basename(name)
        key = f"{self._trial['files']}/{name.strip('/')}"
        store = self._step_run._store()
        if not store.exists(key):
            raise KubelineError(f"trial {self.id} has no file '{name}'",
                                "see get_file_names()")
        target.parent.mkdir(parents=True, exist_ok=True)
        store.get_file(key, target)

    def __repr__(self) -> str:
        return f"Run(Id: {self.id}, Status: {self.status})"


_SURFACE = Surface(members={
    "get_diagnostics": "AML's diagnostics archive: read each trial's logs with "
                       "`kubeline runs logs` and get_children()",
    "hyperdrive_config": "a run keeps no HyperDriveConfig object: the step's settings are in "
                         "get_details() and the compiled step spec",
}, properties=frozenset({"hyperdrive_config"}))


@aml_surface(_SURFACE)
class HyperDriveStepRun(StepRun):
    """A HyperDriveStep's step run with its trials: best run, ranking, metrics."""

    def __init__(self, step_run: StepRun) -> None:
        if not isinstance(step_run, StepRun):
            raise KubelineError(f"HyperDriveStepRun: step_run is a {type(step_run).__name__}",
                                "pass the StepRun of a HyperDriveStep, e.g. "
                                "pipeline_run.find_step_run('hd_step')[0]")
        super().__init__(step_run.parent, step_run._record)
        self._summary: dict[str, Any] | None = None

    def _store(self) -> Store:
        from kubeline.runtime.datastores import Datastores

        props = self.parent._record.properties
        return Datastores(props.get("datastores") or {}, str(props.get("default_datastore")),
                          Path(str(props.get("workspace") or "."))).default

    def _data(self) -> dict[str, Any]:
        if self._summary is None:
            from kubeline.runtime.layout import step_dir

            key = f"{step_dir(self.parent.id, self.step_id)}/hyperdrive.json"
            store = self._store()
            if not store.exists(key):
                raise KubelineError(f"step '{self.name}' of run {self.parent.id} has no "
                                    "HyperDrive record yet",
                                    "wait for the step to finish (wait_for_completion)")
            self._summary = json.loads(store.get_bytes(key))
        return self._summary

    def _trials(self) -> list[dict[str, Any]]:
        return list(self._data()["trials"])

    def _ranked(self, statuses: tuple[str, ...] | None = None) -> list[dict[str, Any]]:
        data = self._data()
        return [dict(t) for t in ranked(self._trials(), data["primary_metric"],
                                        data["goal"] == "MAXIMIZE", statuses)]

    def get_children(  # type: ignore[override]
            self, recursive: bool = False, tags: Any = None, properties: Any = None,
            type: str | None = None, status: str | None = None,
            _rehydrate_runs: bool = True) -> list[TrialRun]:
        """The trials, in trial order (``status`` filters, e.g. "Canceled")."""
        return [TrialRun(self, t) for t in self._trials()
                if status is None or t["status"] == status]

    def get_best_run_by_primary_metric(self, include_failed: bool = True,
                                       include_canceled: bool = True,
                                       include_resume_from_runs: bool = True
                                       ) -> TrialRun | None:
        """The trial with the best primary metric value (None when none logged it)."""
        statuses = ("Completed", *(("Failed",) if include_failed else ()),
                    *(("Canceled",) if include_canceled else ()))
        best = self._ranked(statuses)
        return TrialRun(self, best[0]) if best else None

    def get_children_sorted_by_primary_metric(self, top: int = 0, reverse: bool = False,
                                              discard_no_metric: bool = False
                                              ) -> list[dict[str, Any]]:
        """Trials best first (``reverse``: worst first), as the SDK's dicts; trials without
        the metric come last unless discarded."""
        order = self._ranked()
        if reverse:
            order.reverse()
        if not discard_no_metric:
            listed = {t["n"] for t in order}
            order += [t for t in self._trials() if t["n"] not in listed]
        rows = [{"run_id": t["run_id"], "hyperparameters": json.dumps(t["hyperparameters"],
                                                                      sort_keys=True),
                 "best_primary_metric": t.get("best_primary_metric"), "status": t["status"]}
                for t in order]
        return rows[:top] if top > 0 else rows

    def get_metrics(self, name: str | None = None, **_aml_only: Any) -> dict[str, Any]:
        """Every trial's metrics by trial run id (``name`` keeps one metric)."""
        out: dict[str, Any] = {}
        for t in self._trials():
            metrics = dict(t.get("metrics") or {})
            out[t["run_id"]] = metrics if name is None else {k: v for k, v in metrics.items()
                                                              if k == name}
        return out

    def get_hyperparameters(self) -> dict[str, str]:
        """Each trial's values (JSON text) by trial run id."""
        return {t["run_id"]: json.dumps(t["hyperparameters"], sort_keys=True)
                for t in self._trials()}

    def __repr__(self) -> str:
        return f"HyperDriveStepRun(Name: {self.name}, Id: {self.id}, Status: {self.status})"


# -- a HyperDrive submitted on its own -------------------------------------------------------

SWEEP_STEP = "hyperdrive"  # the one step of the pipeline a HyperDriveRun runs
_AML_STATUS = {"Finished": "Completed"}  # a Run's word for a finished run (PipelineRun's differs)

_RUN_SURFACE = Surface(members={
    "get_diagnostics": "AML's diagnostics archive: read each trial's logs with "
                       "`kubeline runs logs` and get_children()",
}, params={"wait_for_completion": Params(ignored={
    "wait_post_processing": "kubeline's run ends after its last phase: nothing to wait for"})})


@aml_surface(_RUN_SURFACE)
class HyperDriveRun(PipelineRun):
    """``Experiment.submit(HyperDriveConfig(...))``: the sweep runs as a pipeline of one
    HyperDriveStep (the same sampling, trials, policies and ``max_duration_minutes`` as in a
    pipeline; docs/hyperdrive.md), and this run answers for it as AML's HyperDriveRun does:
    the trials are its children."""

    def __init__(self, experiment: Experiment, run_id: str,
                 hyperdrive_config: HyperDriveConfig | None = None, **kwargs: Any) -> None:
        super().__init__(experiment, run_id, **kwargs)
        self._hyperdrive_config = hyperdrive_config

    @property
    def hyperdrive_config(self) -> HyperDriveConfig | None:
        """The configuration submitted (None for a run found again by id)."""
        return self._hyperdrive_config

    def _sweep(self) -> HyperDriveStepRun:
        found = self.find_step_run(SWEEP_STEP)
        if not found:
            raise KubelineError(f"run {self.id} is not a HyperDrive run (it has no step "
                                f"'{SWEEP_STEP}')", "HyperDriveRun reads runs started with "
                                "Experiment.submit(HyperDriveConfig(...)); for a pipeline's "
                                "step use HyperDriveStepRun(run.find_step_run(name)[0])")
        return HyperDriveStepRun(found[0])

    def get_status(self) -> str:
        """Running, Completed, Failed or Canceled (AML's words for a HyperDrive run)."""
        status = super().get_status()
        return _AML_STATUS.get(status, status)

    def get_details(self) -> dict[str, Any]:
        details = super().get_details()
        details["status"] = _AML_STATUS.get(details["status"], details["status"])
        return details

    def wait_for_completion(self, show_output: bool = False,  # type: ignore[override]
                            wait_post_processing: bool = False, raise_on_error: bool = True,
                            timeout_seconds: float = sys.maxsize) -> dict[str, Any]:
        """Block until the sweep ends; returns get_details() as AML's Run does (a failed
        sweep, such as one where no trial completed, raises unless raise_on_error=False)."""
        super().wait_for_completion(show_output=show_output, timeout_seconds=timeout_seconds,
                                    raise_on_error=raise_on_error)
        return self.get_details()

    def get_children(  # type: ignore[override]
            self, recursive: bool = False, tags: Any = None, properties: Any = None,
            type: str | None = None, status: str | None = None,
            _rehydrate_runs: bool = True) -> list[TrialRun]:
        """The trials, in trial order (``status`` filters, e.g. "Canceled")."""
        return [self._adopt(t) for t in self._sweep().get_children(status=status)]

    def _adopt(self, trial: TrialRun) -> TrialRun:
        trial._parent = self
        return trial

    def get_best_run_by_primary_metric(self, include_failed: bool = True,
                                       include_canceled: bool = True,
                                       include_resume_from_runs: bool = True
                                       ) -> TrialRun | None:
        """The trial with the best value of the primary metric (None when none logged it)."""
        best = self._sweep().get_best_run_by_primary_metric(include_failed, include_canceled)
        return None if best is None else self._adopt(best)

    def get_children_sorted_by_primary_metric(self, top: int = 0, reverse: bool = False,
                                              discard_no_metric: bool = False
                                              ) -> list[dict[str, Any]]:
        return self._sweep().get_children_sorted_by_primary_metric(top, reverse,
                                                                   discard_no_metric)

    def get_metrics(self, name: str | None = None,  # type: ignore[override]
                    **_aml_only: Any) -> dict[str, Any]:
        """Every trial's metrics by trial run id, as AML's HyperDriveRun.get_metrics()."""
        return self._sweep().get_metrics(name)

    def get_hyperparameters(self) -> dict[str, str]:
        return self._sweep().get_hyperparameters()

    def __repr__(self) -> str:
        return (f"HyperDriveRun(Experiment: {self.experiment.name}, Id: {self.id}, "
                f"Status: {_AML_STATUS.get(self._record.status, self._record.status)})")


def submit_hyperdrive(experiment: Experiment, config: HyperDriveConfig,
                      tags: Mapping[str, Any] | None) -> HyperDriveRun:
    """Run ``config`` as a pipeline of one HyperDriveStep (no reuse: every submission samples
    and trains afresh, as AML's does)."""
    from kubeline.dsl.hyperdrive_step import HyperDriveStep
    from kubeline.dsl.pipeline import Pipeline

    step = HyperDriveStep(SWEEP_STEP, config, allow_reuse=False)
    run = experiment.submit(Pipeline(experiment.workspace, steps=[step]), tags=tags)
    return HyperDriveRun(experiment, run.id, config, _process=run._process,
                         _state_dir=run._state_dir)
