"""Spark steps run locally for real: pyspark's spark-submit in local mode (Java 17).

The checks compare Spark's results with the same computation in plain Python, read what the
driver program left in the datastore (log, result, completion record), and follow a failing
job down its failure path.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from tests.spark.helpers import EXAMPLES, example, kubeline

pytest.importorskip("pyspark", reason="the spark extra (pyspark) is part of the test extra")

STORE = Path(".kubeline") / "datastores" / "workspaceblobstore"


def _words() -> Counter[str]:
    text = "".join(p.read_text(encoding="utf-8").lower()
                   for p in sorted((EXAMPLES / "spark_wordcount" / "data").glob("*.txt")))
    return Counter(w for w in re.split(r"[^a-z']+", text) if w)


def _step_dir(folder: Path, step: str) -> Path:
    (run,) = (folder / STORE / "kubeline" / "runs").iterdir()
    return run / "steps" / step


def _output(folder: Path, step: str, name: str) -> tuple[dict[str, object], Path]:
    result = json.loads((_step_dir(folder, step) / "result.json").read_text())
    summary = result["outputs"][name]
    return result, folder / STORE / Path(*str(summary["location"]).split("/"))


def _run_id(done: subprocess.CompletedProcess[str]) -> str:
    match = re.search(r"^run:\s+(\S+)", done.stdout, re.MULTILINE)
    assert match, done.stdout
    return match.group(1)


def test_wordcount_runs_and_the_next_step_reads_it(tmp_path: Path) -> None:
    """The example's script ends with spark.stop() and sys.exit(0), as spark-submit scripts
    do; its output is still committed and read downstream."""
    folder = example("spark_wordcount", tmp_path)
    assert "spark.stop()\nsys.exit(0)" in (folder / "spark" / "wordcount.py").read_text()
    done = kubeline("run", "pipeline.py", "-p", "min_count=2", cwd=folder)
    assert "phase:   Succeeded" in done.stdout, done.stdout + done.stderr
    # the run history (the example's end-to-end test: tests/e2e/test_examples.py)
    (run,) = json.loads(kubeline("runs", "list", "--json", cwd=folder).stdout)
    assert (run["id"], run["experiment"], run["status"], run["parameters"]) == (
        _run_id(done), "spark_wordcount", "Finished", {"min_count": "2"})
    shown = json.loads(kubeline("runs", "show", run["id"], "--json", cwd=folder).stdout)
    steps = {s["name"]: s for s in shown["steps"]}
    assert list(steps) == ["count-words", "top-words"]
    assert all((s["status"], s["exit_code"], s["attempts"]) == ("Finished", 0, 1)
               for s in steps.values())
    expected = {w: c for w, c in _words().items() if c >= 2}
    _, report_path = _output(folder, "top-words", "report")
    report = json.loads(report_path.read_text())
    assert report["distinct"] == len(expected)
    top = sorted(expected.items(), key=lambda kv: (-kv[1], kv[0]))[:5]
    assert [(t["word"], t["count"]) for t in report["top"]] == top
    spark_result, counts = _output(folder, "count-words", "counts")
    assert spark_result["status"] == "succeeded" and spark_result["error"] is None
    record = json.loads((folder / STORE / "kubeline" / "outputs" / str(spark_result["key"])
                         / "counts.complete.json").read_text())
    assert [f["path"] for f in record["files"]] == [p.name for p in counts.glob("part-*")]
    log = (_step_dir(folder, "count-words") / "driver.log").read_text()
    assert f"{len(expected)} distinct words written to" in log
    # the datastore's driver.log (what outlives a driver pod) has Spark's own log4j lines
    # too, in the order the driver emitted them
    started = log.find("SparkContext: Running Spark version")
    assert 0 <= started < log.find(f"{len(expected)} distinct words written to"), log[:3000]
    assert "SparkContext: Successfully stopped SparkContext" in log
    # `runs logs` shows the driver's log: Spark's log4j lines and the script's output, in
    # the order the driver emitted them, not the log of the no-op get/delete pods
    logs = kubeline("runs", "logs", _run_id(done), "count-words", cwd=folder).stdout
    spark_start = logs.find("SparkContext: Running Spark version")
    printed = logs.find(f"{len(expected)} distinct words written to")
    assert 0 <= spark_start < printed, logs[-3000:]
    assert "SparkContext: Successfully stopped SparkContext" in logs[printed:]
    assert "local Spark run" not in logs and "ran to its end" not in logs


def test_failing_job_keeps_its_log_and_error_and_is_deleted(tmp_path: Path) -> None:
    folder = example("spark_wordcount", tmp_path)
    script = folder / "spark" / "wordcount.py"
    script.write_text(script.read_text().replace(
        "counts.orderBy(", "raise ValueError('the input has no header row')\ncounts.orderBy("))
    done = kubeline("run", "pipeline.py", cwd=folder, check=False)
    assert done.returncode == 1
    assert "submit Failed" in done.stderr or "submit Failed" in done.stdout
    out = done.stdout + done.stderr
    assert re.search(r"delete\s+Succeeded", out) and re.search(r"top-words\s+Omitted", out)
    result = json.loads((_step_dir(folder, "count-words") / "result.json").read_text())
    assert result["status"] == "failed"
    assert result["error"] == "ValueError: the input has no header row"
    log = (_step_dir(folder, "count-words") / "driver.log").read_text()
    assert "Traceback" in log and "the input has no header row" in log
    assert "SparkContext: Running Spark version" in log  # Spark's log4j lines reach it too
    run_id = _run_id(done)
    logs = kubeline("runs", "logs", run_id, "count-words", cwd=folder).stdout
    assert "ValueError: the input has no header row" in logs
    assert "SparkContext: Running Spark version" in logs and "local Spark run" not in logs
    shown = json.loads(kubeline("runs", "show", run_id, "--json", cwd=folder).stdout)
    step = next(s for s in shown["steps"] if s["name"] == "count-words")
    assert (step["status"], step["exit_code"]) == ("Failed", 1), step
    assert not list((folder / STORE / "kubeline" / "outputs").glob(
        f"{result['key']}/*.complete.json"))


def test_adla_sql_runs_as_spark_sql(tmp_path: Path) -> None:
    folder = example("spark_wordcount", tmp_path)
    (folder / "kubeline.yaml").write_text("name: adla\n", encoding="utf-8")
    (folder / "spark" / "lines.sql").write_text(
        "-- count the lines of the input (ADLA's U-SQL rewritten as Spark SQL)\n"
        "CREATE TEMPORARY VIEW lines USING text OPTIONS (path '${text}');\n"
        "INSERT OVERWRITE DIRECTORY '${stats}' USING json\n"
        "SELECT count(*) AS n, '${label}' AS label FROM lines;\n", encoding="utf-8")
    (folder / "steps" / "read.py").write_text(
        "import json, pathlib, sys\n"
        "rows = [json.loads(l) for p in sorted(pathlib.Path(sys.argv[1]).glob('part-*'))\n"
        "        for l in p.read_text().splitlines()]\n"
        "pathlib.Path(sys.argv[2]).write_text(json.dumps(rows))\n", encoding="utf-8")
    (folder / "adla.py").write_text(
        "from kubeline import (AdlaStep, DataReference, Pipeline, PipelineData,\n"
        "                      PythonScriptStep, Workspace)\n"
        "ws = Workspace.from_config()\n"
        "store = ws.get_default_datastore()\n"
        "store.upload(src_dir='data', target_path='in', overwrite=True, show_progress=False)\n"
        "text = DataReference(store, data_reference_name='text', path_on_datastore='in')\n"
        "stats = PipelineData('stats', datastore=store, is_directory=True)\n"
        "rows = PipelineData('rows', datastore=store)\n"
        "sql = AdlaStep(script_name='lines.sql', name='lines', inputs=[text],\n"
        "               outputs=[stats], params={'label': 'zen'}, source_directory='spark')\n"
        "read = PythonScriptStep('read.py', name='read', arguments=[stats, rows],\n"
        "                        inputs=[stats], outputs=[rows], source_directory='steps')\n"
        "pipeline = Pipeline(ws, [read])\n", encoding="utf-8")
    done = kubeline("run", "adla.py", cwd=folder)
    assert "phase:   Succeeded" in done.stdout, done.stdout + done.stderr
    lines = sum(len(p.read_text().splitlines())
                for p in (EXAMPLES / "spark_wordcount" / "data").glob("*.txt"))
    _result, rows = _output(folder, "read", "rows")
    assert json.loads(rows.read_text()) == [{"n": lines, "label": "zen"}]
