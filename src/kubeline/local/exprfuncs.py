"""expr-lang's builtin functions (github.com/expr-lang/expr v1.17, Argo v4.1's version) beyond
the core conversions in exprlang, and its closure builtins (``filter(list, {# > 1})``).

Written from expr's documented behaviour: predicates see ``#`` (the element), ``#index`` and,
in ``reduce``, ``#acc``; ``find`` gives nil when nothing matches, ``findIndex`` -1; ``sum``
and ``count`` take an optional predicate; ``mean``/``median`` are floats; ``sort``/``sortBy``
take "asc" (default) or "desc"; maps are iterated in key order. The time functions (``now``,
``date``, ``duration``, ``timezone``) are not provided: expressions using them are refused.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Iterable
from typing import Any

from kubeline.local.exprlang import ExprError, to_string

Predicate = Callable[..., Any]


def _list(value: Any, fn: str) -> list[Any]:
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        return [value[k] for k in sorted(value)]
    raise ExprError(f"{fn}(): cannot iterate over {_type(value)}")


def _bool(value: Any, fn: str) -> bool:
    if not isinstance(value, bool):
        raise ExprError(f"{fn}(): predicate must return a bool, got {_type(value)}")
    return value


def _quantifier(fn: str, combine: Callable[[Iterable[bool]], bool]) -> Predicate:
    """all/any: the predicate's bools over the items, combined."""

    def call(items: Any, pred: Predicate) -> bool:
        return combine(_bool(pred(x, i), fn) for i, x in enumerate(_list(items, fn)))

    return call


_all = _quantifier("all", all)
_any = _quantifier("any", any)


def _none(items: Any, pred: Predicate) -> bool:
    return not _any(items, pred)


def _one(items: Any, pred: Predicate) -> bool:
    return sum(1 for i, x in enumerate(_list(items, "one")) if _bool(pred(x, i), "one")) == 1


def _filter(items: Any, pred: Predicate) -> list[Any]:
    return [x for i, x in enumerate(_list(items, "filter")) if _bool(pred(x, i), "filter")]


def _map(items: Any, pred: Predicate) -> list[Any]:
    return [pred(x, i) for i, x in enumerate(_list(items, "map"))]


def _find_index(items: Any, pred: Predicate, last: bool = False) -> int:
    seq = list(enumerate(_list(items, "find")))
    for i, x in reversed(seq) if last else seq:
        if _bool(pred(x, i), "find"):
            return i
    return -1


def _find(items: Any, pred: Predicate, last: bool = False) -> Any:
    i = _find_index(items, pred, last)
    return None if i < 0 else _list(items, "find")[i]


def _count(items: Any, pred: Predicate | None = None) -> int:
    seq = _list(items, "count")
    if pred is None:
        return sum(1 for x in seq if _bool(x, "count"))
    return sum(1 for i, x in enumerate(seq) if _bool(pred(x, i), "count"))


def _sum(items: Any, pred: Predicate | None = None) -> Any:
    seq = _list(items, "sum")
    values = seq if pred is None else [pred(x, i) for i, x in enumerate(seq)]
    total: Any = 0
    for v in values:
        total = total + _number(v, "sum")
    return total


def _group_by(items: Any, pred: Predicate) -> dict[Any, list[Any]]:
    groups: dict[Any, list[Any]] = {}
    for i, x in enumerate(_list(items, "groupBy")):
        key = pred(x, i)
        if isinstance(key, (list, dict)):
            raise ExprError(f"groupBy(): cannot group by {_type(key)}")
        groups.setdefault(key, []).append(x)
    return groups


def _order(order: str, fn: str) -> bool:
    if order not in ("asc", "desc"):
        raise ExprError(f'{fn}(): unknown order "{order}", use "asc" or "desc"')
    return order == "desc"


def _sort_key(value: Any, fn: str) -> Any:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ExprError(f"{fn}(): cannot compare {_type(value)}")
    return value


def _sort_by(items: Any, pred: Predicate, order: str = "asc") -> list[Any]:
    seq = _list(items, "sortBy")
    keyed = [(_sort_key(pred(x, i), "sortBy"), x) for i, x in enumerate(seq)]
    keyed.sort(key=lambda kv: kv[0], reverse=_order(order, "sortBy"))
    return [x for _, x in keyed]


def _reduce(items: Any, pred: Predicate, *initial: Any) -> Any:
    seq = _list(items, "reduce")
    if initial:
        acc, start = initial[0], 0
    elif seq:
        acc, start = seq[0], 1
    else:
        raise ExprError("reduce(): empty array and no initial value")
    for i in range(start, len(seq)):
        acc = pred(seq[i], i, acc)
    return acc


CLOSURE_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "all": _all,
    "any": _any,
    "none": _none,
    "one": _one,
    "filter": _filter,
    "map": _map,
    "find": _find,
    "findIndex": _find_index,
    "findLast": lambda items, pred: _find(items, pred, last=True),
    "findLastIndex": lambda items, pred: _find_index(items, pred, last=True),
    "count": _count,
    "sum": _sum,
    "groupBy": _group_by,
    "sortBy": _sort_by,
    "reduce": _reduce,
}
"""Builtins whose second argument (first after a pipe) is a closure."""


_TYPE_NAMES: tuple[tuple[type | tuple[type, ...], str], ...] = (
    (type(None), "nil"), (bool, "bool"), (int, "int"), (float, "float"), (str, "string"),
    (list, "array"), (dict, "map"))
"""expr's type names, in the order to test them (bool before int: a bool is an int)."""


def _type(value: Any) -> str:
    return next((name for kind, name in _TYPE_NAMES if isinstance(value, kind)), "unknown")


def _number(value: Any, fn: str) -> Any:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ExprError(f"{fn}(): invalid argument of type {_type(value)}")
    return value


def _flat_numbers(args: tuple[Any, ...], fn: str) -> list[Any]:
    out: list[Any] = []
    for a in args:
        if isinstance(a, list):
            out += _flat_numbers(tuple(a), fn)
        else:
            out.append(_number(a, fn))
    return out


def _extreme(fn: str, pick: Callable[[list[Any]], Any]) -> Callable[..., Any]:
    """max/min over numbers and arrays of numbers; at least one value."""

    def call(*args: Any) -> Any:
        values = _flat_numbers(args, fn)
        if not values:
            raise ExprError(f"{fn}(): not enough arguments")
        return pick(values)

    return call


def _average(fn: str, pick: Callable[[list[Any]], Any]) -> Callable[..., float]:
    """mean/median over numbers and arrays of numbers, a float; 0.0 for none."""

    def call(*args: Any) -> float:
        values = _flat_numbers(args, fn)
        return float(pick(values)) if values else 0.0

    return call


def _split(s: Any, sep: str, n: int = -1, keep: bool = False) -> list[str]:
    text = str(s)
    if n == 0:
        return []
    if sep == "":
        parts = list(text)
        if n > 0 and len(parts) > n:
            parts = [*parts[: n - 1], "".join(parts[n - 1 :])]
        return parts
    parts = text.split(sep, n - 1 if n > 0 else -1)
    if keep:
        parts = [p + sep for p in parts[:-1]] + parts[-1:]
    return parts


def _trim(s: Any, cutset: str | None = None) -> str:
    return str(s).strip() if cutset is None else str(s).strip(cutset)


def _get(obj: Any, key: Any) -> Any:
    if isinstance(obj, dict):
        return obj.get(key)
    if isinstance(obj, (list, str)) and isinstance(key, int) and not isinstance(key, bool):
        if key < 0:
            key += len(obj)
        return obj[key] if 0 <= key < len(obj) else None
    return None


def _take(items: Any, n: Any) -> list[Any]:
    if not isinstance(n, int) or isinstance(n, bool):
        raise ExprError("take(): the count must be an int")
    return _list(items, "take")[: max(0, n)]


def _uniq(items: Any) -> list[Any]:
    out: list[Any] = []
    for x in _list(items, "uniq"):
        if not any(type(x) is type(y) and x == y for y in out):
            out.append(x)
    return out


def _flatten(items: Any) -> list[Any]:
    out: list[Any] = []
    for x in _list(items, "flatten"):
        out += _flatten(x) if isinstance(x, list) else [x]
    return out


def _concat(*lists: Any) -> list[Any]:
    out: list[Any] = []
    for x in lists:
        out += _list(x, "concat")
    return out


def _sort(items: Any, order: str = "asc") -> list[Any]:
    seq = [_sort_key(x, "sort") for x in _list(items, "sort")]
    return sorted(seq, reverse=_order(order, "sort"))


def _to_pairs(m: Any) -> list[list[Any]]:
    if not isinstance(m, dict):
        raise ExprError(f"toPairs(): expects a map, got {_type(m)}")
    return [[k, m[k]] for k in sorted(m)]


def _from_pairs(pairs: Any) -> dict[Any, Any]:
    out: dict[Any, Any] = {}
    for p in _list(pairs, "fromPairs"):
        if not isinstance(p, list) or len(p) != 2:
            raise ExprError("fromPairs(): each pair must be a list of two")
        out[p[0]] = p[1]
    return out


def _int_args(fn: str, *args: Any) -> list[int]:
    for a in args:
        if not isinstance(a, int) or isinstance(a, bool):
            raise ExprError(f"{fn}(): expects ints, got {_type(a)}")
    return list(args)


def _round(x: Any) -> float:
    v = float(_number(x, "round"))
    return float(math.floor(v + 0.5)) if v >= 0 else -float(math.floor(-v + 0.5))


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "type": _type,
    "ceil": lambda x: float(math.ceil(_number(x, "ceil"))),
    "floor": lambda x: float(math.floor(_number(x, "floor"))),
    "round": _round,
    "trim": _trim,
    "split": lambda s, sep, n=-1: _split(s, sep, n),
    "splitAfter": lambda s, sep, n=-1: _split(s, sep, n, keep=True),
    "repeat": lambda s, n: str(s) * max(0, int(n)),
    "lastIndexOf": lambda s, sub: str(s).rfind(sub),
    "max": _extreme("max", max),
    "min": _extreme("min", min),
    "mean": _average("mean", statistics.fmean),
    "median": _average("median", statistics.median),
    "first": lambda items: (_list(items, "first") or [None])[0],
    "last": lambda items: (_list(items, "last") or [None])[-1],
    "get": _get,
    "take": _take,
    "toPairs": _to_pairs,
    "fromPairs": _from_pairs,
    "reverse": lambda items: list(reversed(_list(items, "reverse"))),
    "uniq": _uniq,
    "concat": _concat,
    "flatten": _flatten,
    "sort": _sort,
    "join": lambda items, sep="": sep.join(to_string(i) for i in _list(items, "join")),
    "bitand": lambda a, b: _int_args("bitand", a, b)[0] & b,
    "bitor": lambda a, b: _int_args("bitor", a, b)[0] | b,
    "bitxor": lambda a, b: _int_args("bitxor", a, b)[0] ^ b,
    "bitnand": lambda a, b: _int_args("bitnand", a, b)[0] & ~b,
    "bitnot": lambda a: ~_int_args("bitnot", a)[0],
    "bitshl": lambda a, b: _int_args("bitshl", a, b)[0] << b,
    "bitshr": lambda a, b: _int_args("bitshr", a, b)[0] >> b,
    "bitushr": lambda a, b: (_int_args("bitushr", a, b)[0] % (1 << 64)) >> b,
}
"""Non-closure builtins added to (or refining) exprlang's core set."""
