"""azureml_user.parallel_run: EntryScript, the entry script's logger and folders."""

from __future__ import annotations

from kubeline.runtime.parallel.entry_script import (
    EntryScript as EntryScript,
)

__all__ = [
    "EntryScript",
]
