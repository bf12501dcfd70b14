"""``kubeline run pipeline.py`` for files that submit under ``if __name__ == "__main__":``.

Such a file is run as ``python pipeline.py`` would run it (its folder as working directory
and first on sys.path), with its ``Experiment.submit`` calls switched to the foreground:
the pipeline runs in this process with the command's -p, --parallelism and --state-dir, and
the rest of the block (wait_for_completion, get_steps, downloads) runs unchanged. The run is
therefore the run ``python pipeline.py`` makes: same experiment, pipeline, parameters, steps.
"""

from __future__ import annotations

import ast
import contextlib
import runpy
import sys
import traceback
from pathlib import Path
from typing import TYPE_CHECKING

from kubeline.exceptions import KubelineError

if TYPE_CHECKING:
    from kubeline.dsl.experiment import Foreground


def submits_under_main(path: Path) -> bool:
    """Whether the file has a module-level ``if __name__ == "__main__":`` block that calls
    ``.submit(`` (read with ast; the file is not run)."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except (OSError, SyntaxError, UnicodeDecodeError):
        return False
    for node in tree.body:
        if isinstance(node, ast.If) and _is_main_test(node.test):
            for inner in ast.walk(node):
                if (isinstance(inner, ast.Call) and isinstance(inner.func, ast.Attribute)
                        and inner.func.attr == "submit"):
                    return True
    return False


def _is_main_test(test: ast.expr) -> bool:
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1
            and isinstance(test.ops[0], ast.Eq)):
        return False
    sides = [test.left, test.comparators[0]]
    names = {s.id for s in sides if isinstance(s, ast.Name)}
    consts = {s.value for s in sides if isinstance(s, ast.Constant)}
    return names == {"__name__"} and consts == {"__main__"}


def run_main(path: Path, options: Foreground, stdout_to_stderr: bool) -> Foreground:
    """Run the file as ``__main__`` with submissions in the foreground; KubelineErrors from
    the file pass through, other exceptions become one line naming the file and line."""
    from kubeline.compiler.loader import pipeline_folder
    from kubeline.dsl.experiment import foreground

    path = path.resolve()
    redirect = (contextlib.redirect_stdout(sys.stderr) if stdout_to_stderr
                else contextlib.nullcontext())
    with foreground(options), pipeline_folder(path), redirect:
        try:
            runpy.run_path(str(path), run_name="__main__")
        except KubelineError:
            raise
        except SystemExit as exc:
            if exc.code not in (None, 0):
                raise KubelineError(f"{path.name}: exited with {exc.code}") from None
        except Exception as exc:
            frames = [f for f in traceback.extract_tb(exc.__traceback__)
                      if f.filename == str(path)]
            line = f":{frames[-1].lineno}" if frames else ""
            raise KubelineError(f"{path.name}{line}: {type(exc).__name__}: {exc}") from None
    return options
