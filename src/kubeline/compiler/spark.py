"""Spark steps (DatabricksStep, AdlaStep) as spark-operator SparkApplications driven by Argo.

One Spark step becomes a small DAG template (docs/spark.md):

* ``submit``: a resource template that creates the SparkApplication and succeeds once the
  application runs; its ``activeDeadlineSeconds`` is the deadline for an application stuck
  in SUBMITTED or pending (spark-operator#2872);
* ``wait``: a resource template that waits for COMPLETED, bounded by the step's timeout;
* ``delete``: deletes the application when either failed or timed out (the failure path);
  on success ``timeToLiveSeconds`` cleans up. No ``setOwnerReference``: with it the
  operator deletes the application at once (spark-operator#2090).

Conditions read ``status.applicationState.state`` only (executor states can disagree with
it, spark-operator#725). Placement goes through driver/executor pod templates, which the
operator's webhook cannot silently drop (#1725, #2281). Credentials are Secret references.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from typing import Any

from hera.workflows.models import (
    Arguments,
    DAGTask,
    DAGTemplate,
    Inputs,
    Metadata,
    ObjectMeta,
    Outputs,
    Parameter,
    ResourceTemplate,
    Template,
    ValueFrom,
)

from kubeline.compiler.argo.k8s import ConfigMap
from kubeline.compiler.scheduling import (
    GPU_RESOURCE,
    Scheduling,
    for_vm_size,
    pod_spec_fields,
    warn_once,
)
from kubeline.compiler.yaml_emit import dump
from kubeline.exceptions import KubelineError
from kubeline.graph.model import Arg, DataRef, Lit, PipelineGraph, Step
from kubeline.graph.names import dns_label, param_name
from kubeline.stores.config import (
    AzureBlobDatastore,
    DatastoreConfig,
    S3Datastore,
    SecretRef,
    secret_env_name,
)
from kubeline.workspace.config import WorkspaceConfig

API_VERSION = "sparkoperator.k8s.io/v1beta2"
DRIVER_MOUNT = "/kubeline/spark"
DRIVER_FILE = f"local://{DRIVER_MOUNT}/driver.py"
DRIVER_VOLUME = "kubeline-spark"
PYLIB_VOLUME = "kubeline-pylib"
PYLIB_MOUNT = "/kubeline/pylib"
LOCAL_DATASTORES = "/kubeline/datastores"
DEFAULT_NODE_TYPE = "Standard_DS3_v2"  # Databricks' usual default on Azure
DEFAULT_SPARK_VERSION = "3.5.1"
PENDING_DEADLINE_SECONDS = 900
DEFAULT_TIMEOUT_SECONDS = 24 * 3600
TTL_SECONDS = 3600
SUCCESS_STATES = "COMPLETED"
RUNNING_STATES = "RUNNING, SUCCEEDING, COMPLETED"
FAILURE_STATES = "FAILED, SUBMISSION_FAILED, FAILING, UNKNOWN"
STATE = "status.applicationState.state"
HADOOP_AWS = "org.apache.hadoop:hadoop-aws:3.3.4"
HADOOP_AZURE = "org.apache.hadoop:hadoop-azure:3.3.4"

# Databricks runtime (major.minor) -> the Apache Spark release it ships.
DATABRICKS_RUNTIMES = {"7.3": "3.0.1", "9.1": "3.1.2", "10.4": "3.2.1", "11.3": "3.3.0",
                       "12.2": "3.3.2", "13.3": "3.4.1", "14.3": "3.5.0", "15.4": "3.5.0"}


@dataclass(frozen=True)
class SparkNames:
    """Template names of one Spark step (all derived from its shape's template name)."""

    dag: str

    @property
    def submit(self) -> str:
        return f"{self.dag}-submit"

    @property
    def wait(self) -> str:
        return f"{self.dag}-wait"

    @property
    def delete(self) -> str:
        return f"{self.dag}-delete"


def driver_source() -> str:
    """The driver program shipped in the ConfigMap (src/kubeline/compiler/spark_driver.py)."""
    return resources.files("kubeline.compiler").joinpath("spark_driver.py").read_text("utf-8")


# The driver JVM's log4j 2 configuration: Spark's default console output (stderr, Spark's
# pattern and logger levels) plus the same lines appended to the driver log file, which the
# driver program also writes (its own and the application's output) and publishes as
# driver.log. Given to the JVM at its start (spark.driver.extraJavaOptions), because Spark
# reconfigures log4j when a SparkContext starts (decision 0018).
DRIVER_LOG_ENV = "KUBELINE_DRIVER_LOG"
DRIVER_LOG_DEFAULT = "/tmp/kubeline-driver.log"
LOG4J_FILE = "log4j2.properties"
_QUIET_LOGGERS = (
    ("jetty", "org.sparkproject.jetty", "warn"),
    ("jettylife", "org.sparkproject.jetty.util.component.AbstractLifeCycle", "error"),
    ("hms", "org.apache.hadoop.hive.metastore.RetryingHMSHandler", "fatal"),
    ("hmsstore", "org.apache.hadoop.hive.metastore.ObjectStore", "error"),
    ("parquetstats", "org.apache.parquet.CorruptStatistics", "error"),
)


def log4j_properties() -> str:
    pattern = "%d{yy/MM/dd HH:mm:ss} %p %c{1}: %m%n%ex"
    lines = [
        "# kubeline: Spark's console log, also appended to the driver log (driver.log)",
        "rootLogger.level = info",
        "rootLogger.appenderRef.console.ref = console",
        "rootLogger.appenderRef.driverlog.ref = driverlog",
        "appender.console.type = Console",
        "appender.console.name = console",
        "appender.console.target = SYSTEM_ERR",
        "appender.console.layout.type = PatternLayout",
        f"appender.console.layout.pattern = {pattern}",
        "appender.driverlog.type = File",
        "appender.driverlog.name = driverlog",
        f"appender.driverlog.fileName = ${{env:{DRIVER_LOG_ENV}:-{DRIVER_LOG_DEFAULT}}}",
        "appender.driverlog.append = true",
        "appender.driverlog.immediateFlush = true",
        "appender.driverlog.layout.type = PatternLayout",
        f"appender.driverlog.layout.pattern = {pattern}",
    ]
    for key, name, level in _QUIET_LOGGERS:
        lines += [f"logger.{key}.name = {name}", f"logger.{key}.level = {level}"]
    return "\n".join(lines) + "\n"


def driver_java_options(conf: dict[str, Any]) -> str:
    """The user's driver JVM options with kubeline's log4j configuration added."""
    own = f"-Dlog4j2.configurationFile=file:{DRIVER_MOUNT}/{LOG4J_FILE}"
    user = str(conf.get("spark.driver.extraJavaOptions") or "").strip()
    if "log4j2.configurationFile" in user or "log4j.configuration" in user:
        return user  # the user's own logging configuration wins
    return f"{user} {own}".strip()


def driver_configmap(pipeline: str, labels: dict[str, str]) -> ConfigMap:
    return ConfigMap(metadata=ObjectMeta(name=configmap_name(pipeline), labels=labels),
                     data={"driver.py": driver_source(), LOG4J_FILE: log4j_properties()})


def configmap_name(pipeline: str) -> str:
    return dns_label(f"{pipeline}-spark", 58)


def spark_version(value: str) -> str:
    """A Spark version from a Databricks runtime string ("13.3.x-scala2.12") or as given."""
    if not value:
        return DEFAULT_SPARK_VERSION
    head = value.split(".x", 1)[0]
    if head in DATABRICKS_RUNTIMES:
        return DATABRICKS_RUNTIMES[head]
    parts = value.split(".")
    if len(parts) >= 2 and all(p.isdigit() for p in parts[:3]) and int(parts[0]) >= 3:
        return ".".join(parts[:3]) if len(parts) >= 3 else f"{value}.0"
    known = ", ".join(f"{k}.x" for k in DATABRICKS_RUNTIMES)
    raise KubelineError(f"spark_version '{value}' is not known",
                        f"use a Spark version such as 3.5.1 or a Databricks runtime ({known})")


def hadoop_uri(name: str, config: DatastoreConfig, path: str = "") -> str:
    """A datastore path as a Hadoop URI: s3a://, abfss://, or file:// under /kubeline/datastores
    for local datastores (resolved by the local executor; not reachable on a cluster)."""
    tail = "/".join(p.strip("/") for p in (getattr(config, "prefix", ""), path)
                    if p and p.strip("/"))
    if isinstance(config, S3Datastore):
        base = f"s3a://{config.bucket}"
    elif isinstance(config, AzureBlobDatastore):
        base = f"abfss://{config.container_name}@{config.account_name}.dfs.core.windows.net"
    else:
        base = f"file://{LOCAL_DATASTORES}/{name}"
    return f"{base}/{tail}" if tail else base


def _store_context(name: str, config: DatastoreConfig) -> tuple[dict[str, Any], dict[str, str],
                                                               list[SecretRef]]:
    """The driver's view of a datastore, Spark conf for its endpoint, and its Secret refs."""
    entry: dict[str, Any] = {"uri": hadoop_uri(name, config)}
    conf: dict[str, str] = {}
    refs: list[SecretRef] = []
    secrets: dict[str, str] = {}
    if isinstance(config, S3Datastore):
        bucket = f"spark.hadoop.fs.s3a.bucket.{config.bucket}"
        if config.endpoint:
            conf[f"{bucket}.endpoint"] = config.endpoint if "://" in config.endpoint else (
                f"{'http' if config.insecure else 'https'}://{config.endpoint}")
            conf[f"{bucket}.path.style.access"] = "true"
        if config.region:
            conf[f"{bucket}.endpoint.region"] = config.region
        for ref, key in ((config.access_key_secret, "access.key"),
                         (config.secret_key_secret, "secret.key")):
            if ref is not None:
                secrets[f"fs.s3a.bucket.{config.bucket}.{key}"] = secret_env_name(ref)
                refs.append(ref)
    elif isinstance(config, AzureBlobDatastore):
        ref = config.account_key_secret
        if ref is not None:
            secrets[f"fs.azure.account.key.{config.account_name}.dfs.core.windows.net"] = \
                secret_env_name(ref)
            refs.append(ref)
    if secrets:
        entry["secrets"] = dict(sorted(secrets.items()))
    return entry, conf, refs


def _arg(arg: Arg) -> Any:
    if isinstance(arg, Lit):
        return arg.value
    if isinstance(arg, DataRef):
        return {"data": arg.name}
    return f"{{{{workflow.parameters.{param_name(arg.name)}}}}}"


def key_expression(step: Step) -> str:
    """The Spark step's output key: one per run (Spark steps are not reused, docs/spark.md)."""
    return f"{{{{=sprig.sha256sum(workflow.uid + '/{step.id}')}}}}"


def app_name_expression(step: Step) -> str:
    return (f"{dns_label(step.id, 29)}-"
            f"{{{{=sprig.substr(0, 10, sprig.sha256sum(workflow.uid + '/{step.id}'))}}}}")


def _sizing(node_type: str, flavour: str, where: str) -> tuple[dict[str, Any], Scheduling]:
    """Driver/executor cores and memory from an Azure node type, plus its placement."""
    size, sched = for_vm_size(node_type, flavour, where=where)
    for message in sched.warnings:  # a GPU node type on kind: said once, as for other steps
        warn_once(message)
    if not sched.requests:  # kind: no node shapes, keep Spark small
        return {"cores": 1, "memory": "1024m"}, sched
    cpu = sched.requests["cpu"]
    millis = int(cpu[:-1]) if cpu.endswith("m") else int(cpu) * 1000
    mem_mib = int(sched.requests["memory"].removesuffix("Mi"))
    heap = mem_mib * 3 // 4
    return {"cores": max(1, millis // 1000), "coreRequest": f"{millis}m",
            "coreLimit": str(size.vcpus), "memory": f"{heap}m",
            "memoryOverhead": f"{mem_mib - heap}m"}, sched


def _pod_template(container: str, sched: Scheduling, env: list[dict[str, Any]],
                  labels: dict[str, str], driver: bool, image: str,
                  pypi: list[str], pipeline: str) -> dict[str, Any]:
    """A driver or executor pod template: placement, GPUs, Secret env, the driver program
    (driver only) and PyPI libraries installed by an init container into a shared folder."""
    spec: dict[str, Any] = dict(pod_spec_fields(sched))
    main: dict[str, Any] = {"name": container}
    if env:
        main["env"] = env
    if sched.gpus:
        main["resources"] = {"limits": {GPU_RESOURCE: str(sched.gpus)}}
    mounts: list[dict[str, Any]] = []
    volumes: list[dict[str, Any]] = []
    if driver:
        mounts.append({"name": DRIVER_VOLUME, "mountPath": DRIVER_MOUNT, "readOnly": True})
        volumes.append({"name": DRIVER_VOLUME, "configMap": {"name": configmap_name(pipeline)}})
    if pypi:
        mounts.append({"name": PYLIB_VOLUME, "mountPath": PYLIB_MOUNT})
        volumes.append({"name": PYLIB_VOLUME, "emptyDir": {}})
        spec["initContainers"] = [{
            "name": "kubeline-pypi", "image": image,
            "command": ["python3", "-m", "pip", "install", "--no-cache-dir", "--target",
                        PYLIB_MOUNT, *pypi],
            "volumeMounts": [{"name": PYLIB_VOLUME, "mountPath": PYLIB_MOUNT}]}]
    if mounts:
        main["volumeMounts"] = mounts
    spec["containers"] = [main]
    if volumes:
        spec["volumes"] = volumes
    return {"metadata": {"labels": labels}, "spec": spec}


def spark_application(step: Step, graph: PipelineGraph, config: WorkspaceConfig,
                      labels: dict[str, str], pipeline: str) -> dict[str, Any]:
    """The SparkApplication of a step, with Argo tags for its run-time names."""
    settings: dict[str, Any] = json.loads(step.settings or "{}")
    where = f"step '{step.name}'"
    version = spark_version(str(settings.get("spark_version") or ""))
    stores_used = sorted({i.datastore for i in step.inputs} | {o.datastore for o in step.outputs}
                         | {graph.default_datastore})
    stores: dict[str, Any] = {}
    conf: dict[str, str] = {}
    refs: list[SecretRef] = []
    packages: set[str] = set()
    for name in stores_used:
        store = config.datastores[name]
        entry, extra, store_refs = _store_context(name, store)
        stores[name] = entry
        conf.update(extra)
        refs += store_refs
        if isinstance(store, S3Datastore):
            packages.add(HADOOP_AWS)
        elif isinstance(store, AzureBlobDatastore):
            packages.add(HADOOP_AZURE)
    target = config.compute_targets.get(step.compute_target)
    token = (target.properties.get("access_token_secret") if target is not None else None)
    env = [{"name": secret_env_name(r), "valueFrom": {"secretKeyRef": {
        "name": r.name, "key": r.key, "optional": True}}}
        for r in sorted(set(refs), key=lambda r: (r.name, r.key))]
    if token:
        env.append({"name": "DATABRICKS_TOKEN", "valueFrom": {"secretKeyRef": {
            "name": str(token["name"]), "key": str(token["key"]), "optional": True}}})
    env += [{"name": k, "value": v}
            for k, v in sorted((settings.get("spark_env_variables") or {}).items())]
    run_dir = f"kubeline/runs/{{{{workflow.uid}}}}/spark/{step.id}"
    context = {
        "run": "{{workflow.uid}}", "workflow": "{{workflow.name}}", "step": step.id,
        "name": step.name, "key": "{{inputs.parameters.key}}", "app": settings["app"],
        "script": settings.get("script", ""), "script_uri": settings.get("script_uri", ""),
        "main_class": settings.get("main_class", ""), "snapshot": step.snapshot,
        "default": graph.default_datastore, "stores": stores,
        "inputs": {i.name: {"source": i.source, "store": i.datastore, "path": i.path,
                            "producer": i.producer} for i in step.inputs},
        "outputs": {o.name: {"store": o.datastore, "location": f"{run_dir}/{o.name}"}
                    for o in step.outputs},
        "args": [_arg(a) for a in step.arguments],
        "widgets": {**{k: str(v) for k, v in (settings.get("notebook_params") or {}).items()},
                    **{k: _arg(v) for k, v in step.params}},
    }
    pod_labels = {**labels, "kubeline.io/step": step.id,
                  "workflows.argoproj.io/workflow": "{{workflow.name}}"}
    sizing, sched = _sizing(str(settings.get("node_type") or DEFAULT_NODE_TYPE),
                            config.cluster.flavour, where)
    spark_conf = {**conf, **(settings.get("spark_conf") or {})}
    spark_conf["spark.driver.extraJavaOptions"] = driver_java_options(spark_conf)
    spec: dict[str, Any] = {
        "type": "Python",
        "mode": "cluster",
        "image": step.image or f"spark:{version}-python3",
        "sparkVersion": version,
        "mainApplicationFile": DRIVER_FILE,
        "arguments": [json.dumps(context, sort_keys=True, separators=(",", ":"))],
        "restartPolicy": {"type": "Never"},
        "timeToLiveSeconds": TTL_SECONDS,
    }
    if spark_conf:
        spec["sparkConf"] = dict(sorted(spark_conf.items()))
    deps: dict[str, Any] = {}
    maven = settings.get("maven_libraries") or []
    coords = sorted(packages | {m if isinstance(m, str) else m["coordinates"] for m in maven})
    repos = sorted({m["repo"] for m in maven if isinstance(m, dict) and m.get("repo")})
    excluded = sorted({e for m in maven if isinstance(m, dict) for e in m.get("exclusions", [])})
    jars = list(settings.get("jar_libraries") or [])
    eggs = list(settings.get("egg_libraries") or [])
    for key, value in (("packages", coords), ("repositories", repos),
                       ("excludePackages", excluded), ("jars", jars), ("pyFiles", eggs)):
        if value:
            deps[key] = value
    if deps:
        spec["deps"] = deps
    pypi = [p if isinstance(p, str) else p["package"] for p in
            settings.get("pypi_libraries") or []]
    if pypi:
        env = [*env, {"name": "PYTHONPATH", "value": PYLIB_MOUNT}]
    gpu_note = {"kubeline.io/gpus": str(sched.gpus)} if sched.gpus else {}
    driver_env: list[dict[str, Any]] = [*env, {"name": DRIVER_LOG_ENV,
                                               "value": DRIVER_LOG_DEFAULT}]
    spec["driver"] = {**sizing, "labels": pod_labels,
                      "serviceAccount": config.cluster.service_account,
                      "template": _pod_template("spark-kubernetes-driver", sched, driver_env,
                                                pod_labels, True, spec["image"], pypi,
                                                pipeline)}
    executor: dict[str, Any] = {**sizing, "labels": pod_labels,
                                "template": _pod_template("spark-kubernetes-executor", sched,
                                                          env, pod_labels, False,
                                                          spec["image"], pypi, pipeline)}
    if settings.get("min_workers") is not None:
        spec["dynamicAllocation"] = {"enabled": True,
                                     "initialExecutors": int(settings["min_workers"]),
                                     "minExecutors": int(settings["min_workers"]),
                                     "maxExecutors": int(settings["max_workers"]),
                                     "shuffleTrackingEnabled": True}
    else:
        executor["instances"] = int(settings.get("num_workers") or 1)
    spec["executor"] = executor
    timeout = int(settings.get("timeout_seconds") or DEFAULT_TIMEOUT_SECONDS)
    annotations = {"kubeline.io/key": "{{inputs.parameters.key}}",
                   "kubeline.io/step-name": step.name,
                   "kubeline.io/timeout-seconds": str(timeout),
                   "kubeline.io/node-type": str(settings.get("node_type") or DEFAULT_NODE_TYPE),
                   **gpu_note}
    return {"apiVersion": API_VERSION, "kind": "SparkApplication",
            "metadata": {"name": "{{inputs.parameters.app}}", "labels": pod_labels,
                         "annotations": dict(sorted(annotations.items()))},
            "spec": spec}


def _resource(name: str, action: str, manifest: dict[str, Any], labels: dict[str, str],
              params: list[str], **extra: Any) -> Template:
    return Template(
        name=name,
        metadata=Metadata(labels=labels),
        inputs=Inputs(parameters=[Parameter(name=p) for p in params]),
        resource=ResourceTemplate(action=action, manifest=dump(manifest), **extra.pop(
            "resource", {})),
        **extra,
    )


def spark_templates(step: Step, dag_name: str, graph: PipelineGraph, config: WorkspaceConfig,
                    labels: dict[str, str], pipeline: str) -> list[Template]:
    """The DAG template of a Spark step and its submit / wait / delete resource templates."""
    names = SparkNames(dag_name)
    app = spark_application(step, graph, config, labels, pipeline)
    timeout = int(app["metadata"]["annotations"]["kubeline.io/timeout-seconds"])
    ref = {"apiVersion": API_VERSION, "kind": "SparkApplication",
           "metadata": {"name": "{{inputs.parameters.app}}"}}
    run_args = Arguments(parameters=[Parameter(name="app", value=app_name_expression(step)),
                                     Parameter(name="key", value=key_expression(step))])
    name_arg = Arguments(parameters=[Parameter(name="app", value=app_name_expression(step))])
    dag = Template(
        name=names.dag,
        inputs=Inputs(parameters=[Parameter(name="step", default=step.id),
                                  Parameter(name="upstream", default="")]),
        outputs=Outputs(parameters=[Parameter(name="key", value_from=ValueFrom(
            parameter="{{tasks.submit.outputs.parameters.key}}"))]),
        dag=DAGTemplate(target="wait delete", tasks=[
            DAGTask(name="submit", template=names.submit, arguments=run_args),
            DAGTask(name="wait", template=names.wait, depends="submit", arguments=name_arg),
            DAGTask(name="delete", template=names.delete, arguments=name_arg,
                    depends="submit.Failed || submit.Errored || wait.Failed || wait.Errored"),
        ]),
    )
    submit = _resource(
        names.submit, "create", app, labels, ["app", "key"],
        resource={"success_condition": f"{STATE} in ({RUNNING_STATES})",
                  "failure_condition": f"{STATE} in ({FAILURE_STATES})"},
        active_deadline_seconds=str(PENDING_DEADLINE_SECONDS),
        outputs=Outputs(parameters=[Parameter(name="key", value_from=ValueFrom(
            json_path="{.metadata.annotations.kubeline\\.io/key}"))]))
    wait = _resource(
        names.wait, "get", ref, labels, ["app"],
        resource={"success_condition": f"{STATE} in ({SUCCESS_STATES})",
                  "failure_condition": f"{STATE} in ({FAILURE_STATES})"},
        active_deadline_seconds=str(timeout))
    delete = _resource(names.delete, "delete", ref, labels, ["app"])
    return [dag, submit, wait, delete]


def has_spark(graph: PipelineGraph) -> bool:
    return any(s.kind == "spark" for s in graph.steps)
