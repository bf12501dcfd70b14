"""JSONPath for the ``jsonpath(json, path)`` expression function, with Argo's library's rules.

Argo evaluates ``jsonpath`` with github.com/evilmonkeyinc/jsonpath (v0.8.1): a path made only
of keys and indices gives the value itself; a wildcard, slice, union, filter or recursive
descent gives an array, and the tokens after it apply to each element (elements where they
fail are dropped; an index right after a filter picks from the filtered array). A missing key
or index on a definite path is an error. Filters ``[?(...)]`` take comparisons, ``&&``,
``||``, ``!``, ``=~ /regex/``, arithmetic, ``@``/``$`` paths and literals; an element is kept
when its filter gives true, a non-empty string/collection or a non-zero number.
"""

from __future__ import annotations

import json
import re
from typing import Any


class JsonPathError(Exception):
    """An invalid selector, or a definite path that does not match the data."""


def query(data_json: str, selector: str) -> Any:
    """jsonpath(json, path) as Argo's expression function: parse the JSON, apply the path."""
    try:
        data = json.loads(data_json)
    except (TypeError, json.JSONDecodeError) as exc:
        raise JsonPathError(f"jsonpath: the first argument is not JSON: {exc}") from exc
    return apply(selector, data)


def apply(selector: str, data: Any) -> Any:
    tokens = _tokenize(selector)
    return _apply(tokens, data, data)


# tokens: ("key", name) ("index", n) ("wild",) ("range", a, b, step) ("union", [keys])
# ("filter", source) ("recursive",) ("length",)
Token = tuple[Any, ...]
_MULTI = {"wild", "range", "union", "filter", "recursive"}


def _tokenize(selector: str) -> list[Token]:
    s = selector.strip()
    if not s.startswith("$"):
        raise JsonPathError(f"invalid JSONPath selector '{selector}': must start with $")
    pos, tokens = 1, []
    while pos < len(s):
        if s.startswith("..", pos):
            tokens.append(("recursive",))
            pos += 2
            if pos < len(s) and s[pos] != "[":
                pos = _dot_name(s, pos, tokens)
        elif s[pos] == ".":
            pos = _dot_name(s, pos + 1, tokens)
        elif s[pos] == "[":
            end = _closing(s, pos)
            tokens.append(_bracket(s[pos + 1 : end].strip(), selector))
            pos = end + 1
        else:
            raise JsonPathError(f"invalid JSONPath selector '{selector}' at {pos}")
    return tokens


def _dot_name(s: str, pos: int, tokens: list[Token]) -> int:
    m = re.compile(r"\*|[^.\[\]]+").match(s, pos)
    if m is None:
        raise JsonPathError(f"invalid JSONPath selector '{s}' at {pos}")
    name = m.group()
    tokens.append(("wild",) if name == "*" else ("length",) if name == "length"
                  else ("key", name))
    return m.end()


def _closing(s: str, start: int) -> int:
    depth, quote, i = 0, "", start
    while i < len(s):
        c = s[i]
        if quote:
            if c == "\\":
                i += 1
            elif c == quote:
                quote = ""
        elif c in "'\"":
            quote = c
        elif c in "[(":
            depth += 1
        elif c in "])":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    raise JsonPathError(f"invalid JSONPath selector '{s}': unclosed bracket")


def _bracket(body: str, selector: str) -> Token:
    if body == "*":
        return ("wild",)
    if body.startswith("?(") and body.endswith(")"):
        return ("filter", _FilterParser(body[2:-1]).parse())
    parts = _split_top(body, ",")
    if len(parts) > 1:
        return ("union", [_key_or_index(p, selector) for p in parts])
    if ":" in body and body[:1] not in "'\"":
        bounds = [b.strip() for b in body.split(":")]
        if len(bounds) > 3:
            raise JsonPathError(f"invalid JSONPath selector '{selector}': bad range [{body}]")
        nums = [int(b) if b else None for b in bounds] + [None] * (3 - len(bounds))
        return ("range", nums[0], nums[1], nums[2])
    key = _key_or_index(body, selector)
    return ("index", key) if isinstance(key, int) else ("key", key)


def _key_or_index(text: str, selector: str) -> int | str:
    text = text.strip()
    if len(text) >= 2 and text[0] in "'\"" and text[-1] == text[0]:
        return text[1:-1].replace("\\" + text[0], text[0])
    try:
        return int(text)
    except ValueError:
        raise JsonPathError(f"invalid JSONPath selector '{selector}': bad key [{text}]") from None


def _split_top(text: str, sep: str) -> list[str]:
    parts, depth, quote, cur = [], 0, "", ""
    for c in text:
        if quote:
            quote = "" if c == quote else quote
        elif c in "'\"":
            quote = c
        elif c in "([":
            depth += 1
        elif c in ")]":
            depth -= 1
        elif c == sep and depth == 0:
            parts.append(cur)
            cur = ""
            continue
        cur += c
    return [*parts, cur]


def _apply(tokens: list[Token], root: Any, current: Any) -> Any:
    if not tokens:
        return current
    tok, rest = tokens[0], tokens[1:]
    kind = tok[0]
    if kind == "key":
        if not isinstance(current, dict) or tok[1] not in current:
            raise JsonPathError(f"key '{tok[1]}' not found")
        return _apply(rest, root, current[tok[1]])
    if kind == "index":
        return _apply(rest, root, _index(current, tok[1]))
    if kind == "length":
        if isinstance(current, dict) and "length" in current:
            return _apply(rest, root, current["length"])
        if isinstance(current, (list, dict, str)):
            return _apply(rest, root, len(current))
        raise JsonPathError("length of a value that has none")
    elements = _elements(tok, root, current)
    if rest and rest[0][0] == "index" and kind == "filter":
        return _apply(rest[1:], root, _index(elements, rest[0][1]))
    if not rest:
        return elements
    out = []
    for element in elements:
        try:
            value = _apply(rest, root, element)
        except JsonPathError:
            continue
        if value is not None:
            out.append(value)
    return out


def _index(current: Any, index: int) -> Any:
    if not isinstance(current, list):
        raise JsonPathError(f"index [{index}] of a non-array")
    if index < 0:
        index += len(current)
    if not 0 <= index < len(current):
        raise JsonPathError(f"index [{index}] out of range")
    return current[index]


def _values(current: Any) -> list[Any]:
    if isinstance(current, dict):
        return [current[k] for k in sorted(current)]
    if isinstance(current, list):
        return list(current)
    raise JsonPathError("a wildcard or filter on a value that is not an array or object")


def _elements(tok: Token, root: Any, current: Any) -> list[Any]:
    kind = tok[0]
    if kind == "wild":
        return _values(current)
    if kind == "recursive":
        found: list[Any] = []
        _descend(current, found)
        return found
    if kind == "range":
        if not isinstance(current, list):
            raise JsonPathError("a range on a value that is not an array")
        start, end, step = tok[1], tok[2], tok[3]
        picked = current[slice(start, end)]
        if step is not None and step != 0:
            picked = picked[:: abs(step)]
            if step < 0:
                picked.reverse()
        return picked
    if kind == "union":
        out = []
        for key in tok[1]:
            if isinstance(key, int):
                out.append(_index(current, key))
            elif isinstance(current, dict) and key in current:
                out.append(current[key])
            else:
                raise JsonPathError(f"key '{key}' not found")
        return out
    return [e for e in _values(current) if _truthy(_safe_eval(tok[1], root, e))]


def _descend(value: Any, found: list[Any]) -> None:
    found.append(value)
    for child in (_values(value) if isinstance(value, (dict, list)) else []):
        _descend(child, found)


def _safe_eval(node: Any, root: Any, current: Any) -> Any:
    try:
        return _eval(node, root, current)
    except (JsonPathError, TypeError, ZeroDivisionError, re.error):
        return None


def _truthy(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, (list, dict)):
        return len(value) > 0
    if isinstance(value, str):
        return value.strip("'\"") != "" if len(value) > 1 else value != ""
    return bool(value != 0)


# --- filter expressions ---------------------------------------------------------------

_FTOKEN = re.compile(
    r"\s*(?:(?P<num>-?\d+(?:\.\d+)?)|(?P<str>'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\")"
    r"|(?P<re>/(?:[^/\\]|\\.)*/)|(?P<path>[@$](?:\.\.?[A-Za-z_*][\w-]*|\.\*|\[[^\]]*\])*)"
    r"|(?P<word>true|false|null|nil)|(?P<op>&&|\|\||==|!=|<=|>=|=~|[<>!+\-*/%()]))"
)
_PREC = {"||": 1, "&&": 2, "==": 3, "!=": 3, "=~": 3, "<": 4, "<=": 4, ">": 4, ">=": 4,
         "+": 5, "-": 5, "*": 6, "/": 6, "%": 6}


class _FilterParser:
    def __init__(self, source: str) -> None:
        self.source = source
        self.toks: list[tuple[str, str]] = []
        pos = 0
        while pos < len(source.rstrip()):
            m = _FTOKEN.match(source, pos)
            if m is None or m.end() == pos:
                raise JsonPathError(f"invalid filter expression '{source}' at {pos}")
            kind = m.lastgroup or ""
            self.toks.append((kind, m.group(kind)))
            pos = m.end()
        self.i = 0

    def parse(self) -> Any:
        node = self._binary(0)
        if self.i != len(self.toks):
            raise JsonPathError(f"invalid filter expression '{self.source}'")
        return node

    def _peek(self) -> tuple[str, str]:
        return self.toks[self.i] if self.i < len(self.toks) else ("eof", "")

    def _binary(self, min_prec: int) -> Any:
        left = self._unary()
        while True:
            kind, text = self._peek()
            if kind != "op" or text not in _PREC or _PREC[text] < min_prec:
                return left
            self.i += 1
            left = ("bin", text, left, self._binary(_PREC[text] + 1))

    def _unary(self) -> Any:
        kind, text = self._peek()
        if kind == "eof":
            raise JsonPathError(f"invalid filter expression '{self.source}'")
        self.i += 1
        if kind == "op" and text == "!":
            return ("not", self._unary())
        if kind == "op" and text == "(":
            node = self._binary(0)
            if self._peek() != ("op", ")"):
                raise JsonPathError(f"invalid filter expression '{self.source}'")
            self.i += 1
            return node
        if kind == "num":
            return ("lit", float(text) if "." in text else int(text))
        if kind == "str":
            return ("lit", text[1:-1])
        if kind == "re":
            return ("lit", text[1:-1])
        if kind == "word":
            return ("lit", {"true": True, "false": False}.get(text))
        if kind == "path":
            return ("path", text[0], _tokenize("$" + text[1:]))
        raise JsonPathError(f"invalid filter expression '{self.source}'")


def _eval(node: Any, root: Any, current: Any) -> Any:
    kind = node[0]
    if kind == "lit":
        return node[1]
    if kind == "path":
        return _apply(node[2], root, current if node[1] == "@" else root)
    if kind == "not":
        return not _truthy(_eval(node[1], root, current))
    op, a_node, b_node = node[1], node[2], node[3]
    if op == "&&":
        return _truthy(_eval(a_node, root, current)) and _truthy(_eval(b_node, root, current))
    if op == "||":
        return _truthy(_eval(a_node, root, current)) or _truthy(_eval(b_node, root, current))
    a, b = _eval(a_node, root, current), _eval(b_node, root, current)
    if op == "==":
        return _same(a, b)
    if op == "!=":
        return not _same(a, b)
    if op == "=~":
        return isinstance(a, str) and re.search(str(b), a) is not None
    if op in ("<", "<=", ">", ">="):
        if not (_num(a) and _num(b)) and not (isinstance(a, str) and isinstance(b, str)):
            return False
        return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]
    if not (_num(a) and _num(b)):
        raise TypeError(f"{op} needs numbers")
    return {"+": a + b, "-": a - b, "*": a * b, "/": a / b, "%": a % b}[op]


def _num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _same(a: Any, b: Any) -> bool:
    if _num(a) and _num(b):
        return bool(a == b)
    return type(a) is type(b) and bool(a == b)
