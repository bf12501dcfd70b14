"""PipelineRun, StepRun and PortDataReference: a run in the run history, with the SDK's names.

Everything is read from ``<workspace>/.kubeline/history.db`` (kubeline.history) and
the datastores the run wrote to, so a PipelineRun built in another process (or after the
submitter exited) sees the same run. Statuses are the SDK's words: NotStarted, Running,
Finished, Failed, Canceled.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from kubeline.aml_surface.checker import aml_surface
from kubeline.aml_surface.data import surface
from kubeline.exceptions import KubelineError
from kubeline.history import db as h
from kubeline.history.failures import failure_text, step_error
from kubeline.history.liveness import process_alive

if TYPE_CHECKING:
    from kubeline.dsl.experiment import Experiment
    from kubeline.dsl.publish import PublishedPipeline
    from kubeline.stores import Store

POLL_SECONDS = 0.2
CANCEL_WAIT_SECONDS = 30.0


@aml_surface(surface("PipelineRun"))
class PipelineRun:
    """A pipeline run recorded in the workspace's history (AML's PipelineRun)."""

    experiment: Experiment
    id: str

    def __init__(self, experiment: Experiment, run_id: str, _process: subprocess.Popen[bytes]
                 | None = None, _state_dir: Path | None = None, **_aml_only: Any) -> None:
        self.experiment = experiment
        self._state_dir = Path(_state_dir or experiment.workspace.state_dir)
        self._process = _process
        with h.History(self._state_dir) as db:
            self._record = db.get_run(run_id)
        self.id = self._record.id

    # --- reading -----------------------------------------------------------------------

    def _db(self) -> h.History:
        return h.History(self._state_dir)

    def _refresh(self) -> h.RunRecord:
        with self._db() as db:
            record = db.get_run(self.id)
            if record.status == h.RUNNING and not self._runner_alive(record):
                db.set_run_status(self.id, h.FAILED, "the runner stopped before the run "
                                  f"finished; finish it with: kubeline runs resume {self.id}",
                                  only_if_not_terminal=True)
                record = db.get_run(self.id)
        self._record = record
        return record

    def _runner_alive(self, record: h.RunRecord) -> bool:
        if self._process is not None and record.runner_pid == self._process.pid:
            return self._process.poll() is None
        if record.runner_pid == os.getpid():
            return True
        return process_alive(record.runner_pid)

    def _step_records(self) -> list[h.StepRecord]:
        with self._db() as db:
            return db.steps(self.id)

    @property
    def status(self) -> str:
        return self.get_status()

    def get_status(self) -> str:
        """NotStarted, Running, Finished, Failed or Canceled."""
        return self._refresh().status

    def get_steps(self) -> list[StepRun]:
        """The step runs that have started (or were reused), in pipeline order."""
        return [StepRun(self, s) for s in self._step_records() if s.status != h.NOT_STARTED]

    def get_children(self, recursive: bool = False, tags: Any = None, properties: Any = None,
                     type: str | None = None, status: str | None = None,
                     _rehydrate_runs: bool = True) -> list[StepRun]:
        """The step runs (the SDK's name for get_steps), optionally of one status."""
        steps = self.get_steps()
        return [s for s in steps if status is None or s.status == status]

    def find_step_run(self, name: str) -> list[StepRun]:
        """Step runs with this name; if none, those whose name without its extension (or
        whose step id) is ``name``, so ``find_step_run("compare")`` finds ``compare.py``."""
        steps = self._step_records()
        found = [s for s in steps if s.name == name]
        if not found:
            found = [s for s in steps if os.path.splitext(s.name)[0] == name or s.step_id == name]
        return [StepRun(self, s) for s in found]

    def get_metrics(self, name: str | None = None, recursive: bool = False,
                    **_aml_only: Any) -> dict[str, Any]:
        """The pipeline run's own metrics (``run.parent.log``); with recursive, a dict of
        run id -> metrics for the pipeline run and each step run, as the SDK returns."""
        record = self._refresh()
        if not recursive:
            return _pick(record.metrics, name)
        out = {self.id: _pick(record.metrics, name)}
        for step in self._step_records():
            out[f"{self.id}_{step.step_id}"] = _pick(step.metrics, name)
        return out

    def get_tags(self) -> dict[str, Any]:
        return dict(self._refresh().tags)

    @property
    def tags(self) -> dict[str, Any]:
        return self.get_tags()

    def get_details(self) -> dict[str, Any]:
        """runId, status, times, parameters, tags, properties (snapshots, git), steps."""
        record = self._refresh()
        details: dict[str, Any] = {
            "runId": record.id,
            "experiment": record.experiment,
            "pipeline": record.pipeline,
            "status": record.status,
            "startTimeUtc": record.started_at,
            "endTimeUtc": record.finished_at,
            "submittedBy": record.started_by,
            "parameters": record.parameters,
            "tags": record.tags,
            "properties": {**record.properties, "workflow": record.workflow,
                           "snapshots": record.snapshots, "git": record.git},
            "statusHistory": record.events,
            "steps": [s.to_json() for s in self._step_records()],
        }
        if record.status == h.FAILED:
            details["error"] = {"message": str(step_error(record, self._failed()))}
        return details

    def _failed(self) -> list[h.StepRecord]:
        return [s for s in self._step_records() if s.status == h.FAILED]

    # --- waiting and stopping ----------------------------------------------------------

    def wait_for_completion(self, show_output: bool = True, timeout_seconds: float = sys.maxsize,
                            raise_on_error: bool = True) -> str:
        """Block until the run ends; with show_output print step changes and, for a failed
        step, its exit code and the tail of its stderr. Returns the final status."""
        out: IO[str] = sys.stdout
        start = time.monotonic()
        shown: dict[str, str] = {}
        if show_output:
            print(f"PipelineRunId: {self.id}", file=out)
            print(f"Run history: kubeline runs show {self.id}", file=out)
        record = self._refresh()
        last_status = ""
        while True:
            if show_output:
                if record.status != last_status and not record.terminal:
                    print(f"PipelineRun Status: {record.status}", file=out)
                    last_status = record.status
                self._show_steps(shown, out)
            if record.terminal:
                break
            if time.monotonic() - start > timeout_seconds:
                if show_output:
                    print(f"Timed out of waiting. Elapsed time: {time.monotonic() - start:.1f}s",
                          file=out)
                return record.status
            time.sleep(POLL_SECONDS)
            record = self._refresh()
        if self._process is not None:
            self._process.poll()
        if show_output:
            print("", file=out)
            print("PipelineRun Execution Summary", file=out)
            print("==============================", file=out)
            print(f"PipelineRun Status: {record.status}"
                  + (f" ({record.message})" if record.message and record.status != h.FINISHED
                     else ""), file=out)
            out.flush()
        if raise_on_error and record.status == h.FAILED:
            raise step_error(record, self._failed())
        return record.status

    def _show_steps(self, shown: dict[str, str], out: IO[str]) -> None:
        for step in self._step_records():
            if shown.get(step.step_id, h.NOT_STARTED) == step.status:
                continue
            shown[step.step_id] = step.status
            if step.status == h.FAILED:
                print(failure_text(step), file=out)
            else:
                extra = ""
                if step.reused:
                    extra = f" (reused from run {step.reused_from_run})"
                print(f"StepRun( {step.name} ) Status: {step.status}{extra}", file=out)
        out.flush()

    def publish_pipeline(self, name: str, description: str | None = None,
                         version: str | None = None,
                         continue_on_step_failure: bool | None = None, **_aml_only: Any
                         ) -> PublishedPipeline:
        """Publish the manifest this run ran, with its snapshots (dsl/publish.py)."""
        from kubeline.dsl.publish import publish_run

        return publish_run(self, name, description, version, continue_on_step_failure)

    def cancel(self) -> None:
        """Stop the runner (it kills its steps' processes; one that does not stop within
        CANCEL_WAIT_SECONDS is killed), kill whatever process of the run is still alive,
        whoever its parent is now, and mark the run Canceled."""
        from kubeline.local.procs import sweep

        record = self._refresh()
        if record.terminal:
            return
        pid = record.runner_pid
        if pid and pid != os.getpid():
            if process_alive(pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGTERM)
                if not self._runner_stopped(pid, CANCEL_WAIT_SECONDS):
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
                    self._runner_stopped(pid, CANCEL_WAIT_SECONDS)
            sweep(self.id)
        with self._db() as db:
            db.set_run_status(self.id, h.CANCELED, "canceled by the user",
                              only_if_not_terminal=True)
        self._refresh()

    def _runner_stopped(self, pid: int, seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self._process is not None and self._process.pid == pid:
                if self._process.poll() is not None:
                    return True
            elif not process_alive(pid):
                return True
            time.sleep(0.05)
        return False

    def __repr__(self) -> str:
        return (f"PipelineRun(Experiment: {self.experiment.name}, Id: {self.id}, "
                f"Status: {self._record.status})")


def _pick(metrics: dict[str, Any], name: str | None) -> dict[str, Any]:
    if name is None:
        return dict(metrics)
    return {name: metrics[name]} if name in metrics else {}


@aml_surface(surface("StepRun"))
class StepRun:
    """One step of a pipeline run (AML's StepRun)."""

    id: str
    name: str

    @property
    def experiment(self) -> Experiment:
        return self.parent.experiment

    def get_children(self, recursive: bool = False, tags: Any = None, properties: Any = None,
                     type: str | None = None, status: str | None = None,
                     _rehydrate_runs: bool = True) -> list[StepRun]:
        """A step run has no child runs in kubeline."""
        return []

    def __init__(self, parent: PipelineRun, record: h.StepRecord) -> None:
        self.parent = parent
        self._record = record
        self.step_id = record.step_id
        self.name = record.name
        self.id = f"{parent.id}_{record.step_id}"

    def _refresh(self) -> h.StepRecord:
        for step in self.parent._step_records():
            if step.step_id == self.step_id:
                self._record = step
        return self._record

    def get_status(self) -> str:
        return self._refresh().status

    @property
    def status(self) -> str:
        return self.get_status()

    @property
    def reused(self) -> bool:
        """Whether the step's outputs came from an earlier run (the script did not run)."""
        return self._record.reused

    @property
    def reused_from(self) -> str | None:
        """The id of the run whose outputs were reused, or None."""
        return self._record.reused_from_run

    @property
    def attempts(self) -> int:
        return self._record.attempts

    @property
    def exit_code(self) -> int | None:
        return self._record.exit_code

    def get_metrics(self, name: str | None = None, **_aml_only: Any) -> dict[str, Any]:
        return _pick(self._refresh().metrics, name)

    def get_tags(self) -> dict[str, Any]:
        return dict(self._refresh().tags)

    def get_details(self) -> dict[str, Any]:
        record = self._refresh()
        return {"runId": self.id, "status": record.status, **record.to_json()}

    def get_stdout_log(self) -> str:
        return h.read_log(self._refresh().stdout_location)

    def get_stderr_log(self) -> str:
        return h.read_log(self._refresh().stderr_location) or self._record.stderr_tail

    def get_job_log(self) -> str:
        """The step's stdout then stderr (AML's job log)."""
        return self.get_stdout_log() + self.get_stderr_log()

    def get_outputs(self) -> dict[str, StepRunOutput]:
        """Every output of the step by name."""
        return {name: StepRunOutput(self, name) for name in sorted(self._refresh().outputs)}

    def get_output(self, name: str) -> StepRunOutput:
        self.get_output_data(name)
        return StepRunOutput(self, name)

    def get_output_data(self, name: str) -> PortDataReference:
        """The named output of this step (a PipelineData name)."""
        outputs = self._refresh().outputs
        if name not in outputs:
            raise KubelineError(f"step '{self.name}' has no output '{name}' in run "
                                f"{self.parent.id}",
                                f"its outputs are: {', '.join(sorted(outputs)) or 'none'}")
        return PortDataReference(self, name, outputs[name])

    def __repr__(self) -> str:
        return f"StepRun(Name: {self.name}, Id: {self.id}, Status: {self._record.status})"




class StepRunOutput:
    """One output of a step run (AML's StepRunOutput)."""

    def __init__(self, step_run: StepRun, name: str) -> None:
        self.step_run = step_run
        self.name = name

    def get_port_data_reference(self) -> PortDataReference:
        return self.step_run.get_output_data(self.name)

    def __repr__(self) -> str:
        return f"StepRunOutput(name={self.name!r}, step={self.step_run.name!r})"


class PortDataReference:
    """A step output in its datastore (AML's PortDataReference)."""

    def __init__(self, step_run: StepRun, name: str, summary: dict[str, Any]) -> None:
        self.step_run = step_run
        self.name = name
        self.data_reference_name = name
        self.datastore_name = str(summary["datastore"])
        self.path_on_datastore = str(summary["location"])
        self.kind = str(summary.get("kind", "dir"))
        self.size = int(summary.get("size", 0))
        self._producer = str(summary.get("step_id") or step_run.step_id)

    def _store(self) -> Store:
        from kubeline.runtime.datastores import Datastores

        props = self.step_run.parent._record.properties
        stores = Datastores(props.get("datastores") or {}, str(props.get("default_datastore")),
                            Path(str(props.get("workspace") or ".")))
        return stores.get(self.datastore_name)

    def download(self, local_path: str | os.PathLike[str], overwrite: bool = False,
                 show_progress: bool = True) -> str:
        """Copy the output to ``local_path/<path_on_datastore>`` (the SDK's layout) and return
        that path; every file is checked against the output's completion record. Without
        overwrite an existing copy is kept."""
        from kubeline.runtime.records import fetch

        target = Path(local_path).joinpath(*self.path_on_datastore.split("/"))
        if target.exists() and not overwrite:
            if show_progress:
                print(f"{target} exists; not downloaded again (pass overwrite=True)")
            return str(target)
        parts = self.path_on_datastore.split("/")
        if len(parts) < 4 or parts[:2] != ["kubeline", "outputs"]:
            raise KubelineError(f"output '{self.name}': unexpected location "
                                f"{self.path_on_datastore}", "rerun the step")
        if show_progress:
            print(f"Downloading {self.path_on_datastore}")
        if target.exists():
            import shutil

            if target.is_dir():
                shutil.rmtree(target)
            else:
                target.unlink()
        record = fetch(self._store(), parts[2], "/".join(parts[3:]), self._producer, target)
        if show_progress:
            count = len(record.get("files", []))
            print(f"Downloaded {self.path_on_datastore}, {count} files out of an estimated "
                  f"total of {count}")
        return str(target)

    def __repr__(self) -> str:
        return (f"PortDataReference(name={self.name!r}, datastore={self.datastore_name!r}, "
                f"path_on_datastore={self.path_on_datastore!r})")
