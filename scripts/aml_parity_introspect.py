"""Describe the signatures of named classes and functions as JSON (stdlib only).

Run by scripts/aml_parity.py twice: with Microsoft's SDK's interpreter on the ``azureml``
modules, and with kubeline's on ``kubeline.azureml`` (``--kubeline``). Reads
``{module: [names]}`` on stdin, prints ``{module: {name: description}}``.
"""

from __future__ import annotations

import enum
import importlib
import inspect
import json
import sys
import warnings
from pathlib import Path
from typing import Any

REFUSED_ATTR = "__kubeline_refused__"
REFUSED_PARAMS_ATTR = "__kubeline_refused_params__"
IGNORED_PARAMS_ATTR = "__kubeline_ignored_params__"
_BASES = (object, BaseException, enum.Enum, dict, list, str, int)


def _default(value: Any) -> str | None:
    if value is inspect.Parameter.empty:
        return None
    if isinstance(value, enum.Enum):
        return repr(value.value)
    return repr(value) if isinstance(value, (str, int, float, bool, type(None))) else \
        f"<{type(value).__name__}>"


def params_of(func: Any) -> list[dict[str, Any]] | None:
    try:
        sig = inspect.signature(func)
    except (TypeError, ValueError):
        return None
    out = []
    for p in sig.parameters.values():
        out.append({"name": p.name, "kind": p.kind.name, "default": _default(p.default),
                    "has_default": p.default is not inspect.Parameter.empty})
    return out


def _inherited_from_base(cls: type, name: str) -> bool:
    for klass in cls.__mro__:
        if name in vars(klass):
            return klass in _BASES or klass.__module__ in ("builtins", "enum", "abc")
    return True


def _member(cls: type, name: str) -> dict[str, Any] | None:
    raw = inspect.getattr_static(cls, name)
    if getattr(raw, REFUSED_ATTR, None) and not callable(raw):  # a refused attribute
        return {"kind": "property", "params": [], **_refused(raw)}
    if isinstance(raw, property):
        return {"kind": "property", "params": [], **_refused(raw.fget)}
    if isinstance(raw, staticmethod):
        func, kind = raw.__func__, "static"
    elif isinstance(raw, classmethod):
        func, kind = raw.__func__, "class"
    elif inspect.isfunction(raw):
        func, kind = raw, "method"
    else:
        return None
    params = params_of(func)
    if params is not None and kind in ("method", "class") and params:
        params = params[1:]  # self / cls
    return {"kind": kind, "params": params or [], **_refused(func)}


def _refused(obj: Any) -> dict[str, Any]:
    return {"refused": getattr(obj, REFUSED_ATTR, None),
            "refused_params": dict(getattr(obj, REFUSED_PARAMS_ATTR, {}) or {}),
            "ignored_params": dict(getattr(obj, IGNORED_PARAMS_ATTR, {}) or {})}


def describe(obj: Any) -> dict[str, Any]:
    if isinstance(obj, type) and issubclass(obj, enum.Enum):
        return {"kind": "enum", "members": sorted(obj.__members__), **_refused(obj)}
    if isinstance(obj, type) and issubclass(obj, BaseException):
        return {"kind": "exception", "bases": [b.__name__ for b in obj.__mro__],
                **_refused(obj)}
    if isinstance(obj, type):
        init = params_of(obj.__init__)
        members = {}
        for klass in reversed(obj.__mro__):  # instance attributes declared on the class
            for name in getattr(klass, "__annotations__", {}):
                if not name.startswith("_") and klass not in _BASES:
                    members[name] = {"kind": "property", "params": [], "refused": None,
                                     "refused_params": {}, "ignored_params": {}}
        for name in dir(obj):
            if name.startswith("_") or _inherited_from_base(obj, name):
                continue
            found = _member(obj, name)
            if found is not None:
                members[name] = found
        return {"kind": "class", "init": (init or [])[1:], "members": members,
                **_refused(obj), "init_refused_params": dict(
                    getattr(obj.__init__, REFUSED_PARAMS_ATTR, {}) or {}),
                "init_ignored_params": dict(
                    getattr(obj.__init__, IGNORED_PARAMS_ATTR, {}) or {})}
    if callable(obj):
        return {"kind": "function", "params": params_of(obj) or [], **_refused(obj)}
    return {"kind": "value", "repr": type(obj).__name__}


def main() -> int:
    kubeline = "--kubeline" in sys.argv
    if kubeline:  # the mapping of the kubeline-azureml distribution (compat/azureml)
        sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "compat" / "azureml"))
        from kubeline_azureml import target_of
    wanted: dict[str, list[str]] = json.load(sys.stdin)
    out: dict[str, Any] = {}
    warnings.simplefilter("ignore")
    for module, names in sorted(wanted.items()):
        real = target_of(module) if kubeline else module
        try:
            mod = importlib.import_module(real or module)
        except Exception as exc:  # the answer is data: a refused or absent module
            out[module] = {"__error__": f"{type(exc).__name__}: {exc}",
                           "__refused__": getattr(exc, "hint", None) is not None and
                           "not supported" in str(exc)}
            continue
        found: dict[str, Any] = {}
        for name in names:
            if name == "*module*":
                found[name] = {"kind": "module"}
            elif hasattr(mod, name):
                try:
                    found[name] = describe(getattr(mod, name))
                except Exception as exc:  # refusing class attributes and the like
                    found[name] = {"kind": "error", "error": f"{type(exc).__name__}: {exc}"}
            else:
                found[name] = {"kind": "absent"}
        out[module] = found
    json.dump(out, sys.stdout, sort_keys=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
