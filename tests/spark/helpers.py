"""Shared helpers for tests/spark and tests/compute: copy an example, run kubeline for real."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from tests.pipelines import EXAMPLES, REPO, example, kubeline  # noqa: F401


def edit_config(folder: Path, **changes: object) -> None:
    """Change top-level sections of an example's kubeline.yaml (deep-merged one level)."""
    path = folder / "kubeline.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


def documents(folder: Path, out: Path) -> list[dict[str, Any]]:
    """Compile the example in folder into out and return every object: what
    ``kubeline compile pipeline.py -o OUT --no-publish`` writes, compiled in this process (the
    CLI's own behaviour has its tests in tests/compiler/test_cli.py; a new interpreter per
    compile cost seconds each on a busy machine)."""
    from kubeline.compiler.api import compile_to_files, write_output

    files = compile_to_files(folder / "pipeline.py", publish=False)
    write_output(files, out)
    return [d for name, text in files.items() if name != "kustomization.yaml"
            for d in yaml.safe_load_all(text) if d]
