"""Every Argo example in ../shared/argo-examples reaches the outcome its README states.

The examples are read from ../shared (never copied). Each run uses its own state directory;
ordering is asserted with the executor's event counters (startSeq/finishSeq), never clocks.
"""

from __future__ import annotations

import json
import re
import tarfile
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubeline.local import RunSummary, run_manifest

EXPECTED_FILES = {
    "hello-world",
    "arguments-parameters",
    "global-parameters",
    "dag-diamond",
    "dag-multiroot",
    "dag-enhanced-depends",
    "dag-continue-on-fail",
    "parameter-aggregation-dag",
    "memoize-simple",
    "retry-container",
    "retry-script",
    "input-artifact-raw",
    "artifact-path-placeholders",
    "dag-conditional-parameters",
    "scripts-python",
    "scripts-bash",
}


def docs_of(examples_dir: Path, name: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all((examples_dir / f"{name}.yaml").read_text()) if d]


def run(examples_dir: Path, name: str, state: Path, **kw: Any) -> RunSummary:
    params = kw.pop("parameters", {})
    return run_manifest(docs_of(examples_dir, name), parameters=params, state_dir=state, **kw)


def pods(s: RunSummary) -> list[Any]:
    return [n for n in s.nodes if n.type == "Pod"]


def test_every_example_is_covered(examples_dir: Path) -> None:
    readme = (examples_dir / "README.md").read_text()
    in_table = set(re.findall(r"^\| ([a-z0-9-]+) \|", readme, flags=re.M)) - {"file", "---"}
    on_disk = {p.stem for p in examples_dir.glob("*.yaml")}
    assert in_table == on_disk == EXPECTED_FILES


@pytest.mark.parametrize("name", ["hello-world", "arguments-parameters", "global-parameters"])
def test_hello_world_logs(examples_dir: Path, tmp_path: Path, name: str) -> None:
    s = run(examples_dir, name, tmp_path)
    assert s.phase == "Succeeded"
    [pod] = pods(s)
    assert pod.phase == "Succeeded" and pod.exit_code == 0
    assert "hello world" in pod.logs()


def test_global_parameter_override(examples_dir: Path, tmp_path: Path) -> None:
    s = run(examples_dir, "global-parameters", tmp_path, parameters={"message": "goodbye world"})
    assert s.phase == "Succeeded"
    [pod] = pods(s)
    assert "goodbye world" in pod.logs()
    assert "hello world" not in pod.logs()


def test_dag_diamond(examples_dir: Path, tmp_path: Path) -> None:
    s = run(examples_dir, "dag-diamond", tmp_path)
    assert s.phase == "Succeeded"
    ps = pods(s)
    assert sorted(p.display_name for p in ps) == ["A", "B", "C", "D"]
    assert all(p.phase == "Succeeded" for p in ps)
    a, b, c, d = (s.node(x) for x in "ABCD")
    assert a.finish_seq < b.start_seq and a.finish_seq < c.start_seq
    assert b.finish_seq < d.start_seq and c.finish_seq < d.start_seq
    assert [p.logs().strip() for p in (a, b, c, d)] == ["A", "B", "C", "D"]


def test_dag_multiroot(examples_dir: Path, tmp_path: Path) -> None:
    s = run(examples_dir, "dag-multiroot", tmp_path, parallelism=2)
    assert s.phase == "Succeeded"
    a, b, c, d = (s.node(x) for x in "ABCD")
    # A and B both start before either finishes: neither waits for the other
    assert b.start_seq < a.finish_seq and a.start_seq < b.finish_seq
    assert a.finish_seq < c.start_seq
    assert a.finish_seq < d.start_seq and b.finish_seq < d.start_seq


def test_dag_enhanced_depends(examples_dir: Path, tmp_path: Path) -> None:
    s = run(examples_dir, "dag-enhanced-depends", tmp_path)
    assert s.phase == "Succeeded"
    assert s.node("C").phase == "Failed"
    for name in ("should-execute-1", "should-execute-2", "should-execute-3"):
        assert s.node(name).phase == "Succeeded"
        assert s.node(name).attempts == 1
    never = s.node("should-not-execute")
    assert never.phase == "Omitted" and never.type == "Skipped"
    assert never.attempts is None and not never.log_dir


def test_dag_continue_on_fail(examples_dir: Path, tmp_path: Path) -> None:
    s = run(examples_dir, "dag-continue-on-fail", tmp_path)
    assert s.phase == "Failed"
    assert s.node("B").phase == "Failed" and s.node("E").phase == "Failed"
    assert s.node("D").phase == "Succeeded" and s.node("D").attempts == 1
    g = s.node("G")
    assert g.phase == "Omitted" and g.type == "Skipped"


def test_parameter_aggregation(examples_dir: Path, tmp_path: Path) -> None:
    s = run(examples_dir, "parameter-aggregation-dag", tmp_path)
    assert s.phase == "Succeeded"
    divide = [n for n in s.nodes if n.display_name.startswith("divide-by-2(")]
    ran = sorted(n.display_name for n in divide if n.type == "Pod")
    assert ran == ["divide-by-2(1:evenness:even,num:2)", "divide-by-2(3:evenness:even,num:4)"]
    assert all(n.phase == "Skipped" for n in divide if n.type == "Skipped")
    assert len(divide) == 4
    printed = sorted(
        (n for n in s.nodes if n.display_name.startswith("print(")), key=lambda n: n.display_name
    )
    assert [n.logs().strip() for n in printed] == ["1", "2"]
    assert s.node("print-nums").logs().strip() == '["1","2","3","4"]'
    assert s.node("print-evenness").logs().strip() == '["odd","even","odd","even"]'
    # each parallel instance wrote /tmp/num and /tmp/even: every instance read its own
    for i in range(1, 5):
        [odd_even] = [n for n in s.nodes if n.display_name == f"odd-or-even({i - 1}:{i})"]
        assert odd_even.output_parameters == {
            "num": str(i),
            "evenness": "even" if i % 2 == 0 else "odd",
        }


def test_memoize_simple(examples_dir: Path, tmp_path: Path) -> None:
    first = run(examples_dir, "memoize-simple", tmp_path)
    assert first.phase == "Succeeded" and first.processes_started == 1
    [pod] = pods(first)
    assert pod.output_parameters == {"hello": "world"} and not pod.memoized

    second = run(examples_dir, "memoize-simple", tmp_path)
    assert second.phase == "Succeeded"
    assert second.processes_started == 0
    [hit] = [n for n in second.nodes]
    assert hit.memoized and hit.output_parameters == {"hello": "world"} and hit.attempts == 0

    # age the cache entry past maxAge (10s) instead of sleeping: the next run is a miss
    entry = tmp_path / "cache" / "cache-config" / "cache-key.json"
    data = json.loads(entry.read_text())
    old = datetime.now(timezone.utc) - timedelta(seconds=11)
    data["creationTimestamp"] = old.strftime("%Y-%m-%dT%H:%M:%SZ")
    entry.write_text(json.dumps(data))
    third = run(examples_dir, "memoize-simple", tmp_path)
    assert third.phase == "Succeeded" and third.processes_started == 1
    assert not pods(third)[0].memoized


@pytest.mark.parametrize("name", ["retry-container", "retry-script"])
def test_retries(examples_dir: Path, tmp_path: Path, name: str) -> None:
    s = run(examples_dir, name, tmp_path)
    [retry] = [n for n in s.nodes if n.type == "Retry"]
    attempts = [n for n in s.nodes if n.type == "Pod"]
    assert retry.attempts == len(attempts) == len(retry.children)
    assert [a.display_name for a in attempts] == [
        f"{retry.display_name}({i})" for i in range(len(attempts))
    ]
    assert all(a.attempts == 1 for a in attempts)
    assert all(a.phase == "Failed" for a in attempts[:-1])
    if s.phase == "Succeeded":
        assert attempts[-1].phase == "Succeeded" and len(attempts) <= 11
    else:
        assert s.phase == "Failed"
        assert len(attempts) == 11 and attempts[-1].phase == "Failed"
        assert retry.message == "No more retries left"


def test_input_artifact_raw(examples_dir: Path, tmp_path: Path) -> None:
    s = run(examples_dir, "input-artifact-raw", tmp_path)
    assert s.phase == "Succeeded"
    [pod] = pods(s)
    assert pod.logs() == "this is\nthe raw file\ncontents\n"


def test_artifact_path_placeholders(examples_dir: Path, tmp_path: Path) -> None:
    s = run(examples_dir, "artifact-path-placeholders", tmp_path)
    assert s.phase == "Succeeded"
    [pod] = pods(s)
    assert pod.output_parameters["actual-lines-count"] == "3"
    [art] = pod.output_artifacts
    assert art["name"] == "text"
    path = Path(art["location"].removeprefix("file://"))
    with tarfile.open(path, "r:gz") as tar:
        [member] = tar.getmembers()
        assert member.name == "data"
        f = tar.extractfile(member)
        assert f is not None
        assert f.read().decode().splitlines() == ["1", "2", "3"]


def test_dag_conditional_parameters(examples_dir: Path, tmp_path: Path) -> None:
    s = run(examples_dir, "dag-conditional-parameters", tmp_path)
    assert s.phase == "Succeeded"
    flip = s.node("flip-coin").logs().strip()
    assert flip in ("heads", "tails")
    [root] = [n for n in s.nodes if n.type == "DAG"]
    assert root.output_parameters == {"stepresult": flip}
    ran = [n.display_name for n in pods(s) if n.display_name in ("heads", "tails")]
    assert ran == [flip]
    other = s.node("tails" if flip == "heads" else "heads")
    assert other.phase == "Skipped" and other.type == "Skipped"


@pytest.mark.parametrize("name", ["scripts-python", "scripts-bash"])
def test_scripts(examples_dir: Path, tmp_path: Path, name: str) -> None:
    s = run(examples_dir, name, tmp_path)
    assert s.phase == "Succeeded"
    n = s.node("generate").logs().strip()
    assert re.fullmatch(r"-?\d+", n)
    assert s.node("print").logs().strip() == f"result was: {n}"
