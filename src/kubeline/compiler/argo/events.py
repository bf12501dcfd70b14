"""Publishing on a cluster: the registry's published pipelines, endpoints and schedules as
Argo objects with fixed names, for GitOps.

* a published pipeline -> a WorkflowTemplate (and its spec ConfigMaps), named
  ``<name>-v<version>``;
* its REST endpoint -> one entry of the webhook EventSource ``kubeline-endpoints``
  (path ``/pipelines/<published id>``, bearer token checked against the Secret
  ``kubeline-endpoint-token``) plus a Sensor that submits the template, mapping the AML
  body's ParameterAssignments / DataPathAssignments onto the template's arguments;
  a pipeline endpoint gets ``/pipelineEndpoints/<name>`` for its default version;
* a time schedule -> a CronWorkflow (name <= 52 characters, time zone, Forbid);
* a data-change schedule -> a CronWorkflow that runs ``python -m kubeline.server.watch``
  every polling interval and, when the debounced listing changed, creates one Workflow
  from the template (a resource template).

docs/serve.md shows how a platform team exposes the EventSource's Service.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from kubeline.exceptions import KubelineError
from kubeline.graph.names import dns_label
from kubeline.server.registry import ACTIVE, PublishedRecord, Registry, ScheduleRecord
from kubeline.workspace.config import WorkspaceConfig

EVENT_SOURCE = "kubeline-endpoints"
TOKEN_SECRET = "kubeline-endpoint-token"
TOKEN_KEY = "token"
WEBHOOK_PORT = "12000"
SENSOR_ACCOUNT = "kubeline-sensor"
SUBMIT_ROLE = "kubeline-submit"
MAX_PAYLOAD = 1024 * 1024
CRON_NAME_MAX = 52
WATCH_OUT = "/tmp/kubeline-watch/changed"
API = "argoproj.io/v1alpha1"
MANAGED = {"app.kubernetes.io/managed-by": "kubeline"}


@dataclass(frozen=True)
class Published:
    """A published pipeline with the cluster name of its WorkflowTemplate."""

    record: PublishedRecord
    template: str


def template_names(records: list[PublishedRecord]) -> dict[str, str]:
    """published id -> WorkflowTemplate name: ``<name>-v<version>``, plus a short id when
    two records would share a name (oldest first keeps the plain name)."""
    names: dict[str, str] = {}
    taken: set[str] = set()
    for record in sorted(records, key=lambda r: (r.created_at, r.id)):
        base = f"{record.name}-v{record.version}" if record.version else record.name
        name = dns_label(base, 50)
        if name in taken:
            name = dns_label(f"{base}-{record.id[:8]}", 50)
        taken.add(name)
        names[record.id] = name
    return names


def workflow_template(item: Published) -> list[dict[str, Any]]:
    """The stored manifest as spec ConfigMaps + a WorkflowTemplate under fixed names."""
    docs = json.loads(json.dumps(item.record.docs))
    renames: dict[str, str] = {}
    configmaps = [d for d in docs if d.get("kind") == "ConfigMap"]
    for index, cm in enumerate(configmaps):
        new = f"{item.template}-spec" if len(configmaps) == 1 else \
            f"{item.template}-spec-{index}"
        renames[cm["metadata"]["name"]] = new
        cm["metadata"]["name"] = new
    workflow = next(d for d in docs if d.get("kind") in ("Workflow", "WorkflowTemplate"))
    workflow["kind"] = "WorkflowTemplate"
    meta = workflow["metadata"]
    meta.pop("generateName", None)
    meta["name"] = item.template
    meta.setdefault("annotations", {}).update({
        "kubeline.io/published-id": item.record.id,
        "kubeline.io/published-name": item.record.name,
        "kubeline.io/published-version": item.record.version})
    for volume in workflow["spec"].get("volumes") or []:
        if "configMap" in volume:
            volume["configMap"]["name"] = renames.get(volume["configMap"]["name"],
                                                      volume["configMap"]["name"])
        for source in (volume.get("projected") or {}).get("sources") or []:
            if "configMap" in source:
                source["configMap"]["name"] = renames.get(source["configMap"]["name"],
                                                          source["configMap"]["name"])
    return [*configmaps, workflow]


def _arguments(record: PublishedRecord, values: dict[str, str] | None = None
               ) -> list[dict[str, str]]:
    values = values or {}
    out = []
    for p in record.parameters:
        default = p.default
        if isinstance(default, dict):
            default = json.dumps(default, sort_keys=True)
        out.append({"name": p.argument, "value": values.get(p.argument, str(default))})
    return out


def _submitted_workflow(item: Published, values: dict[str, str] | None = None
                        ) -> dict[str, Any]:
    """The Workflow a trigger creates: generated name, the template by reference."""
    return {
        "apiVersion": API, "kind": "Workflow",
        "metadata": {"generateName": f"{item.template}-",
                     "labels": {**MANAGED, "kubeline.io/published": item.template}},
        "spec": {"workflowTemplateRef": {"name": item.template},
                 "arguments": {"parameters": _arguments(item.record, values)}},
    }


def _webhook(path: str) -> dict[str, Any]:
    return {"port": WEBHOOK_PORT, "endpoint": path, "method": "POST",
            "url": f"http://{EVENT_SOURCE}-eventsource-svc:{WEBHOOK_PORT}",
            "authSecret": {"name": TOKEN_SECRET, "key": TOKEN_KEY},
            "maxPayloadSize": MAX_PAYLOAD}


def event_source(webhooks: dict[str, str]) -> dict[str, Any]:
    """One webhook EventSource: event name -> URL path, each checking the bearer token."""
    return {
        "apiVersion": API, "kind": "EventSource",
        "metadata": {"name": EVENT_SOURCE, "labels": dict(MANAGED)},
        "spec": {
            "service": {"ports": [{"port": int(WEBHOOK_PORT),
                                   "targetPort": int(WEBHOOK_PORT)}]},
            "webhook": {event: _webhook(path) for event, path in sorted(webhooks.items())},
        },
    }


def sensor(name: str, event: str, item: Published) -> dict[str, Any]:
    """Submit the template for each accepted request; body fields -> template arguments.

    Requests without ExperimentName are filtered out; a missing parameter keeps the
    published default (``value``). The experiment name lands in an annotation.
    """
    parameters: list[dict[str, Any]] = []
    for index, p in enumerate(item.record.parameters):
        default = p.default
        if p.type == "datapath":
            default = json.dumps(default, sort_keys=True) if isinstance(default, dict) else ""
            key = f".Input.body.DataPathAssignments.{p.name}"
            src: dict[str, Any] = {
                "dependencyName": "request",
                "dataTemplate": ('{"datastore": "{{ ' + key + '.DataStoreName }}", '
                                 '"path": "{{ ' + key + '.RelativePath }}"}'),
                "value": default}
        else:
            src = {"dependencyName": "request",
                   "dataKey": f"body.ParameterAssignments.{p.name}", "value": str(default)}
        parameters.append({"src": src, "dest": f"spec.arguments.parameters.{index}.value"})
    parameters.append({"src": {"dependencyName": "request", "dataKey": "body.ExperimentName"},
                       "dest": "metadata.annotations.kubeline\\.io/experiment"})
    return {
        "apiVersion": API, "kind": "Sensor",
        "metadata": {"name": name, "labels": dict(MANAGED)},
        "spec": {
            "template": {"serviceAccountName": SENSOR_ACCOUNT},
            "dependencies": [{
                "name": "request", "eventSourceName": EVENT_SOURCE, "eventName": event,
                "filters": {"data": [{"path": "body.ExperimentName", "type": "string",
                                      "value": ["^[A-Za-z0-9][A-Za-z0-9_-]{0,254}$"]}]}}],
            "triggers": [{"template": {"name": "submit", "argoWorkflow": {
                "operation": "submit",
                "source": {"resource": _submitted_workflow(item)},
                "parameters": parameters}}}],
        },
    }


def cron_name(schedule: ScheduleRecord) -> str:
    """At most 52 characters: Argo appends a timestamp to make each Workflow's name."""
    return dns_label(f"{schedule.name}", CRON_NAME_MAX)


def _schedule_values(schedule: ScheduleRecord, item: Published) -> dict[str, str]:
    from kubeline.server.body import bind

    stores = {schedule.datastore} if schedule.datastore else set()
    for p in item.record.parameters:
        if p.type == "datapath" and isinstance(p.default, dict):
            stores.add(str(p.default.get("datastore")))
    data_paths: dict[str, Any] = {}
    if schedule.data_path_parameter_name:
        data_paths[schedule.data_path_parameter_name] = {
            "DataStoreName": schedule.datastore, "RelativePath": schedule.path_on_datastore}
    values: dict[str, Any] = dict(schedule.parameters)
    return bind(item.record, values, data_paths, stores | _all_stores(values),
                where="pipeline_parameters")


def _all_stores(values: dict[str, Any]) -> set[str]:
    return {str(v.get("DataStoreName") or v.get("datastore")) for v in values.values()
            if isinstance(v, dict)}


def time_cron_workflow(schedule: ScheduleRecord, item: Published) -> dict[str, Any]:
    from kubeline.server.recurrence import Recurrence

    recurrence = Recurrence.from_json(schedule.recurrence)
    return {
        "apiVersion": API, "kind": "CronWorkflow",
        "metadata": {"name": cron_name(schedule),
                     "labels": {**MANAGED, "kubeline.io/schedule": schedule.id},
                     "annotations": {"kubeline.io/schedule-name": schedule.name}},
        "spec": {
            "schedules": [recurrence.cron()],
            "timezone": recurrence.iana_time_zone,
            "concurrencyPolicy": "Forbid",
            "suspend": schedule.status != ACTIVE,
            "workflowMetadata": {"annotations": {"kubeline.io/experiment": schedule.experiment},
                                 "labels": {"kubeline.io/schedule": schedule.id}},
            "workflowSpec": {
                "workflowTemplateRef": {"name": item.template},
                "arguments": {"parameters": _arguments(item.record,
                                                       _schedule_values(schedule, item))}},
        },
    }


def watch_cron_workflow(schedule: ScheduleRecord, item: Published,
                        config: WorkspaceConfig) -> dict[str, Any]:
    """Look every polling interval; create one Workflow when the listing settled changed."""
    from kubeline.compiler.argo.templates import SHIM_COMMAND
    from kubeline.stores.config import datastore_to_dict, secret_env_name

    store = config.datastores.get(schedule.datastore)
    if store is None:
        raise KubelineError(f"schedule '{schedule.name}': datastore '{schedule.datastore}' "
                            "is not in kubeline.yaml")
    minutes = max(1, round(schedule.polling_interval / 60))
    env = []
    for field in ("access_key_secret", "secret_key_secret", "account_key_secret",
                  "sas_token_secret"):
        ref = getattr(store, field, None)
        if ref is not None:
            env.append({"name": secret_env_name(ref), "valueFrom": {"secretKeyRef": {
                "name": ref.name, "key": ref.key, "optional": True}}})
    python = SHIM_COMMAND[0] if SHIM_COMMAND else "python3"
    manifest = yaml.safe_dump(_submitted_workflow(item, _schedule_values(schedule, item)),
                              sort_keys=False)
    look = {
        "name": "look",
        "outputs": {"parameters": [{"name": "changed",
                                    "valueFrom": {"path": WATCH_OUT, "default": "false"}}]},
        "container": {
            "image": config.cluster.runtime_image,
            "command": [python, "-m", "kubeline.server.watch"],
            "args": ["--datastore", schedule.datastore,
                     "--config", json.dumps(datastore_to_dict(store), sort_keys=True),
                     "--path", schedule.path_on_datastore,
                     "--state-key", f"kubeline/watch/{schedule.id}.json",
                     "--interval", str(minutes * 60), "--out", WATCH_OUT],
            **({"env": env} if env else {}),
        },
    }
    submit = {"name": "submit", "resource": {"action": "create", "manifest": manifest}}
    main = {"name": "main", "dag": {"tasks": [
        {"name": "look", "template": "look"},
        {"name": "submit", "template": "submit", "depends": "look.Succeeded",
         "when": "{{tasks.look.outputs.parameters.changed}} == true"}]}}
    return {
        "apiVersion": API, "kind": "CronWorkflow",
        "metadata": {"name": cron_name(schedule),
                     "labels": {**MANAGED, "kubeline.io/schedule": schedule.id},
                     "annotations": {"kubeline.io/schedule-name": schedule.name,
                                     "kubeline.io/experiment": schedule.experiment}},
        "spec": {
            "schedules": [f"*/{minutes} * * * *" if minutes > 1 else "* * * * *"],
            "timezone": "UTC",
            "concurrencyPolicy": "Forbid",
            "suspend": schedule.status != ACTIVE,
            "workflowSpec": {
                "entrypoint": "main",
                "serviceAccountName": config.cluster.service_account,
                "templates": [main, look, submit],
            },
        },
    }


def rbac(config: WorkspaceConfig) -> list[dict[str, Any]]:
    """The Sensor's service account may submit workflows; so may the workflows' account
    (the data-change watcher creates one)."""
    ns = config.cluster.namespace
    role = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
            "metadata": {"name": SUBMIT_ROLE, "labels": dict(MANAGED)},
            "rules": [{"apiGroups": ["argoproj.io"], "resources": ["workflows"],
                       "verbs": ["create", "get", "list"]},
                      {"apiGroups": ["argoproj.io"], "resources": ["workflowtemplates"],
                       "verbs": ["get", "list"]}]}
    binding = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
               "metadata": {"name": SUBMIT_ROLE, "labels": dict(MANAGED)},
               "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                           "name": SUBMIT_ROLE},
               "subjects": [{"kind": "ServiceAccount", "name": SENSOR_ACCOUNT, "namespace": ns},
                            {"kind": "ServiceAccount", "name": config.cluster.service_account,
                             "namespace": ns}]}
    account = {"apiVersion": "v1", "kind": "ServiceAccount",
               "metadata": {"name": SENSOR_ACCOUNT, "labels": dict(MANAGED)}}
    return [account, role, binding]


def registry_files(registry: Registry, config: WorkspaceConfig) -> dict[str, list[dict[str, Any]]]:
    """File name -> objects, for every active published pipeline, endpoint and schedule."""
    records = registry.list_published(active_only=True)
    names = template_names(registry.list_published())
    items = {r.id: Published(r, names[r.id]) for r in records}
    files: dict[str, list[dict[str, Any]]] = {}
    webhooks: dict[str, str] = {}
    for item in sorted(items.values(), key=lambda i: i.template):
        event = item.template
        webhooks[event] = f"/pipelines/{item.record.id}"
        files[f"published-{item.template}.yaml"] = [
            *workflow_template(item), sensor(f"{item.template}-endpoint", event, item)]
    for endpoint in registry.list_endpoints(active_only=True):
        target = items.get(endpoint.versions[endpoint.default_version])
        if target is None:
            continue
        event = dns_label(f"endpoint-{endpoint.name}", 50)
        webhooks[event] = f"/pipelineEndpoints/{endpoint.name}"
        files[f"endpoint-{event}.yaml"] = [sensor(event, event, target)]
    for schedule in registry.list_schedules():
        published = schedule.published_id
        if schedule.endpoint:
            endpoint_record = registry.get_endpoint(schedule.endpoint)
            published = endpoint_record.versions[endpoint_record.default_version]
        chosen = items.get(published)
        if chosen is None:
            continue
        obj = time_cron_workflow(schedule, chosen) if schedule.kind == "time" else \
            watch_cron_workflow(schedule, chosen, config)
        files[f"schedule-{obj['metadata']['name']}.yaml"] = [obj]
    if webhooks:
        files["endpoints.yaml"] = [event_source(webhooks), *rbac(config)]
    return dict(sorted(files.items()))


def render_files(registry: Registry, config: WorkspaceConfig) -> dict[str, str]:
    from kubeline.compiler.yaml_emit import dump_all

    return {name: dump_all(docs) for name, docs in registry_files(registry, config).items()}


MANAGED_PREFIXES = ("published-", "endpoint-", "schedule-", "endpoints.yaml")


def write_into(outdir: Path, files: dict[str, str], namespace: str | None) -> list[str]:
    """Write the files into a compile output folder and list them in its kustomization.yaml
    (kept: resources ``kubeline compile`` wrote); files of ours no longer published are
    removed. Returns the names written."""
    from kubeline.compiler.api import KUSTOMIZATION, write_output
    from kubeline.compiler.yaml_emit import dump

    outdir.mkdir(parents=True, exist_ok=True)
    kfile = outdir / KUSTOMIZATION
    existing: dict[str, Any] = {}
    if kfile.is_file():
        existing = yaml.safe_load(kfile.read_text(encoding="utf-8")) or {}
    resources = [str(r) for r in existing.get("resources", [])]
    stale = [r for r in resources if r.startswith(MANAGED_PREFIXES) and r not in files]
    kept = [r for r in resources if r not in stale]
    kustomization: dict[str, Any] = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization",
        **{k: v for k, v in existing.items()
           if k not in ("apiVersion", "kind", "resources")}}
    if namespace and "namespace" not in kustomization:
        kustomization["namespace"] = namespace
    kustomization["resources"] = sorted(set(kept) | set(files))
    for name in stale:
        (outdir / name).unlink(missing_ok=True)
    # write_output also removes managed files it was not given: give it every resource.
    everything = {name: (outdir / name).read_text(encoding="utf-8") for name in kept
                  if (outdir / name).is_file() and "/" not in name}
    everything.update(files)
    everything[KUSTOMIZATION] = dump(kustomization)
    write_output(everything, outdir)
    return sorted(files)
