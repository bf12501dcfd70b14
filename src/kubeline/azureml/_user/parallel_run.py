"""azureml_user.parallel_run: EntryScript (not available yet: issue 13 point 3)."""

from __future__ import annotations

from kubeline.dsl.pending import (
    EntryScript as EntryScript,
)

__all__ = [
    "EntryScript",
]
