"""``python -m kubeline.runtime.notebook``: run a notebook with papermill inside a step.

``NOTEBOOK OUTPUT_DIR OUTPUT_NAME [--kernel NAME] [-p NAME VALUE]...``: executes NOTEBOOK
with the parameters injected (papermill's ``parameters`` cell), writing the executed
notebook to OUTPUT_DIR/OUTPUT_NAME (the step's output, kept even when a cell fails). A
value that reads as JSON (numbers, booleans, lists) is passed as that value, else as text.
NotebookRunnerStep (kubeline/dsl/notebook_step.py) compiles to this command.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any


def _value(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kubeline.runtime.notebook")
    parser.add_argument("notebook")
    parser.add_argument("output_dir")
    parser.add_argument("output_name")
    parser.add_argument("--kernel", default=None)
    parser.add_argument("-p", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"))
    args = parser.parse_args(argv)
    try:
        import papermill
    except ImportError:
        print("kubeline: error: NotebookRunnerStep needs papermill in the step's environment "
              "(pip install papermill; on a cluster, in the step image)", file=sys.stderr)
        return 2
    os.makedirs(args.output_dir, exist_ok=True)
    output = os.path.join(args.output_dir, args.output_name)
    parameters = {name: _value(value) for name, value in args.p}
    try:
        papermill.execute_notebook(args.notebook, output, parameters=parameters,
                                   kernel_name=args.kernel, progress_bar=False,
                                   cwd=os.path.dirname(os.path.abspath(args.notebook)))
    except papermill.PapermillExecutionError as exc:
        print(f"kubeline: error: notebook {args.notebook}: cell {exc.exec_count} raised "
              f"{exc.ename}: {exc.evalue} (the executed notebook is kept: {output})",
              file=sys.stderr)
        return 1
    print(f"executed {args.notebook} -> {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
