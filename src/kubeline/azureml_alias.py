"""The opt-in ``azureml`` import name: a finder that resolves ``azureml.*`` to kubeline.

Installed by the ``kubeline-azureml`` distribution (compat/azureml/: a ``.pth`` line run at
interpreter start), never by ``kubeline`` itself. It places no file named ``azureml`` in
site-packages, so it cannot overwrite Microsoft's SDK: when Microsoft's ``azureml`` package
is importable the finder steps aside and says so in one line (docs/decisions/0013).
``KUBELINE_AZUREML=microsoft`` silences it; ``KUBELINE_AZUREML=kubeline`` makes this process
use kubeline's even then. Stdlib only and cheap: it runs in every interpreter of the venv.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys
from collections.abc import Sequence
from types import ModuleType

ENV = "KUBELINE_AZUREML"
ROOTS = {"azureml": "kubeline.azureml", "azureml_user": "kubeline.azureml._user"}
SHADOWED = ("kubeline-azureml: Microsoft's azureml SDK is installed here ({where}), so "
            "`import azureml` uses it, not kubeline; run AML code on kubeline from a virtualenv "
            "without azureml-* (python -m venv .venv-kubeline), or set KUBELINE_AZUREML=kubeline")


def target_of(fullname: str) -> str | None:
    """The kubeline module an ``azureml...`` name stands for, or None."""
    root, dot, rest = fullname.partition(".")
    base = ROOTS.get(root)
    if base is None:
        return None
    return base + dot + rest


class _AliasLoader(importlib.abc.Loader):
    """Returns the kubeline module itself, so both names share one module object."""

    def __init__(self, target: str) -> None:
        self.target = target

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        module = importlib.import_module(self.target)
        self._own = (module.__spec__, getattr(module, "__loader__", None))
        return module

    def exec_module(self, module: ModuleType) -> None:
        """Already executed under its kubeline name: give it back its own spec and loader,
        which the import machinery replaced with the alias's."""
        module.__spec__, module.__loader__ = self._own


class AzuremlFinder(importlib.abc.MetaPathFinder):
    """Resolves ``azureml`` / ``azureml_user`` and their submodules to ``kubeline.azureml``."""

    def __init__(self) -> None:
        self._told = False

    def find_spec(self, fullname: str, path: Sequence[str] | None,
                  target: ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:
        kubeline_name = target_of(fullname)
        if kubeline_name is None:
            return None
        if "." in fullname:
            parent = sys.modules.get(fullname.partition(".")[0])
            if parent is None or not getattr(parent, "__name__", "").startswith("kubeline."):
                return None  # Microsoft's package is the parent: leave its submodules alone
        elif self._microsoft_wins(fullname):
            return None
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
        sys.meta_path.insert(0, AzuremlFinder())


def microsoft_sdk() -> str | None:
    """Where Microsoft's ``azureml`` package is importable from, or None."""
    found = importlib.machinery.PathFinder.find_spec("azureml")
    if found is None:
        return None
    return ", ".join(found.submodule_search_locations or []) or str(found.origin)
