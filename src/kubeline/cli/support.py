"""What every ``kubeline`` command shares: one-line errors and where the workspace is.

Command modules import this, never app.py (which imports them all).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click

from kubeline.exceptions import KubelineError

F = TypeVar("F", bound=Callable[..., Any])

STATE_OPTION = click.option(
    "--state-dir", type=click.Path(path_type=Path, file_okay=False), default=None,
    help="The state directory (default: the workspace's .kubeline/).")


class OneLineGroup(click.Group):
    """click's usage errors as one line (``kubeline: error: ...``, exit 2) instead of its
    usage block, like every other kubeline error; ``--help`` shows the usage."""

    def main(self, args: Any = None, prog_name: str | None = None,
             complete_var: str | None = None, standalone_mode: bool = True,
             **extra: Any) -> Any:
        try:
            result = super().main(args, prog_name, complete_var, standalone_mode=False,
                                  **extra)
        except click.UsageError as exc:
            where = f" (see '{exc.ctx.command_path} --help')" if exc.ctx is not None else ""
            fail(" ".join(exc.format_message().split()) + where, 2)
        except click.ClickException as exc:
            fail(" ".join(exc.format_message().split()), exc.exit_code)
        except click.Abort:
            fail("aborted", 1)
        if not standalone_mode:
            return result
        sys.exit(result if type(result) is int else 0)


def fail(message: str, code: int = 2) -> None:
    """Print each line as ``kubeline: error: ...`` and exit with code."""
    for line in message.splitlines() or [message]:
        click.echo(f"kubeline: error: {line}", err=True)
    sys.exit(code)


def user_errors(func: F) -> F:
    """Known errors become one line per problem and their exit code, never a traceback
    (KUBELINE_DEBUG=1 shows it)."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except KubelineError as exc:
            if os.environ.get("KUBELINE_DEBUG"):
                raise
            fail(str(exc), exc.exit_code)
            return None

    return wrapper  # type: ignore[return-value]


def workspace_root(start: Path | None = None) -> Path:
    """The folder of the nearest kubeline.yaml (or KUBELINE_CONFIG), else start/cwd."""
    from kubeline.workspace import find_config

    folder = (start or Path.cwd()).resolve()
    config = find_config(folder)
    return config.parent if config is not None else folder


def state_dir(given: Path | None) -> Path:
    return given if given is not None else workspace_root() / ".kubeline"
