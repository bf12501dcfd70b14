"""A small evaluator for the subset of expr-lang that Argo expression tags use.

Argo evaluates ``{{=...}}`` tags, ``valueFrom.expression``, ``depends`` and
``retryStrategy.expression`` with expr-lang (github.com/expr-lang/expr). This module parses
that language's core (literals, member access, ``?.``, ``??``, ternary, boolean, comparison,
arithmetic, ``in``/``contains``/``startsWith``/``endsWith``/``matches``) and the functions
listed in FUNCTIONS. Anything else is rejected at parse time, so a manifest using it can be
refused before the run starts.
"""

from __future__ import annotations

import base64
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kubeline.local.nodes import go_json


class ExprError(Exception):
    """The expression cannot be parsed or evaluated."""


class ExprSyntaxError(ExprError):
    """The expression is not in the supported subset."""


_MISSING = object()

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<num>\d+\.\d*(?:[eE][-+]?\d+)?|\d+[eE][-+]?\d+|0[xX][0-9a-fA-F]+|\d+)
  | (?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)
  | (?P<name>[A-Za-z_$][A-Za-z0-9_$]*)
  | (?P<op>\?\?|\?\.|\|\||&&|==|!=|<=|>=|\*\*|[-+*/%^<>!?:.,()\[\]{}|\#])
    """,
    re.VERBOSE,
)

_WORD_OPS = {"and", "or", "not", "in", "matches", "contains", "startsWith", "endsWith"}
_BINARY: dict[str, tuple[int, bool]] = {
    "or": (10, False),
    "||": (10, False),
    "and": (15, False),
    "&&": (15, False),
    "==": (20, False),
    "!=": (20, False),
    "<": (20, False),
    ">": (20, False),
    ">=": (20, False),
    "<=": (20, False),
    "in": (20, False),
    "not in": (20, False),
    "matches": (20, False),
    "contains": (20, False),
    "startsWith": (20, False),
    "endsWith": (20, False),
    "+": (30, False),
    "-": (30, False),
    "*": (60, False),
    "/": (60, False),
    "%": (60, False),
    "**": (100, True),
    "^": (100, True),
    "??": (500, False),
}
_UNARY = {"not": 50, "!": 50, "-": 90, "+": 90}


@dataclass(frozen=True)
class Tok:
    kind: str
    text: str
    value: Any = None


def _unquote(text: str) -> str:
    if text[0] == "`":
        return text[1:-1]
    body = text[1:-1]
    if "\\" not in body:
        return body
    if text[0] == "'":
        body = body.replace("\\'", "'").replace('"', '\\"')
    try:
        value = json.loads('"' + body + '"')
    except json.JSONDecodeError as exc:
        raise ExprSyntaxError(f"bad string literal {text}") from exc
    return str(value)


def tokenize(source: str) -> list[Tok]:
    """Split an expression into tokens; unknown characters are a syntax error."""
    tokens: list[Tok] = []
    pos = 0
    while pos < len(source):
        m = _TOKEN.match(source, pos)
        if m is None:
            raise ExprSyntaxError(f"unexpected character {source[pos]!r} at {pos}")
        pos = m.end()
        kind = m.lastgroup or ""
        text = m.group()
        if kind == "ws":
            continue
        if kind == "num":
            if text.lower().startswith("0x"):
                tokens.append(Tok("lit", text, int(text, 16)))
            elif any(c in text for c in ".eE"):
                tokens.append(Tok("lit", text, float(text)))
            else:
                tokens.append(Tok("lit", text, int(text)))
        elif kind == "str":
            tokens.append(Tok("lit", text, _unquote(text)))
        elif kind == "name":
            if text in ("true", "false"):
                tokens.append(Tok("lit", text, text == "true"))
            elif text == "nil":
                tokens.append(Tok("lit", text, None))
            elif text in _WORD_OPS:
                tokens.append(Tok("op", text))
            else:
                tokens.append(Tok("name", text))
        else:
            tokens.append(Tok("op", text))
    tokens.append(Tok("eof", ""))
    return tokens


# AST nodes are tuples: ("lit", v) ("id", name) ("get", obj, key_node, optional)
# ("call", fname, [args]) ("un", op, x) ("bin", op, a, b) ("cond", c, a, b)
# ("list", [items]) ("map", [(k, v)])
Ast = tuple[Any, ...]


class _Parser:
    def __init__(self, source: str) -> None:
        self.tokens = tokenize(source)
        self.pos = 0
        self.closures = 0  # depth of closures being parsed (# is valid inside)

    def peek(self) -> Tok:
        return self.tokens[self.pos]

    def take(self) -> Tok:
        tok = self.tokens[self.pos]
        self.pos += 1
        return tok

    def expect(self, text: str) -> None:
        tok = self.take()
        if tok.text != text or tok.kind not in ("op",):
            raise ExprSyntaxError(f"expected {text!r} but found {tok.text or 'end'!r}")

    def parse(self) -> Ast:
        node = self.expression()
        if self.peek().kind != "eof":
            raise ExprSyntaxError(f"unexpected token {self.peek().text!r}")
        return node

    def expression(self) -> Ast:
        node = self.conditional()
        while self.peek().kind == "op" and self.peek().text == "|":
            self.take()
            name = self.take()
            if name.kind != "name" or self.peek().text != "(":
                raise ExprSyntaxError(f"expected a function call after '|', found {name.text!r}")
            call = self.call(name.text, piped=True)
            node = ("call", call[1], [node, *call[2]])
        return node

    def conditional(self) -> Ast:
        node = self.binary(0)
        if self.peek().kind == "op" and self.peek().text == "?":
            self.take()
            if self.peek().kind == "op" and self.peek().text == ":":
                self.take()
                other = self.conditional()
                return ("bin", "?:", node, other)
            then = self.conditional()
            self.expect(":")
            other = self.conditional()
            return ("cond", node, then, other)
        return node

    def _binary_op(self) -> str | None:
        tok = self.peek()
        if tok.kind != "op":
            return None
        if tok.text == "not":
            nxt = self.tokens[self.pos + 1]
            if nxt.kind == "op" and nxt.text == "in":
                return "not in"
            return None
        return tok.text if tok.text in _BINARY else None

    def binary(self, min_prec: int) -> Ast:
        left = self.unary()
        while True:
            op = self._binary_op()
            if op is None:
                return left
            prec, right_assoc = _BINARY[op]
            if prec < min_prec:
                return left
            self.take()
            if op == "not in":
                self.take()
            right = self.binary(prec if right_assoc else prec + 1)
            left = ("bin", op, left, right)

    def unary(self) -> Ast:
        tok = self.peek()
        if tok.kind == "op" and tok.text in _UNARY:
            self.take()
            operand = self.binary(_UNARY[tok.text])
            return ("un", tok.text, operand)
        return self.postfix(self.primary())

    def primary(self) -> Ast:
        tok = self.take()
        if tok.kind == "lit":
            return ("lit", tok.value)
        if tok.kind == "name":
            if self.peek().text == "(" and self.peek().kind == "op":
                return self.call(tok.text)
            return ("id", tok.text)
        if tok.kind == "op" and tok.text == "(":
            node = self.expression()
            self.expect(")")
            return node
        if tok.kind == "op" and tok.text == "[":
            items: list[Ast] = []
            while not (self.peek().kind == "op" and self.peek().text == "]"):
                items.append(self.expression())
                if self.peek().text == ",":
                    self.take()
                else:
                    break
            self.expect("]")
            return ("list", items)
        if tok.kind == "op" and tok.text == "{":
            pairs: list[tuple[Ast, Ast]] = []
            while not (self.peek().kind == "op" and self.peek().text == "}"):
                key_tok = self.take()
                if key_tok.kind == "name":
                    key: Ast = ("lit", key_tok.text)
                elif key_tok.kind == "lit":
                    key = ("lit", key_tok.value)
                else:
                    raise ExprSyntaxError(f"bad map key {key_tok.text!r}")
                self.expect(":")
                pairs.append((key, self.expression()))
                if self.peek().text == ",":
                    self.take()
                else:
                    break
            self.expect("}")
            return ("map", pairs)
        if tok.kind == "op" and tok.text == "#":
            if self.closures == 0:
                raise ExprSyntaxError("# is only allowed inside a closure (filter, map, ...)")
            nxt = self.peek()
            if nxt.kind == "name" and nxt.text in ("index", "acc"):
                self.take()
                return ("ptr", nxt.text)
            return ("ptr", "")
        if tok.kind == "op" and tok.text == "." and self.closures > 0:
            name = self.take()
            if name.kind != "name":
                raise ExprSyntaxError(f"bad member name {name.text!r}")
            return ("get", ("ptr", ""), ("lit", name.text), False)
        raise ExprSyntaxError(f"unexpected token {tok.text or 'end'!r}")

    def call(self, name: str, piped: bool = False) -> Ast:
        if name not in FUNCTIONS and name not in CLOSURE_FUNCTIONS:
            raise ExprSyntaxError(f"function {name}() is not supported")
        self.expect("(")
        args: list[Ast] = []
        closure_at = 0 if piped else 1
        while not (self.peek().kind == "op" and self.peek().text == ")"):
            if name in CLOSURE_FUNCTIONS and len(args) == closure_at:
                args.append(self.closure())
            else:
                args.append(self.expression())
            if self.peek().text == ",":
                self.take()
            else:
                break
        self.expect(")")
        return ("call", name, args)

    def closure(self) -> Ast:
        """A predicate: ``{...}`` or a bare expression, over # (#index, #acc, .field)."""
        self.closures += 1
        try:
            if self.peek().kind == "op" and self.peek().text == "{":
                self.take()
                body = self.expression()
                self.expect("}")
            else:
                body = self.expression()
        finally:
            self.closures -= 1
        return ("closure", body)

    def postfix(self, node: Ast) -> Ast:
        while True:
            tok = self.peek()
            if tok.kind != "op":
                return node
            if tok.text in (".", "?."):
                self.take()
                name = self.take()
                if name.kind == "op" and name.text == "[" and tok.text == "?.":
                    key = self.expression()
                    self.expect("]")
                    node = ("get", node, key, True)
                    continue
                if name.kind not in ("name", "op") or not re.match(r"^[A-Za-z_]", name.text):
                    raise ExprSyntaxError(f"bad member name {name.text!r}")
                if node == ("id", "sprig") and self.peek().text == "(":
                    fname = f"sprig.{name.text}"
                    node = self.call(fname)
                    continue
                if self.peek().kind == "op" and self.peek().text == "(":
                    raise ExprSyntaxError(f"method calls ({name.text}()) are not supported")
                node = ("get", node, ("lit", name.text), tok.text == "?.")
            elif tok.text == "[":
                self.take()
                start: Ast | None = None
                if self.peek().text != ":":
                    start = self.expression()
                    if self.peek().text != ":":
                        self.expect("]")
                        node = ("get", node, start, False)
                        continue
                self.expect(":")
                end: Ast | None = None
                if self.peek().text != "]":
                    end = self.expression()
                self.expect("]")
                node = ("slice", node, start, end)
            else:
                return node


def parse(source: str) -> Ast:
    """Parse an expression, raising ExprSyntaxError when outside the supported subset."""
    return _Parser(source).parse()


def referenced_paths(ast: Ast) -> list[str]:
    """Dotted variable paths the expression reads (``tasks.A.outputs.result``)."""
    out: list[str] = []

    def path_of(node: Ast) -> str | None:
        if node[0] == "id":
            return str(node[1])
        if node[0] == "get" and node[2][0] == "lit" and isinstance(node[2][1], str):
            base = path_of(node[1])
            return None if base is None else f"{base}.{node[2][1]}"
        return None

    def walk(node: Ast) -> None:
        kind = node[0]
        p = path_of(node)
        if p is not None:
            out.append(p)
            return
        if kind == "get":
            walk(node[1])
            walk(node[2])
        elif kind == "call":
            for a in node[2]:
                walk(a)
        elif kind == "un":
            walk(node[2])
        elif kind == "bin":
            walk(node[2])
            walk(node[3])
        elif kind == "cond":
            for n in node[1:]:
                walk(n)
        elif kind == "list":
            for n in node[1]:
                walk(n)
        elif kind == "map":
            for k, v in node[1]:
                walk(k)
                walk(v)
        elif kind == "closure":
            walk(node[1])
        elif kind == "slice":
            for n in node[1:]:
                if n is not None:
                    walk(n)

    walk(ast)
    return out


class Evaluator:
    """Evaluates one parsed expression against an environment of nested dicts."""

    def __init__(self, env: dict[str, Any]) -> None:
        self.env = env
        self.missing: list[str] = []
        self.pointers: list[dict[str, Any]] = []  # closure scopes: # (""), #index, #acc

    def eval(self, node: Ast) -> Any:
        kind = node[0]
        if kind == "lit":
            return node[1]
        if kind == "id":
            if node[1] not in self.env:
                self.missing.append(node[1])
                raise ExprError(f"unknown name {node[1]}")
            return self.env[node[1]]
        if kind == "get":
            return self._get(node)
        if kind == "call":
            return self._call(node[1], node[2])
        if kind == "un":
            return self._unary(node[1], self.eval(node[2]))
        if kind == "cond":
            cond = self.eval(node[1])
            if not isinstance(cond, bool):
                raise ExprError(f"non-bool {cond!r} used as condition")
            return self.eval(node[2] if cond else node[3])
        if kind == "bin":
            return self._binary(node[1], node[2], node[3])
        if kind == "list":
            return [self.eval(n) for n in node[1]]
        if kind == "map":
            return {self.eval(k): self.eval(v) for k, v in node[1]}
        if kind == "ptr":
            if not self.pointers or node[1] not in self.pointers[-1]:
                raise ExprError(f"#{node[1]} is not defined here")
            return self.pointers[-1][node[1]]
        if kind == "slice":
            return _slice(self.eval(node[1]), *(None if n is None else self.eval(n)
                                                for n in node[2:]))
        raise ExprError(f"unknown node {kind}")

    def predicate(self, closure: Ast) -> Callable[..., Any]:
        """A closure as a function of (element, index[, accumulator])."""

        def run(element: Any, index: int, acc: Any = _MISSING) -> Any:
            scope = {"": element, "index": index}
            if acc is not _MISSING:
                scope["acc"] = acc
            self.pointers.append(scope)
            try:
                return self.eval(closure[1])
            finally:
                self.pointers.pop()

        return run

    def _get(self, node: Ast) -> Any:
        optional = node[3]
        obj = self.eval(node[1])
        key = self.eval(node[2])
        if obj is None:
            if optional:
                return None
            raise ExprError(f"cannot fetch {key} from nil")
        if isinstance(obj, dict):
            if key not in obj:
                path = _path_text(node)
                if path:
                    self.missing.append(path)
                return None
            return obj[key]
        if isinstance(obj, (list, str)):
            if not isinstance(key, int) or isinstance(key, bool):
                raise ExprError(f"cannot index {type(obj).__name__} with {key!r}")
            if key < 0:
                key += len(obj)
            if not 0 <= key < len(obj):
                raise ExprError(f"index out of range: {key}")
            return obj[key]
        raise ExprError(f"cannot fetch {key} from {type(obj).__name__}")

    def _call(self, name: str, args: list[Ast]) -> Any:
        values = [self.predicate(a) if a[0] == "closure" else self.eval(a) for a in args]
        try:
            if name in CLOSURE_FUNCTIONS:
                return CLOSURE_FUNCTIONS[name](*values)
            return FUNCTIONS[name](*values)
        except ExprError:
            raise
        except (TypeError, ValueError, KeyError, IndexError, ZeroDivisionError) as exc:
            raise ExprError(f"{name}(): {exc}") from exc

    def _unary(self, op: str, value: Any) -> Any:
        if op in ("!", "not"):
            if not isinstance(value, bool):
                raise ExprError(f"invalid operation: {op} {value!r}")
            return not value
        if not _is_num(value):
            raise ExprError(f"invalid operation: {op} {value!r}")
        return -value if op == "-" else value

    def _binary(self, op: str, a_node: Ast, b_node: Ast) -> Any:
        if op in ("||", "or", "&&", "and"):
            a = self.eval(a_node)
            if not isinstance(a, bool):
                raise ExprError(f"invalid operation: {a!r} {op} ...")
            if op in ("||", "or") and a:
                return True
            if op in ("&&", "and") and not a:
                return False
            b = self.eval(b_node)
            if not isinstance(b, bool):
                raise ExprError(f"invalid operation: ... {op} {b!r}")
            return b
        if op == "??":
            try:
                a = self.eval(a_node)
            except ExprError:
                a = None
            return self.eval(b_node) if a is None else a
        if op == "?:":
            a = self.eval(a_node)
            return a if a not in (None, False, "", 0) else self.eval(b_node)
        a = self.eval(a_node)
        b = self.eval(b_node)
        return binary_op(op, a, b)


def _slice(obj: Any, start: Any, end: Any) -> Any:
    if not isinstance(obj, (list, str)):
        raise ExprError(f"cannot slice {type(obj).__name__}")
    for bound in (start, end):
        if bound is not None and (not isinstance(bound, int) or isinstance(bound, bool)):
            raise ExprError(f"slice bounds must be ints, not {bound!r}")
    n = len(obj)
    a = 0 if start is None else max(0, min(n, start + n if start < 0 else start))
    b = n if end is None else max(0, min(n, end + n if end < 0 else end))
    return obj[a:b] if a <= b else obj[:0]


def _path_text(node: Ast) -> str | None:
    if node[0] == "id":
        return str(node[1])
    if node[0] == "get" and node[2][0] == "lit":
        base = _path_text(node[1])
        return None if base is None else f"{base}.{node[2][1]}"
    return None


def _is_num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _equal(a: Any, b: Any) -> bool:
    if _is_num(a) and _is_num(b):
        return bool(a == b)
    if type(a) is not type(b) and not (a is None or b is None):
        return False
    return bool(a == b)


def binary_op(op: str, a: Any, b: Any) -> Any:
    """One non-short-circuit binary operation with expr-lang's typing rules."""
    if op == "==":
        return _equal(a, b)
    if op == "!=":
        return not _equal(a, b)
    if op in ("<", ">", "<=", ">="):
        if not ((_is_num(a) and _is_num(b)) or (isinstance(a, str) and isinstance(b, str))):
            raise ExprError(f"invalid operation: {a!r} {op} {b!r}")
        return {"<": a < b, ">": a > b, "<=": a <= b, ">=": a >= b}[op]
    if op in ("in", "not in"):
        if isinstance(b, dict):
            found = a in b
        elif isinstance(b, list):
            found = any(_equal(a, x) for x in b)
        else:
            raise ExprError(f"invalid operation: {a!r} in {b!r}")
        return found if op == "in" else not found
    if op in ("contains", "startsWith", "endsWith", "matches"):
        if not (isinstance(a, str) and isinstance(b, str)):
            raise ExprError(f"invalid operation: {a!r} {op} {b!r}")
        if op == "contains":
            return b in a
        if op == "startsWith":
            return a.startswith(b)
        if op == "endsWith":
            return a.endswith(b)
        return re.search(b, a) is not None
    if op == "+":
        if isinstance(a, str) and isinstance(b, str):
            return a + b
        if isinstance(a, list) and isinstance(b, list):
            return a + b
    if op in ("+", "-", "*", "/", "%", "**", "^"):
        if not (_is_num(a) and _is_num(b)):
            raise ExprError(f"invalid operation: {a!r} {op} {b!r}")
        if op == "+":
            return a + b
        if op == "-":
            return a - b
        if op == "*":
            return a * b
        if op == "/":
            if b == 0:
                raise ExprError("division by zero")
            return float(a) / float(b)
        if op == "%":
            if not (isinstance(a, int) and isinstance(b, int)):
                raise ExprError("invalid operation: % needs integers")
            if b == 0:
                raise ExprError("integer divide by zero")
            return int(math.fmod(a, b))
        return float(a) ** float(b)
    raise ExprError(f"unknown operator {op}")


def evaluate(source_or_ast: str | Ast, env: dict[str, Any]) -> Any:
    """Parse (if needed) and evaluate an expression."""
    ast = parse(source_or_ast) if isinstance(source_or_ast, str) else source_or_ast
    return Evaluator(env).eval(ast)


# --- functions --------------------------------------------------------------------------


def _to_int(v: Any) -> int:
    if isinstance(v, bool):
        raise ExprError(f"cannot convert {v!r} to int")
    if isinstance(v, int):
        return v
    if isinstance(v, float):
        return int(v)
    if isinstance(v, str):
        try:
            return int(v.strip()) if re.fullmatch(r"\s*[-+]?\d+\s*", v) else int(v)
        except ValueError as exc:
            raise ExprError(f'strconv.Atoi: parsing "{v}": invalid syntax') from exc
    raise ExprError(f"cannot convert {v!r} to int")


def _to_float(v: Any) -> float:
    if isinstance(v, bool):
        raise ExprError(f"cannot convert {v!r} to float")
    if isinstance(v, (int, float)):
        return float(v)
    if isinstance(v, str):
        try:
            return float(v)
        except ValueError as exc:
            raise ExprError(f'strconv.ParseFloat: parsing "{v}": invalid syntax') from exc
    raise ExprError(f"cannot convert {v!r} to float")


def to_string(v: Any) -> str:
    """Go's fmt %v for the JSON-like values expressions produce."""
    if isinstance(v, str):
        return v
    if v is None:
        return "<nil>"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        if v.is_integer() and abs(v) < 1e21:
            return str(int(v))
        return repr(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, datetime):
        from kubeline.local.godate import go_format

        return go_format(v, "2006-01-02 15:04:05.999999999 -0700 MST")
    return go_json(v)


def _len(v: Any) -> int:
    if isinstance(v, (str, list, dict)):
        return len(v)
    raise ExprError(f"invalid argument for len (type {type(v).__name__})")


def _to_json_indent(v: Any) -> str:
    return json.dumps(v, indent=2, ensure_ascii=False, sort_keys=True)


def _from_json(v: Any) -> Any:
    try:
        return json.loads(v)
    except json.JSONDecodeError as exc:
        raise ExprError(f"fromJSON: {exc}") from exc


def _jsonpath(data: Any, path: Any) -> Any:
    from kubeline.local.jsonpath import JsonPathError, query

    if not isinstance(data, str) or not isinstance(path, str):
        raise ExprError("jsonpath(json, path) takes two strings")
    try:
        return query(data, path)
    except JsonPathError as exc:
        raise ExprError(f"jsonpath({path!r}): {exc}") from exc


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "asInt": _to_int,
    "asFloat": _to_float,
    "int": _to_int,
    "float": _to_float,
    "string": to_string,
    "len": _len,
    "toJson": go_json,
    "toJSON": _to_json_indent,
    "fromJSON": _from_json,
    "lower": lambda s: str(s).lower(),
    "upper": lambda s: str(s).upper(),
    "trim": lambda s, cut=None: str(s).strip(cut),
    "trimPrefix": lambda s, p: str(s)[len(p) :] if str(s).startswith(p) else str(s),
    "trimSuffix": lambda s, p: str(s)[: -len(p)] if p and str(s).endswith(p) else str(s),
    "split": lambda s, sep: str(s).split(sep),
    "join": lambda items, sep="": sep.join(to_string(i) for i in items),
    "replace": lambda s, old, new: str(s).replace(old, new),
    "hasPrefix": lambda s, p: str(s).startswith(p),
    "hasSuffix": lambda s, p: str(s).endswith(p),
    "indexOf": lambda s, sub: str(s).find(sub),
    "keys": lambda m: sorted(m.keys()),
    "values": lambda m: [m[k] for k in sorted(m.keys())],
    "abs": lambda x: abs(x),
    "max": lambda *xs: max(xs),
    "min": lambda *xs: min(xs),
    "toBase64": lambda s: base64.b64encode(str(s).encode()).decode(),
    "fromBase64": lambda s: base64.b64decode(str(s)).decode(),
}

# expr's other builtins and sprig's functions build on the helpers above
from kubeline.local import exprfuncs, godate, sprig  # noqa: E402

FUNCTIONS.update(exprfuncs.FUNCTIONS)
FUNCTIONS.update({f"sprig.{name}": fn for name, fn in sprig.FUNCTIONS.items()})
FUNCTIONS.update({f"sprig.{name}": fn for name, fn in godate.FUNCTIONS.items()})
FUNCTIONS["jsonpath"] = _jsonpath
CLOSURE_FUNCTIONS: dict[str, Callable[..., Any]] = exprfuncs.CLOSURE_FUNCTIONS
