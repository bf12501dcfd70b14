"""The ``sprig.*`` functions of Argo expressions (Masterminds/sprig v3.3, GenericFuncMap).

Argo exposes sprig's generic function map (without ``env``/``expandenv``) as ``sprig`` in
``{{=...}}``. Written from sprig's documented behaviour: arguments come in sprig's order (the
value last: ``sprig.replace(old, new, s)``), numbers convert as sprig's ``toInt64`` /
``toFloat64`` do (strings parsed, floats truncated, anything unparsable is 0), strings as Go's
``%v``; integer division and ``mod`` truncate toward zero as Go does; ``keys`` are sorted.
Functions outside this map (dates, randomness, cryptography, network, semver, URL) are refused
before a run starts, naming the function.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import math
import os.path
import posixpath
import re
import uuid
import zlib
from collections.abc import Callable
from typing import Any

from kubeline.local.exprlang import ExprError, to_string
from kubeline.local.nodes import go_json


def _int(v: Any) -> int:
    """sprig's toInt64 (spf13/cast): 0 when the value does not convert."""
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, int):
        return v
    if isinstance(v, float):
        return int(v) if math.isfinite(v) else 0
    if isinstance(v, str):
        text = v.strip()
        try:
            return int(text, 0) if not re.fullmatch(r"[-+]?0\d+", text) else int(text, 10)
        except ValueError:
            try:
                return int(float(text))
            except ValueError:
                return 0
    return 0


def _float(v: Any) -> float:
    """sprig's toFloat64: 0 when the value does not convert."""
    if isinstance(v, (bool, int, float)):
        return float(v)
    if isinstance(v, str):
        try:
            return float(v.strip())
        except ValueError:
            return 0.0
    return 0.0


def _s(v: Any) -> str:
    return "" if v is None else to_string(v)


def _go_div(a: int, b: int) -> int:
    if b == 0:
        raise ExprError("sprig: integer divide by zero")
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


def _go_mod(a: int, b: int) -> int:
    if b == 0:
        raise ExprError("sprig: integer divide by zero")
    return a - _go_div(a, b) * b


def _empty(v: Any) -> bool:
    return v is None or v is False or (not isinstance(v, bool) and v in (0, 0.0)) or (
        isinstance(v, (str, list, dict)) and len(v) == 0)


def _default(default: Any, *given: Any) -> Any:
    return default if not given or _empty(given[0]) else given[0]


def _list(v: Any, fn: str) -> list[Any]:
    if isinstance(v, list):
        return v
    raise ExprError(f"sprig.{fn}: cannot find {fn} on type {type(v).__name__}")


def _dict(v: Any, fn: str) -> dict[str, Any]:
    if isinstance(v, dict):
        return v
    raise ExprError(f"sprig.{fn}: expects a dict")


def _trunc(n: Any, s: Any) -> str:
    text, c = _s(s), _int(n)
    if c < 0 and len(text) + c > 0:
        return text[len(text) + c :]
    if c >= 0 and len(text) > c:
        return text[:c]
    return text


def _substr(start: Any, end: Any, s: Any) -> str:
    text, a, b = _s(s), _int(start), _int(end)
    if a < 0:
        return text[:b]
    if b < 0 or b > len(text):
        return text[a:]
    return text[a:b]


def _abbrev(width: Any, s: Any) -> str:
    text, w = _s(s), _int(width)
    if w < 4 or len(text) <= w:
        return text
    return text[: w - 3] + "..."


def _title(s: Any) -> str:
    return re.sub(r"(^|\s)(\S)", lambda m: m.group(1) + m.group(2).upper(), _s(s))


def _untitle(s: Any) -> str:
    return re.sub(r"(^|\s)(\S)", lambda m: m.group(1) + m.group(2).lower(), _s(s))


def _words(s: str) -> list[str]:
    return re.findall(r"[A-Z]+(?=[A-Z][a-z]|[0-9]|\b|_)|[A-Z]?[a-z]+|[A-Z]+|[0-9]+", s)


def _snake(s: Any) -> str:
    return "_".join(w.lower() for w in _words(_s(s)))


def _kebab(s: Any) -> str:
    return "-".join(w.lower() for w in _words(_s(s)))


def _camel(s: Any) -> str:
    return "".join(w[:1].upper() + w[1:] for w in re.split(r"[_\s-]+", _s(s)) if w)


def _swapcase(s: Any) -> str:
    return _s(s).swapcase()


def _initials(s: Any) -> str:
    return "".join(w[0] for w in _s(s).split())


def _wrap(width: Any, s: Any) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(_s(s), _int(width), break_long_words=False)) or _s(s)


def _indent(n: Any, s: Any) -> str:
    pad = " " * _int(n)
    return pad + _s(s).replace("\n", "\n" + pad)


def _plural(one: Any, many: Any, count: Any) -> str:
    return _s(one) if _int(count) == 1 else _s(many)


def _cat(*vs: Any) -> str:
    return " ".join(_s(v) for v in vs if v is not None)


def _quote(*vs: Any) -> str:
    return " ".join(json.dumps(_s(v), ensure_ascii=False) for v in vs if v is not None)


def _squote(*vs: Any) -> str:
    return " ".join("'" + _s(v) + "'" for v in vs if v is not None)


def _to_strings(v: Any) -> list[str]:
    if isinstance(v, list):
        return [_s(x) for x in v if x is not None]
    return [_s(v)]


def _split_map(sep: Any, s: Any, n: int = -1) -> dict[str, str]:
    parts = _s(s).split(_s(sep), n - 1) if n > 0 else _s(s).split(_s(sep))
    return {f"_{i}": p for i, p in enumerate(parts)}


def _until_step(start: Any, stop: Any, step: Any) -> list[int]:
    a, b, c = _int(start), _int(stop), _int(step)
    if (b < a and c >= 0) or (b >= a and c <= 0):
        return []
    return list(range(a, b, c))


def _round(a: Any, places: Any, *on: Any) -> float:
    round_on = _float(on[0]) if on else 0.5
    digit = 10 ** _float(places) * _float(a)
    frac = digit - math.trunc(digit)
    value = math.ceil(digit) if frac >= round_on else math.floor(digit)
    return value / 10 ** _float(places)


def _coalesce(*vs: Any) -> Any:
    return next((v for v in vs if not _empty(v)), None)


def _ternary(true_value: Any, false_value: Any, condition: Any) -> Any:
    return true_value if condition is True else false_value


def _type_of(v: Any) -> str:
    if v is None:
        return "<nil>"
    return {bool: "bool", int: "int", float: "float64", str: "string", list: "[]interface {}",
            dict: "map[string]interface {}"}.get(type(v), type(v).__name__)


def _kind_of(v: Any) -> str:
    if v is None:
        return "invalid"
    return {bool: "bool", int: "int", float: "float64", str: "string", list: "slice",
            dict: "map"}.get(type(v), "struct")


def _from_json(s: Any) -> Any:
    try:
        return json.loads(_s(s))
    except json.JSONDecodeError:
        return {}


def _must_from_json(s: Any) -> Any:
    try:
        return json.loads(_s(s))
    except json.JSONDecodeError as exc:
        raise ExprError(f"sprig.mustFromJson: {exc}") from exc


def _pretty_json(v: Any) -> str:
    return json.dumps(v, indent=2, sort_keys=True, ensure_ascii=False)


def _raw_json(v: Any) -> str:
    return json.dumps(v, separators=(",", ":"), sort_keys=True, ensure_ascii=False)


def _b64dec(s: Any) -> str:
    try:
        return base64.b64decode(_s(s), validate=True).decode("utf-8", errors="replace")
    except ValueError as exc:
        return str(exc)


def _b32dec(s: Any) -> str:
    try:
        return base64.b32decode(_s(s)).decode("utf-8", errors="replace")
    except ValueError as exc:
        return str(exc)


def _dict_of(*kv: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for i in range(0, len(kv), 2):
        out[_s(kv[i])] = kv[i + 1] if i + 1 < len(kv) else ""
    return out


def _set(d: Any, key: Any, value: Any) -> dict[str, Any]:
    out = dict(_dict(d, "set"))
    out[_s(key)] = value
    return out


def _unset(d: Any, key: Any) -> dict[str, Any]:
    out = dict(_dict(d, "unset"))
    out.pop(_s(key), None)
    return out


def _pluck(key: Any, *ds: Any) -> list[Any]:
    return [d[_s(key)] for d in ds if isinstance(d, dict) and _s(key) in d]


def _keys(*ds: Any) -> list[str]:
    out: list[str] = []
    for d in ds:
        out += list(_dict(d, "keys"))
    return sorted(out)


def _values(d: Any) -> list[Any]:
    m = _dict(d, "values")
    return [m[k] for k in sorted(m)]


def _pick(d: Any, *keys: Any) -> dict[str, Any]:
    m = _dict(d, "pick")
    return {k: m[k] for k in map(_s, keys) if k in m}


def _omit(d: Any, *keys: Any) -> dict[str, Any]:
    drop = {_s(k) for k in keys}
    return {k: v for k, v in _dict(d, "omit").items() if k not in drop}


def _merge(dst: Any, *srcs: Any, overwrite: bool = False) -> dict[str, Any]:
    out = copy.deepcopy(_dict(dst, "merge"))
    for src in srcs:
        _merge_into(out, _dict(src, "merge"), overwrite)
    return out


def _merge_into(out: dict[str, Any], src: dict[str, Any], overwrite: bool) -> None:
    for k, v in src.items():
        if isinstance(out.get(k), dict) and isinstance(v, dict):
            _merge_into(out[k], v, overwrite)
        elif k not in out or (overwrite and not _empty(v)) or (not overwrite and _empty(out[k])):
            out[k] = copy.deepcopy(v)


def _dig(*args: Any) -> Any:
    if len(args) < 3:
        raise ExprError("sprig.dig: needs keys, a default and a dict")
    *keys, default, d = args
    cur: Any = _dict(d, "dig")
    for k in keys:
        if not isinstance(cur, dict) or _s(k) not in cur:
            return default
        cur = cur[_s(k)]
    return cur


def _has_key(d: Any, key: Any) -> bool:
    return _s(key) in _dict(d, "hasKey")


def _first(v: Any) -> Any:
    items = _list(v, "first")
    return items[0] if items else None


def _last(v: Any) -> Any:
    items = _list(v, "last")
    return items[-1] if items else None


def _uniq(v: Any) -> list[Any]:
    out: list[Any] = []
    for x in _list(v, "uniq"):
        if x not in out:
            out.append(x)
    return out


def _slice(v: Any, *idx: Any) -> list[Any]:
    items = _list(v, "slice")
    if not idx:
        return list(items)
    start = _int(idx[0])
    return items[start : _int(idx[1])] if len(idx) > 1 else items[start:]


def _chunk(size: Any, v: Any) -> list[list[Any]]:
    items, n = _list(v, "chunk"), _int(size)
    if n < 1:
        raise ExprError("sprig.chunk: size must be positive")
    return [items[i : i + n] for i in range(0, len(items), n)]


def _compact(v: Any) -> list[Any]:
    return [x for x in _list(v, "compact") if not _empty(x)]


def _sort_alpha(v: Any) -> list[str]:
    return sorted(_to_strings(v)) if isinstance(v, list) else [_s(v)]


def _go_repl(repl: str) -> str:
    """Go's $1 / ${name} expansion in a replacement, as Python's \\g<...>."""
    out = repl.replace("\\", "\\\\")
    out = re.sub(r"\$\{(\w+)\}", r"\\g<\1>", out)
    return re.sub(r"\$(\d+)", r"\\g<\1>", out)


def _regex(pattern: Any) -> re.Pattern[str]:
    try:
        return re.compile(_s(pattern))
    except re.error as exc:
        raise ExprError(f"sprig: bad regular expression {pattern!r}: {exc}") from exc


def _regex_find_all(pattern: Any, s: Any, n: Any) -> list[str]:
    found = [m.group() for m in _regex(pattern).finditer(_s(s))]
    return found if _int(n) < 0 else found[: _int(n)]


def _regex_find(pattern: Any, s: Any) -> str:
    m = _regex(pattern).search(_s(s))
    return m.group() if m else ""


def _regex_split(pattern: Any, s: Any, n: Any) -> list[str]:
    count = _int(n)
    if count == 0:
        return []
    return _regex(pattern).split(_s(s), maxsplit=count - 1 if count > 0 else 0)


def _fail(msg: Any) -> None:
    raise ExprError(_s(msg))


def _max(a: Any, *rest: Any) -> int:
    return max(_int(x) for x in (a, *rest))


def _min(a: Any, *rest: Any) -> int:
    return min(_int(x) for x in (a, *rest))


def _seq(*params: Any) -> str:
    p = [_int(x) for x in params]
    if len(p) == 1:
        inc = 1 if p[0] >= 1 else -1
        nums = _until_step(1, p[0] + inc, inc)
    elif len(p) == 2:
        inc = 1 if p[1] >= p[0] else -1
        nums = _until_step(p[0], p[1] + inc, inc)
    elif len(p) == 3:
        if p[1] == 0 or (p[1] > 0) != (p[2] >= p[0]):
            return ""
        nums = _until_step(p[0], p[2] + (1 if p[1] > 0 else -1), p[1])
    else:
        return ""
    return " ".join(map(str, nums))


def _to_decimal(v: Any) -> int:
    try:
        return int(_s(v), 8)
    except ValueError:
        return 0


FUNCTIONS: dict[str, Callable[..., Any]] = {
    # strings
    "abbrev": _abbrev,
    "trunc": _trunc,
    "trim": lambda s: _s(s).strip(),
    "upper": lambda s: _s(s).upper(),
    "lower": lambda s: _s(s).lower(),
    "title": _title,
    "untitle": _untitle,
    "substr": _substr,
    "repeat": lambda n, s: _s(s) * max(0, _int(n)),
    "trimall": lambda cut, s: _s(s).strip(_s(cut)),
    "trimAll": lambda cut, s: _s(s).strip(_s(cut)),
    "trimSuffix": lambda suf, s: _s(s)[: -len(_s(suf))] if _s(suf) and _s(s).endswith(
        _s(suf)) else _s(s),
    "trimPrefix": lambda pre, s: _s(s)[len(_s(pre)) :] if _s(s).startswith(_s(pre)) else _s(s),
    "nospace": lambda s: re.sub(r"\s", "", _s(s)),
    "initials": _initials,
    "swapcase": _swapcase,
    "snakecase": _snake,
    "camelcase": _camel,
    "kebabcase": _kebab,
    "wrap": _wrap,
    "contains": lambda sub, s: _s(sub) in _s(s),
    "hasPrefix": lambda pre, s: _s(s).startswith(_s(pre)),
    "hasSuffix": lambda suf, s: _s(s).endswith(_s(suf)),
    "quote": _quote,
    "squote": _squote,
    "cat": _cat,
    "indent": _indent,
    "nindent": lambda n, s: "\n" + _indent(n, s),
    "replace": lambda old, new, s: _s(s).replace(_s(old), _s(new)),
    "plural": _plural,
    "sha1sum": lambda s: hashlib.sha1(_s(s).encode()).hexdigest(),
    "sha256sum": lambda s: hashlib.sha256(_s(s).encode()).hexdigest(),
    "sha512sum": lambda s: hashlib.sha512(_s(s).encode()).hexdigest(),
    "adler32sum": lambda s: str(zlib.adler32(_s(s).encode())),
    "toString": _s,
    "split": lambda sep, s: _split_map(sep, s),
    "splitList": lambda sep, s: _s(s).split(_s(sep)),
    "splitn": lambda sep, n, s: _split_map(sep, s, _int(n)),
    "toStrings": _to_strings,
    "join": lambda sep, v: _s(sep).join(_to_strings(v)),
    "sortAlpha": _sort_alpha,
    # numbers
    "atoi": lambda s: _int(s) if re.fullmatch(r"\s*[-+]?\d+\s*", _s(s)) else 0,
    "int64": _int,
    "int": _int,
    "float64": _float,
    "seq": _seq,
    "toDecimal": _to_decimal,
    "until": lambda n: _until_step(0, n, 1 if _int(n) >= 0 else -1),
    "untilStep": _until_step,
    "add1": lambda a: _int(a) + 1,
    "add": lambda *xs: sum(_int(x) for x in xs),
    "sub": lambda a, b: _int(a) - _int(b),
    "div": lambda a, b: _go_div(_int(a), _int(b)),
    "mod": lambda a, b: _go_mod(_int(a), _int(b)),
    "mul": lambda a, *xs: math.prod(_int(x) for x in (a, *xs)),
    "add1f": lambda a: _float(a) + 1,
    "addf": lambda *xs: math.fsum(_float(x) for x in xs),
    "subf": lambda a, *xs: _float(a) - math.fsum(_float(x) for x in xs),
    "divf": lambda a, *xs: _float(a) / math.prod(_float(x) for x in xs),
    "mulf": lambda a, *xs: math.prod(_float(x) for x in (a, *xs)),
    "biggest": _max,
    "max": _max,
    "min": _min,
    "maxf": lambda a, *xs: max(_float(x) for x in (a, *xs)),
    "minf": lambda a, *xs: min(_float(x) for x in (a, *xs)),
    "ceil": lambda a: float(math.ceil(_float(a))),
    "floor": lambda a: float(math.floor(_float(a))),
    "round": _round,
    # defaults, types, JSON
    "default": _default,
    "empty": _empty,
    "coalesce": _coalesce,
    "all": lambda *vs: all(not _empty(v) for v in vs),
    "any": lambda *vs: any(not _empty(v) for v in vs),
    "compact": _compact,
    "mustCompact": _compact,
    "fromJson": _from_json,
    "toJson": go_json,
    "toPrettyJson": _pretty_json,
    "toRawJson": _raw_json,
    "mustFromJson": _must_from_json,
    "mustToJson": go_json,
    "mustToPrettyJson": _pretty_json,
    "mustToRawJson": _raw_json,
    "ternary": _ternary,
    "deepCopy": copy.deepcopy,
    "mustDeepCopy": copy.deepcopy,
    "typeOf": _type_of,
    "typeIs": lambda t, v: _type_of(v) == _s(t),
    "typeIsLike": lambda t, v: _s(t) in (_type_of(v), "*" + _type_of(v)),
    "kindOf": _kind_of,
    "kindIs": lambda k, v: _kind_of(v) == _s(k),
    "deepEqual": lambda a, b: a == b and type(a) is type(b),
    # paths
    "base": lambda p: posixpath.basename(_s(p).rstrip("/")) or ("/" if _s(p) else "."),
    "dir": lambda p: posixpath.dirname(_s(p).rstrip("/") or "/") or ".",
    "clean": lambda p: posixpath.normpath(_s(p)) if _s(p) else ".",
    "ext": lambda p: posixpath.splitext(_s(p))[1],
    "isAbs": lambda p: _s(p).startswith("/"),
    "osBase": lambda p: os.path.basename(_s(p).rstrip("/")) or ("/" if _s(p) else "."),
    "osDir": lambda p: os.path.dirname(_s(p).rstrip("/") or "/") or ".",
    "osClean": lambda p: os.path.normpath(_s(p)) if _s(p) else ".",
    "osExt": lambda p: os.path.splitext(_s(p))[1],
    "osIsAbs": lambda p: os.path.isabs(_s(p)),
    # encoding
    "b64enc": lambda s: base64.b64encode(_s(s).encode()).decode(),
    "b64dec": _b64dec,
    "b32enc": lambda s: base64.b32encode(_s(s).encode()).decode(),
    "b32dec": _b32dec,
    # lists and dicts
    "tuple": lambda *vs: list(vs),
    "list": lambda *vs: list(vs),
    "dict": _dict_of,
    "get": lambda d, k: _dict(d, "get").get(_s(k), ""),
    "set": _set,
    "unset": _unset,
    "hasKey": _has_key,
    "pluck": _pluck,
    "keys": _keys,
    "pick": _pick,
    "omit": _omit,
    "merge": lambda dst, *srcs: _merge(dst, *srcs),
    "mergeOverwrite": lambda dst, *srcs: _merge(dst, *srcs, overwrite=True),
    "mustMerge": lambda dst, *srcs: _merge(dst, *srcs),
    "mustMergeOverwrite": lambda dst, *srcs: _merge(dst, *srcs, overwrite=True),
    "values": _values,
    "append": lambda v, x: [*_list(v, "append"), x],
    "push": lambda v, x: [*_list(v, "push"), x],
    "mustAppend": lambda v, x: [*_list(v, "append"), x],
    "mustPush": lambda v, x: [*_list(v, "push"), x],
    "prepend": lambda v, x: [x, *_list(v, "prepend")],
    "mustPrepend": lambda v, x: [x, *_list(v, "prepend")],
    "first": _first,
    "mustFirst": _first,
    "rest": lambda v: _list(v, "rest")[1:],
    "mustRest": lambda v: _list(v, "rest")[1:],
    "last": _last,
    "mustLast": _last,
    "initial": lambda v: _list(v, "initial")[:-1],
    "mustInitial": lambda v: _list(v, "initial")[:-1],
    "reverse": lambda v: list(reversed(_list(v, "reverse"))),
    "mustReverse": lambda v: list(reversed(_list(v, "reverse"))),
    "uniq": _uniq,
    "mustUniq": _uniq,
    "without": lambda v, *xs: [x for x in _list(v, "without") if x not in xs],
    "mustWithout": lambda v, *xs: [x for x in _list(v, "without") if x not in xs],
    "has": lambda needle, v: needle in _list(v, "has"),
    "mustHas": lambda needle, v: needle in _list(v, "has"),
    "slice": _slice,
    "mustSlice": _slice,
    "concat": lambda *vs: [x for v in vs for x in _list(v, "concat")],
    "dig": _dig,
    "chunk": _chunk,
    "mustChunk": _chunk,
    # regular expressions
    "regexMatch": lambda p, s: _regex(p).search(_s(s)) is not None,
    "mustRegexMatch": lambda p, s: _regex(p).search(_s(s)) is not None,
    "regexFindAll": _regex_find_all,
    "mustRegexFindAll": _regex_find_all,
    "regexFind": _regex_find,
    "mustRegexFind": _regex_find,
    "regexReplaceAll": lambda p, s, r: _regex(p).sub(_go_repl(_s(r)), _s(s)),
    "mustRegexReplaceAll": lambda p, s, r: _regex(p).sub(_go_repl(_s(r)), _s(s)),
    "regexReplaceAllLiteral": lambda p, s, r: _regex(p).sub(lambda _m: _s(r), _s(s)),
    "mustRegexReplaceAllLiteral": lambda p, s, r: _regex(p).sub(lambda _m: _s(r), _s(s)),
    "regexSplit": _regex_split,
    "mustRegexSplit": _regex_split,
    "regexQuoteMeta": lambda s: re.sub(r"([\\.+*?()|\[\]{}^$])", r"\\\1", _s(s)),
    # misc
    "uuidv4": lambda: str(uuid.uuid4()),
    "fail": _fail,
}
"""sprig.NAME -> implementation, for the names Argo's ``sprig`` map has that run here."""
