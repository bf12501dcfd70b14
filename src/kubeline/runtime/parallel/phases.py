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
        for path in sorted(found.iterdir()):
            store.put_file(path, f"{where}/results/{path.name}")
        if any(out.iterdir()):
            put_dir(store, out, f"{where}/out/{self.ns.task}")
        return code


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
        records = [self._record(store, where, index, batch)
                   for index, batch in enumerate(planned["batches"])]
        self._print_logs(store, where, records, logs / "stdout.txt")
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
            outputs = self._commit(stores, step, base, out_paths, summary, {}, plan,
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

    @staticmethod
    def _record(store: Any, where: str, index: int, batch: dict[str, Any]) -> dict[str, Any]:
        key = f"{where}/results/{index}.json"
        if store.exists(key):
            record: dict[str, Any] = json.loads(store.get_bytes(key))
            return record
        from kubeline.runtime.parallel.worker import batch_items

        return {"index": index, "batch": batch, "status": "failed", "attempts": 0,
                "error": "no result: its worker pod did not finish", "lines": [],
                "items": batch_items(batch), "succeeded_items": 0, "seconds": 0.0}

    @staticmethod
    def _print_logs(store: Any, where: str, records: list[dict[str, Any]], copy: Path) -> None:
        """Every mini-batch's log under a header line, to stdout and the step's stdout file."""
        with copy.open("w", encoding="utf-8") as out:
            for record in records:
                index = record["index"]
                head = (f"=== mini-batch {index} ({mb.describe(record['batch'])}): "
                        f"{record['status']}, {record['attempts']} try(s), "
                        f"{record['seconds']}s" +
                        (f": {record['error']}" if record.get("error") else "") + " ===\n")
                key = f"{where}/results/{index}.log"
                text = store.get_bytes(key).decode("utf-8", "replace") if store.exists(key) \
                    else ""
                for part in (head, text):
                    out.write(part)
                    sys.stdout.write(part)
            for info in store.list(f"{where}/results/init-"):  # init() of each process
                name = info.key.rsplit("/", 1)[-1][len("init-"):-len(".log")]
                text = store.get_bytes(info.key).decode("utf-8", "replace")
                if text:
                    head = f"=== init() of worker process {name.replace('-', '/')} ===\n"
                    for part in (head, text):
                        out.write(part)
                        sys.stdout.write(part)
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
            "items": items, "failed_items": items - succeeded,
            "run_seconds": round(sum(float(r["seconds"]) for r in records), 3)}


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

