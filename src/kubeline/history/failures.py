"""How a failed run reaches the user: each failed step's exit code and the tail of its
stderr (wait_for_completion, ``kubeline run``), and one StepRunError naming them."""

from __future__ import annotations

import re

from kubeline.exceptions import StepRunError
from kubeline.history import db as h

_SHIM_NOTE = re.compile(r"^kubeline: step '.*' exited with code")


def reason(step: h.StepRecord) -> str:
    """The step's last stderr line that says why (the shim's own exit note skipped)."""
    lines = [ln.strip() for ln in step.stderr_tail.splitlines() if ln.strip()]
    for line in reversed(lines):
        if not _SHIM_NOTE.match(line):
            return line
    return lines[-1] if lines else step.message


def failure_text(step: h.StepRecord) -> str:
    """A failed step: status line with exit code and message, then its last stderr lines."""
    code = f"exit code {step.exit_code}" if step.exit_code is not None else "no exit code"
    message = f": {step.message}" if step.message else ""
    lines = [f"StepRun( {step.name} ) Status: Failed ({code}){message}"]
    if step.stderr_tail:
        lines.append(f"--- stderr of {step.name} (last lines) ---")
        lines.extend(step.stderr_tail.splitlines())
        lines.append("---")
    return "\n".join(lines)


def step_error(run: h.RunRecord, failed: list[h.StepRecord]) -> StepRunError:
    """One exception naming every failed step, its exit code and its last stderr line."""
    if not failed:
        detail = f": {run.message}" if run.message else ""
        return StepRunError(f"pipeline run {run.id} {run.status.lower()}{detail}",
                            f"see 'kubeline runs show {run.id}'")
    parts = []
    for s in failed:
        last = reason(s)
        code = f"exit code {s.exit_code}" if s.exit_code is not None else "no exit code"
        parts.append(f"step '{s.name}' failed with {code}" + (f": {last}" if last else ""))
    return StepRunError(f"pipeline run {run.id}: " + "; ".join(parts),
                        f"logs: kubeline runs logs {run.id} {failed[0].step_id}")


def failed_steps(db: h.History, run_id: str) -> list[h.StepRecord]:
    return [s for s in db.steps(run_id) if s.status == h.FAILED]
