"""``Run.get_context()``: the AML run object a step script logs metrics, tags and files to.

Inside a step the shim sets ``KUBELINE_METRICS_FILE`` (and friends); entries are appended to
that file and the shim publishes them with the step's result when the script ends. Outside a
pipeline the context is an offline run that prints what it would log, as the SDK's
``_OfflineRun`` does, so scripts run unchanged on a laptop. Stdlib only: this module is
imported inside user scripts.
"""

from __future__ import annotations

import functools
import os
import shutil
import sys
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, TYPE_CHECKING, Any, TypeVar

from kubeline.datapaths import DatastorePathError, safe_path
from kubeline.runtime import metrics as m
from kubeline.runtime.contextenv import (
    ENV_EXPERIMENT,
    ENV_METRICS_FILE,
    ENV_RUN_ID,
    ENV_STEP_NAME,
    ENV_STEP_RUN_ID,
    ENV_TRIAL_ACK,
    ENV_TRIAL_METRIC,
    ENV_UPLOADS_DIR,
)

POLICY_WAIT_SECONDS = 600.0


class RunContextError(m.MetricError):
    """No run context where one is required (``get_context(allow_offline=False)``)."""


@dataclass(frozen=True)
class RunExperiment:
    """The experiment a run belongs to (AML's ``run.experiment``; name only here)."""

    name: str


class _Sink:
    """Where a run's entries go; keeps the metric kind of each name to refuse mixing."""

    def __init__(self) -> None:
        self.kinds: dict[tuple[str, str], str] = {}

    def add(self, scope: str, entry: m.Entry) -> None:
        if entry["type"] not in ("tag", "file"):
            known = self.kinds.setdefault((scope, entry["name"]), entry["type"])
            if known != entry["type"] and {known, entry["type"]} != {"row", "table"}:
                raise m.MetricError(
                    f"Run.log_{entry['type']}: metric '{entry['name']}' was logged as {known}",
                    "use one kind of metric per name")
        self.write(scope, {**entry, "scope": scope})

    def write(self, scope: str, entry: m.Entry) -> None:
        raise NotImplementedError

    def entries(self, scope: str) -> list[m.Entry]:
        raise NotImplementedError

    def store_file(self, scope: str, name: str, source: str | IO[bytes]) -> str:
        raise NotImplementedError


class _FileSink(_Sink):
    """Entries appended to the shim's metrics file; files copied into its uploads folder."""

    def __init__(self, path: Path, uploads: Path) -> None:
        super().__init__()
        self.path = path
        self.uploads = uploads

    def write(self, scope: str, entry: m.Entry) -> None:
        end = m.append_entry(self.path, entry)
        if (scope == "step" and entry["type"] == "scalar"
                and entry["name"] == os.environ.get(ENV_TRIAL_METRIC)):
            _await_policy(Path(os.environ.get(ENV_TRIAL_ACK, "")), end, entry["name"])

    def entries(self, scope: str) -> list[m.Entry]:
        return [e for e in m.read_entries(self.path) if e.get("scope", "step") == scope]

    def store_file(self, scope: str, name: str, source: str | IO[bytes]) -> str:
        target = self.uploads / scope / Path(*PurePosixPath(name).parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        _copy(source, target)
        return str(target)


class _PrintSink(_Sink):
    """The offline run: prints each entry in the SDK's words and keeps it in memory."""

    def __init__(self) -> None:
        super().__init__()
        self._entries: list[m.Entry] = []

    def write(self, scope: str, entry: m.Entry) -> None:
        self._entries.append(entry)
        kind, name, value = entry["type"], entry["name"], entry["value"]
        if kind == "tag":
            print(f"Attempted to set tag {name}:\n{value}")
        elif kind == "file":
            print(f"Attempted to track file {name} at {entry.get('path', name)}")
        else:
            print(f"Attempted to log {kind} metric {name}:\n{value}")

    def entries(self, scope: str) -> list[m.Entry]:
        return [e for e in self._entries if e["scope"] == scope]

    def store_file(self, scope: str, name: str, source: str | IO[bytes]) -> str:
        return source if isinstance(source, str) else name


def _await_policy(ack: Path, end: int, name: str) -> None:
    """A HyperDrive trial under an early termination policy: wait until the shim has judged
    the metrics file up to ``end`` (this value of the primary metric); end the process here
    when the policy stops the trial. The shim answers "<offset>" or "stop <offset>"."""
    import time

    deadline = time.monotonic() + POLICY_WAIT_SECONDS
    while time.monotonic() < deadline:
        try:
            answer = ack.read_text(encoding="utf-8").split()
        except OSError:
            answer = []
        if answer[:1] == ["stop"]:
            print(f"Run.log: the early termination policy stopped this run at a value of "
                  f"'{name}'", file=sys.stderr)
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(0)
        if answer and answer[0].isdigit() and int(answer[0]) >= end:
            return
        time.sleep(0.001)
    print(f"Run.log: no answer from the early termination policy after "
          f"{POLICY_WAIT_SECONDS:.0f} s; going on", file=sys.stderr)


def _copy(source: str | IO[bytes], target: Path) -> None:
    if isinstance(source, str | os.PathLike):
        try:
            shutil.copyfile(source, target)
        except OSError as exc:
            raise m.MetricError(f"Run.upload_file: cannot read {str(source)!r}: "
                                f"{exc.strerror or exc}", "pass an existing file") from exc
        return
    if not hasattr(source, "read"):
        raise m.MetricError("Run.upload_file: path_or_stream is neither a path nor a stream",
                            "pass a file path or an open binary file")
    with open(target, "wb") as out:
        shutil.copyfileobj(source, out)


def _file_name(name: object) -> str:
    """The name as a canonical path in the run's files (the datastore paths' own check)."""
    text = name if isinstance(name, str) else ""
    try:
        clean = safe_path(text, "Run.upload_file: name") if text.isprintable() else ""
    except DatastorePathError:
        clean = ""
    if not clean:
        raise m.MetricError(f"Run.upload_file: name {name!r} is not valid",
                            "use a relative path like 'outputs/model.pkl'")
    return clean


_surface_lock = threading.Lock()
_surface_applied = False


def apply_surface() -> bool:
    """Give Run the AML SDK's signature checks (kubeline.aml_surface: one-line refusals of
    Azure-only members and arguments, argument types) once; True when this call did.

    Not at import: every step imports Run and calls ``Run.get_context()``, and loading the
    checks costs milliseconds such a script never needs. They only act on arguments and on
    members Run lacks, so they load the first time either shows up: a checked method
    called with arguments, a Run created by the caller, a missing member looked up.
    kubeline.azureml applies them on import, so AML code sees them from the start."""
    global _surface_applied
    with _surface_lock:
        if _surface_applied:
            return False
        from kubeline.aml_surface.checker import aml_surface
        from kubeline.aml_surface.data import surface

        aml_surface(surface("Run"))(Run)
        _surface_applied = True
        return True


F = TypeVar("F", bound=Callable[..., Any])


def _checked_with_arguments(method: F) -> F:
    """method, run as is while called without arguments (nothing for the checks to act
    on); a call with arguments first applies the checks, then goes through them."""

    @functools.wraps(method)
    def call(*args: Any, **kwargs: Any) -> Any:
        if (len(args) > 1 or kwargs) and apply_surface():  # args[0]: the class or the run
            return getattr(args[0], method.__name__)(*args[1:], **kwargs)
        return method(*args, **kwargs)

    return call  # type: ignore[return-value]


def _new(cls: type[Run], *args: Any) -> Run:
    """A Run made by this module (its arguments are right): no need for the checks."""
    return type.__call__(cls, *args)  # type: ignore[no-any-return]


class _ChecksOnFirstUse(type):
    """Run's metaclass: a Run created by the caller, or a member Run lacks (maybe an
    Azure-only one), applies the checks first."""

    if not TYPE_CHECKING:  # keep mypy's view of Run(...) and of Run's attributes

        def __call__(cls, *args: Any, **kwargs: Any) -> Any:
            apply_surface()
            return super().__call__(*args, **kwargs)

        def __getattr__(cls, name: str) -> Any:
            if name.startswith("__") or not apply_surface():
                raise AttributeError(f"type object '{cls.__name__}' has no attribute '{name}'")
            return getattr(cls, name)


class Run(metaclass=_ChecksOnFirstUse):
    """A run of a step (or, as ``run.parent``, of the whole pipeline), AML style."""

    def __init__(self, run_id: str, experiment: RunExperiment, sink: _Sink,
                 parent: Run | None = None, scope: str = "step", name: str = "") -> None:
        self._id = run_id
        self._experiment = experiment
        self._sink = sink
        self._parent = parent
        self._scope = scope
        self._name = name

    # -- context ------------------------------------------------------------------------------
    @classmethod
    @_checked_with_arguments
    def get_context(cls, allow_offline: bool = True, **_: Any) -> Run:
        """The current step's run inside a pipeline; an offline run elsewhere."""
        metrics_file = os.environ.get(ENV_METRICS_FILE)
        if metrics_file:
            sink = _FileSink(Path(metrics_file),
                             Path(os.environ.get(ENV_UPLOADS_DIR)
                                  or Path(metrics_file).parent / "uploads"))
            experiment = RunExperiment(os.environ.get(ENV_EXPERIMENT, ""))
            run_id = os.environ.get(ENV_RUN_ID, "")
            parent = _new(Run, run_id, experiment, sink, None, "parent")
            return _new(Run, os.environ.get(ENV_STEP_RUN_ID) or f"{run_id}_step", experiment,
                        sink, parent, "step", os.environ.get(ENV_STEP_NAME, ""))
        if not allow_offline:
            raise RunContextError("Run.get_context: not running inside a kubeline step",
                                  "pass allow_offline=True to get an offline run")
        return _new(_OfflineRun)

    @property
    def id(self) -> str:
        return self._id

    @property
    def parent(self) -> Run | None:
        """The pipeline run for a step run (its metrics go to the pipeline run); else None."""
        return self._parent

    @property
    def experiment(self) -> RunExperiment:
        return self._experiment

    @property
    def name(self) -> str:
        return self._name

    display_name = name

    # -- metrics ------------------------------------------------------------------------------
    def _add(self, kind: str, name: str, value: Any, description: str = "",
             **extra: Any) -> None:
        entry: m.Entry = {"type": kind, "name": name, "value": value}
        if description:
            entry["description"] = str(description)
        entry.update({k: v for k, v in extra.items() if v is not None})
        self._sink.add(self._scope, entry)

    def log(self, name: str, value: Any, description: str = "", step: int | None = None
            ) -> None:
        """Log a scalar; logging a name again makes it a series."""
        name = m.check_name("log", name)
        if step is not None and (isinstance(step, bool) or not isinstance(step, int)):
            raise m.MetricError(f"Run.log: step of '{name}' must be an int", "pass step=0, 1, ...")
        self._add("scalar", name, m.scalar("log", name, value), description, step=step)

    def log_list(self, name: str, value: Any, description: str = "") -> None:
        """Log a list of values under one name."""
        name = m.check_name("log_list", name)
        self._add("list", name, m.scalars("log_list", name, value), description)

    def log_row(self, name: str, description: str | None = None, **kwargs: Any) -> None:
        """Log one row of a table: column=value keyword arguments."""
        name = m.check_name("log_row", name)
        if not kwargs:
            raise m.MetricError(f"Run.log_row: row '{name}' has no columns",
                                "pass columns as keywords: log_row(name, x=1, y=2)")
        row = {col: m.scalar("log_row", f"{name}.{col}", v) for col, v in kwargs.items()}
        self._add("row", name, row, description or "")

    def log_table(self, name: str, value: Any, description: str = "") -> None:
        """Log a table: a dict of column name -> list of values."""
        name = m.check_name("log_table", name)
        self._add("table", name, m.table("log_table", name, value), description)

    def tag(self, key: str, value: Any = None) -> None:
        """Set a tag; the value is kept as a string ("" when omitted)."""
        key = m.check_name("tag", key)
        text = "" if value is None else m.scalar("tag", key, value)
        self._add("tag", key, str(text).lower() if isinstance(text, bool) else str(text))

    def set_tags(self, tags: dict[str, Any]) -> None:
        for key, value in tags.items():
            self.tag(key, value)

    def get_tags(self) -> dict[str, str]:
        return m.tags(self._sink.entries(self._scope))

    @_checked_with_arguments
    def get_metrics(self, name: str | None = None) -> dict[str, Any]:
        """What this run logged so far, in the shape AML's get_metrics uses."""
        found = m.aggregate(self._sink.entries(self._scope))
        return found if name is None else {k: v for k, v in found.items() if k == name}

    # -- files --------------------------------------------------------------------------------
    def upload_file(self, name: str, path_or_stream: str | IO[bytes],
                    datastore_name: str | None = None) -> None:
        """Keep a file with the run, under ``name`` (e.g. 'outputs/model.pkl')."""
        name = _file_name(name)
        where = self._sink.store_file(self._scope, name, path_or_stream)
        self._add("file", name, name, path=where)

    def log_image(self, name: str, path: str | None = None, plot: Any = None,
                  description: str = "") -> None:
        """Keep an image file with the run (a matplotlib ``plot`` is saved as PNG first)."""
        name = m.check_name("log_image", name)
        if path is None and plot is None:
            raise m.MetricError(f"Run.log_image: '{name}' needs path= or plot=",
                                "pass the image file or a matplotlib figure")
        if plot is not None:
            import tempfile

            with tempfile.TemporaryDirectory() as tmp:
                path = os.path.join(tmp, "image.png")
                plot.savefig(path)
                self.upload_file(f"images/{name}.png", path)
            return
        assert path is not None
        self.upload_file(f"images/{name}{Path(path).suffix}", path)

    # -- lifecycle: the shim decides the status from the exit code --------------------------
    def complete(self, _set_status: bool = True) -> None:
        """Accepted for SDK compatibility; the step's exit code sets its status."""

    def fail(self, error_details: Any = None, error_code: Any = None,
             _set_status: bool = True) -> None:
        """Accepted for SDK compatibility; exit non-zero to fail a step."""
        if error_details is not None:
            print(f"Run.fail: {error_details}", file=sys.stderr)

    def flush(self, timeout_seconds: int = 300) -> None:
        """Entries are written as they are logged; nothing to flush."""

    def __repr__(self) -> str:
        return f"Run(id={self._id!r}, experiment={self._experiment.name!r})"

    if not TYPE_CHECKING:  # keep mypy's attribute checks on runs

        def __getattr__(self, name: str) -> Any:
            """A member Run lacks may be an Azure-only one the checks refuse in one line."""
            if name.startswith("__") or not apply_surface():
                raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")
            return getattr(self, name)


class _OfflineRun(Run):
    """Outside a pipeline: prints what it would log (the SDK's class name and id prefix)."""

    def __init__(self) -> None:
        super().__init__(f"OfflineRun_{uuid.uuid4()}", RunExperiment("offline"), _PrintSink())
