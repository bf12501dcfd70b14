"""The driver program of every kubeline SparkApplication (shipped in a ConfigMap).

It needs only the standard library and pyspark, because it runs in a Spark image, not a
kubeline one. Argument: one JSON "context" the compiler writes (docs/spark.md). It

1. attaches to the driver JVM's py4j gateway (no SparkContext yet), and sets datastore
   credentials from environment variables (Secret references) into its own Hadoop
   configuration and, as ``spark.hadoop.*`` JVM properties, into every SparkContext the
   step creates later;
2. fetches the step's source snapshot and resolves every input to a datastore URI (an
   upstream step's output through its completion record);
3. runs the Python script, JAR main class, notebook or Spark SQL file in a child
   interpreter attached to the same JVM, so that whatever the application does at its end
   (``spark.stop()``, ``sys.exit``, ``os._exit``, its own SparkContext) cannot take the
   commit below with it; its output is copied to the driver log;
4. on success writes each output's completion record (files with size and sha256, hashed by
   Spark itself, in the context the application left running or a new one), so downstream
   kubeline steps read the outputs as they read any other;
5. always writes the driver log (with Spark's own log4j lines), the error message and a
   step result to the default datastore under ``kubeline/runs/<run>/steps/<step>/``, and
   the error to the pod's termination log (the operator can show it in the application
   status).
"""

from __future__ import annotations

import codecs
import io
import json
import os
import runpy
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
import traceback
from typing import Any, cast

RECORD_SUFFIX = ".complete.json"
DRIVER_LOG_ENV = "KUBELINE_DRIVER_LOG"  # the driver log file, shared with the JVM's log4j
APP_FLAG = "--kubeline-app"  # driver.py --kubeline-app PLAN: the child that runs the app
# Spark redacts settings whose names match spark.redaction.regex; Azure account keys'
# names do not match its default, so their pattern is added
REDACT_AZURE_KEYS = r"fs\.azure\.account\.key"
DEFAULT_REDACTION = r"(?i)secret|password|token|access[.]?key"


class _Tee(io.TextIOBase):
    """Write to the original stream and to the log file."""

    def __init__(self, stream: Any, log: Any) -> None:
        self.stream = stream
        self.log = log

    def write(self, text: str) -> int:
        self.stream.write(text)
        self.log.write(text)
        return len(text)

    def flush(self) -> None:
        self.stream.flush()
        self.log.flush()


class Driver:
    """One run of one Spark step."""

    def __init__(self, ctx: dict[str, Any]) -> None:
        from pyspark import SparkConf, SparkContext

        self.ctx = ctx
        SparkContext._ensure_initialized()  # the gateway only: the app creates the context
        self.jvm: Any = cast(Any, SparkContext._jvm)
        self.hconf = self.jvm.org.apache.spark.deploy.SparkHadoopUtil.get().newConfiguration(
            SparkConf()._jconf)
        self._credentials()
        self.spark: Any = None

    def stop(self) -> None:
        """Stop the commit's session, or a context the failed application left running (as
        spark-submit does on Kubernetes), so the JVM ends with this program."""
        if self.spark is not None:
            self.spark.stop()
            return
        try:
            scala_object = self.jvm.java.lang.Class.forName(
                "org.apache.spark.SparkContext$").getField("MODULE$").get(None)
            active = scala_object.getActive()
            if active.isDefined():
                active.get().stop()
        except Exception as exc:  # a Spark without SparkContext.getActive: the JVM's exit stops it
            print(f"kubeline: could not stop the application's SparkContext ({exc})"
                  .splitlines()[0], file=sys.stderr)

    # -- datastores ---------------------------------------------------------------------------
    def _credentials(self) -> None:
        """Credentials into this program's Hadoop configuration, and as spark.hadoop.* JVM
        properties into every SparkContext created from now on (the app's, the commit's)."""
        props = self.jvm.java.lang.System
        for store in self.ctx["stores"].values():
            for conf_key, env_name in sorted(store.get("secrets", {}).items()):
                value = os.environ.get(env_name)
                if value:
                    self.hconf.set(conf_key, value)
                    props.setProperty(f"spark.hadoop.{conf_key}", value)
        redaction = str(props.getProperty("spark.redaction.regex") or DEFAULT_REDACTION)
        if REDACT_AZURE_KEYS not in redaction:
            props.setProperty("spark.redaction.regex", f"{redaction}|{REDACT_AZURE_KEYS}")

    def session(self) -> Any:
        """A SparkSession for the commit: the context the app left running (its executors
        are up), else a new one; both get the credentials from the JVM properties."""
        if self.spark is None:
            from pyspark import SparkContext
            from pyspark.sql import SparkSession

            spark_pkg = self.jvm.org.apache.spark
            SparkContext(jsc=spark_pkg.api.java.JavaSparkContext(
                spark_pkg.SparkContext.getOrCreate()))
            self.spark = SparkSession.builder.getOrCreate()
        return self.spark

    def uri(self, store: str, path: str) -> str:
        base = self.ctx["stores"][store]["uri"].rstrip("/")
        if ".." in path.split("/") or "\\" in path or "\x00" in path:
            # kubeline.datapaths' rule (this driver cannot import kubeline): Hadoop's Path
            # resolves '..', so a hand-written context could otherwise leave the datastore
            raise ValueError(f"datastore '{store}': path {path!r} could leave the datastore")
        return f"{base}/{path.strip('/')}" if path.strip("/") else base

    def _fs(self, uri: str) -> tuple[Any, Any]:
        path = self.jvm.org.apache.hadoop.fs.Path(uri)
        return path.getFileSystem(self.hconf), path

    def exists(self, uri: str) -> bool:
        fs, path = self._fs(uri)
        return bool(fs.exists(path))

    def read_text(self, uri: str) -> str:
        fs, path = self._fs(uri)
        stream = fs.open(path)
        try:
            reader = self.jvm.java.io.BufferedReader(
                self.jvm.java.io.InputStreamReader(stream, "UTF-8"))
            lines = []
            while True:
                line = reader.readLine()
                if line is None:
                    break
                lines.append(line)
            return "\n".join(lines)
        finally:
            stream.close()

    def write_bytes(self, uri: str, data: bytes, overwrite: bool = True) -> bool:
        """Write an object; with overwrite=False a present object is kept (returns False)."""
        fs, path = self._fs(uri)
        if not overwrite and fs.exists(path):
            return False
        fs.setWriteChecksum(False)  # no .crc side files on local datastores
        stream = fs.create(path, overwrite)
        try:
            stream.write(bytearray(data))
        finally:
            stream.close()
        return True

    def get_file(self, uri: str, local: str) -> None:
        fs, path = self._fs(uri)
        fs.copyToLocalFile(False, path, self.jvm.org.apache.hadoop.fs.Path(local), True)

    # -- inputs -------------------------------------------------------------------------------
    def producer_key(self, producer: str) -> str:
        record = self.uri(self.ctx["default"], f"kubeline/runs/{self.ctx['run']}/keys/{producer}")
        if not self.exists(record):
            raise RuntimeError(f"kubeline: producer step '{producer}' has no key in this run "
                               f"({record}); it did not run")
        return self.read_text(record).strip()

    def resolve(self, name: str) -> str:
        """The URI of an input or output, by data name."""
        if name in self.ctx["outputs"]:
            out = self.ctx["outputs"][name]
            return self.uri(out["store"], out["location"])
        item = self.ctx["inputs"][name]
        if item["source"] == "datastore":
            return self.uri(item["store"], item["path"])
        key = self.producer_key(item["producer"])
        record_uri = self.uri(item["store"], f"kubeline/outputs/{key}/{name}{RECORD_SUFFIX}")
        if not self.exists(record_uri):
            raise RuntimeError(f"kubeline: upstream output not committed: output '{name}' of "
                               f"step '{item['producer']}' has no completion record")
        record = json.loads(self.read_text(record_uri))
        return self.uri(item["store"], record["location"])

    def value(self, arg: Any) -> str:
        return self.resolve(arg["data"]) if isinstance(arg, dict) else str(arg)

    def snapshot(self, dest: str) -> None:
        snap = self.ctx.get("snapshot")
        if not snap:
            return
        local = os.path.join(tempfile.mkdtemp(prefix="kubeline-snap-"), "src.tar.gz")
        self.get_file(self.uri(self.ctx["default"], f"kubeline/snapshots/{snap}.tar.gz"), local)
        with tarfile.open(local, "r:gz") as archive:
            try:
                archive.extractall(dest, filter="data")
            except TypeError:  # Python without extraction filters (before 3.10.12)
                archive.extractall(dest)

    # -- running ------------------------------------------------------------------------------
    def plan(self, src: str) -> dict[str, Any]:
        """What the child runs, with every data name resolved to its URI."""
        app = self.ctx["app"]
        if app not in ("python", "jar", "notebook", "sql"):
            raise RuntimeError(f"kubeline: unknown Spark application kind '{app}'")
        widgets = {k: self.value(v) for k, v in self.ctx.get("widgets", {}).items()}
        for name in [*self.ctx["inputs"], *self.ctx["outputs"]]:
            widgets.setdefault(name, self.resolve(name))
        plan: dict[str, Any] = {"app": app, "args": [self.value(a) for a in
                                                     self.ctx.get("args", [])],
                                "widgets": widgets, "main_class": self.ctx.get("main_class")}
        script = self.ctx.get("script_uri") or os.path.join(src, self.ctx.get("script") or "")
        if "://" in script:  # python_script_path: a URI Spark can read
            local = os.path.join(src, os.path.basename(script))
            self.get_file(script, local)
            script = local
        plan["script"] = script
        return plan

    def run_app(self, src: str) -> tuple[int, str | None]:
        """Run the application in a child interpreter on this JVM; its exit code and error
        (None on success). Its output is copied here line by line, so it reaches the log."""
        folder = tempfile.mkdtemp(prefix="kubeline-app-")
        plan_path, error_path = os.path.join(folder, "plan.json"), os.path.join(folder, "error")
        with open(plan_path, "w", encoding="utf-8") as handle:
            json.dump({**self.plan(src), "error_file": error_path}, handle)
        child = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), APP_FLAG, plan_path], cwd=src,
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"})
        assert child.stdout is not None
        decoder = codecs.getincrementaldecoder("utf-8")("replace")
        while chunk := os.read(child.stdout.fileno(), 65536):
            sys.stdout.write(decoder.decode(chunk))
            sys.stdout.flush()
        sys.stdout.write(decoder.decode(b"", final=True))
        code = child.wait()
        if code < 0:  # killed by signal N: 128+N, as a shell says
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = f"signal {-code}"
            return 128 - code, f"the application was killed by {name}"
        if os.path.exists(error_path):  # also when the status wrapped to 0 (sys.exit(256))
            with open(error_path, encoding="utf-8") as handle:
                error = handle.read().strip()
            return code or 1, error or f"the script exited with code {code}"
        if code == 0:
            return 0, None
        return code, f"the script exited with code {code}"

    # -- outputs ------------------------------------------------------------------------------
    def commit(self) -> dict[str, Any]:
        summaries: dict[str, Any] = {}
        for name, out in sorted(self.ctx["outputs"].items()):
            uri = self.uri(out["store"], out["location"])
            fs, path = self._fs(uri)
            if not fs.exists(path):
                fs.mkdirs(path)
                print(f"kubeline: output '{name}' was not written by the step; committing it "
                      "as an empty folder", file=sys.stderr)
            kind = "dir" if fs.getFileStatus(path).isDirectory() else "file"
            files = self._hash_files(uri, kind)
            record = {"version": 1, "output": name, "kind": kind, "key": self.ctx["key"],
                      "datastore": out["store"], "location": out["location"], "files": files,
                      "size": sum(f["size"] for f in files), "run_id": self.ctx["run"],
                      "step_id": self.ctx["step"]}
            body = json.dumps(record, sort_keys=True, indent=1).encode("utf-8")
            self.write_bytes(self.uri(out["store"], f"kubeline/outputs/{self.ctx['key']}/"
                                                    f"{name}{RECORD_SUFFIX}"), body, False)
            summaries[name] = {"datastore": out["store"], "location": out["location"],
                               "kind": kind, "size": record["size"], "files": len(files),
                               "run_id": self.ctx["run"], "step_id": self.ctx["step"]}
        return summaries

    def _hash_files(self, uri: str, kind: str) -> list[dict[str, Any]]:
        """Size and sha256 of every (non-hidden) file, computed by Spark's executors."""
        from pyspark.sql import functions as F

        frame = (self.session().read.format("binaryFile").option("recursiveFileLookup", "true")
                 .load(uri).select("path", "length", F.sha2("content", 256).alias("sha")))
        fs, path = self._fs(uri)
        prefix = str(fs.makeQualified(path).toString()).rstrip("/")
        files = []
        for row in frame.collect():
            full = str(row["path"])
            if not full.startswith(prefix):
                raise RuntimeError(f"kubeline: {full} is not under output {prefix}")
            rel = "" if kind == "file" else full[len(prefix):].lstrip("/")
            files.append({"path": rel, "size": int(row["length"]), "sha256": str(row["sha"])})
        return sorted(files, key=lambda f: f["path"])

    def publish(self, result: dict[str, Any], log_path: str) -> None:
        base = f"kubeline/runs/{self.ctx['run']}/steps/{self.ctx['step']}"
        default = self.ctx["default"]
        with open(log_path, "rb") as handle:
            log = handle.read()
        self.write_bytes(self.uri(default, f"{base}/driver.log"), log)
        self.write_bytes(self.uri(default, f"{base}/stdout.txt"), log)
        self.write_bytes(self.uri(default, f"{base}/result.json"),
                         json.dumps(result, sort_keys=True, indent=1).encode("utf-8"))


def _widgets_class(values: dict[str, str]) -> Any:
    class Widgets:
        """dbutils.widgets for a parameterised notebook: values come from the step."""

        def get(self, name: str) -> str:
            if name not in values:
                raise ValueError(f"notebook widget '{name}' has no value (pass it in "
                                 "notebook_params)")
            return values[name]

        def text(self, name: str, default: str = "", label: str = "") -> None:
            values.setdefault(name, default)

        dropdown = combobox = multiselect = text

        def getArgument(self, name: str, default: str = "") -> str:
            return values.get(name, default)

    return Widgets()


def notebook_cells(path: str) -> list[str]:
    """Code cells of a .ipynb file, or of a Databricks source notebook (.py)."""
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    if path.endswith(".ipynb"):
        cells = json.loads(text).get("cells", [])
        return ["".join(c.get("source", "")) for c in cells if c.get("cell_type") == "code"]
    text = text.removeprefix("# Databricks notebook source\n")
    return [c for c in text.split("# COMMAND ----------") if c.strip()]


def run_notebook(path: str, widgets: dict[str, str], spark: Any) -> None:
    """Run the code cells in one namespace with ``spark`` and ``dbutils.widgets``."""
    class DbUtils:
        pass

    dbutils = DbUtils()
    dbutils.widgets = _widgets_class(dict(widgets))  # type: ignore[attr-defined]
    namespace: dict[str, Any] = {"__name__": "__main__", "spark": spark,
                                 "sc": spark.sparkContext, "dbutils": dbutils,
                                 "getArgument": dbutils.widgets.getArgument}  # type: ignore[attr-defined]
    for index, cell in enumerate(notebook_cells(path)):
        lines = [ln for ln in cell.splitlines() if not ln.lstrip().startswith(("%", "!"))]
        exec(compile("\n".join(lines), f"{path}[cell {index}]", "exec"), namespace)


def sql_statements(text: str, values: dict[str, str]) -> list[str]:
    """Statements of a Spark SQL script with ``${name}`` replaced by parameters and data
    URIs; split on ';' outside quotes; ``--`` comments dropped."""
    for name, value in sorted(values.items(), key=lambda kv: -len(kv[0])):
        text = text.replace("${" + name + "}", value)
    statements: list[str] = []
    current: list[str] = []
    quote = ""
    for line in text.splitlines():
        if not quote and line.lstrip().startswith("--"):
            continue
        for char in line + "\n":
            if quote:
                quote = "" if char == quote else quote
            elif char in ("'", '"', "`"):
                quote = char
            elif char == ";":
                statements.append("".join(current).strip())
                current = []
                continue
            current.append(char)
    statements.append("".join(current).strip())
    return [s for s in statements if s]


def run_sql(path: str, values: dict[str, str], spark: Any) -> None:
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    for statement in sql_statements(text, values):
        print(f"kubeline: sql: {statement.splitlines()[0][:120]}")
        spark.sql(statement).show(truncate=False)


def _termination(message: str) -> None:
    try:
        with open("/dev/termination-log", "w", encoding="utf-8") as handle:
            handle.write(message[-4000:])
    except OSError:
        pass


def _error_line(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}".strip().splitlines()[0][:2000]


def _print_user_traceback(exc: BaseException) -> None:
    """The traceback from the application's first frame on: this program's and runpy's
    frames say nothing to the script's author."""
    tb = exc.__traceback__
    own = (os.path.abspath(__file__), "<frozen runpy>", runpy.__file__)
    while tb is not None and tb.tb_next is not None and tb.tb_frame.f_code.co_filename in own:
        tb = tb.tb_next
    traceback.print_exception(type(exc), exc, tb)


def run_plan(plan: dict[str, Any]) -> None:
    """Run the application as spark-submit would: the script as __main__ with its arguments,
    a JAR's main class through py4j, a notebook or SQL file in a session of its own."""
    app = plan["app"]
    if app == "python":
        sys.argv = [plan["script"], *plan["args"]]
        sys.path.insert(0, os.path.dirname(plan["script"]))
        runpy.run_path(plan["script"], run_name="__main__")
        return
    from pyspark import SparkContext
    from pyspark.sql import SparkSession

    if app == "jar":
        SparkContext._ensure_initialized()
        jvm: Any = SparkContext._jvm
        gateway: Any = SparkContext._gateway
        array = gateway.new_array(jvm.java.lang.String, len(plan["args"]))
        for index, value in enumerate(plan["args"]):
            array[index] = value
        target: Any = jvm
        for part in plan["main_class"].split("."):
            target = getattr(target, part)
        target.main(array)
        return
    spark = SparkSession.builder.getOrCreate()
    if app == "notebook":
        run_notebook(plan["script"], plan["widgets"], spark)
    else:
        run_sql(plan["script"], plan["widgets"], spark)


def app_main(plan_path: str) -> int:
    """The child: run the plan; an error (or a non-zero exit) is also written as one line
    to the plan's error file. os._exit ends this process without either: the parent then
    goes by the exit code alone."""
    with open(plan_path, encoding="utf-8") as handle:
        plan = json.load(handle)
    error, code = None, 0
    try:
        run_plan(plan)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        if code:
            error = f"the script exited with code {code}"
            if not isinstance(exc.code, int):
                print(exc.code, file=sys.stderr)
                error = f"the script exited: {str(exc.code).splitlines()[0][:2000]}"
    except BaseException as exc:
        _print_user_traceback(exc)
        error, code = _error_line(exc), 1
    if error:
        with open(plan["error_file"], "w", encoding="utf-8") as handle:
            handle.write(error)
    sys.stdout.flush()
    sys.stderr.flush()
    return code


def main(argv: list[str]) -> int:
    if len(argv) == 3 and argv[1] == APP_FLAG:
        return app_main(argv[2])
    ctx = json.loads(argv[1])
    started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    # the JVM's log4j appends Spark's own lines to this file too (the SparkApplication's
    # log4j2.properties): the published driver.log holds both, in the order emitted
    log_path = os.environ.get(DRIVER_LOG_ENV) or os.path.join(
        tempfile.mkdtemp(prefix="kubeline-driver-"), "driver.log")
    os.makedirs(os.path.dirname(log_path) or ".", exist_ok=True)
    log = open(log_path, "a", encoding="utf-8", buffering=1)  # noqa: SIM115 - closed below
    out, err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = _Tee(out, log), _Tee(err, log)
    driver: Driver | None = None
    status, code, error, outputs = "failed", 1, None, {}
    try:
        driver = Driver(ctx)
        src = tempfile.mkdtemp(prefix="kubeline-src-")
        driver.snapshot(src)
        os.chdir(src)
        code, error = driver.run_app(src)
        if code == 0:
            outputs = driver.commit()
            status = "succeeded"
    except BaseException as exc:
        traceback.print_exc()
        error = _error_line(exc)
        code = code or 1
    finally:
        sys.stdout, sys.stderr = out, err
        log.close()
    result = {"version": 1, "run_id": ctx["run"], "workflow": ctx.get("workflow", ""),
              "node": "", "step_id": ctx["step"], "step_name": ctx.get("name", ctx["step"]),
              "key": ctx["key"], "status": status, "exit_code": code, "error": error,
              "reused_from": None, "outputs": outputs, "metrics": {}, "tags": {},
              "parent_metrics": {}, "parent_tags": {}, "files": [],
              "timings": {"started": started,
                          "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}}
    if driver is not None:
        try:
            driver.write_bytes(driver.uri(ctx["default"], f"kubeline/runs/{ctx['run']}/keys/"
                                                          f"{ctx['step']}"),
                               ctx["key"].encode("ascii"))
            driver.publish(result, log_path)
        except Exception as exc:
            print(f"kubeline: could not write the driver log to the datastore: {exc}",
                  file=sys.stderr)
            code = code or 1
    if error:
        print(f"kubeline: error: {error}", file=sys.stderr)
        _termination(error)
    if driver is not None:
        driver.stop()
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv))
