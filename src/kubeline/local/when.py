"""``when`` conditions, evaluated the way Argo does: with govaluate, bare words as strings.

Argo substitutes the tags first, then parses the text with github.com/Knetic/govaluate and
turns every VARIABLE token into a STRING token, so ``heads == heads`` compares two strings.
This module implements govaluate's operators that matter for conditions: ``== != > < >= <=
=~ !~ && || !``, ``+ - * / %``, parentheses, quoted strings, numbers and booleans.
"""

from __future__ import annotations

import re
from typing import Any


class WhenError(Exception):
    """The condition cannot be parsed or does not yield a boolean (Argo's message)."""


_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<num>\d+(?:\.\d+)?(?![A-Za-z_]))
  | (?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
  | (?P<esc>\[[^\]]*\])
  | (?P<word>[A-Za-z_][A-Za-z0-9_.]*)
  | (?P<op>==|!=|>=|<=|=~|!~|&&|\|\||[-+*/%()<>!])
    """,
    re.VERBOSE,
)

_PREC = {"||": 1, "&&": 2, "==": 3, "!=": 3, ">": 3, "<": 3, ">=": 3, "<=": 3, "=~": 3, "!~": 3}
_PREC.update({"+": 4, "-": 4, "*": 5, "/": 5, "%": 5})


def _tokens(text: str) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise WhenError(f"Invalid token: '{text[pos:]}'")
        pos = m.end()
        kind = m.lastgroup
        value = m.group()
        if kind == "ws":
            continue
        if kind == "num":
            out.append(("val", float(value)))
        elif kind == "str":
            out.append(("val", value[1:-1].replace('\\"', '"').replace("\\'", "'")))
        elif kind == "esc":
            out.append(("val", value[1:-1]))
        elif kind == "word":
            if value in ("true", "false"):
                out.append(("val", value == "true"))
            else:
                out.append(("val", value))  # govaluate VARIABLE -> STRING, as Argo does
        else:
            out.append(("op", value))
    return out


class _Parser:
    def __init__(self, tokens: list[tuple[str, Any]], text: str) -> None:
        self.tokens = tokens
        self.pos = 0
        self.text = text

    def parse(self) -> Any:
        if not self.tokens:
            raise WhenError("Invalid token: empty expression")
        value = self.binary(1)
        if self.pos != len(self.tokens):
            raise WhenError(f"Invalid token: '{self.tokens[self.pos][1]}'")
        return value

    def binary(self, min_prec: int) -> Any:
        left = self.unary()
        while self.pos < len(self.tokens):
            kind, op = self.tokens[self.pos]
            if kind != "op" or op not in _PREC or _PREC[op] < min_prec:
                break
            self.pos += 1
            right = self.binary(_PREC[op] + 1)
            left = _apply(op, left, right)
        return left

    def unary(self) -> Any:
        if self.pos >= len(self.tokens):
            raise WhenError("Unexpected end of expression")
        kind, value = self.tokens[self.pos]
        self.pos += 1
        if kind == "val":
            return value
        if value == "(":
            inner = self.binary(1)
            if self.pos >= len(self.tokens) or self.tokens[self.pos] != ("op", ")"):
                raise WhenError("Unbalanced parenthesis")
            self.pos += 1
            return inner
        if value == "!":
            operand = self.unary()
            if not isinstance(operand, bool):
                raise WhenError(f"Value '{operand}' cannot be used with the prefix '!'")
            return not operand
        if value == "-":
            operand = self.unary()
            if not isinstance(operand, float):
                raise WhenError(f"Value '{operand}' cannot be used with the prefix '-'")
            return -operand
        raise WhenError(f"Invalid token: '{value}'")


def _apply(op: str, a: Any, b: Any) -> Any:
    if op in ("&&", "||"):
        if not (isinstance(a, bool) and isinstance(b, bool)):
            raise WhenError(f"Value '{a}' cannot be used with the logical operator '{op}'")
        return (a and b) if op == "&&" else (a or b)
    if op == "==":
        return type(a) is type(b) and a == b
    if op == "!=":
        return not (type(a) is type(b) and a == b)
    if op in ("=~", "!~"):
        try:
            found = re.search(str(b), str(a)) is not None
        except re.error as exc:
            raise WhenError(f"Unable to compile regexp pattern '{b}': {exc}") from exc
        return found if op == "=~" else not found
    if op in (">", "<", ">=", "<="):
        both_num = isinstance(a, float) and isinstance(b, float)
        both_str = isinstance(a, str) and isinstance(b, str)
        if not (both_num or both_str):
            raise WhenError(f"Value '{a}' cannot be used with the comparator '{op}'")
        return {">": a > b, "<": a < b, ">=": a >= b, "<=": a <= b}[op]
    if op == "+" and isinstance(a, str) and isinstance(b, str):
        return a + b
    if not (isinstance(a, float) and isinstance(b, float)):
        raise WhenError(f"Value '{a}' cannot be used with the modifier '{op}', it is not a number")
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if op == "/":
        return a / b if b else float("inf")
    return a % b


def should_execute(when: str) -> bool:
    """True when the (already substituted) condition holds; an empty condition holds."""
    if when == "":
        return True
    try:
        result = _Parser(_tokens(when), when).parse()
    except WhenError as exc:
        hint = (
            ' (hint: try wrapping the affected expression in quotes ("))'
            if "Invalid token" in str(exc)
            else ""
        )
        raise WhenError(f"Invalid 'when' expression '{when}': {exc}{hint}") from exc
    if not isinstance(result, bool):
        raise WhenError(f"Expected boolean evaluation for '{when}'. Got {result}")
    return result
