"""The shim's three parts of a ParallelRunStep (``python3 -m kubeline.runtime --phase ...``).

* ``plan``: the step's key and reuse check, as any step; on a miss it splits the inputs into
  mini-batches, stores the plan in the run record (``.../steps/<id>/parallel/plan.json``) and
  prints the fan-out items (Argo output ``tasks``: ``[0, 1, ...]``; ``[]`` on a reuse hit);
* ``work --task N``: runs task N's mini-batches (worker.py) and stores each one's result and
  log beside the plan;
* ``gather``: the key and reuse check again (a hit ends here as any reused step), then the
  output file in mini-batch order, the error thresholds, the commit of the output and the
  step's result. Its stdout holds every mini-batch's log: ``kubeline runs logs RUN STEP``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kubeline.exceptions import KubelineError
from kubeline.runtime import arguments, inputs, params, process, results
from kubeline.runtime import snapshots as snap
from kubeline.runtime.datastores import Datastores
from kubeline.runtime.layout import step_dir
from kubeline.runtime.parallel import batches as mb
from kubeline.runtime.parallel import entry_script as es
from kubeline.runtime.parallel.settings import Settings, load
from kubeline.runtime.paths import RuntimeEnv
from kubeline.runtime.shim import StepRunner, _output_path
from kubeline.runtime.spec import PipelineSpec, SpecError, load_pipeline, load_step
from kubeline.stores import put_dir

if TYPE_CHECKING:
    from kubeline.graph.model import Step
    from kubeline.runtime import cache
    from kubeline.runtime.lease import Lease

TASKS_FILE = "tasks"
WORKER_SCRIPT = Path(__file__).with_name("worker.py")


def scratch(run_id: str, step_id: str) -> str:
    """Where the plan, the mini-batch results and the workers' own outputs live in a run."""
    return f"{step_dir(run_id, step_id)}/parallel"


def _roots(step: Step, settings: Settings, data: dict[str, str]) -> dict[str, Path]:
    """The split inputs' local paths, in the step's input order."""
    return {i.name: Path(data[i.name]) for i in step.inputs if i.name in settings.inputs}


class _PlanRunner(StepRunner):
    def _reused(self, stores: Datastores, base: dict[str, Any], hit: dict[str, Any]) -> int:
        results.write_local(self.env.out_dir / TASKS_FILE, "[]")  # gather reports the reuse
        return 0

    def _run(self, pipeline: PipelineSpec, step: Step, stores: Datastores,
             values: dict[str, str], upstream: dict[str, str], base: dict[str, Any],
             workdir: Path, stale_index: bool, plan: cache.KeyPlan,
             lease: Lease | None) -> int:
        settings = load(step.settings, values)
        fetched = workdir / "inputs"
        fetched.mkdir()
        ctx = inputs.InputContext(stores, values, upstream, self.env.inputs_dir, fetched, workdir)
        data = {i.name: inputs.materialise(i, ctx) for i in step.inputs
                if i.name in settings.inputs}
        batches = mb.plan(settings, _roots(step, settings, data))
        count = settings.tasks_for(len(batches))
        bounds = [(len(batches) * n // count, len(batches) * (n + 1) // count)
                  for n in range(count)]
        record = {"key": base["key"], "upstream": upstream, "batches": batches,
                  "tasks": bounds}
        stores.default.put_bytes(f"{scratch(self.env.run_id, step.id)}/plan.json",
                                 json.dumps(record, sort_keys=True).encode("utf-8"))
        results.write_local(self.env.out_dir / TASKS_FILE, json.dumps(list(range(count))))
        print(f"kubeline: step '{step.name}': {len(batches)} mini-batch(es) in {count} "
              f"task(s) for {settings.node_count} node(s) x {settings.process_count_per_node} "
              "process(es)", file=sys.stderr)
        return 0


class _WorkRunner(StepRunner):
    """Runs one fan-out item; no key of its own (the plan holds the step's)."""

    def execute(self) -> int:
        env = self.env
        if self.ns.task is None:
            raise SpecError("--phase work needs --task N")
        pipeline = load_pipeline(env.spec_dir)
        step, _ = load_step(env.spec_dir, self.ns.step, pipeline)
        stores = Datastores(pipeline.datastores, pipeline.default_datastore, env.workspace)
        values = params.resolve(pipeline.parameters, env.parameters, env.indexed_parameters)
        where = scratch(env.run_id, step.id)
        plan = json.loads(stores.default.get_bytes(f"{where}/plan.json"))
        start, end = plan["tasks"][self.ns.task]
        workdir = Path(tempfile.mkdtemp(prefix=f"{step.id}-{self.ns.task}-",
                                        dir=self._work_root()))
        try:
            return self._work(pipeline, step, stores, values, plan, start, end, workdir, where)
        finally:
            if not env.keep_workdir:
                import shutil

                shutil.rmtree(workdir, ignore_errors=True)

    def _work(self, pipeline: PipelineSpec, step: Step, stores: Datastores,
              values: dict[str, str], plan: dict[str, Any], start: int, end: int,
              workdir: Path, where: str) -> int:
        settings = load(step.settings, values)
        src, fetched, logs, uploads, out, found = (
            workdir / n for n in ("src", "inputs", "logs", "uploads", "out", "results"))
        for folder in (src, fetched, logs, uploads, out, found):
            folder.mkdir()
        if step.snapshot:
            snap.fetch(stores.default, step.snapshot, src, workdir)
        ctx = inputs.InputContext(stores, values, plan["upstream"], self.env.inputs_dir,
                                  fetched, src)
        data = {i.name: inputs.materialise(i, ctx) for i in step.inputs}
        out_paths = {o.name: _output_path(o, workdir, src) for o in step.outputs}
        data.update({name: str(path) for name, path in out_paths.items()})
        task = {"task": self.ns.task, "entry_script": str(src / settings.entry_script),
                "settings": step.settings, "values": values,
                "roots": {k: str(v) for k, v in _roots(step, settings, data).items()},
                "batches": [[i, plan["batches"][i]] for i in range(start, end)],
                "processes": settings.process_count_per_node, "results_dir": str(found),
                "environment_variables": settings.environment_variables,
                "logging_level": settings.logging_level}
        task_file = workdir / "task.json"
        task_file.write_text(json.dumps(task), encoding="utf-8")
        child_env = self._child_env(pipeline, step, src, workdir / "metrics.jsonl", uploads)
        child_env.update(arguments.params_env(step, data, values))
        child_env.update({"KUBELINE_PRS_TASK": str(task_file), es.ENV_OUTPUT_DIR: str(out),
                          es.ENV_WORKING_DIR: str(src), es.ENV_LOG_DIR: str(logs),
                          es.ENV_LOGGING_LEVEL: settings.logging_level})
        argv = [sys.executable, str(WORKER_SCRIPT),
                *(arguments.substitute(a, data, values) for a in step.arguments)]
        code = process.run(argv, src, child_env, logs / "stdout.txt", logs / "stderr.txt")
        store = stores.default
        store.put_bytes(f"{where}/results/task-{self.ns.task}.json",
                        json.dumps(_task_record(found), sort_keys=True).encode("utf-8"))
        if any(out.iterdir()):
            put_dir(store, out, f"{where}/out/{self.ns.task}")
        return code


def _task_record(found: Path) -> dict[str, Any]:
    """A worker pod's mini-batch results with their logs, and its processes' init() logs:
    one object per pod, so the datastore sees a few writes, not two per mini-batch."""
    batches = []
    for path in sorted(found.glob("[0-9]*.json"), key=lambda p: int(p.stem)):
        record = json.loads(path.read_text(encoding="utf-8"))
        log = path.with_suffix(".log")
        record["log"] = log.read_text(encoding="utf-8", errors="replace") if log.is_file() \
            else ""
        batches.append(record)
    inits = {p.stem[len("init-"):]: p.read_text(encoding="utf-8", errors="replace")
             for p in sorted(found.glob("init-*.log"))}
    return {"batches": batches, "init_logs": inits}


class _GatherRunner(StepRunner):
    def _run(self, pipeline: PipelineSpec, step: Step, stores: Datastores,
             values: dict[str, str], upstream: dict[str, str], base: dict[str, Any],
             workdir: Path, stale_index: bool, plan: cache.KeyPlan,
             lease: Lease | None) -> int:
        settings = load(step.settings, values)
        store = stores.default
        where = scratch(self.env.run_id, step.id)
        planned = json.loads(store.get_bytes(f"{where}/plan.json"))
        logs = workdir / "logs"
        logs.mkdir()
        done: dict[int, dict[str, Any]] = {}
        inits: dict[str, str] = {}
        for info in store.list(f"{where}/results/task-"):
            task = json.loads(store.get_bytes(info.key))
            done.update({int(r["index"]): r for r in task["batches"]})
            inits.update(task["init_logs"])
        records = [done.get(index) or _missing(index, batch)
                   for index, batch in enumerate(planned["batches"])]
        _print_logs(records, inits, logs / "stdout.txt")
        src = workdir / "src"
        src.mkdir()
        out_paths = {o.name: _output_path(o, workdir, src) for o in step.outputs}
        if settings.output in out_paths:
            folder = out_paths[settings.output]
            folder.mkdir(parents=True, exist_ok=True)
            _download(store, f"{where}/out/", folder)
            if settings.output_action == "append_row":
                with (folder / settings.append_row_file_name).open("w", encoding="utf-8") as f:
                    for record in records:
                        f.writelines(line + "\n" for line in record["lines"])
        summary = _summary(records)
        failure = _over_threshold(settings, summary)
        print(f"kubeline: step '{step.name}': {summary['mini_batches']} mini-batch(es), "
              f"{summary['failed_mini_batches']} failed ({summary['failed_items']} of "
              f"{summary['items']} item(s))" + (f"; {failure}" if failure else ""),
              file=sys.stderr)
        self.timings.mark("script")
        outputs: dict[str, Any] = {}
        if failure is None:
            outputs = self._commit_outputs(stores, step, base, out_paths, summary, {}, plan,
                                   stale_index)
        self.timings.mark("commit")
        code = 0 if failure is None else 1
        result = {**base, "status": "succeeded" if code == 0 else "failed", "exit_code": code,
                  "error": failure, "reused_from": None, "outputs": outputs,
                  "metrics": summary, "tags": {}, "parent_metrics": {}, "parent_tags": {},
                  "files": [], "timings": self.timings.as_dict()}
        results.write_local(self.env.out_dir / "metrics.json", results.to_json(summary))
        results.publish(store, self.env.run_id, step.id, result, workdir)
        return code


def _missing(index: int, batch: dict[str, Any]) -> dict[str, Any]:
    from kubeline.runtime.parallel.worker import batch_items

    return {"index": index, "batch": batch, "status": "failed", "attempts": 0,
            "error": "no result: its worker pod did not finish", "lines": [], "log": "",
            "items": batch_items(batch), "succeeded_items": 0, "seconds": 0.0}


def _print_logs(records: list[dict[str, Any]], inits: dict[str, str], copy: Path) -> None:
    """Every mini-batch's log under a header line, then each process's init() output; to
    stdout and to the step's stdout file."""
    with copy.open("w", encoding="utf-8") as out:
        def emit(text: str) -> None:
            out.write(text)
            sys.stdout.write(text)

        for record in records:
            emit(f"=== mini-batch {record['index']} ({mb.describe(record['batch'])}): "
                 f"{record['status']}, {record['attempts']} try(s), {record['seconds']}s" +
                 (f": {record['error']}" if record.get("error") else "") + " ===\n")
            emit(record.get("log", ""))
        for name, text in sorted(inits.items()):
            if text:
                emit(f"=== init() of worker process {name.replace('-', '/')} ===\n{text}")
    sys.stdout.flush()


def _download(store: Any, prefix: str, folder: Path) -> None:
    """The workers' own outputs (EntryScript().output_dir), task by task, into the output."""
    for info in store.list(prefix):
        rel = info.key[len(prefix):].split("/", 1)
        if len(rel) == 2 and rel[1]:
            target = folder / rel[1]
            target.parent.mkdir(parents=True, exist_ok=True)
            store.get_file(info.key, target)


def _summary(records: list[dict[str, Any]]) -> dict[str, Any]:
    items = sum(int(r["items"]) for r in records)
    succeeded = sum(int(r["succeeded_items"]) for r in records)
    return {"mini_batches": len(records),
            "failed_mini_batches": sum(r["status"] != "succeeded" for r in records),
            "retried_mini_batches": sum(int(r["attempts"]) > 1 for r in records),
            "items": items, "failed_items": items - succeeded}


def _over_threshold(settings: Settings, summary: dict[str, Any]) -> str | None:
    """Why the step fails (error_threshold, allowed_failed_count/percent), or None."""
    failed_items, failed = summary["failed_items"], summary["failed_mini_batches"]
    if settings.error_threshold >= 0 and failed_items > settings.error_threshold:
        return (f"{failed_items} failed item(s) exceed error_threshold "
                f"{settings.error_threshold}")
    count = settings.allowed_failed_count
    if count is not None and count >= 0 and failed > count:
        return f"{failed} failed mini-batch(es) exceed allowed_failed_count {count}"
    percent = settings.allowed_failed_percent
    total = summary["mini_batches"]
    if percent is not None and total and 100.0 * failed / total > percent:
        return (f"{failed} of {total} mini-batches failed, over allowed_failed_percent "
                f"{percent}")
    return None


def parallel_runner(env: RuntimeEnv, ns: argparse.Namespace) -> StepRunner:
    if not ns.step:
        raise KubelineError("--phase needs --step ID")
    runners: dict[str, type[StepRunner]] = {"plan": _PlanRunner, "work": _WorkRunner,
                                            "gather": _GatherRunner}
    return runners[ns.phase](env, ns)

