"""The SDK's signatures at kubeline's doors: unknown names and wrong types fail in one line.

``aml_surface(spec)`` decorates a class of the AML surface (the data lives in
``kubeline.aml_surface.data``): its ``__init__`` and the methods the spec names get a checking
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


class _Checker:
    """What a callable's checks need, computed once from its signature."""

    def __init__(self, label: str, func: Callable[..., Any], params: Params) -> None:
        sig = inspect.signature(func)
        self.label = label
        self.params = params
        self.sig = sig
        named = [p for p in sig.parameters.values()
                 if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
        self.positional = [p.name for p in named if p.kind != p.KEYWORD_ONLY]
        self.names = {p.name for p in named}
        self.takes_args = any(p.kind == p.VAR_POSITIONAL for p in sig.parameters.values())
        self.takes_kwargs = any(p.kind == p.VAR_KEYWORD for p in sig.parameters.values())
        self.public = ", ".join(sorted(n for n in self.names
                                       if not n.startswith("_") and n not in ("self", "cls")))
        self.expected: dict[str, tuple[tuple[type, ...], bool, Any]] = {}
        for p in named:
            found = _types(p.annotation)
            if found is not None:
                self.expected[p.name] = (found[0], found[1], p.default)

    def kwargs(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        """The keyword arguments to pass on, after the checks; raises ArgumentError."""
        out: dict[str, Any] = {}
        for key, value in kwargs.items():
            if key in self.names:
                out[key] = value
            elif key in self.params.refused:
                default, why = self.params.refused[key]
                if value is not default and value != default:
                    raise RefusedArgument(f"{self.label}: argument '{key}' is not supported by "
                                          "kubeline", why)
            elif key in self.params.ignored:
                if self.takes_kwargs:
                    out[key] = value
            elif self.takes_kwargs and key.startswith("_"):
                out[key] = value
            else:
                raise ArgumentError(f"{self.label}: unknown argument '{key}'",
                                    f"accepted: {self.public}")
        if len(args) > len(self.positional) and not self.takes_args:
            try:
                self.sig.bind(*args, **out)
            except TypeError as exc:
                raise ArgumentError(f"{self.label}: {exc}",
                                    f"accepted: {self.public}") from None
        given = zip(self.positional, args, strict=False)  # extra args: *args
        for name, value in (*given, *out.items()):
            expected = self.expected.get(name)
            if expected is not None:
                self._check_type(name, value, *expected)
        return out

    def _check_type(self, name: str, value: Any, types: tuple[type, ...], optional: bool,
                    default: Any) -> None:
        if value is default or (value is None and optional):
            return
        if (isinstance(value, bool) and bool not in types) or not isinstance(value, types):
            raise ArgumentError(f"{self.label}: {name} must be {_type_name(types, optional)}, "
                                f"not {type(value).__name__} ({value!r:.60})")


def check_arguments(label: str, func: Callable[..., Any], params: Params,
                    args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
    """The keyword arguments to pass on, after the checks above; raises ArgumentError."""
    return _Checker(label, func, params).kwargs(args, kwargs)


def checked(label: str, func: Callable[..., Any], params: Params | None = None
            ) -> Callable[..., Any]:
    """func with the checks in front (computed once); keeps its signature for inspect."""
    spec = params or Params()
    checker = _Checker(label, func, spec)

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return func(*args, **checker.kwargs(args, kwargs))

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


def implemented(cls: type) -> set[str]:
    """The names ``cls`` really has: defined in it or a base (refusal stubs aside) or
    declared as instance attributes (class annotations)."""
    names: set[str] = set()
    for klass in cls.__mro__:
        if klass is object:
            continue
        names.update(vars(klass).get("__annotations__", {}))
        names.update(n for n, v in vars(klass).items() if not getattr(v, REFUSED_ATTR, None))
    return names


def aml_surface(surface: Surface) -> Callable[[T], T]:
    """Apply a Surface to a class (see the module docstring)."""

    def apply(cls: T) -> T:
        own = implemented(cls)
        for name, advice in surface.members.items():
            if name in own:
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


__all__ = ["Params", "Surface", "aml_surface", "checked", "implemented", "refused_member"]
