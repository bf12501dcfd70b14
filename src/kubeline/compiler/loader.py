"""Load the pipelines a Python file defines, the way ``python pipeline.py`` would see them.

What the file prints goes to stderr, keeping kubeline's stdout for its own output. The
file runs with its own folder as the working directory and first on sys.path, under
``__name__ == "__kubeline__"`` so submission code under ``if __name__ == "__main__":``
does not run. Every module-level Pipeline object is a pipeline. It is named after the
file (or its folder when the file is called pipeline.py or main.py); with several pipelines
in one file, the variable name is appended: ``compare_models/pipeline.py`` -> ``compare_models``.
"""

from __future__ import annotations

import contextlib
import os
import runpy
import sys
import traceback
from collections.abc import Iterator
from pathlib import Path

from kubeline.compiler.source import PipelineSource
from kubeline.exceptions import KubelineError


@contextlib.contextmanager
def pipeline_folder(path: Path) -> Iterator[None]:
    """Run with cwd = the file's folder and that folder first on sys.path."""
    old_cwd, old_path = Path.cwd(), list(sys.path)
    os.chdir(path.parent)
    sys.path.insert(0, str(path.parent))
    try:
        yield
    finally:
        os.chdir(old_cwd)
        sys.path[:] = old_path


def load_pipelines(path: Path) -> dict[str, PipelineSource]:
    """Variable name -> pipeline, in definition order; one-line errors for broken files."""
    path = path.resolve()
    if not path.is_file():
        raise KubelineError(f"pipeline file '{path}' does not exist")
    with pipeline_folder(path), contextlib.redirect_stdout(sys.stderr):
        try:
            namespace = runpy.run_path(str(path), run_name="__kubeline__")
        except KubelineError:
            raise
        except SystemExit as exc:
            raise KubelineError(f"{path.name}: exited with {exc.code} while loading") from None
        except Exception as exc:
            raise KubelineError(_where(path, exc)) from None
        pipelines = {name: value for name, value in namespace.items()
                     if isinstance(value, PipelineSource) and not name.startswith("_")}
    if not pipelines:
        raise KubelineError(f"{path.name}: defines no Pipeline at module level",
                            "assign one, e.g. pipeline = Pipeline(ws, steps=[...])")
    base = path.parent.name if path.stem in _GENERIC_STEMS else path.stem
    for name, pipeline in pipelines.items():
        if pipeline.name == "pipeline":
            pipeline.name = base if len(pipelines) == 1 else f"{base}-{name}"
    return pipelines


_GENERIC_STEMS = {"pipeline", "pipelines", "main", "__main__"}


def _where(path: Path, exc: Exception) -> str:
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == str(path)]
    line = f":{frames[-1].lineno}" if frames else ""
    return f"{path.name}{line}: {type(exc).__name__}: {exc}"
