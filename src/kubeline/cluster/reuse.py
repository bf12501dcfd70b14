"""Reuse that starts no pods on a cluster (issue 14 point 6, docs/decisions/0025).

Before it creates a Workflow, the submitter resolves every step's cache key from the
datastore's reuse index exactly as the shim would in the step's pod (same key function, same
lookup), and rewrites the manifest so that a step whose outputs are already there is Skipped
by Argo (``when: "false"``) instead of starting a pod that only finds its cache entry:

* a consumer of a skipped step gets the producer's key literally, where the compiled
  manifest passed ``{{tasks.P.outputs.parameters.key}}`` or (compact mode) let the shim read
  it from the run record; compact consumers switch to a keyed variant of their template
  (``--step ID --upstream "P:KEY ..."``, the shim's normal mode), so the manifest runs on an
  unchanged runtime image;
* ``depends`` on a Skipped task is satisfied in Argo, so the DAG's shape is kept and the
  Argo UI shows which steps were skipped; the Workflow's ``kubeline.io/reused`` annotation
  says what each reused;
* after the Workflow exists, ``ReusePlan.record`` writes, under its uid, what each reused
  step's shim would have written (its key in the run record, a ``reused`` result record
  with its key ingredients), so run history and explain-reuse read the same records.

A step is skipped only when it is a hit and every consumer can be handed its key; otherwise
it keeps its pod, which finds the hit itself (the shim stays the one truth).
"""

from __future__ import annotations

import copy
import json
import re
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from kubeline.exceptions import KubelineError
from kubeline.graph.model import Step
from kubeline.graph.names import param_name
from kubeline.graph.stepspec import encode_step
from kubeline.reuse.keys import key_fields, producers
from kubeline.reuse.memoize import CONTENT_AWARE_PARAMETER, REGENERATE_PARAMETER
from kubeline.runtime import cache, params, results
from kubeline.runtime.datastores import Datastores
from kubeline.runtime.layout import run_key_record
from kubeline.runtime.paths import TRUE_WORDS
from kubeline.runtime.spec import PIPELINE_FILE, PipelineSpec, load_pipeline, load_step


class HasRoot(Protocol):
    """A Workspace, as far as reuse needs one: its folder (local datastores resolve there)."""

    @property
    def root(self) -> Path: ...


SHIM_MODULE = "kubeline.runtime"  # the shim template's command: python3 -m kubeline.runtime
BOOT_SCRIPT = "boot.py"  # runtime: inject (kubeline.compiler.argo.templates.BOOT_COMMAND)
COMPACT_ARGS = ["--node", "{{node.name}}"]
KEYED_ARGS = ["--step", "{{inputs.parameters.step}}", "--upstream",
              "{{inputs.parameters.upstream}}"]
KEYED_SUFFIX = "-keyed"
REUSED_ANNOTATION = "kubeline.io/reused"
SKIP = "false"


class ReuseError(KubelineError):
    """The manifest handed to resolve_reuse is not a kubeline-compiled Workflow."""


@dataclass(frozen=True)
class ReusedStep:
    """A step the plan skips: the run and step whose outputs it hands on."""

    step_id: str
    step_name: str
    key: str  # this run's key for the step
    outputs_key: str  # where the outputs really are: what consumers read and key on
    run_id: str  # the run that computed them
    source_step_id: str
    hit: dict[str, Any] = field(repr=False)  # the index record
    ingredients: dict[str, Any] = field(repr=False)  # this run's key ingredients


@dataclass
class ReusePlan:
    """The Workflow to create (reused steps Skipped) and what each skipped step reuses."""

    workflow: dict[str, Any]
    reused: dict[str, ReusedStep]  # by step name
    stores: Datastores | None = field(default=None, repr=False)

    def record(self, created: Mapping[str, Any]) -> None:
        """Once the Workflow exists (``created``: the API's answer, with its uid): write what
        each skipped step's shim would have written, so run history, explain-reuse and
        compact-mode readers of the run record see a reused step as if its pod had run."""
        if not self.reused or self.stores is None:
            return
        meta = created["metadata"]
        run_id, name = str(meta["uid"]), str(meta["name"])
        store = self.stores.default
        for step in self.reused.values():
            store.put_bytes(run_key_record(run_id, step.step_id), step.outputs_key.encode())
            result = {
                "version": results.RESULT_VERSION, "run_id": run_id, "workflow": name,
                "node": f"{name}.{step.step_id}", "step_id": step.step_id,
                "step_name": step.step_name, "key": step.key, "ingredients": step.ingredients,
                "status": "reused", "exit_code": 0, "error": None,
                "outputs_key": step.outputs_key,
                "reused_from": {"run_id": step.run_id, "step_id": step.source_step_id},
                "outputs": step.hit.get("outputs", {}), "metrics": step.hit.get("metrics", {}),
                "tags": step.hit.get("tags", {}), "parent_metrics": {}, "files": [],
                "timings": {"resolved_before_submit": True},
            }
            results.publish(store, run_id, step.step_id, result, None)


def resolve_reuse(workflow: Mapping[str, Any], workspace: HasRoot | Path | str,
                  documents: Iterable[Mapping[str, Any]]) -> ReusePlan:
    """The plan for ``workflow`` (a kubeline-compiled Workflow, parameters as they will be
    submitted). ``documents``: the compiled documents, whose ConfigMaps hold the step specs;
    ``workspace``: a Workspace (or its folder), against which local datastores resolve."""
    spec_dir_files = _spec_files(workflow, documents)
    root = Path(workspace) if isinstance(workspace, str | Path) else Path(workspace.root)
    with tempfile.TemporaryDirectory(prefix="kubeline-reuse-") as tmp:
        spec_dir = Path(tmp)
        for key, text in spec_dir_files.items():
            (spec_dir / key).write_text(text, encoding="utf-8")
        pipeline = load_pipeline(spec_dir)
        steps = {sid: load_step(spec_dir, sid, pipeline) for sid in _step_ids(spec_dir_files)}
    stores = Datastores(pipeline.datastores, pipeline.default_datastore, root)
    arguments = _arguments(workflow)
    if _true(arguments.get(REGENERATE_PARAMETER, "")):
        return ReusePlan(copy.deepcopy(dict(workflow)), {}, stores)
    hits = _hits(steps, pipeline, arguments, stores)
    return _rewrite(workflow, steps, hits, stores)


def _spec_files(workflow: Mapping[str, Any], documents: Iterable[Mapping[str, Any]]
                ) -> dict[str, str]:
    """The spec files of the ConfigMaps the Workflow mounts as its spec volume."""
    volumes = workflow.get("spec", {}).get("volumes", [])
    names: list[str] = []
    for volume in volumes:
        if "configMap" in volume:
            names.append(volume["configMap"]["name"])
        for source in volume.get("projected", {}).get("sources", []):
            if "configMap" in source:
                names.append(source["configMap"]["name"])
    by_name = {d["metadata"]["name"]: d for d in documents if d.get("kind") == "ConfigMap"}
    files: dict[str, str] = {}
    for name in names:
        if name in by_name:
            files.update(by_name[name].get("data") or {})
    if PIPELINE_FILE not in files:
        wf = workflow.get("metadata", {}).get("name", "?")
        raise ReuseError(f"workflow '{wf}': no step spec ConfigMap among the documents "
                         f"(looked for {', '.join(names) or 'none'})",
                         "pass every document `kubeline compile` wrote, ConfigMaps included")
    return files


def _step_ids(files: Mapping[str, str]) -> list[str]:
    return sorted(m.group(1) for k in files if (m := re.fullmatch(r"step\.(.+)\.json", k)))


def _arguments(workflow: Mapping[str, Any]) -> dict[str, str]:
    found = workflow.get("spec", {}).get("arguments", {}).get("parameters", [])
    return {str(p["name"]): str(p.get("value", "")) for p in found}


def _true(value: str) -> bool:
    return value.strip().lower() in TRUE_WORDS


def _order(steps: Mapping[str, tuple[Step, str]]) -> list[str]:
    """Step ids, every producer before its consumers (depends_on holds both kinds of edge)."""
    done: list[str] = []
    seen: set[str] = set()

    def visit(sid: str) -> None:
        if sid in seen:
            return
        seen.add(sid)
        step = steps[sid][0]
        for up in sorted(set(step.depends_on) | set(producers(step))):
            if up in steps:
                visit(up)
        done.append(sid)

    for sid in sorted(steps):
        visit(sid)
    return done


def _hits(steps: Mapping[str, tuple[Step, str]], pipeline: PipelineSpec,
          arguments: Mapping[str, str], stores: Datastores) -> dict[str, ReusedStep]:
    """Every step whose key is known before the run and whose index record is a hit, with the
    key handed downstream; computed as StepRunner._execute does (kubeline.runtime.shim)."""
    names = list(pipeline.parameters)
    indexed = {i: arguments[param_name(n)] for i, n in enumerate(names)
               if param_name(n) in arguments}
    values = params.resolve(pipeline.parameters, None, indexed)
    content_aware = _true(arguments.get(CONTENT_AWARE_PARAMETER, ""))
    known: dict[str, str] = {}  # step id -> the key its consumers read
    hits: dict[str, ReusedStep] = {}
    for sid in _order(steps):
        step, fingerprint = steps[sid]
        upstream = {p: known[p] for p in producers(step) if p in known}
        if not step.allow_reuse or len(upstream) < len(producers(step)):
            continue  # a fresh key holds the run's uid: unknown before the run
        try:
            content = cache.input_versions(step, stores, values) if content_aware else None
            plan = cache.step_key(step, fingerprint, values, upstream, "", False, content)
        except KubelineError:
            continue  # the step's pod reports it, in the step's own words
        hit = cache.lookup(stores.default, stores.get, plan.lookup) if plan.lookup else None
        known[sid] = str(hit["outputs_key"]) if hit else plan.key
        if hit is None:
            continue
        ingredients = {**plan.ingredients, "source_directory": step.source_directory,
                       "spec": key_fields(encode_step(step, fingerprint))}
        hits[sid] = ReusedStep(sid, step.name, plan.key, known[sid], str(hit.get("run_id")),
                               str(hit.get("step_id")), hit, ingredients)
    return hits


# --- the manifest -----------------------------------------------------------------------------

def _is_shim(template: Mapping[str, Any]) -> bool:
    """A plain step's shim template (compact or keyed): what a hit may be skipped from.
    Steps with other templates (Spark, data transfer, HyperDrive's phases) keep their pods."""
    container = template.get("container", {})
    command = container.get("command", [])
    return ((command[1:3] == ["-m", SHIM_MODULE]
             or (len(command) == 2 and command[1].endswith("/" + BOOT_SCRIPT)))
            and container.get("args") in (COMPACT_ARGS, KEYED_ARGS))


def _tasks(spec: Mapping[str, Any], steps: Mapping[str, Any]
           ) -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
    """Step id -> (its DAG template, its task); chunked pipelines' steps sit in chunk DAGs."""
    found = {}
    for template in spec.get("templates", []):
        for task in (template.get("dag") or {}).get("tasks", []):
            if task["name"] in steps:
                found[task["name"]] = (template, task)
    return found


def _skippable(hits: Mapping[str, ReusedStep], steps: Mapping[str, tuple[Step, str]],
               tasks: Mapping[str, tuple[dict[str, Any], dict[str, Any]]],
               templates: Mapping[str, dict[str, Any]]) -> set[str]:
    """Hits that can be skipped: shim steps whose every running consumer can be handed the
    keys of all its producers (a producer in another chunk DAG cannot be named)."""
    def shim(sid: str) -> bool:
        return sid in tasks and _is_shim(templates.get(tasks[sid][1]["template"], {}))

    skip = {sid for sid in hits if shim(sid)}
    consumers = {sid: [c for c in steps if sid in producers(steps[c][0])] for sid in steps}
    changed = True
    while changed:
        changed = False
        for sid in sorted(skip):
            for c in consumers[sid]:
                if c in skip:
                    continue
                ok = shim(c) and _can_key(c, steps, tasks, skip, templates)
                if not ok:
                    skip.discard(sid)
                    changed = True
                    break
    return skip


def _can_key(c: str, steps: Mapping[str, tuple[Step, str]],
             tasks: Mapping[str, tuple[dict[str, Any], dict[str, Any]]], skip: set[str],
             templates: Mapping[str, dict[str, Any]]) -> bool:
    dag, task = tasks[c]
    params_given = {p["name"] for p in (task.get("arguments") or {}).get("parameters", [])}
    if "step" not in params_given:  # compact: needs the keyed variant of its template
        args = templates[task["template"]].get("container", {}).get("args")
        if args != COMPACT_ARGS:
            return False
    names = {t["name"] for t in dag["dag"]["tasks"]}
    return all(p in skip or p in names for p in producers(steps[c][0]))


def _rewrite(workflow: Mapping[str, Any], steps: Mapping[str, tuple[Step, str]],
             hits: Mapping[str, ReusedStep], stores: Datastores) -> ReusePlan:
    doc: dict[str, Any] = copy.deepcopy(dict(workflow))
    spec = doc["spec"]
    templates = {t["name"]: t for t in spec.get("templates", [])}
    tasks = _tasks(spec, steps)
    skip = _skippable(hits, steps, tasks, templates)
    if not skip:
        return ReusePlan(doc, {}, stores)
    keyed: dict[str, str] = {}
    for sid in sorted(skip):
        tasks[sid][1]["when"] = SKIP
    for c in sorted(steps):
        step = steps[c][0]
        if c in skip or c not in tasks or not set(producers(step)) & skip:
            continue
        _hand_keys(tasks[c][1], step, hits, skip, templates, keyed, spec)
    reused = {hits[sid].step_name: hits[sid] for sid in sorted(skip)}
    annotations = doc.setdefault("metadata", {}).setdefault("annotations", {})
    annotations[REUSED_ANNOTATION] = json.dumps(
        {sid: {"run_id": hits[sid].run_id, "step_id": hits[sid].source_step_id,
               "outputs_key": hits[sid].outputs_key} for sid in sorted(skip)}, sort_keys=True)
    return ReusePlan(doc, reused, stores)


def _hand_keys(task: dict[str, Any], step: Step, hits: Mapping[str, ReusedStep],
               skip: set[str], templates: dict[str, dict[str, Any]], keyed: dict[str, str],
               spec: dict[str, Any]) -> None:
    """Give a running consumer the literal keys of its skipped producers."""
    arguments = task.setdefault("arguments", {})
    parameters = arguments.setdefault("parameters", [])
    by_name = {p["name"]: p for p in parameters}
    if "step" not in by_name:  # compact mode: the keyed variant of its template
        name = task["template"]
        if name not in keyed:
            variant = copy.deepcopy(templates[name])
            variant["name"] = keyed[name] = f"{name}{KEYED_SUFFIX}"
            inputs = variant.setdefault("inputs", {})
            inputs["parameters"] = [{"name": "step"}, {"name": "upstream", "default": ""},
                                    *inputs.get("parameters", [])]
            variant["container"]["args"] = list(KEYED_ARGS)
            spec["templates"].append(variant)
            templates[variant["name"]] = variant
        task["template"] = keyed[name]
        parameters[:0] = [{"name": "step", "value": step.id},
                          {"name": "upstream", "value": " ".join(
                              f"{p}:{{{{tasks.{p}.outputs.parameters.key}}}}"
                              for p in producers(step))}]
    for parameter in parameters:
        value = str(parameter.get("value", ""))
        for p in sorted(skip & set(producers(step))):
            key = hits[p].outputs_key
            value = value.replace(f"{{{{tasks.{p}.outputs.parameters.key}}}}", key)
            value = value.replace(f"tasks['{p}'].outputs.parameters.key", f"'{key}'")
        parameter["value"] = value
