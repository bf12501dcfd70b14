"""The SDK's signatures at kubeline's doors: unknown names and wrong types fail in one line.

``aml_surface(spec)`` decorates a class of the AML surface (the data lives in
``aml_surface_data``): its ``__init__`` and the methods the spec names get a checking
wrapper, and every Azure-only member the spec lists becomes a stub that refuses in one line.
The wrapper, where the object is created or the method called:

* refuses an argument the SDK has but kubeline does not implement (``refused``), unless it
  is passed with the SDK's default value;
* drops an Azure-only setting that has no effect here (``ignored``: accepted, documented);
* refuses any other unknown keyword with the accepted names;
* checks arguments annotated with simple types (str, int, float, bool, list, dict and their
  ``| None``) and names the parameter, the expected type and the value given.

The wrapper keeps the original signature (``inspect.signature`` follows ``__wrapped__``) and
carries ``__kubeline_refused_params__`` / ``__kubeline_ignored_params__`` for
scripts/aml_parity.py. Stdlib only.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from kubeline.exceptions import KubelineError

REFUSED_ATTR = "__kubeline_refused__"
REFUSED_PARAMS_ATTR = "__kubeline_refused_params__"
IGNORED_PARAMS_ATTR = "__kubeline_ignored_params__"

T = TypeVar("T", bound=type)


class ArgumentError(KubelineError, TypeError):
    """A wrong type or an unknown name, where the object is created or the call made (a
    TypeError too, as Python's own would be)."""


class RefusedArgument(ArgumentError):
    """An argument of the SDK that kubeline does not implement."""


class RefusedMember(KubelineError):
    """A method or property of the SDK that has no counterpart in kubeline."""


@dataclass(frozen=True)
class Params:
    """What a callable does with the SDK's arguments it lacks."""

    ignored: Mapping[str, str] = field(default_factory=dict)  # name -> why it has no effect
    refused: Mapping[str, tuple[Any, str]] = field(default_factory=dict)  # name -> (default, why)


@dataclass(frozen=True)
class Surface:
    """A class's place in the SDK: refused members and per-callable argument handling."""

    members: Mapping[str, str] = field(default_factory=dict)  # name -> advice
    properties: frozenset[str] = frozenset()  # which refused members are properties
    params: Mapping[str, Params] = field(default_factory=dict)  # "__init__"/method -> Params


_SIMPLE: dict[str, tuple[type, ...]] = {
    "str": (str,), "int": (int,), "float": (float, int), "bool": (bool,),
    "list": (list, tuple), "dict": (dict,), "Mapping": (Mapping,),
}


def _types(annotation: Any) -> tuple[tuple[type, ...], bool] | None:
    """(accepted types, None allowed) for a simple string annotation, else None."""
    if not isinstance(annotation, str):
        return None
    accepted: list[type] = []
    optional = False
    for part in (p.strip() for p in annotation.split("|")):
        base = part.split("[", 1)[0].strip()
        if base == "None":
            optional = True
        elif base in _SIMPLE:
            accepted.extend(_SIMPLE[base])
        else:
            return None  # a class or an alias: not checked here
    return (tuple(accepted), optional) if accepted else None


def _type_name(types: tuple[type, ...], optional: bool) -> str:
    names = sorted({t.__name__ for t in types} - ({"int"} if float in types else set()))
    return " or ".join(names + (["None"] if optional else []))


def check_arguments(label: str, func: Callable[..., Any], params: Params,
                    args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
    """The keyword arguments to pass on, after the checks above; raises ArgumentError."""
    sig = inspect.signature(func)
    named = [p for p in sig.parameters.values()
             if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    names = {p.name for p in named}
    takes_kwargs = any(p.kind == p.VAR_KEYWORD for p in sig.parameters.values())
    public = sorted(n for n in names if not n.startswith("_") and n not in ("self", "cls"))
    out: dict[str, Any] = {}
    for key, value in kwargs.items():
        if key in names:
            out[key] = value
        elif key in params.refused:
            default, why = params.refused[key]
            if value is not default and value != default:
                raise RefusedArgument(f"{label}: argument '{key}' is not supported by kubeline",
                                      why)
        elif key in params.ignored:
            if takes_kwargs:
                out[key] = value
        elif takes_kwargs and key.startswith("_"):
            out[key] = value
        else:
            raise ArgumentError(f"{label}: unknown argument '{key}'",
                                f"accepted: {', '.join(public)}")
    try:
        bound = sig.bind_partial(*args, **{k: v for k, v in out.items() if k in names})
    except TypeError as exc:
        raise ArgumentError(f"{label}: {exc}", f"accepted: {', '.join(public)}") from None
    for name, value in bound.arguments.items():
        param = sig.parameters[name]
        expected = _types(param.annotation)
        if expected is None or value is param.default:
            continue
        types, optional = expected
        if value is None and optional:
            continue
        if (isinstance(value, bool) and bool not in types) or not isinstance(value, types):
            raise ArgumentError(f"{label}: {name} must be {_type_name(types, optional)}, not "
                                f"{type(value).__name__} ({value!r:.60})")
    return out


def checked(label: str, func: Callable[..., Any], params: Params | None = None
            ) -> Callable[..., Any]:
    """func with check_arguments in front; keeps its signature for inspect."""
    spec = params or Params()

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        passed = check_arguments(label, func, spec, args, kwargs)
        return func(*args, **passed)

    setattr(wrapper, REFUSED_PARAMS_ATTR, {k: why for k, (_, why) in spec.refused.items()})
    setattr(wrapper, IGNORED_PARAMS_ATTR, dict(spec.ignored))
    return wrapper


def refused_member(qualname: str, advice: str) -> Callable[..., Any]:
    """A stub that refuses in one line, whether called on the class or an instance."""

    def refused(*args: Any, **kwargs: Any) -> Any:
        raise RefusedMember(f"{qualname} is not supported by kubeline", advice)

    refused.__name__ = qualname.rpartition(".")[2]
    refused.__qualname__ = qualname
    refused.__doc__ = advice
    setattr(refused, REFUSED_ATTR, advice)
    return refused


class RefusedAttribute:
    """A refused SDK property. Non-data descriptor: an instance attribute of the same name
    (one kubeline sets itself) shadows it; reading it otherwise refuses in one line."""

    def __init__(self, qualname: str, advice: str) -> None:
        self.qualname = qualname
        setattr(self, REFUSED_ATTR, advice)

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        raise RefusedMember(f"{self.qualname} is not supported by kubeline",
                            getattr(self, REFUSED_ATTR))


def _wrap(cls: type, name: str, params: Params) -> None:
    raw = inspect.getattr_static(cls, name)
    label = f"{cls.__name__}" if name == "__init__" else f"{cls.__name__}.{name}"
    if isinstance(raw, staticmethod):
        setattr(cls, name, staticmethod(checked(label, raw.__func__, params)))
    elif isinstance(raw, classmethod):
        setattr(cls, name, classmethod(checked(label, raw.__func__, params)))
    elif inspect.isfunction(raw):
        setattr(cls, name, checked(label, raw, params))


def aml_surface(surface: Surface) -> Callable[[T], T]:
    """Apply a Surface to a class (see the module docstring)."""

    def apply(cls: T) -> T:
        for name, advice in surface.members.items():
            if name in vars(cls):
                continue
            qualname = f"{cls.__name__}.{name}"
            setattr(cls, name, RefusedAttribute(qualname, advice)
                    if name in surface.properties else refused_member(qualname, advice))
        if "__init__" in vars(cls):
            _wrap(cls, "__init__", surface.params.get("__init__", Params()))
        for name, params in surface.params.items():
            if name != "__init__" and name in vars(cls):
                _wrap(cls, name, params)
        return cls

    return apply


__all__ = ["Params", "Surface", "aml_surface", "checked", "refused_member"]
