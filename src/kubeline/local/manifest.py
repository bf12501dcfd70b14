"""Load a manifest's documents and refuse, before anything runs, what the executor cannot do.

Every field of the Workflow (or WorkflowTemplate) is checked against an allowlist. Fields that
only matter to a cluster scheduler (images, resources, node selectors...) are accepted and
ignored; fields whose meaning the local executor does not implement are refused with one line
naming the field path. Expression tags and expression fields are parsed up front, so an
unsupported function or syntax is refused the same way.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from kubeline.exceptions import UnsupportedManifestError, ValidationError
from kubeline.local import exprlang
from kubeline.local.depends import DependsError, task_dependencies
from kubeline.local.inline import expand_inline
from kubeline.local.podspec import (
    WF_LEVEL_KEY,
    PodSpecPatchError,
    apply_template_defaults,
    parse_patch,
)
from kubeline.local.sync import Locks, SyncError
from kubeline.local.templating import TemplateError, iter_tags

IGNORED = "ignored"  # accepted, no local meaning
ANY = "any"  # accepted and used, value not inspected further


def _refuse(hint: str) -> tuple[str, str]:
    return ("refuse", hint)


SECRET_REF: dict[str, Any] = {"name": ANY, "key": ANY, "optional": ANY}
CM_KEY_REF: dict[str, Any] = {"name": ANY, "key": ANY, "optional": ANY}

VALUE_FROM: dict[str, Any] = {
    "path": ANY,
    "default": ANY,
    "parameter": ANY,
    "expression": ANY,
    "configMapKeyRef": CM_KEY_REF,
    "supplied": _refuse("suspend templates are not supported locally"),
    "jsonPath": ANY,  # resource templates (kubeline.local.resources)
    "jqFilter": _refuse("jqFilter outputs are not supported locally (use jsonPath)"),
    "event": _refuse("event parameters need Argo Server"),
}
PARAMETER: dict[str, Any] = {
    "name": ANY,
    "value": ANY,
    "default": ANY,
    "description": IGNORED,
    "enum": ANY,
    "globalName": ANY,
    "valueFrom": VALUE_FROM,
}
S3: dict[str, Any] = {
    "key": ANY,
    "bucket": ANY,
    "endpoint": ANY,
    "region": ANY,
    "insecure": ANY,
    "accessKeySecret": SECRET_REF,
    "secretKeySecret": SECRET_REF,
    "sessionTokenSecret": _refuse("use accessKeySecret/secretKeySecret"),
    "useSDKCreds": IGNORED,
    "createBucketIfNotPresent": IGNORED,
    "addressingStyle": IGNORED,
    "roleARN": _refuse("role assumption is not supported locally"),
    "encryptionOptions": _refuse("S3 encryption options are not supported locally"),
    "caSecret": _refuse("custom CA bundles are not supported locally"),
    "keyFormat": IGNORED,
}
AZURE: dict[str, Any] = {
    "endpoint": ANY,
    "container": ANY,
    "blob": ANY,
    "accountKeySecret": SECRET_REF,
    "useSDKCreds": IGNORED,
}
_OTHER_LOCATIONS = ("gcs", "git", "http", "artifactory", "hdfs", "oss", "plugin")
ARTIFACT: dict[str, Any] = {
    "name": ANY,
    "path": ANY,
    "mode": ANY,
    "from": ANY,
    "fromExpression": ANY,
    "globalName": ANY,
    "optional": ANY,
    "recurseMode": ANY,
    "archive": {
        "none": ANY,
        "tar": {"compressionLevel": ANY},
        "zip": _refuse("zip archives are not supported locally; use tar (default) or none"),
    },
    "raw": {"data": ANY},
    "s3": S3,
    "azure": AZURE,
    "archiveLogs": IGNORED,
    "artifactGC": IGNORED,
    "deleted": IGNORED,
    "subPath": ANY,  # appended to the resolved artifact's key (dag.resolve_artifact_args)
    **{
        loc: _refuse(f"{loc} artifacts are not supported locally; use s3, azure or raw")
        for loc in _OTHER_LOCATIONS
    },
}
ENV_VAR: dict[str, Any] = {
    "name": ANY,
    "value": ANY,
    "valueFrom": {
        "secretKeyRef": SECRET_REF,
        "configMapKeyRef": CM_KEY_REF,
        "fieldRef": _refuse("downward-API env vars are not supported locally"),
        "resourceFieldRef": _refuse("downward-API env vars are not supported locally"),
    },
}
CONTAINER: dict[str, Any] = {
    "name": ANY,
    "image": IGNORED,
    "command": ANY,
    "args": ANY,
    "env": [ENV_VAR],
    "workingDir": ANY,
    "volumeMounts": [
        {
            "name": ANY,
            "mountPath": ANY,
            "readOnly": ANY,
            "subPath": _refuse("volumeMount subPath is not supported locally"),
            "mountPropagation": IGNORED,
        }
    ],
    "resources": IGNORED,
    "imagePullPolicy": IGNORED,
    "securityContext": IGNORED,
    "ports": IGNORED,
    "livenessProbe": IGNORED,
    "readinessProbe": IGNORED,
    "startupProbe": IGNORED,
    "terminationMessagePath": IGNORED,
    "terminationMessagePolicy": IGNORED,
    "envFrom": _refuse("envFrom is not supported locally; list env entries"),
    "lifecycle": _refuse("container lifecycle hooks are not supported locally"),
    "stdin": _refuse("interactive containers are not supported"),
    "stdinOnce": _refuse("interactive containers are not supported"),
    "tty": _refuse("interactive containers are not supported"),
    "restartPolicy": IGNORED,
}
SCRIPT: dict[str, Any] = {**CONTAINER, "source": ANY}
ARGUMENTS: dict[str, Any] = {"parameters": [PARAMETER], "artifacts": [ARTIFACT]}
SEQUENCE: dict[str, Any] = {"start": ANY, "end": ANY, "count": ANY, "format": ANY}
_TASK_COMMON: dict[str, Any] = {
    "name": ANY,
    "template": ANY,
    "arguments": ARGUMENTS,
    "when": ANY,
    "withItems": ANY,
    "withParam": ANY,
    "withSequence": SEQUENCE,
    "continueOn": {"error": ANY, "failed": ANY},
    "templateRef": _refuse("templateRef is not supported locally; inline the template"),
    "onExit": ANY,
    "hooks": lambda value, path: _hooks(value, path),
}
DAG_TASK: dict[str, Any] = {**_TASK_COMMON, "dependencies": ANY, "depends": ANY}
VOLUME: dict[str, Any] = {
    "name": ANY,
    "configMap": {"name": ANY, "items": ANY, "defaultMode": ANY, "optional": ANY},
    "projected": {
        "sources": [{"configMap": {"name": ANY, "items": ANY, "optional": ANY}}],
        "defaultMode": ANY,
    },
    "emptyDir": {"medium": IGNORED, "sizeLimit": IGNORED},
    "secret": _refuse("secret volumes are not supported locally; use env valueFrom.secretKeyRef"),
    "persistentVolumeClaim": _refuse("persistent volumes are not supported locally"),
    "hostPath": _refuse("hostPath volumes are not supported locally"),
}
_DB_LOCK = _refuse("database synchronization needs Argo's database; run it on a cluster")
_MUTEX: dict[str, Any] = {"name": ANY, "namespace": IGNORED, "database": _DB_LOCK}
_SEMAPHORE: dict[str, Any] = {"configMapKeyRef": CM_KEY_REF, "namespace": IGNORED,
                              "database": _DB_LOCK}
SYNCHRONIZATION: dict[str, Any] = {
    "mutexes": [_MUTEX], "mutex": _MUTEX, "semaphores": [_SEMAPHORE], "semaphore": _SEMAPHORE,
}
RETRY: dict[str, Any] = {
    "limit": ANY,
    "retryPolicy": ANY,
    "backoff": {"duration": ANY, "factor": ANY, "maxDuration": ANY, "cap": ANY},
    "expression": ANY,
    "affinity": IGNORED,
}
_SCHEDULING = (
    "nodeSelector",
    "tolerations",
    "affinity",
    "schedulerName",
    "priorityClassName",
    "priority",
    "serviceAccountName",
    "automountServiceAccountToken",
    "securityContext",
    "hostAliases",
    "executor",
    "metrics",
    "metadata",
)
RESOURCE: dict[str, Any] = {  # SparkApplications run locally (kubeline.local.resources)
    "action": ANY,
    "manifest": ANY,
    "successCondition": ANY,
    "failureCondition": ANY,
    "setOwnerReference": IGNORED,
    "mergeStrategy": IGNORED,
    "flags": IGNORED,
    "manifestFrom": _refuse("manifestFrom is not supported locally (inline the manifest)"),
}


_HOOK: dict[str, Any] = {
    "template": ANY, "arguments": ARGUMENTS, "expression": ANY,
    "templateRef": _refuse("templateRef is not supported locally; inline the template"),
}


def _hooks(value: Any, path: str) -> None:
    """Lifecycle hooks: ``exit`` (an exit handler) or any name with an expression."""
    if value is None:
        return
    if not isinstance(value, dict):
        raise ValidationError([f"{path} must be a mapping"])
    for name, hook in value.items():
        _walk(hook, _HOOK, f"{path}.{name}")
        if name != "exit" and not str((hook or {}).get("expression") or "").strip():
            raise ValidationError([f"{path}.{name}: Expression required for hook {name} "
                                   "(only the exit hook runs without one)"])
        if not (hook or {}).get("template"):
            raise ValidationError([f"{path}.{name}.template is required"])


def _resource(value: Any, path: str) -> None:
    """Resource templates run locally only when they manage a SparkApplication."""
    _walk(value, RESOURCE, path)
    manifest = str((value or {}).get("manifest") or "")
    found = re.search(r"^kind:\s*['\"]?([A-Za-z0-9]+)", manifest, re.MULTILINE)
    kind = found.group(1) if found else ""
    if kind != "SparkApplication":
        raise UnsupportedManifestError(
            f"{path} is not supported by the local executor",
            f"only SparkApplication resources run locally (this one is "
            f"{kind or 'of no kind'}); run it on a cluster")


TEMPLATE: dict[str, Any] = {
    "name": ANY,
    "inputs": {"parameters": [PARAMETER], "artifacts": [ARTIFACT]},
    "outputs": {"parameters": [PARAMETER], "artifacts": [ARTIFACT], "result": ANY, "exitCode": ANY},
    "container": CONTAINER,
    "script": SCRIPT,
    "dag": {"tasks": [DAG_TASK], "target": ANY, "failFast": ANY},
    "steps": [[{**_TASK_COMMON}]],
    "retryStrategy": RETRY,
    "timeout": ANY,
    "activeDeadlineSeconds": ANY,
    "memoize": {"key": ANY, "maxAge": ANY, "cache": {"configMap": {"name": ANY, "key": IGNORED}}},
    "parallelism": ANY,
    "failFast": ANY,
    "initContainers": [{**CONTAINER, "mirrorVolumeMounts": ANY}],
    "volumes": [VOLUME],
    "archiveLocation": {"archiveLogs": IGNORED},
    "displayName": IGNORED,
    "annotations": IGNORED,  # UI metadata (workflows.argoproj.io/display-name)
    "podResources": IGNORED,
    **{k: IGNORED for k in _SCHEDULING},
    "resource": lambda value, path: _resource(value, path),
    "suspend": _refuse("suspend templates are not supported locally"),
    "containerSet": {
        "containers": [{**CONTAINER, "dependencies": ANY}],
        "volumeMounts": CONTAINER["volumeMounts"],
        "retryStrategy": _refuse("containerSet retryStrategy is not supported locally; "
                                 "use the template's retryStrategy"),
    },
    "data": _refuse("data templates are not supported locally"),
    "http": _refuse("http templates are not supported locally"),
    "plugin": _refuse("plugin templates are not supported locally"),
    "sidecars": [{**CONTAINER, "mirrorVolumeMounts": ANY}],
    "daemon": ANY,  # runs in the background until its scope ends (daemons.py)
    "synchronization": SYNCHRONIZATION,
    "podSpecPatch": ANY,  # what means something on one machine is applied (podspec.py)
    "pendingTimeout": IGNORED,
}
SPEC: dict[str, Any] = {
    "entrypoint": ANY,
    "arguments": ARGUMENTS,
    "templates": [TEMPLATE],
    "parallelism": ANY,
    "volumes": [VOLUME],
    "retryStrategy": RETRY,
    "podGC": IGNORED,
    "ttlStrategy": IGNORED,
    "imagePullSecrets": IGNORED,
    "podMetadata": IGNORED,
    "podPriorityClassName": IGNORED,
    "podPriority": IGNORED,
    "hostNetwork": IGNORED,
    "dnsPolicy": IGNORED,
    "dnsConfig": IGNORED,
    "podDisruptionBudget": IGNORED,
    "archiveLogs": IGNORED,
    "artifactGC": IGNORED,
    "artifactRepositoryRef": IGNORED,
    "workflowMetadata": IGNORED,
    "podResources": IGNORED,  # pod-level requests/limits: scheduling only
    **{k: IGNORED for k in _SCHEDULING if k != "metadata"},
    "onExit": ANY,
    "hooks": lambda value, path: _hooks(value, path),
    "volumeClaimTemplates": _refuse("persistent volume claims are not supported locally"),
    "synchronization": SYNCHRONIZATION,
    "suspend": _refuse("suspend is not supported locally"),
    "shutdown": _refuse("shutdown is not supported locally"),
    "workflowTemplateRef": _refuse("pass the WorkflowTemplate itself to kubeline run"),
    "activeDeadlineSeconds": ANY,  # the run's deadline (executor._drive)
    "podSpecPatch": ANY,  # copied into each pod template (podspec.py)
}
METADATA: dict[str, Any] = {
    "name": ANY,
    "generateName": ANY,
    "namespace": ANY,
    "labels": IGNORED,
    "annotations": IGNORED,
    "uid": IGNORED,
    "creationTimestamp": IGNORED,
    "resourceVersion": IGNORED,
}
WORKFLOW: dict[str, Any] = {
    "apiVersion": ANY,
    "kind": ANY,
    "metadata": METADATA,
    "spec": SPEC,
    "status": IGNORED,
}


def _walk(value: Any, schema: Any, path: str) -> None:
    if schema in (ANY, IGNORED):
        return
    if callable(schema):
        schema(value, path)
        return
    if isinstance(schema, tuple):
        raise UnsupportedManifestError(f"{path} is not supported by the local executor", schema[1])
    if isinstance(schema, list):
        if value is None:
            return
        if not isinstance(value, list):
            raise ValidationError([f"{path} must be a list"])
        for i, item in enumerate(value):
            _walk(item, schema[0], f"{path}[{i}]")
        return
    if isinstance(schema, dict):
        if value is None:
            return
        if not isinstance(value, dict):
            raise ValidationError([f"{path} must be a mapping"])
        for key, item in value.items():
            sub = f"{path}.{key}" if path else str(key)
            if key not in schema:
                raise UnsupportedManifestError(
                    f"{sub} is not supported by the local executor",
                    "remove it, or run the workflow on a cluster",
                )
            _walk(item, schema[key], sub)


def _strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _strings(v, f"{path}[{i}]")
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(v, f"{path}.{k}")


def _check_expressions(spec: dict[str, Any]) -> None:
    for path, text in _strings(spec, "spec"):
        if "{{" in text:
            try:
                tags = list(iter_tags(text))
            except TemplateError as exc:
                raise ValidationError([f"{path}: {exc}"]) from exc
            for _s, _e, tag in tags:
                if tag.startswith("="):
                    _parse_expr(tag[1:], path)
        if path.endswith((".valueFrom.expression", ".retryStrategy.expression",
                          ".fromExpression")) or (".hooks." in path and
                                                   path.endswith(".expression")):
            # tags in an expression field are substituted before it is evaluated
            _parse_expr(text, path, _TAG.sub("tag", text))
    for path, value in _objects(spec, "spec"):
        if value.get("from") and value.get("fromExpression"):
            raise ValidationError([f"{path}: 'from' and 'fromExpression' cannot both be set"])


def _objects(value: Any, path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(value, dict):
        yield path, value
        for k, v in value.items():
            yield from _objects(v, f"{path}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _objects(v, f"{path}[{i}]")


_TAG = re.compile(r"\{\{[^{}]*\}\}")


def _parse_expr(source: str, path: str, parsed: str | None = None) -> None:
    try:
        exprlang.parse(source if parsed is None else parsed)
    except exprlang.ExprSyntaxError as exc:
        raise UnsupportedManifestError(
            f"{path}: expression '{source}' is not supported by the local executor: {exc}"
        ) from exc


@dataclass
class Manifest:
    """One runnable workflow plus the ConfigMaps that came with it."""

    workflow: dict[str, Any]
    kind: str
    configmaps: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def spec(self) -> dict[str, Any]:
        spec: dict[str, Any] = self.workflow["spec"]
        return spec

    @property
    def templates(self) -> dict[str, dict[str, Any]]:
        return {t["name"]: t for t in self.spec.get("templates", [])}

    @property
    def base_name(self) -> str:
        meta = self.workflow.get("metadata") or {}
        if self.kind == "WorkflowTemplate":
            return f"{meta.get('name') or 'workflow'}-"
        name = meta.get("name")
        if name:
            return str(name)
        return str(meta.get("generateName") or "workflow-")


def load(docs: list[dict[str, Any]]) -> Manifest:
    """Pick the workflow and ConfigMaps out of a file's documents and check them."""
    workflow: dict[str, Any] | None = None
    kind = ""
    configmaps: dict[str, dict[str, str]] = {}
    for i, doc in enumerate(docs):
        if doc is None:
            continue
        if not isinstance(doc, dict):
            raise ValidationError([f"document {i} is not a mapping"])
        doc_kind = doc.get("kind")
        if doc_kind in ("Workflow", "WorkflowTemplate"):
            if workflow is not None:
                raise ValidationError(
                    [f"document {i}: only one Workflow or WorkflowTemplate per file can run"]
                )
            workflow = copy.deepcopy(doc)
            kind = str(doc_kind)
        elif doc_kind == "ConfigMap":
            name = (doc.get("metadata") or {}).get("name")
            if not name:
                raise ValidationError([f"document {i}: ConfigMap needs metadata.name"])
            configmaps[str(name)] = {str(k): str(v) for k, v in (doc.get("data") or {}).items()}
        else:
            raise UnsupportedManifestError(
                f"document {i}: kind {doc_kind!r} cannot be run locally",
                "kubeline run takes one Workflow or WorkflowTemplate plus ConfigMaps",
            )
    if workflow is None:
        raise ValidationError(["the file has no Workflow or WorkflowTemplate document"])
    if isinstance(workflow.get("spec"), dict):
        expand_inline(workflow["spec"])
        apply_template_defaults(workflow["spec"])
    _walk(workflow, WORKFLOW, "")
    manifest = Manifest(workflow=workflow, kind=kind, configmaps=configmaps)
    _validate(manifest)
    _spread_pod_spec_patch(manifest.spec)
    return manifest


def _spread_pod_spec_patch(spec: dict[str, Any]) -> None:
    """Argo applies the workflow's podSpecPatch to every pod, substituted per pod: each pod
    template carries a copy that the node's arguments substitute with the rest."""
    patch = spec.get("podSpecPatch")
    if not patch:
        return
    for tmpl in spec.get("templates") or []:
        if any(k in tmpl for k in ("container", "script", "containerSet")):
            tmpl[WF_LEVEL_KEY] = patch


def _check_pod_spec_patches(spec: dict[str, Any], problems: list[str]) -> None:
    """A podSpecPatch without tags is checked now; one with tags when its pod is built."""
    found = [("spec.podSpecPatch", spec.get("podSpecPatch"))] + [
        (f"spec.templates[{i}].podSpecPatch", t.get("podSpecPatch"))
        for i, t in enumerate(spec.get("templates") or [])]
    for where, patch in found:
        if patch and "{{" not in str(patch):
            try:
                parse_patch(patch, where)
            except PodSpecPatchError as exc:
                problems.append(str(exc))
    deadline = spec.get("activeDeadlineSeconds")
    if deadline not in (None, "") and "{{" not in str(deadline):
        try:
            ok = int(str(deadline)) > 0
        except ValueError:
            ok = False
        if not ok:
            problems.append(f"spec.activeDeadlineSeconds must be a positive integer, "
                            f"not {deadline!r}")


def _validate(m: Manifest) -> None:
    spec = m.spec
    if not isinstance(spec, dict):
        raise ValidationError(["spec is required"])
    templates = spec.get("templates") or []
    names = [t.get("name") for t in templates]
    problems: list[str] = []
    for i, n in enumerate(names):
        if not n:
            problems.append(f"spec.templates[{i}].name is required")
        elif names.count(n) > 1:
            problems.append(f"spec.templates[{i}].name '{n}' is not unique")
    entry = spec.get("entrypoint")
    if not entry:
        problems.append("spec.entrypoint is required")
    elif entry not in names and "{{" not in str(entry):
        problems.append(f"spec.entrypoint: template '{entry}' is not defined")
    for ref_path, ref in _hook_refs(spec, "spec"):
        if ref not in names:
            problems.append(f"{ref_path}: template '{ref}' is not defined")
    kinds = ("container", "script", "containerSet", "dag", "steps", "resource")
    for i, t in enumerate(templates):
        present = [k for k in kinds if k in t]
        if len(present) != 1:
            problems.append(
                f"spec.templates[{i}] ({t.get('name')}) must have exactly one of {', '.join(kinds)}"
            )
        for ref_path, ref in _template_refs(t, f"spec.templates[{i}]"):
            if ref not in names:
                problems.append(f"{ref_path}: template '{ref}' is not defined")
        if "dag" in t:
            tasks = {task.get("name"): task for task in (t["dag"].get("tasks") or [])}
            for j, task in enumerate(t["dag"].get("tasks") or []):
                if task.get("depends") and task.get("dependencies"):
                    problems.append(
                        f"spec.templates[{i}].dag.tasks[{j}]: use depends or dependencies, not both"
                    )
                try:
                    task_dependencies(task, tasks)
                except DependsError as exc:
                    problems.append(f"spec.templates[{i}].dag.tasks[{j}].depends: {exc}")
            if _has_cycle(tasks):
                problems.append(f"spec.templates[{i}].dag: dependency cycle detected")
    blocks = [("spec.synchronization", spec.get("synchronization"))] + [
        (f"spec.templates[{i}].synchronization", t.get("synchronization"))
        for i, t in enumerate(templates)]
    for where, sync in blocks:
        try:
            Locks(m.configmaps).plan(sync)
        except SyncError as exc:
            problems.append(f"{where}: {exc}")
    _check_pod_spec_patches(spec, problems)
    if problems:
        raise ValidationError(problems)
    _check_expressions(spec)


def _template_refs(t: dict[str, Any], path: str) -> Iterator[tuple[str, str]]:
    if "dag" in t:
        for j, task in enumerate(t["dag"].get("tasks") or []):
            yield f"{path}.dag.tasks[{j}].template", str(task.get("template"))
            yield from _hook_refs(task, f"{path}.dag.tasks[{j}]")
    if "steps" in t:
        for g, group in enumerate(t["steps"] or []):
            for j, step in enumerate(group or []):
                yield f"{path}.steps[{g}][{j}].template", str(step.get("template"))
                yield from _hook_refs(step, f"{path}.steps[{g}][{j}]")


def _hook_refs(owner: dict[str, Any], path: str) -> Iterator[tuple[str, str]]:
    for name, hook in (owner.get("hooks") or {}).items():
        if isinstance(hook, dict) and hook.get("template"):
            yield f"{path}.hooks.{name}.template", str(hook["template"])


def _has_cycle(tasks: dict[str, dict[str, Any]]) -> bool:
    deps = {}
    for name, task in tasks.items():
        try:
            deps[name] = task_dependencies(task, tasks).names
        except DependsError:
            deps[name] = ()
    state: dict[str, int] = {}

    def visit(n: str) -> bool:
        if state.get(n) == 1:
            return True
        if state.get(n) == 2:
            return False
        state[n] = 1
        if any(visit(d) for d in deps.get(n, ())):
            return True
        state[n] = 2
        return False

    return any(visit(n) for n in tasks)
