"""The driver program survives whatever a Spark script does at its end (real Spark, pyspark's
spark-submit, Java 17).

A matrix of script endings as spark-submit scripts and Databricks notebooks write them:
``spark.stop()``, ``sys.exit``, ``os._exit``, their own SparkContext or session, overwriting
outputs, failing after stopping, being killed. Every case runs the driver program shipped in
the ConfigMap with a context as the compiler writes it; one spark-submit (one JVM) runs them
all in turn (tests/spark/endings_harness.py), each with its own application process and
SparkContext. A correct script publishes its outputs (completion record, sha256 of every
file) and succeeds; a failing one fails with a one-line error, and publishes nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from kubeline.compiler.spark import driver_source
from kubeline.local.resources import spark_submit

pytest.importorskip("pyspark", reason="the spark extra (pyspark) is part of the test extra")
# the first test waits for the whole matrix (one JVM, 16 applications): minutes on a busy
# 2-core machine, beyond the suite's 300 s default
pytestmark = pytest.mark.timeout(1800)


RUN = "run-endings"
SECRET_ENV = "KUBELINE_TEST_STORE_SECRET"
SECRET_KEY = "fs.kubeline.test.secret.key"
SECRET = "s3cr3t-value-never-logged"

PRELUDE = """\
import argparse, os, sys
from pyspark.sql import SparkSession
parser = argparse.ArgumentParser()
parser.add_argument('--words')
parser.add_argument('--out')
args = parser.parse_args()
"""
WRITE = """\
spark = SparkSession.builder.getOrCreate()
frame = spark.read.text(args.words)
frame.write.mode('overwrite').csv(args.out)
print('kubeline-test: wrote', frame.count(), 'lines', flush=True)
"""
OWN_CONTEXT = f"""\
from pyspark import SparkConf, SparkContext
sc = SparkContext(conf=SparkConf().setAppName('my-own-app'))
spark = SparkSession(sc)
assert sc.appName == 'my-own-app'
hadoop = sc._jsc.hadoopConfiguration()
assert hadoop.get('{SECRET_KEY}') == os.environ['{SECRET_ENV}'], 'no credentials'
spark.read.text(args.words).write.mode('overwrite').csv(args.out)
print('kubeline-test: wrote with my own context', flush=True)
"""
OVERWRITE = """\
spark = SparkSession.builder.getOrCreate()
frame = spark.read.text(args.words)
frame.coalesce(1).write.mode('overwrite').json(args.out)
frame.repartition(2).write.mode('overwrite').csv(args.out)
print('kubeline-test: wrote twice', flush=True)
"""
NOTEBOOK = """\
# Databricks notebook source
words = dbutils.widgets.get('words')
out = dbutils.widgets.get('out')

# COMMAND ----------
spark.read.text(words).write.mode('overwrite').csv(out)
print('kubeline-test: the notebook wrote', flush=True)

# COMMAND ----------
spark.stop()
"""


@dataclass(frozen=True)
class Ending:
    """A script ending and what the step must do with it."""

    body: str
    error: str | None = None  # None: the step succeeds and publishes its output
    code: int = 0
    app: str = "python"


ENDINGS: dict[str, Ending] = {
    "falls-off-the-end": Ending(PRELUDE + WRITE),
    "spark-stop": Ending(PRELUDE + WRITE + "spark.stop()\n"),
    "sys-exit-0": Ending(PRELUDE + WRITE + "sys.exit(0)\n"),
    "stop-then-sys-exit": Ending(PRELUDE + WRITE + "spark.stop()\nsys.exit()\n"),
    "own-spark-context-stopped": Ending(PRELUDE + OWN_CONTEXT + "sc.stop()\n"),
    "own-spark-context-left-running": Ending(PRELUDE + OWN_CONTEXT),
    "builder-with-another-app-name": Ending(PRELUDE + WRITE.replace(
        "SparkSession.builder", "SparkSession.builder.appName('another-name')")),
    "overwrite-replaces-what-was-there": Ending(PRELUDE + OVERWRITE + "spark.stop()\n"),
    "os-exit-0": Ending(PRELUDE + WRITE + "os._exit(0)\n"),
    "notebook-stops-spark": Ending(NOTEBOOK, app="notebook"),
    "sys-exit-1": Ending(PRELUDE + WRITE + "sys.exit(1)\n", "the script exited with code 1",
                         1),
    "raises-after-stopping": Ending(
        PRELUDE + WRITE + "spark.stop()\nraise RuntimeError('failed after stopping')\n",
        "RuntimeError: failed after stopping", 1),
    "exits-with-a-message": Ending(PRELUDE + "sys.exit('no input rows')\n",
                                   "the script exited: no input rows", 1),
    "os-exit-3": Ending(PRELUDE + WRITE + "os._exit(3)\n", "the script exited with code 3", 3),
    "killed": Ending(PRELUDE + "import signal\nos.kill(os.getpid(), signal.SIGKILL)\n",
                     "the application was killed by SIGKILL", 137),
    "exit-status-wraps-to-zero": Ending(PRELUDE + "sys.exit(256)\n",
                                        "the script exited with code 256", 1),
}


@dataclass(frozen=True)
class Matrix:
    """Where the harness ran: the datastore folder and the harness's own output."""

    store: Path
    output: str


def _context(name: str, ending: Ending, store_uri: str, scripts: Path) -> dict[str, Any]:
    script = scripts / (f"{name}.py")
    script.write_text(ending.body, encoding="utf-8")
    return {
        "run": RUN, "workflow": "endings", "step": name, "name": name, "key": f"key-{name}",
        "app": ending.app, "script": "", "script_uri": script.as_uri(), "main_class": "",
        "snapshot": "", "default": "ws",
        "stores": {"ws": {"uri": store_uri, "secrets": {SECRET_KEY: SECRET_ENV}}},
        "inputs": {"words": {"source": "datastore", "store": "ws", "path": "input/words.txt",
                             "producer": None}},
        "outputs": {"out": {"store": "ws", "location": f"kubeline/runs/{RUN}/spark/{name}/out"}},
        "args": (["--words", {"data": "words"}, "--out", {"data": "out"}]
                 if ending.app == "python" else []),
        "widgets": {},
    }


@pytest.fixture(scope="module")
def matrix(tmp_path_factory: pytest.TempPathFactory) -> Matrix:
    root = tmp_path_factory.mktemp("endings")
    store = root / "store"
    (store / "input").mkdir(parents=True)
    (store / "input" / "words.txt").write_text("".join(f"word {i}\n" for i in range(40)),
                                               encoding="utf-8")
    stale = store / "kubeline" / "runs" / RUN / "spark" / "overwrite-replaces-what-was-there"
    (stale / "out").mkdir(parents=True)
    (stale / "out" / "stale-part.csv").write_text("from an earlier attempt\n")
    scripts = root / "scripts"
    scripts.mkdir()
    driver = root / "configmap" / "driver.py"
    driver.parent.mkdir()
    driver.write_text(driver_source(), encoding="utf-8")
    cases = {name: _context(name, ending, store.as_uri(), scripts)
             for name, ending in ENDINGS.items()}
    (root / "cases.json").write_text(json.dumps(cases), encoding="utf-8")
    harness = Path(__file__).with_name("endings_harness.py")
    env = {**os.environ, "PYSPARK_PYTHON": sys.executable,
           "PYSPARK_DRIVER_PYTHON": sys.executable, SECRET_ENV: SECRET}
    done = subprocess.run(
        [spark_submit(), "--master", "local[1]", "--conf", "spark.ui.enabled=false",
         "--conf", "spark.ui.showConsoleProgress=false", "--conf",
         "spark.sql.shuffle.partitions=2", str(harness), str(root / "cases.json"),
         str(driver)], cwd=root, env=env, capture_output=True, text=True, timeout=1800,
        check=False)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-5000:]
    for name in ENDINGS:
        assert (root / f"{name}.code").is_file(), f"{name} did not finish:\n{output[-5000:]}"
    return Matrix(store=store, output=output)


def _step(matrix: Matrix, name: str) -> tuple[dict[str, Any], str]:
    folder = matrix.store / "kubeline" / "runs" / RUN / "steps" / name
    result = json.loads((folder / "result.json").read_text(encoding="utf-8"))
    return result, (folder / "driver.log").read_text(encoding="utf-8")


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("name", [n for n, e in ENDINGS.items() if e.error is None])
def test_a_correct_script_publishes_its_outputs(matrix: Matrix, name: str) -> None:
    result, log = _step(matrix, name)
    assert (result["status"], result["exit_code"], result["error"]) == ("succeeded", 0, None), \
        log[-3000:]
    record_path = matrix.store / "kubeline" / "outputs" / f"key-{name}" / "out.complete.json"
    record = json.loads(record_path.read_text(encoding="utf-8"))
    out = matrix.store / Path(*record["location"].split("/"))
    written = sorted(p.name for p in out.iterdir() if not p.name.startswith(("_", ".")))
    assert written and [f["path"] for f in record["files"]] == written
    assert "stale-part.csv" not in written
    for entry in record["files"]:
        assert entry["sha256"] == _sha256(out / entry["path"])
        assert entry["size"] == (out / entry["path"]).stat().st_size
    assert sum(len(p.read_text().splitlines()) for p in out.glob("part-*")) == 40
    assert result["outputs"]["out"]["files"] == len(written)
    assert (matrix.store / "kubeline" / "runs" / RUN / "keys" / name).read_text() == \
        f"key-{name}"
    assert "kubeline-test: " in log  # the application's output reached the driver log
    assert SECRET not in log


@pytest.mark.parametrize("name", [n for n, e in ENDINGS.items() if e.error is not None])
def test_a_failing_script_fails_clearly_and_publishes_nothing(matrix: Matrix,
                                                              name: str) -> None:
    ending = ENDINGS[name]
    result, log = _step(matrix, name)
    assert (result["status"], result["exit_code"], result["error"]) == (
        "failed", ending.code, ending.error), log[-3000:]
    assert not (matrix.store / "kubeline" / "outputs" / f"key-{name}").exists()
    assert f"kubeline: error: {ending.error}" in matrix.output  # the driver's console
    if "raise" in ending.body:
        assert "Traceback" in log and "RuntimeError: failed after stopping" in log


def test_the_secret_reaches_the_apps_context_but_not_the_logs(matrix: Matrix) -> None:
    """The own-context case asserted the credentials inside the app; nothing printed them."""
    result, _ = _step(matrix, "own-spark-context-stopped")
    assert result["status"] == "succeeded"
    assert SECRET not in matrix.output
