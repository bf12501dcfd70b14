"""Render tests/conformance/argo_examples.yaml as the conformance section of
docs/local-executor.md (``python -m tests.conformance.render_examples`` rewrites it; a test
checks the page holds exactly what this renders)."""

from __future__ import annotations

import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import yaml

DATA = Path(__file__).with_name("argo_examples.yaml")
DOC = Path(__file__).resolve().parents[2] / "docs" / "local-executor.md"
START = "<!-- argo-examples:start (rendered from tests/conformance/argo_examples.yaml) -->"
END = "<!-- argo-examples:end -->"


def load() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(DATA.read_text(encoding="utf-8"))
    return data


def counts(data: dict[str, Any]) -> tuple[int, int, int]:
    """(examples run to Argo's outcome, Workflows, files)."""
    entries = data["examples"]
    run = sum(1 for e in entries.values() if "expect" in e)
    workflows = sum(1 for e in entries.values() if e.get("needs") != "not-a-workflow")
    return run, workflows, len(entries)


def render(data: dict[str, Any]) -> str:
    entries: dict[str, dict[str, Any]] = data["examples"]
    run, workflows, files = counts(data)
    by_reason: dict[str, list[str]] = defaultdict(list)
    for name, entry in entries.items():
        if "needs" in entry:
            by_reason[entry["needs"]].append(name)
    failing = sorted(n for n, e in entries.items() if "expect" in e and e["expect"] == "Failed")
    either = sorted(n for n, e in entries.items() if isinstance(e.get("expect"), list))
    lines = [
        START,
        f"**{run} of the {workflows} Workflows** in Argo {data['version']}'s examples folder "
        f"({files} files) reach the outcome Argo gives them "
        f"(`pytest tests/conformance/test_argo_module_examples.py`, which runs them from the Go "
        f"module cache). {len(failing)} of them are meant to fail and do; {len(either)} end "
        "Succeeded or Failed at random by design. The others are not run, for these reasons:",
        "",
        "| reason | examples | which |",
        "| --- | --- | --- |",
    ]
    for reason, text in data["reasons"].items():
        names = sorted(by_reason.get(reason, []))
        if not names:
            continue
        which = ", ".join(f"`{n.removesuffix('.yaml')}`" for n in names)
        lines.append(f"| {text} | {len(names)} | {which} |")
    lines += [
        "",
        "Meant to fail: " + ", ".join(f"`{n.removesuffix('.yaml')}`" for n in failing) + ".",
        "Random by design: " + ", ".join(f"`{n.removesuffix('.yaml')}`" for n in either) + ".",
        END,
    ]
    return "\n".join(lines)


def rewrite(doc: str, block: str) -> str:
    if START in doc and END in doc:
        head, rest = doc.split(START, 1)
        return head + block + rest.split(END, 1)[1]
    return doc.rstrip("\n") + "\n\n## Conformance with Argo's examples\n\n" + block + "\n"


def main() -> int:
    DOC.write_text(rewrite(DOC.read_text(encoding="utf-8"), render(load())), encoding="utf-8")
    run, workflows, files = counts(load())
    print(f"{run} of {workflows} Workflows ({files} example files) reach Argo's outcome")
    return 0


if __name__ == "__main__":
    sys.exit(main())
