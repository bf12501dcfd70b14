"""The shim's phases of a HyperDriveStep: sample, trial, best (docs/hyperdrive.md).

* sample: draws the trials (kubeline.tuning.space) with the rngSeed, or a seed taken from
  the step's cache key, so a reusable step draws the same trials again; writes them for
  Argo's ``withParam`` and to ``<step dir>/trials.json`` with the sweep's deadline (now +
  ``max_duration_minutes``).
* trial: the step's script with the trial's values appended to its arguments, run as an
  ordinary step of its own (``<step>-t<N>``): its own cache key (the step's fingerprint plus
  the trial's values), reuse, outputs and result. With an early termination policy the
  shim watches the metrics file: each value of the primary metric is published to
  ``<step dir>/progress/<N>.json`` and, at evaluation intervals, judged against the other
  trials' progress; ``Run.log`` of the primary metric waits for that verdict, so a trial
  the policy stops ends exactly there, as Canceled, its outputs not committed.
  A trial that starts after the deadline is Canceled without running its script; one still
  running at the deadline gets SIGTERM (SIGKILL after a grace period) and is Canceled.
* best: ranks the trials by the primary metric, commits the step's outputs under the
  step's own key (the best trial's outputs; TrainingOutput "Metrics" and "Model"), and
  writes ``<step dir>/hyperdrive.json``, which HyperDriveStepRun reads.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import os
import re
import shutil
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from kubeline.exceptions import KubelineError
from kubeline.graph.model import Lit, Step
from kubeline.graph.stepspec import encode_step
from kubeline.reuse.keys import key_fields, producers
from kubeline.runtime import cache, contextenv, params, records, results
from kubeline.runtime.datastores import Datastores
from kubeline.runtime.layout import cache_index, run_key_record, step_dir
from kubeline.runtime.paths import RuntimeEnv
from kubeline.runtime.shim import StepRunner
from kubeline.runtime.shim import _upstream_from_run as upstream_from_run
from kubeline.runtime.spec import SpecError, load_pipeline, load_step, parse_upstream
from kubeline.stores import Store
from kubeline.tuning import policies, ranking, space

# the last line of a Python traceback: "SomeError: message"
_EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt)\b.*$", re.M)

TRIALS_FILE = "trials"  # in the out dir: the withParam list
POLL_SECONDS = 0.002  # a stat of the metrics file while the script runs
DEFAULT_MINUTES = 10080  # HyperDriveConfig's max_duration_minutes default (the SDK's)
KILL_GRACE_SECONDS = 10.0  # SIGTERM at the deadline, SIGKILL this much later
STATUS = {"succeeded": "Completed", "reused": "Completed", "canceled": "Canceled",
          "failed": "Failed", "error": "Failed"}


def trial_id(step_id: str, n: int) -> str:
    return f"{step_id}-t{n}"


def progress_key(run_id: str, step_id: str, n: int) -> str:
    return f"{step_dir(run_id, step_id)}/progress/{n}.json"


def summary_key(run_id: str, step_id: str) -> str:
    return f"{step_dir(run_id, step_id)}/hyperdrive.json"


def _json(store: Store, key: str) -> Any:
    return json.loads(store.get_bytes(key)) if store.exists(key) else None


class _Phase(StepRunner):
    """What the three phases share: the step, its settings, stores and the step's key plan."""

    def load(self) -> tuple[Step, str, Datastores, dict[str, Any], dict[str, str]]:
        env = self.env
        if not env.run_id:
            raise SpecError("KUBELINE_RUN_ID is not set", "set it to the workflow's uid")
        pipeline = load_pipeline(env.spec_dir)
        step, fingerprint = load_step(env.spec_dir, self.ns.step, pipeline)
        if step.kind != "hyperdrive" or not step.settings:
            raise SpecError(f"step '{step.name}' is not a HyperDriveStep",
                            "--hyperdrive applies to HyperDriveStep tasks only")
        self.pipeline = pipeline
        stores = Datastores(pipeline.datastores, pipeline.default_datastore, env.workspace)
        values = params.resolve(pipeline.parameters, env.parameters, env.indexed_parameters)
        return step, fingerprint, stores, json.loads(step.settings), values

    def upstream(self, store: Store, step: Step) -> dict[str, str]:
        """Producers' keys: from --upstream (the DAG task's, normal mode), else from the run
        record (compact mode: the step's task passes none)."""
        given = parse_upstream(self.ns.upstream or "")
        if all(p in given for p in producers(step)):
            return given
        return {**upstream_from_run(store, self.env.run_id, step), **given}

    def plan(self, step: Step, fingerprint: str, stores: Datastores,
             values: dict[str, str]) -> cache.KeyPlan:
        """The step's own key plan, as the shim makes it for any step (content-aware runs
        included), so a changed input gives new trials and a new step key alike."""
        content = (cache.input_versions(step, stores, values) if self.env.content_aware
                   else None)
        return cache.step_key(step, fingerprint, values, self.upstream(stores.default, step),
                              self.env.run_id, self.env.regenerate, content)


class SamplePhase(_Phase):
    def execute(self) -> int:
        step, fingerprint, stores, settings, values = self.load()
        plan = self.plan(step, fingerprint, stores, values)
        seed = settings.get("seed")
        if seed is None:
            seed = space.seed_from(plan.key)
        count = int(settings["max_total_runs"])
        if settings["sampling"] == "grid":
            count = min(count, space.grid_size(settings["space"]))
        trials = space.sample(settings["space"], settings["sampling"], count, int(seed))
        body = results.to_json(trials)
        deadline = time.time() + float(settings.get("max_duration_minutes") or
                                       DEFAULT_MINUTES) * 60
        stores.default.put_bytes(f"{step_dir(self.env.run_id, step.id)}/trials.json",
                                 json.dumps({"seed": seed, "trials": trials,
                                             "deadline": deadline}, sort_keys=True,
                                            indent=1).encode("utf-8"))
        results.write_local(self.env.out_dir / TRIALS_FILE, body)
        print(f"kubeline: step '{step.name}': {len(trials)} trials "
              f"({settings['sampling']} sampling, seed {seed})", file=sys.stderr)
        return 0


class TrialPhase(_Phase):
    """One trial: an ordinary step run under the trial's id, key and arguments."""

    def execute(self) -> int:
        step, fingerprint, stores, settings, _values = self.load()
        try:
            trial = json.loads(self.ns.trial)
            n, chosen = int(trial["n"]), dict(trial["params"])
        except (ValueError, TypeError, KeyError) as exc:
            raise SpecError(f"step '{step.name}': --trial {self.ns.trial!r:.80} is not a trial",
                            "the sample task's trials output gives one per item") from exc
        training = set(settings.get("training_outputs") or {})
        self.settings = settings
        self.n = n
        self.store = stores.default
        self.parent_id = step.id
        self.maximize = settings["goal"] == "MAXIMIZE"
        self.policy: dict[str, Any] = settings.get("policy") or {"name": "no_termination"}
        self.reason = ""
        self.curve: list[float] = []
        self._offset = 0
        self._done = threading.Event()
        self._thread: threading.Thread | None = None
        self._timer: threading.Thread | None = None
        self.deadline = self._deadline(stores.default, step.id)
        own = dataclasses.replace(
            step, id=trial_id(step.id, n), name=f"{step.name}_{n}", kind="python_script",
            settings="", arguments=(*step.arguments, *(Lit(t) for t in space.arguments(chosen))),
            outputs=tuple(o for o in step.outputs if o.name not in training))
        salted = hashlib.sha256(f"{fingerprint}\0trial\0{space.canonical(chosen)}".encode()
                                ).hexdigest()
        base: dict[str, Any] = {"version": results.RESULT_VERSION, "run_id": self.env.run_id,
                                "workflow": self.env.workflow, "node": self.env.node,
                                "step_id": own.id, "step_name": own.name,
                                "hyperparameters": chosen, "trial": n}
        # the shim's own code path takes --upstream: give it every producer's key
        self.ns.upstream = " ".join(f"{p}:{k}" for p, k in sorted(
            self.upstream(stores.default, step).items()))
        if time.time() >= self.deadline:
            return self._too_late(stores, base)
        try:
            code = self._execute(self.pipeline, own, salted, stores, base)
        except KubelineError as exc:
            self._publish_error(stores, base, exc)
            self._finish("failed")
            raise
        finally:
            self._stop_watching()
        result = _json(self.store, f"{step_dir(self.env.run_id, own.id)}/result.json") or {}
        self._finish(str(result.get("status", "failed")), result.get("metrics") or {})
        return code

    # -- the policy watch -------------------------------------------------------------------
    def _watching(self) -> bool:
        return bool(self.policy.get("name", "no_termination") != "no_termination")

    def extra_env(self, metrics_file: Path) -> dict[str, str]:
        self.metrics_file = metrics_file
        self.ack_file = metrics_file.with_name("policy-ack")
        if not self._watching():
            return {}
        return {contextenv.ENV_TRIAL_METRIC: str(self.settings["primary_metric"]),
                contextenv.ENV_TRIAL_ACK: str(self.ack_file)}

    def script_started(self) -> None:
        if self._watching():
            self._thread = threading.Thread(target=self._watch, name="policy", daemon=True)
            self._thread.start()
        if self.deadline != float("inf"):
            self._timer = threading.Thread(target=self._stop_at_deadline,
                                           args=(self.child_pid,), name="deadline", daemon=True)
            self._timer.start()

    def canceled(self) -> str:
        self._stop_watching()
        return self.reason

    def _stop_watching(self) -> None:
        self._done.set()
        for thread in (self._thread, self._timer):
            if thread is not None:
                thread.join()
        self._thread = self._timer = None

    # -- max_duration_minutes ---------------------------------------------------------------
    def _deadline(self, store: Store, step_id: str) -> float:
        """When the sweep's time is up (the sample phase wrote it; an older record without
        one: never)."""
        drawn = _json(store, f"{step_dir(self.env.run_id, step_id)}/trials.json") or {}
        return float(drawn.get("deadline") or float("inf"))

    def _too_late_reason(self) -> str:
        minutes = self.settings.get("max_duration_minutes") or DEFAULT_MINUTES
        return f"max_duration_minutes ({minutes:g}) of the HyperDrive run was reached"

    def _too_late(self, stores: Datastores, base: dict[str, Any]) -> int:
        """A trial whose turn came after the deadline: Canceled, its script never run."""
        self.reason = f"{self._too_late_reason()} before it started"
        print(f"kubeline: trial {self.n} not started: {self.reason}", file=sys.stderr)
        result = {**base, "status": "canceled", "exit_code": 0, "error": self.reason,
                  "reused_from": None, "outputs": {}, "metrics": {}, "tags": {},
                  "parent_metrics": {}, "files": [], "timings": self.timings.as_dict()}
        results.write_local(self.env.out_dir / "metrics.json", results.to_json({}))
        results.publish(stores.default, self.env.run_id, str(base["step_id"]), result, None)
        self._finish("canceled")
        return 0

    def _stop_at_deadline(self, pid: int) -> None:
        """Wait for the deadline (or the script's end); then stop the script: SIGTERM, and
        SIGKILL if it is still there after the grace period."""
        left = min(max(0.0, self.deadline - time.time()), threading.TIMEOUT_MAX)
        if self._done.wait(left) or not pid:
            return
        if not self.reason:
            self.reason = f"{self._too_late_reason()} while it ran"
        print(f"kubeline: trial {self.n} stopped: {self.reason}", file=sys.stderr)
        for sig, wait in ((signal.SIGTERM, KILL_GRACE_SECONDS), (signal.SIGKILL, 0.0)):
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                return
            if self._done.wait(wait):
                return

    def _new_values(self) -> list[float]:
        """Values of the primary metric appended since the last look (complete lines only)."""
        try:
            if os.stat(self.metrics_file).st_size <= self._offset:
                return []
            with open(self.metrics_file, "rb") as handle:
                handle.seek(self._offset)
                data = handle.read()
        except FileNotFoundError:
            return []
        complete = data[:data.rfind(b"\n") + 1]
        self._offset += len(complete)
        name = self.settings["primary_metric"]
        found = []
        for line in complete.splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if (isinstance(entry, dict) and entry.get("scope", "step") == "step"
                    and entry.get("type") == "scalar" and entry.get("name") == name):
                found.extend(policies.numeric([entry.get("value")]))
        return found

    def _watch(self) -> None:
        while not self._done.is_set():
            values = self._new_values()
            if not values:
                time.sleep(POLL_SECONDS)
                continue
            for value in values:
                self.curve = [*self.curve, value]
                self._publish_progress(False, "running")
                k = len(self.curve)
                peers = self._peers() if policies.evaluates_at(self.policy, k) else []
                reason = policies.decide(self.policy, self.maximize, self.curve, peers)
                if reason:
                    self.reason = reason
                    self._answer(f"stop {self._offset}")
                    print(f"kubeline: trial {self.n} stopped: {reason}", file=sys.stderr)
                    return
            self._answer(str(self._offset))

    def _answer(self, text: str) -> None:
        """A plain overwrite: a reader that catches it half-written sees too small an offset
        (or no "stop") and looks again."""
        with open(self.ack_file, "w", encoding="utf-8") as handle:
            handle.write(text)

    def _peers(self) -> list[policies.Peer]:
        prefix = f"{step_dir(self.env.run_id, self.parent_id)}/progress/"
        own = progress_key(self.env.run_id, self.parent_id, self.n)
        found = []
        for obj in self.store.list(prefix):
            if obj.key == own or not obj.key.endswith(".json"):
                continue
            data = _json(self.store, obj.key) or {}
            found.append(policies.Peer(policies.numeric(data.get("values") or []),
                                       bool(data.get("finished"))))
        return found

    def _publish_progress(self, finished: bool, status: str) -> None:
        body = {"n": self.n, "values": self.curve, "finished": finished, "status": status}
        self.store.put_bytes(progress_key(self.env.run_id, self.parent_id, self.n),
                             json.dumps(body, sort_keys=True).encode("utf-8"))

    def _finish(self, status: str, step_metrics: dict[str, Any] | None = None) -> None:
        """The trial's final curve (a reused trial's too): later trials compare with it."""
        if step_metrics is not None and not self.reason:
            raw = step_metrics.get(self.settings["primary_metric"])
            self.curve = policies.numeric(raw if isinstance(raw, list) else [raw])
        self._publish_progress(True, status)


class BestPhase(_Phase):
    """Rank the trials, commit the step's outputs under its own key, write the summary."""

    def execute(self) -> int:
        step, fingerprint, stores, settings, values = self.load()
        try:
            return self._best(step, fingerprint, stores, settings, values)
        except KubelineError as exc:  # the step's result says why, as a failed step's does
            self._publish_error(stores, {"version": results.RESULT_VERSION,
                                         "run_id": self.env.run_id, "step_id": step.id,
                                         "step_name": step.name}, exc)
            raise

    def _best(self, step: Step, fingerprint: str, stores: Datastores, settings: dict[str, Any],
              values: dict[str, str]) -> int:
        store = stores.default
        run_id = self.env.run_id
        plan = self.plan(step, fingerprint, stores, values)
        drawn = _json(store, f"{step_dir(run_id, step.id)}/trials.json") or {}
        primary, maximize = settings["primary_metric"], settings["goal"] == "MAXIMIZE"
        trials = [self._trial(store, step, t) for t in drawn.get("trials", [])]
        best = [dict(t) for t in ranking.ranked(trials, primary, maximize,
                                                 statuses=("Completed",))]
        summary = {"primary_metric": primary, "goal": settings["goal"],
                   "sampling": settings["sampling"], "seed": drawn.get("seed"),
                   "policy": settings.get("policy"), "trials": trials,
                   "best": best[0]["run_id"] if best else None}
        store.put_bytes(summary_key(run_id, step.id),
                        json.dumps(summary, sort_keys=True, indent=1).encode("utf-8"))
        base: dict[str, Any] = {"version": results.RESULT_VERSION, "run_id": run_id,
                                "workflow": self.env.workflow, "node": self.env.node,
                                "step_id": step.id, "step_name": step.name, "key": plan.key,
                                "ingredients": {**plan.ingredients,
                                                "source_directory": step.source_directory,
                                                "spec": key_fields(encode_step(step,
                                                                               fingerprint))}}
        if not best:
            counts = ", ".join(f"{sum(1 for t in trials if t['status'] == s)} {s.lower()}"
                               for s in ("Completed", "Canceled", "Failed"))
            why = self._first_failure(store, trials)
            raise KubelineError(f"step '{step.name}': no trial completed with a value of the "
                                f"primary metric '{primary}' ({counts}){why}",
                                f"log it in the script with Run.get_context().log('{primary}', "
                                "value); see the trials' logs")
        hit = cache.lookup(store, stores.get, plan.lookup) if plan.lookup else None
        if hit is not None:
            self._report_key(store, step, str(hit["outputs_key"]))
            return self._reused(stores, base, hit)
        self._report_key(store, step, plan.key)
        workdir = Path(tempfile.mkdtemp(prefix=f"{step.id}-best-", dir=self._work_root()))
        try:
            outputs = self._commit(stores, step, settings, best[0], trials, plan.key, workdir)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        chosen = best[0]
        index = {"key": plan.key, "run_id": run_id, "step_id": step.id, "step_name": step.name,
                 "outputs": outputs, "metrics": chosen["metrics"], "tags": {},
                 "ingredients": base["ingredients"], "best_trial": chosen["run_id"]}
        cache.publish(store, plan.key, index, replace=store.exists(cache_index(plan.key)))
        if plan.alias:
            cache.publish(store, plan.alias, {**index, "key": plan.alias,
                                              "outputs_key": plan.key}, replace=True)
        self._origin(run_id, step.id)
        result = {**base, "status": "succeeded", "exit_code": 0, "error": None,
                  "reused_from": None, "outputs": outputs, "metrics": chosen["metrics"],
                  "tags": {"best_trial": chosen["run_id"]}, "parent_metrics": {},
                  "files": [], "timings": self.timings.as_dict()}
        results.write_local(self.env.out_dir / "metrics.json",
                            results.to_json(chosen["metrics"]))
        results.publish(store, run_id, step.id, result, None)
        print(f"kubeline: step '{step.name}': best trial {chosen['n']} "
              f"({primary} {chosen['best_primary_metric']:g}) of {len(trials)}",
              file=sys.stderr)
        return 0

    def _first_failure(self, store: Store, trials: list[dict[str, Any]]) -> str:
        """'; trial N failed: <its exception line>' for the first failed trial, so the step's
        one line says why without opening the trials' logs."""
        for trial in trials:
            if trial["status"] != "Failed":
                continue
            key = f"{step_dir(self.env.run_id, trial['step_id'])}/stderr.txt"
            raw = store.get_bytes(key) if store.exists(key) else b""
            found = _EXCEPTION_LINE.findall(raw.decode("utf-8", "replace"))
            if found:
                return f"; trial {trial['n']} failed: {found[-1].strip()}"
        return ""

    def _trial(self, store: Store, step: Step, drawn: dict[str, Any]) -> dict[str, Any]:
        n = int(drawn["n"])
        tid = trial_id(step.id, n)
        result = _json(store, f"{step_dir(self.env.run_id, tid)}/result.json") or {}
        settings = json.loads(step.settings)
        step_metrics = result.get("metrics") or {}
        origin = result.get("reused_from") or {"run_id": self.env.run_id, "step_id": tid}
        return {
            "n": n, "run_id": f"{self.env.run_id}_{tid}", "step_id": tid,
            "hyperparameters": drawn["params"],
            "status": STATUS.get(str(result.get("status")), "NotStarted"),
            "error": result.get("error"), "metrics": step_metrics,
            "best_primary_metric": ranking.best_value(step_metrics, settings["primary_metric"],
                                                      settings["goal"] == "MAXIMIZE"),
            "key": result.get("outputs_key") or result.get("key"),
            "outputs": result.get("outputs") or {},
            "files": f"{step_dir(str(origin['run_id']), str(origin['step_id']))}/files",
        }

    def _commit(self, stores: Datastores, step: Step, settings: dict[str, Any],
                best: dict[str, Any], trials: list[dict[str, Any]], key: str,
                workdir: Path) -> dict[str, Any]:
        training = settings.get("training_outputs") or {}
        meta = records.OutputMeta(key, self.env.run_id, step.id)
        outputs: dict[str, Any] = {}
        for output in step.outputs:
            local = workdir / output.name
            store = stores.get(output.datastore)
            spec = training.get(output.name)
            if spec is None:  # the best trial's own output
                records.fetch(store, str(best["key"]), output.name, best["step_id"], local)
            elif spec["type"] == "Metrics":
                local.write_text(json.dumps({t["run_id"]: t["metrics"] for t in trials},
                                            sort_keys=True), encoding="utf-8")
            else:
                self._model(stores.default, best, spec.get("model_file"), local, step)
            outputs[output.name] = results.output_summary(
                records.commit(store, meta, output.name, local))
        return outputs

    @staticmethod
    def _model(store: Store, best: dict[str, Any], model_file: str | None, local: Path,
               step: Step) -> None:
        """The best trial's model: a file or folder it wrote under ./outputs."""
        path = (model_file or "outputs").strip("/")
        where = f"{best['files']}/{path}"
        if store.exists(where):
            local.parent.mkdir(parents=True, exist_ok=True)
            store.get_file(where, local)
            return
        found = list(store.list(f"{where}/"))
        if not found:
            raise KubelineError(f"step '{step.name}': the best trial ({best['run_id']}) wrote "
                                f"no '{path}'", "write the model there in the script, or fix "
                                "TrainingOutput(model_file=...)")
        for obj in found:
            target = local / obj.key[len(where) + 1:]
            target.parent.mkdir(parents=True, exist_ok=True)
            store.get_file(obj.key, target)


PHASES: dict[str, type[_Phase]] = {"sample": SamplePhase, "trial": TrialPhase,
                                   "best": BestPhase}


def run_phase(env: RuntimeEnv, ns: argparse.Namespace) -> int:
    if not ns.step:
        raise SpecError("--hyperdrive needs --step", "the compiled template passes it")
    return PHASES[ns.hyperdrive](env, ns).execute()


__all__ = ["PHASES", "progress_key", "run_key_record", "run_phase", "summary_key", "trial_id"]
