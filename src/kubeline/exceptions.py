"""Exceptions a user can meet. Each renders as one line: what is wrong, then how to fix it.

The CLI prints ``kubeline: error: <str(exc)>`` and exits 2 for these; anything else is an
internal error and keeps its traceback.
"""

from __future__ import annotations


class KubelineError(Exception):
    """A user-facing error: ``subject: problem (hint)`` on a single line."""

    exit_code = 2

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        text = self.message if not self.hint else f"{self.message} ({self.hint})"
        return " ".join(text.split())


class ValidationError(KubelineError):
    """A pipeline, config or manifest that cannot be compiled or run; carries every problem."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))

    def __str__(self) -> str:
        return "\n".join(" ".join(p.split()) for p in self.problems)


class ConfigError(KubelineError):
    """The workspace config (kubeline.yaml) is missing something or is malformed."""


class DatastoreError(KubelineError):
    """A datastore operation failed: unknown name, missing object, bad credentials."""


class ComputeTargetException(KubelineError):
    """Raised by ComputeTarget(workspace, name) when the target does not exist (SDK name)."""


class UnsupportedManifestError(KubelineError):
    """A manifest uses an Argo field the local executor does not implement."""


class StepRunError(KubelineError):
    """A step failed; raised by wait_for_completion(raise_on_error=True)."""

    exit_code = 1


def yaml_problem(exc: Exception) -> str:
    """A YAML parse error in one line with its place: 'line 3, column 7: <problem>'."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
    return f"{where}{problem}"
