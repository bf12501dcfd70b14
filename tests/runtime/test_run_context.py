"""Run.get_context(): metrics collected by the shim inside a step, prints when offline."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kubeline.graph.model import Step
from kubeline.runtime.metrics import MetricError
from tests.runtime.harness import SRC, Harness

LOGGING = '''\
from kubeline import Run
run = Run.get_context()
assert run.id.endswith("_metrics") and run.parent.id == run.id[:-len("_metrics")]
assert run.experiment.name == "pipe"
run.log("accuracy", 0.91)
run.log("loss", 0.5, step=0)
run.log("loss", 0.25, step=1)
run.log_list("sizes", [1, 2, 3])
run.log_row("curve", x=1, y=0.1)
run.log_row("curve", x=2, y=0.2)
run.log_table("tab", {"a": [1, 2], "b": ["u", "v"]})
run.log("odd", float("nan"))
run.tag("team", "ml")
run.upload_file("outputs/model.txt", "model.txt")
run.parent.log("best", 0.91)
assert run.get_metrics()["loss"] == [0.5, 0.25]
open("outputs_marker.txt", "w").write("x")
'''

EXPECTED = {"accuracy": 0.91, "loss": [0.5, 0.25], "sizes": [1, 2, 3],
            "curve": {"x": [1, 2], "y": [0.1, 0.2]}, "tab": {"a": [1, 2], "b": ["u", "v"]},
            "odd": "NaN"}


def test_metrics_logged_in_a_step_are_collected(harness: Harness) -> None:
    harness.add(Step(id="metrics", name="metrics", kind="python_script", image="x",
                     script="main.py"), {"main.py": LOGGING, "model.txt": "weights"})
    done = harness.run("metrics")
    assert done.returncode == 0, done.stderr
    result = harness.result("metrics")
    assert result["metrics"] == EXPECTED
    assert result["tags"] == {"team": "ml"}
    assert result["parent_metrics"] == {"best": 0.91}
    assert result["files"] == ["outputs/model.txt"]
    assert json.loads((harness.out_dir / "metrics.json").read_text()) == EXPECTED
    store = harness.store("main")
    base = f"kubeline/runs/{harness.run_id}/steps/metrics"
    assert json.loads(store.get_bytes(f"{base}/metrics.json")) == EXPECTED
    assert store.get_bytes(f"{base}/files/outputs/model.txt") == b"weights"
    # a reuse of the step reports the metrics of the run that computed them
    harness.run_id = "again"
    assert harness.run("metrics").returncode == 0
    again = harness.result("metrics")
    assert again["status"] == "reused" and again["metrics"] == EXPECTED


def _offline(script: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KUBELINE_")}
    env["PYTHONPATH"] = SRC
    return subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=60, check=False)


def test_offline_run_prints_what_it_logs(tmp_path: Path) -> None:
    (tmp_path / "m.txt").write_text("x")
    done = _offline(
        "from kubeline import Run\n"
        "run = Run.get_context()\n"
        "assert 'OfflineRun' in run.id and type(run).__name__ == '_OfflineRun'\n"
        "run.log('accuracy', 0.91)\n"
        "run.log_list('sizes', [1, 2])\n"
        "run.tag('team', 'ml')\n"
        "run.upload_file('outputs/m.txt', 'm.txt')\n"
        "print(run.get_metrics())\n", tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "Attempted to log scalar metric accuracy:", "0.91",
        "Attempted to log list metric sizes:", "[1, 2]",
        "Attempted to set tag team:", "ml",
        "Attempted to track file outputs/m.txt at m.txt",
        "{'accuracy': 0.91, 'sizes': [1, 2]}",
    ]


def test_import_of_run_stays_light(tmp_path: Path) -> None:
    done = _offline("import sys\nfrom kubeline import Run\nRun.get_context()\n"
                    "heavy = sorted(m for m in ('pydantic', 'boto3', 'yaml', 'hera', "
                    "'kubeline.stores', 'kubeline.graph') if m in sys.modules)\n"
                    "print(heavy)\n", tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize(("call", "message"), [
    (lambda r: r.log("", 1), "Run.log: name '' is not valid"),
    (lambda r: r.log("a\nb", 1), "Run.log: name 'a\\nb' is not valid"),
    (lambda r: r.log("x", {"a": 1}), "Run.log: value of 'x' has type dict"),
    (lambda r: r.log_list("x", 3), "Run.log_list: value of 'x' is a int"),
    (lambda r: r.log_table("x", [1]), "Run.log_table: value of 'x' is a list"),
    (lambda r: r.log_row("x"), "Run.log_row: row 'x' has no columns"),
    (lambda r: r.upload_file("../up", "f"), "Run.upload_file: name '../up' is not valid"),
    (lambda r: r.log("s", 1, step=1.5), "Run.log: step of 's' must be an int"),
])
def test_bad_names_and_values_are_clear(call: object, message: str,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    from kubeline import Run

    run = Run.get_context()
    with pytest.raises(MetricError) as info:
        call(run)  # type: ignore[operator]
    assert str(info.value).startswith(message)
    assert "\n" not in str(info.value)


def test_one_kind_per_metric_name() -> None:
    from kubeline import Run

    run = Run.get_context()
    run.log("m", 1)
    with pytest.raises(MetricError, match="metric 'm' was logged as scalar"):
        run.log_list("m", [1])


def test_get_context_without_offline_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    from kubeline.runtime.run import Run, RunContextError

    monkeypatch.delenv("KUBELINE_METRICS_FILE", raising=False)
    with pytest.raises(RunContextError, match="not running inside a kubeline step"):
        Run.get_context(allow_offline=False)
