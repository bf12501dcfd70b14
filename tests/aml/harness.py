"""Run an AML reference notebook's code cells in order, unedited, in a real Jupyter kernel.

``run_notebook`` copies the notebook's folder (its scripts and data) into a fresh workspace
folder, starts an ipykernel there (the environment's ``azureml`` resolves to kubeline through
the kubeline-azureml finder) and executes every code cell with nbclient, stopping at the
first cell that raises. Before the first cell a harness cell, shown in the result, puts
stand-ins in place for the internet downloads the notebooks make (a small local file of the
same shape per URL); any other address but loopback is refused, as on this machine.

``python -m tests.aml.harness NOTEBOOK [--serve]`` prints the result of one notebook.
"""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
NOTEBOOKS_REL = Path("shared/reference/aml-notebooks")

# url -> stand-in file (same columns as the public file, fewer rows)
STAND_INS = {"https://dprepdata.blob.core.windows.net/demo/Titanic.csv": DATA / "Titanic.csv"}
MNIST = "https://azureopendatastorage.blob.core.windows.net/mnist/"


def mnist_stand_ins(folder: Path, images: int = 64) -> dict[str, Path]:
    """MNIST's four files in their own format (idx, gzip), with few random images: the shape
    of the public files (28x28 bytes per image, one label byte each), not their content."""
    import gzip
    import random
    import struct

    rng = random.Random(13)
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for prefix in ("train", "t10k"):
        pixels = bytes(rng.randrange(256) for _ in range(images * 28 * 28))
        labels = bytes(rng.randrange(10) for _ in range(images))
        for kind, payload, header in (
                ("images-idx3-ubyte", pixels, struct.pack(">IIII", 2051, images, 28, 28)),
                ("labels-idx1-ubyte", labels, struct.pack(">II", 2049, images))):
            path = folder / f"{prefix}-{kind}.gz"
            with gzip.GzipFile(path, "wb", mtime=0) as handle:
                handle.write(header + payload)
            out[f"{MNIST}{path.name}"] = path
    return out

HARNESS_CELL = '''
import pathlib as _pl, urllib.parse as _up
import requests as _rq, requests.adapters as _ra, requests.models as _rm
_STAND_INS = {stand_ins!r}
_real_send = _ra.HTTPAdapter.send
def _harness_send(self, request, **kwargs):
    path = _STAND_INS.get(request.url)
    if path is not None:
        response = _rm.Response()
        response.status_code, response.url, response.request = 200, request.url, request
        response._content = _pl.Path(path).read_bytes()
        return response
    if _up.urlsplit(request.url).hostname not in ("127.0.0.1", "localhost", "::1"):
        raise _rq.ConnectionError(f"harness: no internet here: {{request.url}}")
    return _real_send(self, request, **kwargs)
_ra.HTTPAdapter.send = _harness_send
import shutil as _sh, urllib.error as _ue, urllib.request as _ur
_real_urlopen = _ur.urlopen
def _harness_urlopen(url, *args, **kwargs):
    text = url if isinstance(url, str) else url.full_url
    path = _STAND_INS.get(text)
    if path is not None:
        return open(path, "rb")
    if _up.urlsplit(text).hostname not in ("127.0.0.1", "localhost", "::1"):
        raise _ue.URLError(f"harness: no internet here: {{text}}")
    return _real_urlopen(url, *args, **kwargs)
def _harness_urlretrieve(url, filename=None, *args, **kwargs):
    path = _STAND_INS.get(url)
    if path is None:
        raise _ue.URLError(f"harness: no internet here: {{url}}")
    _sh.copyfile(path, filename)
    return filename, None
_ur.urlopen, _ur.urlretrieve = _harness_urlopen, _harness_urlretrieve
for _url, _path in _STAND_INS.items():
    print(f"harness: stand-in for {{_url}}: {{_path}}")
'''


def notebooks_root() -> Path | None:
    """The reference notebooks in the nearest ``shared/`` above this checkout."""
    for parent in HERE.parents:
        if (parent / NOTEBOOKS_REL).is_dir():
            return parent / NOTEBOOKS_REL
    return None


@dataclass
class CellResult:
    index: int  # 1-based, counting code cells only
    source: str
    ok: bool
    output: str
    error: str = ""


@dataclass
class NotebookResult:
    notebook: str
    cells: list[CellResult] = field(default_factory=list)
    total: int = 0
    notes: list[str] = field(default_factory=list)
    harness_output: str = ""

    @property
    def failed(self) -> CellResult | None:
        return next((c for c in self.cells if not c.ok), None)

    @property
    def ran_all(self) -> bool:
        return self.failed is None and len(self.cells) == self.total

    def summary(self) -> str:
        bad = self.failed
        if bad is None:
            return f"{self.notebook}: all {self.total} code cells ran"
        first = bad.source.strip().splitlines()[0] if bad.source.strip() else ""
        return (f"{self.notebook}: cell {bad.index}/{self.total} failed ({first[:60]}): "
                f"{bad.error}")


def _text(outputs: list[Any]) -> str:
    parts = []
    for out in outputs:
        if out.get("output_type") == "stream":
            parts.append(out.get("text", ""))
        elif out.get("output_type") in ("execute_result", "display_data"):
            data = out.get("data", {})
            parts.append(data.get("text/html", "") or data.get("text/plain", ""))
        elif out.get("output_type") == "error":
            parts.append("\n".join(out.get("traceback", [])))
    return "".join(parts)


def stage(workdir: Path, files: dict[str, Path]) -> list[str]:
    """Put files into the (local) workspace's default datastore, as an earlier notebook or
    the user would have; returns what was put where, for the record."""
    sys.path.insert(0, str(HERE.parents[1] / "src"))
    from kubeline.dsl.workspace import Workspace

    store = Workspace(_root=workdir).get_default_datastore()
    said = []
    for key, local in sorted(files.items()):
        folder, _, _name = key.rpartition("/")
        store.upload_files([str(local)], target_path=folder or None, overwrite=True,
                           show_progress=False)
        said.append(f"harness: staged {local.name} at {store.name}/{folder}/{local.name}")
    return said


def run_notebook(notebook: Path, workdir: Path, env: dict[str, str] | None = None,
                 timeout: int = 600, staged: dict[str, Path] | None = None,
                 stand_ins: dict[str, Path] | None = None, notes: list[str] | None = None
                 ) -> NotebookResult:
    """Execute the notebook's code cells in order in workdir; stop at the first error.

    ``staged`` puts files into the default datastore first (key -> local file);
    ``stand_ins`` adds url -> local file stand-ins; ``notes`` are printed by the harness cell
    (what the test put where, e.g. Azurite containers standing in for a public account)."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    shutil.copytree(notebook.parent, workdir, dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("*.ipynb"))
    notes = [*(notes or []), *(stage(workdir, staged) if staged else [])]
    nb = nbformat.read(notebook, as_version=4)
    code = [(i, c) for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    result = NotebookResult(notebook.name, total=len(code), notes=notes)
    stand_ins = {**STAND_INS, **mnist_stand_ins(workdir / ".harness" / "mnist"),
                 **(stand_ins or {})}
    harness = nbformat.v4.new_code_cell(HARNESS_CELL.format(
        stand_ins={url: str(path) for url, path in stand_ins.items()})
        + "".join(f"print({note!r})\n" for note in notes))
    kernel_env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", **(env or {})}
    client = NotebookClient(nb, kernel_name="python3", timeout=timeout,
                            resources={"metadata": {"path": str(workdir)}})
    with client.setup_kernel(env=kernel_env, cwd=str(workdir)):
        client.execute_cell(harness, -1)
        result.harness_output = _text(harness.outputs)
        for number, (index, cell) in enumerate(code, start=1):
            try:
                client.execute_cell(cell, index)
            except CellExecutionError as exc:
                error = f"{exc.ename}: {exc.evalue}".strip()
                result.cells.append(CellResult(number, cell.source, False,
                                               _text(cell.outputs), " ".join(error.split())))
                break
            result.cells.append(CellResult(number, cell.source, True, _text(cell.outputs)))
    return result


def main(argv: list[str] | None = None) -> int:
    import argparse
    import tempfile

    parser = argparse.ArgumentParser(description="run an AML notebook's cells on kubeline")
    parser.add_argument("notebook", type=Path)
    parser.add_argument("--workdir", type=Path, help="the workspace folder to use (kept)")
    parser.add_argument("--serve", action="store_true", help="start kubeline serve for it")
    parser.add_argument("--stage", action="append", default=[], metavar="KEY=FILE",
                        help="put FILE at KEY in the default datastore first")
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE")
    args = parser.parse_args(argv)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="aml-nb-"))
    workdir.mkdir(parents=True, exist_ok=True)
    env = dict(item.split("=", 1) for item in args.env)
    staged = {k: Path(v) for k, v in (item.split("=", 1) for item in args.stage)}
    server = None
    if args.serve:
        sys.path.insert(0, str(HERE.parents[1]))
        from tests.server.conftest import start_server

        server = start_server(workdir, log_dir=Path(tempfile.mkdtemp(prefix="aml-serve-")))
        env["KUBELINE_SERVE_URL"] = server.url
    try:
        result = run_notebook(args.notebook.resolve(), workdir, env=env, staged=staged)
    finally:
        if server is not None:
            server.stop()
    for note in result.notes:
        print(note)
    for cell in result.cells:
        mark = "ok " if cell.ok else "ERR"
        first = cell.source.strip().splitlines()[0][:70] if cell.source.strip() else ""
        print(f"[{mark}] cell {cell.index}: {first}")
        if not cell.ok:
            print("      " + cell.error)
    print(result.summary())
    print(f"workspace: {workdir}")
    return 0 if result.ran_all else 1


if __name__ == "__main__":
    sys.exit(main())
