"""List every ``azureml.*`` import that the AML reference notebooks (and their scripts) make.

Reads each notebook's code cells as JSON (IPython magics dropped) and each ``.py`` beside
them, parses them with ``ast`` and prints one line per imported name:
``module  name  files``. ``--json`` prints {module: [names]} for tools (the parity tool and
tests use it to know the surface that must resolve).
"""

from __future__ import annotations

import argparse
import ast
import json
import sys
from collections import defaultdict
from pathlib import Path

NOTEBOOKS = "shared/reference/aml-notebooks"


def default_root() -> Path:
    """The reference notebooks in the nearest ``shared/`` folder above the checkout."""
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / NOTEBOOKS).is_dir():
            return parent / NOTEBOOKS
    return here.parents[2] / NOTEBOOKS
MODULE_ONLY = "*module*"  # ``import azureml.core``: the module itself must resolve


def cell_sources(notebook: Path) -> list[str]:
    """The code cells' text with IPython magics removed (a ``%%`` cell is not Python)."""
    data = json.loads(notebook.read_text(encoding="utf-8"))
    out = []
    for cell in data.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        text = "".join(cell.get("source", []))
        if text.lstrip().startswith("%%"):
            continue
        out.append("\n".join(line for line in text.splitlines()
                             if not line.lstrip().startswith(("%", "!"))))
    return out


def imports_of(source: str) -> list[tuple[str, str]]:
    """(module, name) for each azureml import in the source."""
    found: list[tuple[str, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(a.name, MODULE_ONLY) for a in node.names if a.name.startswith("azureml")]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("azureml"):
            found += [(node.module or "", a.name) for a in node.names]
    return found


def collect(root: Path) -> dict[tuple[str, str], set[str]]:
    table: dict[tuple[str, str], set[str]] = defaultdict(set)
    for path in sorted(root.rglob("*")):
        if path.suffix == ".ipynb":
            sources = cell_sources(path)
        elif path.suffix == ".py":
            sources = [path.read_text(encoding="utf-8")]
        else:
            continue
        for source in sources:
            for key in imports_of(source):
                table[key].add(str(path.relative_to(root)))
    return table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", nargs="?", type=Path, default=None)
    parser.add_argument("--json", action="store_true", help="print {module: [names]}")
    args = parser.parse_args(argv)
    args.root = args.root or default_root()
    if not args.root.is_dir():
        print(f"aml_imports: {args.root} is not a folder (pass the aml-notebooks folder)",
              file=sys.stderr)
        return 2
    table = collect(args.root)
    if args.json:
        modules: dict[str, list[str]] = defaultdict(list)
        for module, name in sorted(table):
            modules[module].append(name)
        print(json.dumps(modules, indent=1, sort_keys=True))
        return 0
    for (module, name), files in sorted(table.items()):
        print(f"{module:42} {name:34} {len(files)}  {', '.join(sorted(files))}")
    print(f"{len(table)} imported names from {len({m for m, _ in table})} modules")
    return 0


if __name__ == "__main__":
    sys.exit(main())
