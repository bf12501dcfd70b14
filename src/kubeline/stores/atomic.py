"""Atomic local file writes shared by every driver's downloads."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

TEMP_PREFIX = ".kubeline-tmp-"
"""Names of in-flight writes; never listed, and safe to delete when no writer runs."""


def atomic_download(local_path: Path, fill: Callable[[BinaryIO], object]) -> None:
    """Write local_path via a temp file in its folder and os.replace.

    A failed or interrupted download removes the temp file and never leaves a partial file
    under the final name; the temp sits in the same folder so the rename cannot cross
    filesystems.
    """
    local_path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=local_path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            fill(out)
        os.chmod(tmp_name, 0o644)
        os.replace(tmp_name, local_path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise
