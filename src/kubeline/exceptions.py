"""Exceptions a user can meet. Each renders as one line: what is wrong, then how to fix it.

The CLI prints ``kubeline: error: <str(exc)>`` and exits 2 for these; anything else is an
internal error and keeps its traceback.
"""

from __future__ import annotations

import sys
from types import TracebackType


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

    def _render_traceback_(self) -> list[str]:
        """IPython/Jupyter show this instead of a traceback: one line, as the CLI does."""
        return [f"{type(self).__name__}: {self}"]


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


class UserErrorException(KubelineError):
    """The SDK's name for a mistake of the caller (azureml.exceptions.UserErrorException)."""


class HttpOperationError(KubelineError):
    """What the SDK's REST client raises for a failed service call (msrest's type name): AML
    code catches it around lookups such as ``Datastore.get``."""

    status_code = 404


class ErrorResponseException(HttpOperationError):
    """The SDK's REST error (azureml._restclient.models.error_response)."""


class DatastoreNotFoundError(DatastoreError, UserErrorException, ErrorResponseException):
    """``Datastore.get``/``Datastore(ws, name)`` of a name the workspace does not have: the
    SDK answers with its REST error, which ``except UserErrorException`` also matches."""


class ComputeTargetException(UserErrorException):
    """Raised by ComputeTarget(workspace, name) when the target does not exist (SDK name)."""


class UnsupportedManifestError(KubelineError):
    """A manifest uses an Argo field the local executor does not implement."""


class ActivityFailedException(KubelineError):
    """The SDK's name for a run that ended Failed (wait_for_completion(raise_on_error=True))."""

    exit_code = 1


class StepRunError(ActivityFailedException):
    """A step failed; raised by wait_for_completion(raise_on_error=True)."""

    exit_code = 1


def yaml_problem(exc: Exception) -> str:
    """A YAML parse error in one line with its place: 'line 3, column 7: <problem>'."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
    return f"{where}{problem}"


# --- the SDK's other exception names (azureml.exceptions), all KubelineErrors -------------
AzureMLException = KubelineError


class AzureMLAggregatedException(KubelineError):
    """Several errors at once."""


class TrainingException(KubelineError):
    """A training run could not be set up."""


class SnapshotException(KubelineError):
    """A source snapshot could not be taken (e.g. too large)."""


class ExperimentExecutionException(KubelineError):
    """A run could not be started."""


class ProjectSystemException(KubelineError):
    """The project folder or its configuration is not usable."""


class RunEnvironmentException(KubelineError):
    """The run's environment is not usable."""


class WorkspaceException(ConfigError):
    """The workspace (kubeline.yaml) cannot be found or read."""


class WorkspacePrivateEndpointException(WorkspaceException):
    """Private endpoints do not apply to a kubeline workspace."""


class RunConfigurationException(KubelineError):
    """A RunConfiguration that cannot be used."""


class WebserviceException(KubelineError):
    """Model deployment is not part of kubeline."""


class ModelNotFoundException(UserErrorException):
    """A registered model (or version) that does not exist."""


class ModelPathNotFoundException(UserErrorException):
    """A model path that does not exist."""


class DiscoveryUrlNotFoundException(KubelineError):
    """No service discovery in kubeline."""


class AuthenticationException(KubelineError):
    """No usable credential (a kubeline token) was found."""


class DatasetTimestampMissingError(UserErrorException):
    """A dataset without the timestamp column asked for."""


class ParallelRunException(KubelineError):
    """A ParallelRunStep problem."""


class ServiceException(HttpOperationError):
    """A service call that failed."""



def _one_line_hook(kind: type[BaseException], value: BaseException,
                   tb: TracebackType | None) -> None:
    if isinstance(value, KubelineError):
        sys.stderr.write(f"{kind.__name__}: {value}\n")
        raise SystemExit(value.exit_code)
    sys.__excepthook__(kind, value, tb)


def install_one_line_hook() -> None:
    """An uncaught kubeline error ends a plain script (``python pipeline.py``) with its one
    line and exit code 2, as the CLI does; other errors keep their traceback. A hook the
    user or another tool installed is left alone."""
    if sys.excepthook is sys.__excepthook__:
        sys.excepthook = _one_line_hook
