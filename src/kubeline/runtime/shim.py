"""The step's life: key, cache check, snapshot, inputs, the user's process, the commit.

``python3 -m kubeline.runtime --step ID --upstream "p:KEY ..."`` (normal mode) or
``--node NODE_NAME`` (compact mode: step id from the node name, upstream keys from the run
record). Exits with the script's exit code; a kubeline error prints one line and exits 2.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kubeline.exceptions import KubelineError
from kubeline.graph.model import Step, StepOutput
from kubeline.graph.names import param_name
from kubeline.graph.stepspec import encode_step
from kubeline.reuse.keys import key_fields, producers
from kubeline.runtime import arguments, cache, inputs, metrics, params, process, records, results
from kubeline.runtime import contextenv as run_ctx
from kubeline.runtime import datasets as ds
from kubeline.runtime import snapshots as snap
from kubeline.runtime.datastores import Datastores
from kubeline.runtime.layout import cache_index, run_key_record
from kubeline.runtime.paths import RuntimeEnv
from kubeline.runtime.spec import (
    PipelineSpec,
    SpecError,
    load_pipeline,
    load_step,
    parse_upstream,
    step_id_from_node,
)

if TYPE_CHECKING:
    from kubeline.runtime.lease import Lease


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m kubeline.runtime",
                                     description="Run one kubeline pipeline step.")
    parser.add_argument("--hyperdrive", choices=("sample", "trial", "best"), default=None,
                        help="a HyperDriveStep's phase (kubeline.runtime.hyperdrive)")
    parser.add_argument("--trial", default="", help="the trial (JSON) of the trial phase")
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--step", help="the step id (normal mode)")
    which.add_argument("--node", help="Argo's node name (compact mode)")
    parser.add_argument("--upstream", default=None,
                        help='"producer:KEY producer:KEY" (normal mode; else the run record)')
    parser.add_argument("--phase", choices=("plan", "work", "gather"), default=None,
                        help="a ParallelRunStep's part (docs/parallel-run.md)")
    parser.add_argument("--task", type=int, default=None,
                        help="the worker's task number (--phase work)")
    return parser.parse_args(argv)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


@dataclass
class _Timings:
    started: str = field(default_factory=_now)
    t0: float = field(default_factory=time.monotonic)
    marks: dict[str, float] = field(default_factory=dict)

    def mark(self, phase: str) -> None:
        self.marks[phase] = round(time.monotonic() - self.t0 - sum(self.marks.values()), 3)

    def as_dict(self) -> dict[str, Any]:
        return {"started": self.started, "finished": _now(),
                **{f"{k}_seconds": v for k, v in self.marks.items()}}


def _upstream_from_run(store: Any, run_id: str, step: Step) -> dict[str, str]:
    """Compact mode: producers' keys from the run record every shim writes."""
    found: dict[str, str] = {}
    for producer in producers(step):
        key = run_key_record(run_id, producer)
        if not store.exists(key):
            raise SpecError(f"step '{step.name}': producer '{producer}' has no key in the run "
                            f"record ({store.name}:{key})",
                            "the producer did not run in this workflow; rerun the workflow")
        found[producer] = store.get_bytes(key).decode("utf-8").strip()
    return found


def _output_path(output: StepOutput, workdir: Path, src: Path) -> Path:
    """Where the script writes an output. The parent exists; the path itself only for
    is_directory outputs (AML scripts create it, or write a file there)."""
    if output.path_on_compute:
        path = inputs.resolve_on_compute(output.path_on_compute, src)
    else:
        path = workdir / "outputs" / param_name(output.name)
    path.parent.mkdir(parents=True, exist_ok=True)
    if output.is_directory:
        path.mkdir(parents=True, exist_ok=True)
    return path


class StepRunner:
    """One invocation of the shim for one step."""

    def __init__(self, env: RuntimeEnv, ns: argparse.Namespace) -> None:
        self.env = env
        self.ns = ns
        self.timings = _Timings()
        self.child_pid = 0  # the script's process while it runs (script_started)

    def execute(self) -> int:
        env = self.env
        if not env.run_id:
            raise SpecError("KUBELINE_RUN_ID is not set", "set it to the workflow's uid")
        pipeline = load_pipeline(env.spec_dir)
        step_id = self.ns.step or step_id_from_node(self.ns.node)
        step, fingerprint = load_step(env.spec_dir, step_id, pipeline)
        stores = Datastores(pipeline.datastores, pipeline.default_datastore, env.workspace)
        base: dict[str, Any] = {"version": results.RESULT_VERSION, "run_id": env.run_id,
                                "workflow": env.workflow, "node": env.node, "step_id": step.id,
                                "step_name": step.name}
        try:
            return self._execute(pipeline, step, fingerprint, stores, base)
        except KubelineError as exc:
            self._publish_error(stores, base, exc)
            raise

    def _publish_error(self, stores: Datastores, base: dict[str, Any],
                       exc: KubelineError) -> None:
        result = {**base, "status": "error", "exit_code": exc.exit_code, "error": str(exc),
                  "timings": self.timings.as_dict()}
        try:
            results.publish(stores.default, self.env.run_id, base["step_id"], result, None)
        except KubelineError as publish_exc:
            print(f"kubeline: could not record the error: {publish_exc}", file=sys.stderr)

    def _execute(self, pipeline: PipelineSpec, step: Step, fingerprint: str,
                 stores: Datastores, base: dict[str, Any]) -> int:
        env = self.env
        values = params.resolve(pipeline.parameters, env.parameters, env.indexed_parameters)
        params.check_datapaths(step, values)
        ds.check_parameters(step, values)
        default = stores.default
        from_run = self.ns.node or (self.ns.phase and self.ns.upstream is None)
        upstream = (_upstream_from_run(default, env.run_id, step) if from_run
                    else parse_upstream(self.ns.upstream or ""))
        content = cache.input_versions(step, stores, values) if env.content_aware else None
        plan = cache.step_key(step, fingerprint, values, upstream, env.run_id, env.regenerate,
                              content)
        base["key"] = plan.key
        base["ingredients"] = {**plan.ingredients, "source_directory": step.source_directory,
                               "spec": key_fields(encode_step(step, fingerprint))}
        hit = cache.lookup(default, stores.get, plan.lookup) if plan.lookup else None
        lease = None
        if hit is None and plan.lookup:
            from kubeline.runtime.lease import acquire_or_wait  # reuse only: not every step

            lease, hit = acquire_or_wait(
                default, plan.lookup, env.run_id, step.id,
                lambda: cache.lookup(default, stores.get, plan.lookup or ""),
                on_wait=lambda owner: print(
                    f"kubeline: step '{step.name}': key {plan.key[:12]} is being computed by "
                    f"run {owner.get('run_id')} (step {owner.get('step_id')}); waiting for it",
                    file=sys.stderr))
        if hit is not None:
            self._report_key(default, step, str(hit["outputs_key"]))
            self.timings.mark("prepare")
            ds.publish_reused(step, stores, self.env.run_id, str(hit["outputs_key"]))
            return self._reused(stores, base, hit)
        self._report_key(default, step, plan.key)
        self.timings.mark("prepare")
        try:
            if lease is not None:
                lease.start_heartbeat()
            stale_index = default.exists(cache_index(plan.key))
            try:
                workdir = Path(tempfile.mkdtemp(prefix=f"{step.id}-", dir=self._work_root()))
            except OSError as exc:
                raise KubelineError(f"cannot create a working folder in {env.work_root}: "
                                    f"{exc.strerror or exc}",
                                    "set KUBELINE_WORKDIR to a writable folder") from exc
            try:
                return self._run(pipeline, step, stores, values, upstream, base, workdir,
                                 stale_index, plan, lease)
            finally:
                if not env.keep_workdir:
                    shutil.rmtree(workdir, ignore_errors=True)
        finally:
            if lease is not None:
                lease.release()

    # -- hooks for kinds that watch the script (a HyperDriveStep's trials) -----------------
    def extra_env(self, metrics_file: Path) -> dict[str, str]:
        """Variables the script gets besides the run context's."""
        return {}

    def script_started(self) -> None:
        """Called once the script runs, its pid in ``child_pid`` (threads may start from
        then on)."""

    def canceled(self) -> str:
        """Why the script was stopped early ("" when it was not): its outputs are dropped."""
        return ""

    def _report_key(self, store: Any, step: Step, key: str) -> None:
        """The key downstream steps read (Argo output parameter; run record for compact
        mode): where this step's outputs really are."""
        results.write_local(self.env.out_dir / "key", key)
        store.put_bytes(run_key_record(self.env.run_id, step.id), key.encode("ascii"))

    def _origin(self, run_id: Any, step_id: Any) -> None:
        """Which run computed the outputs (Argo output parameter ``origin``): a memoize hit
        hands it on, so the run history can say where a pod-free hit came from."""
        results.write_local(self.env.out_dir / "origin",
                            results.to_json({"run_id": run_id, "step_id": step_id}))

    def _work_root(self) -> Path:
        try:
            self.env.work_root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise KubelineError(f"cannot create the step's working folder under "
                                f"{self.env.work_root}: {exc.strerror or exc}",
                                "set KUBELINE_WORKDIR to a writable folder") from exc
        return self.env.work_root

    def _reused(self, stores: Datastores, base: dict[str, Any], hit: dict[str, Any]) -> int:
        print(f"kubeline: step '{base['step_name']}' reused the outputs of run "
              f"{hit.get('run_id')} (key {base['key'][:12]})", file=sys.stderr)
        step_metrics = hit.get("metrics", {})
        self._origin(hit.get("run_id"), hit.get("step_id"))
        result = {**base, "status": "reused", "exit_code": 0, "error": None,
                  "outputs_key": hit.get("outputs_key"),
                  "reused_from": {"run_id": hit.get("run_id"), "step_id": hit.get("step_id")},
                  "outputs": hit.get("outputs", {}), "metrics": step_metrics,
                  "tags": hit.get("tags", {}), "parent_metrics": {}, "files": [],
                  "timings": self.timings.as_dict()}
        results.write_local(self.env.out_dir / "metrics.json", results.to_json(step_metrics))
        results.publish(stores.default, self.env.run_id, base["step_id"], result, None)
        return 0

    def _run(self, pipeline: PipelineSpec, step: Step, stores: Datastores,
             values: dict[str, str], upstream: dict[str, str], base: dict[str, Any],
             workdir: Path, stale_index: bool, plan: cache.KeyPlan,
             lease: Lease | None) -> int:
        env = self.env
        src, fetched, logs, uploads = (workdir / n for n in ("src", "inputs", "logs", "uploads"))
        for folder in (src, fetched, logs, uploads):
            folder.mkdir()
        if step.snapshot:
            snap.fetch(stores.default, step.snapshot, src, workdir)
        ctx = inputs.InputContext(stores, values, upstream, env.inputs_dir, fetched, src)
        data = {item.name: inputs.materialise(item, ctx) for item in step.inputs}
        out_paths = {o.name: _output_path(o, workdir, src) for o in step.outputs}
        data.update({name: str(path) for name, path in out_paths.items()})
        dataset_env = ds.script_view(step, data, values, workdir)
        argv = arguments.command_line(step, src, data, values)
        metrics_file = workdir / "metrics.jsonl"
        child_env = self._child_env(pipeline, step, src, metrics_file, uploads)
        child_env.update(dataset_env)
        child_env.update(arguments.params_env(step, data, values))
        child_env.update(self.extra_env(metrics_file))
        self.timings.mark("inputs")
        if lease is not None:
            lease.stop_heartbeat()  # no threads while the script is forked; restarted below

        def started(pid: int) -> None:
            if lease is not None:
                lease.start_heartbeat()
            self.child_pid = pid
            self.script_started()

        code = process.run(argv, src, child_env, logs / "stdout.txt", logs / "stderr.txt",
                           started=started)
        self.timings.mark("script")
        stopped = self.canceled()
        entries = metrics.read_entries(metrics_file)
        step_entries = [e for e in entries if e.get("scope", "step") == "step"]
        parent_entries = [e for e in entries if e.get("scope") == "parent"]
        step_metrics = metrics.aggregate(step_entries)
        outputs: dict[str, Any] = {}
        if stopped:
            print(f"kubeline: step '{step.name}' was stopped early: {stopped}; its outputs are "
                  "not committed", file=sys.stderr)
        elif code == 0:
            outputs = self._commit_outputs(stores, step, base, out_paths, step_metrics,
                                   metrics.tags(step_entries), plan, stale_index)
        else:
            print(f"kubeline: step '{step.name}' exited with code {code}; its outputs are not "
                  "committed", file=sys.stderr)
        self.timings.mark("commit")
        status = "canceled" if stopped else "succeeded" if code == 0 else "failed"
        result = {**base, "status": status, "exit_code": code, "error": stopped or None,
                  "reused_from": None, "outputs": outputs,
                  "metrics": step_metrics, "tags": metrics.tags(step_entries),
                  "parent_metrics": metrics.aggregate(parent_entries),
                  "parent_tags": metrics.tags(parent_entries),
                  "files": metrics.files(step_entries), "timings": self.timings.as_dict()}
        results.write_local(env.out_dir / "metrics.json", results.to_json(step_metrics))
        results.publish(stores.default, env.run_id, step.id, result, workdir)
        return 0 if stopped else code

    def _commit_outputs(self, stores: Datastores, step: Step, base: dict[str, Any],
                out_paths: dict[str, Path], step_metrics: dict[str, Any], tags: dict[str, Any],
                plan: cache.KeyPlan, stale_index: bool) -> dict[str, Any]:
        """Commit the outputs, then the cache index (last: a reader that finds it finds the
        outputs); the outputs' summaries."""
        env = self.env
        outputs: dict[str, Any] = {}
        meta = records.OutputMeta(base["key"], env.run_id, step.id)
        for output in step.outputs:
            record = records.commit(stores.get(output.datastore), meta, output.name,
                                    out_paths[output.name])
            outputs[output.name] = results.output_summary(record)
        for output in step.outputs:  # before the index: a refused destination fails it
            ds.publish_output(output, out_paths[output.name], stores, env.run_id, base["key"])
        index = {"key": base["key"], "run_id": env.run_id, "step_id": step.id,
                 "step_name": step.name, "outputs": outputs, "metrics": step_metrics,
                 "tags": tags, "ingredients": base["ingredients"]}
        cache.publish(stores.default, base["key"], index, replace=stale_index)
        if plan.alias:  # regenerate_outputs: later runs reuse these fresh outputs
            cache.publish(stores.default, plan.alias,
                          {**index, "key": plan.alias, "outputs_key": base["key"]},
                          replace=True)
        self._origin(env.run_id, step.id)
        return outputs

    def _child_env(self, pipeline: PipelineSpec, step: Step, src: Path, metrics_file: Path,
                   uploads: Path) -> dict[str, str]:
        env = dict(os.environ)
        path = [str(src), *filter(None, [env.get("PYTHONPATH", "")]),
                *filter(None, [env.get("KUBELINE_RUNTIME_LIB", "")])]
        env["PYTHONPATH"] = os.pathsep.join(path)
        env.setdefault("PYTHONUNBUFFERED", "1")
        env.update({
            run_ctx.ENV_METRICS_FILE: str(metrics_file),
            run_ctx.ENV_UPLOADS_DIR: str(uploads),
            run_ctx.ENV_RUN_ID: self.env.run_id,
            run_ctx.ENV_STEP_RUN_ID: f"{self.env.run_id}_{step.id}",
            run_ctx.ENV_STEP_NAME: step.name,
            run_ctx.ENV_EXPERIMENT: self.env.experiment or pipeline.name,
            "KUBELINE_STEP_ID": step.id,
        })
        return env


def main(argv: list[str] | None = None) -> int:
    ns = parse_args(argv)
    try:
        if ns.hyperdrive:
            from kubeline.runtime.hyperdrive import run_phase

            return run_phase(RuntimeEnv.from_environ(), ns)
        if ns.phase is not None:
            from kubeline.runtime.parallel.phases import parallel_runner

            return parallel_runner(RuntimeEnv.from_environ(), ns).execute()
        return StepRunner(RuntimeEnv.from_environ(), ns).execute()
    except KubelineError as exc:
        print(f"kubeline: error: {exc}", file=sys.stderr)
        return exc.exit_code
