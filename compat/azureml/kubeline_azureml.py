"""kubeline-azureml: the opt-in ``azureml`` import name, resolving to ``kubeline.azureml``.

The distribution's ``.pth`` line calls ``install()`` at interpreter start: it puts
``AzuremlFinder`` first on ``sys.meta_path``. The finder resolves ``azureml`` and
``azureml_user`` (and their submodules) to ``kubeline.azureml`` / ``kubeline.azureml._user``,
one module object under both names. No file named ``azureml`` is installed, so Microsoft's
SDK is never overwritten: when an ``azureml`` package is importable the finder steps aside
and the first ``import azureml`` says so in one line (docs/decisions/0016-azureml-import-name.md).
``KUBELINE_AZUREML=microsoft`` silences that line; ``KUBELINE_AZUREML=kubeline`` makes this
process use kubeline's even then.

It runs in every interpreter of the environment, so it imports nothing at start beyond
``importlib.machinery`` (frozen, well under a millisecond); the rest is imported when an
``azureml`` import happens. ``python -m kubeline_azureml`` says where ``azureml`` resolves.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import os
import sys

ENV = "KUBELINE_AZUREML"
ROOTS = {"azureml": "kubeline.azureml", "azureml_user": "kubeline.azureml._user"}
SHADOWED = ("kubeline-azureml: Microsoft's azureml SDK is installed here ({where}), so "
            "`import azureml` uses it, not kubeline; run AML code on kubeline from a virtualenv "
            "without azureml-* (python -m venv .venv-kubeline), or set KUBELINE_AZUREML=kubeline")


def target_of(fullname: str) -> str | None:
    """The kubeline module an ``azureml...`` name stands for, or None."""
    root, dot, rest = fullname.partition(".")
    base = ROOTS.get(root)
    return None if base is None else base + dot + rest


class _AliasLoader:
    """Returns the kubeline module itself, so both names share one module object."""

    def __init__(self, target: str) -> None:
        self.target = target
        self._own: tuple[object, object] = (None, None)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> object:
        module = importlib.import_module(self.target)
        self._own = (module.__spec__, getattr(module, "__loader__", None))
        return module

    def exec_module(self, module: object) -> None:
        """Already executed under its kubeline name: give it back its own spec and loader,
        which the import machinery replaced with the alias's."""
        module.__spec__, module.__loader__ = self._own  # type: ignore[attr-defined]


class AzuremlFinder:
    """A meta path finder for ``azureml`` / ``azureml_user`` and their submodules."""

    def __init__(self) -> None:
        self._told = False

    def find_spec(self, fullname: str, path: object = None,
                  target: object = None) -> importlib.machinery.ModuleSpec | None:
        kubeline_name = target_of(fullname)
        if kubeline_name is None:
            return None
        if "." in fullname:
            parent = sys.modules.get(fullname.partition(".")[0])
            if parent is None or not getattr(parent, "__name__", "").startswith("kubeline."):
                return None  # Microsoft's package is the parent: leave its submodules alone
        elif self._microsoft_wins(fullname):
            return None
        import importlib.util

        if importlib.util.find_spec(kubeline_name) is None:
            return None
        return importlib.machinery.ModuleSpec(fullname, _AliasLoader(kubeline_name))

    def _microsoft_wins(self, fullname: str) -> bool:
        choice = os.environ.get(ENV, "").strip().lower()
        if choice == "kubeline":
            return False
        found = importlib.machinery.PathFinder.find_spec(fullname)
        if found is None:
            return False
        if choice != "microsoft" and not self._told and fullname == "azureml":
            self._told = True
            where = ", ".join(found.submodule_search_locations or []) or str(found.origin)
            sys.stderr.write(SHADOWED.format(where=where) + "\n")
        return True


def install() -> None:
    """Put the finder first on sys.meta_path (once)."""
    if not any(isinstance(f, AzuremlFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, AzuremlFinder())  # type: ignore[arg-type]


def microsoft_sdk() -> str | None:
    """Where Microsoft's ``azureml`` package is importable from, or None."""
    found = importlib.machinery.PathFinder.find_spec("azureml")
    if found is None:
        return None
    return ", ".join(found.submodule_search_locations or []) or str(found.origin)


def main() -> int:
    where = microsoft_sdk()
    if where is not None:
        print(f"azureml -> Microsoft's SDK ({where}); kubeline's is inactive here: use a "
              "virtualenv without azureml-* for kubeline, or KUBELINE_AZUREML=kubeline")
        return 1
    install()
    module = importlib.import_module("azureml")
    print(f"azureml -> kubeline ({module.__file__})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
