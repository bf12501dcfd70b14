"""One worker pod's user process: ``process_count_per_node`` processes, each calling the entry
script's ``init()`` once and then ``run(mini_batch)`` for the mini-batches it takes.

Started by the shim (``--phase work``) as ``python worker.py ARGS...``: ARGS are the step's
arguments, so the entry script's argparse sees them in ``sys.argv`` as in AML. The task file
(``KUBELINE_PRS_TASK``) names the mini-batches, the inputs' local folders and where to write
each mini-batch's result (``<index>.json``) and log (``<index>.log``). A try that raises or
outlives ``run_invocation_timeout`` is tried again, up to ``run_max_try`` tries.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import multiprocessing
import os
import signal
import sys
import time
import traceback
from pathlib import Path
from types import FrameType, ModuleType
from typing import Any

ENV_TASK = "KUBELINE_PRS_TASK"


def batch_items(batch: dict[str, Any]) -> int:
    """Items of a mini-batch that was never read: its files, or 1 for a row range."""
    return len(batch.get("files", ())) or 1


class InvocationTimeout(Exception):
    """run() took longer than run_invocation_timeout."""


def _lines(result: Any) -> list[str] | None:
    """run()'s return value as output rows: a DataFrame's rows space-separated (as AML writes
    them), a sequence's items one a line; None for anything else."""
    if hasattr(result, "to_csv") and hasattr(result, "columns"):
        text = str(result.to_csv(sep=" ", header=False, index=False))
        return text.splitlines()
    if isinstance(result, (list, tuple)):
        return [str(item) for item in result]
    return None


def _write_json(path: Path, data: dict[str, Any]) -> None:
    temp = path.with_suffix(".tmp")
    temp.write_text(json.dumps(data, sort_keys=True), encoding="utf-8")
    os.replace(temp, path)


class _Capture:
    """fds 1 and 2 to a mini-batch's log file while its run() runs."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.saved: tuple[int, int] | None = None

    def __enter__(self) -> _Capture:
        sys.stdout.flush()
        sys.stderr.flush()
        log = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        self.saved = (os.dup(1), os.dup(2))
        os.dup2(log, 1)
        os.dup2(log, 2)
        os.close(log)
        return self

    def __exit__(self, *_exc: object) -> None:
        sys.stdout.flush()
        sys.stderr.flush()
        assert self.saved is not None
        os.dup2(self.saved[0], 1)
        os.dup2(self.saved[1], 2)
        os.close(self.saved[0])
        os.close(self.saved[1])


def _on_alarm(_signum: int, _frame: FrameType | None) -> None:
    raise InvocationTimeout


def _import_entry(path: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(Path(path).stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


class Worker:
    """One process: init() once, then the mini-batches it takes from the shared queue."""

    def __init__(self, task: dict[str, Any], number: int) -> None:
        from kubeline.runtime.parallel.batches import Loader
        from kubeline.runtime.parallel.settings import load

        self.task = task
        self.number = number
        self.settings = load(task["settings"], task["values"])
        self.loader = Loader(self.settings, {k: Path(v) for k, v in task["roots"].items()})
        self.results = Path(task["results_dir"])

    def serve(self, queue: Any) -> None:
        signal.signal(signal.SIGALRM, _on_alarm)
        init_log = self.results / f"init-{self.task['task']}-{self.number}.log"
        try:
            with _Capture(init_log):
                module = _import_entry(self.task["entry_script"])
                init = getattr(module, "init", None)
                if callable(init):
                    init()
        except BaseException:
            error = "init() failed: " + traceback.format_exc().strip().splitlines()[-1]
            with init_log.open("a", encoding="utf-8") as log:
                log.write(traceback.format_exc())
            print(f"kubeline: worker process {self.number}: {error}; the other processes go on",
                  file=sys.stderr)
            return
        run = getattr(module, "run", None)
        while True:
            item = queue.get()
            if item is None:
                return
            index, batch = item
            self._one(run, index, batch)

    def _one(self, run: Any, index: int, batch: dict[str, Any]) -> None:
        settings = self.settings
        log_path = self.results / f"{index}.log"
        record: dict[str, Any] = {"index": index, "batch": batch, "attempts": 0,
                                  "status": "failed", "error": None, "items": 0,
                                  "succeeded_items": 0, "lines": [], "seconds": 0.0,
                                  "worker": f"{self.task['task']}/{self.number}"}
        started = time.monotonic()
        try:
            mini_batch = self.loader.load(batch)
        except Exception as exc:
            record["error"] = f"reading the mini-batch failed: {type(exc).__name__}: {exc}"
            record["items"] = batch_items(batch)
            _write_json(self.results / f"{index}.json", record)
            return
        record["items"] = len(mini_batch)
        for attempt in range(1, settings.run_max_try + 1):
            record["attempts"] = attempt
            with _Capture(log_path):
                print(f"[kubeline] run() try {attempt}/{settings.run_max_try}", file=sys.stderr)
                try:
                    signal.alarm(settings.run_invocation_timeout)
                    try:
                        result = run(mini_batch) if len(mini_batch) else []
                    finally:
                        signal.alarm(0)
                except InvocationTimeout:
                    record["error"] = (f"run() took longer than run_invocation_timeout "
                                       f"({settings.run_invocation_timeout}s)")
                    print(f"[kubeline] {record['error']}", file=sys.stderr)
                    continue
                except Exception as exc:
                    traceback.print_exc()
                    record["error"] = f"run() raised {type(exc).__name__}: {exc}"
                    continue
            lines = _lines(result)
            if lines is None:
                record["error"] = (f"run() returned {type(result).__name__}, not a list or a "
                                   "DataFrame (one element per input item processed)")
                break
            record.update(status="succeeded", error=None,
                          succeeded_items=min(len(lines), record["items"]),
                          lines=lines if settings.output_action == "append_row" else [])
            break
        record["seconds"] = round(time.monotonic() - started, 4)
        _write_json(self.results / f"{index}.json", record)


def _process(task: dict[str, Any], number: int, queue: Any) -> None:
    logging.basicConfig(level=task.get("logging_level", "INFO"), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    Worker(task, number).serve(queue)


def _provide_azureml_user() -> None:
    """``from azureml_user.parallel_run import EntryScript`` works in every entry script, as
    AML's runtime provides it, with or without the kubeline-azureml package in the image."""
    if importlib.util.find_spec("azureml_user") is not None:
        return
    import types

    from kubeline.runtime.parallel import entry_script

    package = types.ModuleType("azureml_user")
    package.__path__ = []
    package.parallel_run = entry_script  # type: ignore[attr-defined]
    sys.modules.setdefault("azureml_user", package)
    sys.modules.setdefault("azureml_user.parallel_run", entry_script)


def main() -> int:
    task = json.loads(Path(os.environ[ENV_TASK]).read_text(encoding="utf-8"))
    _provide_azureml_user()
    sys.argv[0] = task["entry_script"]  # the script's own argparse reads sys.argv[1:]
    os.environ.update(task.get("environment_variables", {}))
    sys.path.insert(0, str(Path(task["entry_script"]).parent))
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    batches = task["batches"]
    processes = max(1, min(int(task["processes"]), len(batches)))
    for item in batches:
        queue.put(item)
    for _ in range(processes):
        queue.put(None)
    workers = [context.Process(target=_process, args=(task, n, queue), daemon=False)
               for n in range(processes)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    results = Path(task["results_dir"])
    dead = [w.exitcode for w in workers if w.exitcode]
    for index, batch in batches:  # a process that died (or whose init failed) left these
        if not (results / f"{index}.json").exists():
            init_errors = sorted(results.glob(f"init-{task['task']}-*.log"))
            why = (f"worker process exited with code {dead[0]}" if dead else
                   "no worker process could take it (init() failed: see the init log)")
            _write_json(results / f"{index}.json", {
                "index": index, "batch": batch, "attempts": 0, "status": "failed",
                "error": why, "items": batch_items(batch), "succeeded_items": 0, "lines": [],
                "seconds": 0.0,
                "worker": str(task["task"]), "init_logs": [p.name for p in init_errors]})
    return 0


if __name__ == "__main__":
    sys.exit(main())
