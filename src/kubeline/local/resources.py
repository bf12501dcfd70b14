"""Resource templates and GPU requests on this machine (no Kubernetes API here).

* A ``create``/``apply`` of a spark-operator SparkApplication becomes a container template
  that runs pyspark's ``spark-submit`` in local mode with the application's main file,
  arguments, Spark conf, dependencies, environment (Secret references resolve as for any
  pod) and volumes (the driver program's ConfigMap); stderr joins stdout, so the node's log
  is the driver's log as a driver pod shows it. The local node then runs it like any
  pod: logs, timeout (the application's ``kubeline.io/timeout-seconds``), retries, outputs.
  Output parameters with ``jsonPath`` read the submitted object.
* ``get`` and ``delete`` of a SparkApplication have nothing to wait for or remove once the
  local run ended: they succeed at once (the ``create`` node already carried the outcome).
* Other kinds cannot run without a cluster; the node errors with a one-line reason.
* A container asking for ``nvidia.com/gpu`` gets ``CUDA_VISIBLE_DEVICES`` for that many of
  the GPUs present; with none, a warning, and the step runs on CPU.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

SPARK_KIND = "SparkApplication"
LOCAL_DATASTORES = "file:///kubeline/datastores/"
DRIVER_LOG_ENV = "KUBELINE_DRIVER_LOG"  # kubeline.compiler.spark.DRIVER_LOG_ENV
GPU_RESOURCE = "nvidia.com/gpu"


class ResourceError(Exception):
    """A resource template the local executor cannot run (the node errors with this)."""


def spark_submit() -> str:
    """pyspark's spark-submit; the ``spark`` extra installs it."""
    try:
        import pyspark
    except ImportError as exc:
        raise ResourceError("SparkApplication steps need pyspark locally: pip install "
                            "'kubeline[spark]' (and Java 17+)") from exc
    path = Path(pyspark.__file__).parent / "bin" / "spark-submit"
    if not path.is_file():
        raise ResourceError(f"pyspark has no bin/spark-submit at {path}")
    return str(path)


def _manifest(tmpl: dict[str, Any]) -> dict[str, Any]:
    resource = tmpl["resource"]
    text = resource.get("manifest")
    if not text:
        raise ResourceError("resource templates need an inline manifest locally "
                            "(manifestFrom is not supported)")
    try:
        obj = yaml.safe_load(str(text))
    except yaml.YAMLError as exc:
        raise ResourceError(f"resource manifest is not valid YAML: "
                            f"{str(exc).splitlines()[0]}") from None
    if not isinstance(obj, dict) or not obj.get("kind"):
        raise ResourceError("resource manifest: Kind and name are both required")
    return obj


def json_path(obj: Any, expr: str) -> str:
    """kubectl's JSONPath for the simple ``{.a.b\\.c}`` form resource outputs use."""
    match = re.fullmatch(r"\{\.(.*)\}", expr.strip())
    if match is None:
        raise ResourceError(f"jsonPath '{expr}' is not supported locally (use {{.a.b}})")
    keys = [k.replace("\\.", ".") for k in re.split(r"(?<!\\)\.", match.group(1))]
    value = obj
    for key in keys:
        if not isinstance(value, dict) or key not in value:
            raise ResourceError(f"jsonPath '{expr}' finds nothing in the submitted object")
        value = value[key]
    return value if isinstance(value, str) else yaml.safe_dump(value).strip()


def _outputs(tmpl: dict[str, Any], obj: dict[str, Any]) -> dict[str, Any]:
    params = []
    for p in (tmpl.get("outputs") or {}).get("parameters") or []:
        vf = p.get("valueFrom") or {}
        if "jsonPath" in vf:
            params.append({"name": p["name"], "value": json_path(obj, str(vf["jsonPath"]))})
        elif "jqFilter" in vf:
            raise ResourceError(f"output parameter '{p['name']}': jqFilter is not supported "
                                "locally (use jsonPath)")
        else:
            params.append(p)
    return {"parameters": params} if params else {}


def _noop(tmpl: dict[str, Any], message: str, obj: dict[str, Any]) -> dict[str, Any]:
    base = {k: v for k, v in tmpl.items() if k not in ("resource", "outputs")}
    return {**base, "outputs": _outputs(tmpl, obj),
            "container": {"image": "local", "command": ["python3", "-c",
                                                        f"print({message!r})"]}}


def _conf_args(spec: dict[str, Any]) -> list[str]:
    args: list[str] = []
    conf = {"spark.ui.enabled": "false", "spark.ui.showConsoleProgress": "false",
            **{str(k): str(v) for k, v in (spec.get("sparkConf") or {}).items()}}
    for key, value in sorted(conf.items()):
        args += ["--conf", f"{key}={value}"]
    deps = spec.get("deps") or {}
    for field, flag in (("packages", "--packages"), ("repositories", "--repositories"),
                        ("excludePackages", "--exclude-packages"), ("jars", "--jars"),
                        ("pyFiles", "--py-files"), ("files", "--files"),
                        ("archives", "--archives")):
        if deps.get(field):
            args += [flag, ",".join(str(x) for x in deps[field])]
    return args


def _local_uri(uri: str) -> str:
    return uri[len("local://"):] if uri.startswith("local://") else uri


def _cores(spec: dict[str, Any]) -> int:
    executor = spec.get("executor") or {}
    dyn = spec.get("dynamicAllocation") or {}
    count = int(dyn.get("maxExecutors") or executor.get("instances") or 1)
    wanted = max(1, count * int(executor.get("cores") or 1))
    return max(1, min(os.cpu_count() or 1, wanted))


def _spark_container(tmpl: dict[str, Any], obj: dict[str, Any],
                     datastores_root: Path) -> dict[str, Any]:
    spec = obj.get("spec") or {}
    name = str((obj.get("metadata") or {}).get("name") or "spark")
    driver = spec.get("driver") or {}
    template = (driver.get("template") or {}).get("spec") or {}
    containers = template.get("containers") or [{}]
    main = dict(containers[0])
    root = datastores_root.absolute().as_uri().rstrip("/") + "/"
    arguments = [str(a).replace(LOCAL_DATASTORES, root) for a in spec.get("arguments") or []]
    argv = [spark_submit(), "--master", f"local[{_cores(spec)}]", "--name", name,
            *_conf_args(spec)]
    if spec.get("mainClass"):
        argv += ["--class", str(spec["mainClass"])]
    argv += [_local_uri(str(spec["mainApplicationFile"])), *arguments]
    # the driver log file (log4j appends to it): one per application, so that runs without
    # bubblewrap's private /tmp never share one
    env = [*(e for e in main.get("env") or [] if e.get("name") != DRIVER_LOG_ENV),
           {"name": DRIVER_LOG_ENV, "value": f"/tmp/kubeline-driver-{name}.log"},
           {"name": "PYSPARK_PYTHON", "value": sys.executable},
           {"name": "PYSPARK_DRIVER_PYTHON", "value": sys.executable}]
    # one stream, as a driver pod's log has it: Spark's log4j (stderr) and the program's
    # output (stdout) interleaved as the driver emits them
    command = ["/bin/sh", "-c", 'exec "$0" "$@" 2>&1', *argv]
    container = {"image": str(spec.get("image", "")), "command": command, "env": env}
    if main.get("volumeMounts"):
        container["volumeMounts"] = main["volumeMounts"]
    if main.get("resources"):
        container["resources"] = main["resources"]
    base = {k: v for k, v in tmpl.items()
            if k not in ("resource", "outputs", "activeDeadlineSeconds", "timeout")}
    converted: dict[str, Any] = {**base, "outputs": _outputs(tmpl, obj), "container": container}
    timeout = ((obj.get("metadata") or {}).get("annotations") or {}).get(
        "kubeline.io/timeout-seconds")
    if timeout:
        converted["activeDeadlineSeconds"] = int(timeout)
    if template.get("volumes"):
        converted["volumes"] = [*(tmpl.get("volumes") or []), *template["volumes"]]
    if template.get("initContainers"):
        converted["initContainers"] = template["initContainers"]
    return converted


def as_container(tmpl: dict[str, Any], datastores_root: Path) -> dict[str, Any]:
    """The container template that does locally what a resource template does on a cluster.
    Raises ResourceError when there is no local meaning."""
    obj = _manifest(tmpl)
    action = str(tmpl["resource"].get("action", ""))
    kind = str(obj.get("kind"))
    if kind != SPARK_KIND:
        raise ResourceError(f"resource templates run locally only for {SPARK_KIND} "
                            f"(this one {action}s a {kind}); run it on a cluster")
    if action in ("create", "apply"):
        return _spark_container(tmpl, obj, datastores_root)
    if action == "get":
        return _noop(tmpl, "kubeline: the SparkApplication ran to its end when it was "
                           "created (local mode)", obj)
    if action == "delete":
        return _noop(tmpl, "kubeline: nothing to delete locally: the local Spark run ended",
                     obj)
    raise ResourceError(f"resource action '{action}' on a {SPARK_KIND} is not supported "
                        "locally (use create, apply, get or delete)")


@lru_cache(maxsize=1)
def gpus_present() -> tuple[str, ...]:
    """Indices of the NVIDIA GPUs this machine has (respecting CUDA_VISIBLE_DEVICES)."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        return tuple(v for v in visible.split(",") if v.strip() and v.strip() != "-1")
    proc = Path("/proc/driver/nvidia/gpus")
    if proc.is_dir():
        return tuple(str(i) for i in range(len(list(proc.iterdir()))))
    try:
        out = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True,
                             timeout=10, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return ()
    return tuple(str(i) for i, line in enumerate(out.splitlines()) if line.startswith("GPU "))


def gpu_request(tmpl: dict[str, Any]) -> int:
    main = tmpl.get("container") or tmpl.get("script") or {}
    limits = (main.get("resources") or {}).get("limits") or {}
    try:
        return int(str(limits.get(GPU_RESOURCE, "0")))
    except ValueError:
        return 0


def gpu_env(tmpl: dict[str, Any]) -> tuple[dict[str, str], str]:
    """CUDA_VISIBLE_DEVICES for a pod asking for GPUs, and a warning ('' when none)."""
    wanted = gpu_request(tmpl)
    if wanted <= 0:
        return {}, ""
    present = gpus_present()
    if not present:
        return {"CUDA_VISIBLE_DEVICES": ""}, (
            f"kubeline: warning: the step asks for {wanted} GPU(s) ({GPU_RESOURCE}) but this "
            "machine has none; it runs on CPU (CUDA_VISIBLE_DEVICES is empty)")
    chosen = present[:wanted]
    warning = "" if len(chosen) == wanted else (
        f"kubeline: warning: the step asks for {wanted} GPU(s) but this machine has "
        f"{len(present)}; it gets {','.join(chosen)}")
    return {"CUDA_VISIBLE_DEVICES": ",".join(chosen)}, warning


def prepare_pod(tmpl: dict[str, Any], datastores_root: Path
                ) -> tuple[dict[str, Any], dict[str, str], str]:
    """What the executor runs for a pod-like template: resource templates as containers,
    plus GPU environment and its warning. Raises ResourceError (the node errors)."""
    if "resource" in tmpl:
        tmpl = as_container(tmpl, datastores_root)
    env, warning = gpu_env(tmpl)
    return tmpl, env, warning
