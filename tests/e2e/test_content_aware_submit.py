"""Experiment.submit(content_aware=True): changed data at an unchanged path reruns the step."""

from __future__ import annotations

from pathlib import Path

from kubeline import DataReference, Experiment, Pipeline, PipelineData, PythonScriptStep
from tests.pipelines import workspace

SCRIPT = """
import os, sys
src, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
with open(src) as handle, open(os.path.join(out, "copy.txt"), "w") as dest:
    dest.write(handle.read())
"""


def test_content_aware_submit(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    ws = workspace(tmp_path)
    (tmp_path / "scripts" / "copy.py").write_text(SCRIPT, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    store = ws.get_default_datastore()
    data = tmp_path / "data.txt"

    def submit(text: str, content_aware: bool) -> bool:
        data.write_text(text, encoding="utf-8")
        store.upload_files([str(data)], target_path="in", overwrite=True, show_progress=False)
        raw = DataReference(store, "raw", "in/data.txt")
        out = PipelineData("out")
        step = PythonScriptStep("copy.py", name="copy", arguments=[raw, out], inputs=[raw],
                                outputs=[out], source_directory="scripts")
        run = Experiment(ws, "ca").submit(Pipeline(ws, steps=[step]),
                                          content_aware=content_aware)
        run.wait_for_completion(show_output=False)
        (step_run,) = run.get_steps()
        return bool(step_run.reused)

    assert submit("one", content_aware=False) is False
    assert submit("two", content_aware=False) is True, "AML rule: same path, reused"
    assert submit("two", content_aware=True) is False, "the data's version enters the key"
    assert submit("two", content_aware=True) is True, "same data, same key"
    assert submit("three", content_aware=True) is False, "changed data, new key"
