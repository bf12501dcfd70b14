"""A small, fast, deterministic YAML emitter for JSON-shaped data (dict, list, str, int, bool).

PyYAML's C dumper needs over a second for a 10,000-step workflow; this emitter writes the
same data in a fraction of that, always in the insertion order of the dicts it is given.
Strings that YAML could read as something else are double-quoted JSON strings (valid
YAML); multi-line strings use literal blocks so diffs stay line by line. A DAG task whose
fields are all scalars is one flow mapping (``- {name: b, depends: a, template: t}``): a
task is one line of a diff, and a large DAG reads as a list.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Any

_PLAIN = re.compile(r"^(?:[A-Za-z_/.]|-(?=[A-Za-z_]))[A-Za-z0-9_ ./=+@():-]*\Z")
_AMBIGUOUS = re.compile(
    r"^(?:y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF"
    r"|null|Null|NULL|~|[-+]?\.(?i:inf|nan)|[-+]?\.?[0-9].*)$"
)
_FLOW_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_./-]*\Z")
_FLOW_LISTS = frozenset({"tasks"})
# what a literal block may hold raw: YAML refuses C0/C1 controls (but tab and newline),
# surrogates and U+FFFE/U+FFFF, and reads NEL, U+2028 and U+2029 as line breaks
_BLOCK_SAFE = re.compile(
    r"^[^\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufeff\ufffe\uffff]*$")


def _scalar(value: Any) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    if isinstance(value, float) and value != value:
        return ".nan"
    if isinstance(value, float) and value in (float("inf"), float("-inf")):
        return ".inf" if value > 0 else "-.inf"
    if isinstance(value, float):
        text = json.dumps(value)
        if "e" in text and "." not in text:  # YAML 1.1 reads 1e-05 as text, 1.0e-05 not
            mantissa, exponent = text.split("e")
            text = f"{mantissa}.0e{exponent}"
        return text
    if isinstance(value, int):
        return json.dumps(value)
    return _string(str(value))


@lru_cache(maxsize=1 << 16)
def _string(text: str) -> str:
    """Plain when YAML reads it back as the same string, else a JSON (double-quoted) string.
    Cached: keys and template names repeat thousands of times in a large workflow."""
    if _PLAIN.match(text) and not _AMBIGUOUS.match(text) and not text.endswith(" ") \
            and " #" not in text and ": " not in text and not text.endswith(":"):
        return text
    return _quoted(text)


_PAIR = re.compile(r"\\ud([89ab][0-9a-f]{2})\\ud([c-f][0-9a-f]{2})")


def _quoted(text: str) -> str:
    """A double-quoted scalar: JSON's escapes, except that a character beyond U+FFFF is one
    ``\\UXXXXXXXX`` escape (YAML does not join JSON's surrogate pairs)."""
    def join(m: re.Match[str]) -> str:
        high, low = int("d" + m.group(1), 16), int("d" + m.group(2), 16)
        return f"\\U{0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00):08x}"

    quoted = json.dumps(text)
    return _PAIR.sub(join, quoted) if "\\ud" in quoted else quoted


def _flow_scalar(value: Any) -> str:
    if isinstance(value, str):
        return _flow_string(value)
    return _scalar(value)


@lru_cache(maxsize=1 << 16)
def _flow_string(text: str) -> str:
    """Plain only when no flow indicator (``,[]{}``) or YAML ambiguity can touch it."""
    if _FLOW_PLAIN.match(text) and not _AMBIGUOUS.match(text):
        return text
    return _quoted(text)


def _flat(item: Any) -> bool:
    return isinstance(item, dict) and bool(item) and not any(
        isinstance(v, dict | list) or (isinstance(v, str) and "\n" in v) for v in item.values())


def _block_ok(text: str) -> bool:
    return ("\n" in text and _BLOCK_SAFE.match(text) is not None
            and not any(line != line.rstrip() for line in text.split("\n"))
            and not text.startswith((" ", "\n")))


def _emit_block(text: str, indent: str, out: list[str]) -> None:
    chomp = "-" if not text.endswith("\n") else ""
    body = text[:-1] if text.endswith("\n") else text
    if text.endswith("\n\n"):
        out[-1] += _quoted(text)
        return
    out[-1] += f"|{chomp}"
    for line in body.split("\n"):
        out.append(f"{indent}{line}" if line else "")


def _emit(value: Any, indent: str, out: list[str]) -> None:
    """Append the value to out; out[-1] is the line holding its key (or '-')."""
    if isinstance(value, dict):
        if not value:
            out[-1] += " {}"
            return
        for key, item in value.items():
            out.append(f"{indent}{_scalar(key)}:")
            if key in _FLOW_LISTS and isinstance(item, list) and item:
                _emit_flow_list(item, indent, out)
            else:
                _emit_value(item, indent, out)
    elif isinstance(value, list):
        if not value:
            out[-1] += " []"
            return
        for item in value:
            out.append(f"{indent}-")
            _emit_item(item, indent, out)


def _emit_flow_list(items: list[Any], indent: str, out: list[str]) -> None:
    """A list whose flat mappings are written one per line, in flow style."""
    for item in items:
        out.append(f"{indent}-")
        if _flat(item):
            fields = ", ".join(f"{_flow_scalar(k)}: {_flow_scalar(v)}" for k, v in item.items())
            out[-1] += f" {{{fields}}}"
        else:
            _emit_item(item, indent, out)


def _emit_value(item: Any, indent: str, out: list[str]) -> None:
    if isinstance(item, dict) and item:
        _emit(item, indent + "  ", out)
    elif isinstance(item, list) and item:
        _emit(item, indent, out)
    elif isinstance(item, str) and _block_ok(item):
        out[-1] += " "
        _emit_block(item, indent + "  ", out)
    elif isinstance(item, dict | list):
        _emit(item, indent, out)
    else:
        out[-1] += " " + _scalar(item)


def _emit_item(item: Any, indent: str, out: list[str]) -> None:
    """A list entry: mappings start on the dash line ("- name: x")."""
    if isinstance(item, dict) and item:
        first = True
        for key, value in item.items():
            if first:
                out[-1] += f" {_scalar(key)}:"
                first = False
            else:
                out.append(f"{indent}  {_scalar(key)}:")
            _emit_value(value, indent + "  ", out)
    elif isinstance(item, list) and item:
        _emit(item, indent + "  ", out)
    else:
        _emit_value(item, indent, out)


def dump(data: dict[str, Any]) -> str:
    """One YAML document (no leading '---')."""
    if not data:
        return "{}\n"
    out: list[str] = [""]
    _emit(data, "", out)
    return "\n".join(out[1:]) + "\n"


def dump_all(documents: list[dict[str, Any]]) -> str:
    """A multi-document YAML stream, each document introduced by '---'."""
    return "".join(f"---\n{dump(doc)}" for doc in documents)
