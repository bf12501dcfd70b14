"""Argo's ``{{...}}`` tags: simple tags and ``{{=expr}}`` expression tags.

Argo substitutes tags in the JSON text of an object (util/template). We substitute in every
string of the decoded object instead; because Argo JSON-escapes inserted values, both give the
same strings. Rules mirrored from Argo:

* a tag is everything between ``{{`` and the next ``}}``; a ``{{`` without ``}}`` is an error;
* simple tags are looked up by their trimmed text; unknown tags stay verbatim, except under
  the strict prefixes (``tasks.``/``steps.`` while resolving a task), which raise
  MissingVariable; artifact references (``.outputs.artifacts.``) are never strict;
* a tag whose value is an absent optional (output of a skipped node) is an error;
* expression tags see the scope expanded into nested maps (``a.b`` -> ``{"a": {"b": ..}}``,
  dropping ``a`` when both exist); non-string results are inserted as JSON; in lenient passes
  a failing expression stays verbatim.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from kubeline.local import exprlang
from kubeline.local.nodes import go_json

ABSENT = None  # scope value of an absent optional output


class TemplateError(Exception):
    """A tag cannot be resolved; the message is Argo's."""


class MissingVariable(TemplateError):
    """A strict tag (tasks./steps.) is not in scope yet."""


_LATE_BINDING = ("item", "retries", "lastRetry", "workflow.status", "workflow.failures")


def iter_tags(text: str) -> Iterator[tuple[int, int, str]]:
    """Yield (start, end, tag text) for each ``{{...}}`` in text (fasttemplate rules)."""
    pos = 0
    while True:
        start = text.find("{{", pos)
        if start < 0:
            return
        end = text.find("}}", start + 2)
        if end < 0:
            raise TemplateError(f'Cannot find end tag="}}}}" in the template="{text}"')
        yield start, end + 2, text[start + 2 : end]
        pos = end + 2


def has_tags(text: str) -> bool:
    return "{{" in text


def expand_env(scope: Mapping[str, Any]) -> dict[str, Any]:
    """Nest dotted keys for expressions; a key that is a prefix of another key is dropped."""
    env: dict[str, Any] = {}
    for key in sorted(scope, key=lambda k: k.count(".")):
        parts = key.split(".")
        node = env
        for part in parts[:-1]:
            nxt = node.get(part)
            if not isinstance(nxt, dict):
                nxt = {}
                node[part] = nxt
            node = nxt
        if isinstance(node.get(parts[-1]), dict):
            continue  # Argo drops the less specific key when both a and a.b exist
        node[parts[-1]] = scope[key]
    return env


def _is_artifact(key: str, value: Any) -> bool:
    """Artifacts are in Argo's expression scope too (fromExpression picks one)."""
    return isinstance(value, dict) and (".outputs.artifacts." in key
                                        or key.startswith("inputs.artifacts."))


class Substituter:
    """Substitutes tags of one pass (one scope, one strictness)."""

    def __init__(
        self,
        scope: Mapping[str, Any],
        *,
        strict_prefixes: tuple[str, ...] = (),
        allow_unresolved: bool = True,
    ) -> None:
        self.scope = scope
        self.strict_prefixes = strict_prefixes
        self.allow_unresolved = allow_unresolved
        self._env: dict[str, Any] | None = None

    @property
    def env(self) -> dict[str, Any]:
        if self._env is None:
            env = expand_env(
                {k: v for k, v in self.scope.items()
                 if isinstance(v, (str, type(None))) or _is_artifact(k, v)}
            )
            env.update(EXPR_GLOBALS)
            self._env = env
        return self._env

    def _strict(self, key: str) -> bool:
        if ".outputs.artifacts." in key:
            return False
        return any(key.startswith(p + ".") or key == p for p in self.strict_prefixes)

    def string(self, text: str) -> str:
        if "{{" not in text:
            return text
        out: list[str] = []
        pos = 0
        for start, end, tag in iter_tags(text):
            out.append(text[pos:start])
            out.append(self._tag(tag, text[start:end]))
            pos = end
        out.append(text[pos:])
        return "".join(out)

    def _tag(self, tag: str, raw: str) -> str:
        if tag.startswith("="):
            return self._expression(tag[1:], raw)
        key = tag.strip()
        if key in self.scope:
            value = self.scope[key]
            if value is ABSENT:
                raise TemplateError(
                    f"unable to substitute {{{{{key}}}}}: output is an absent optional "
                    "(skipped/omitted node output with no default)"
                )
            if not isinstance(value, str):
                if ".outputs.artifacts." in key or key.startswith("inputs.artifacts."):
                    return raw
                raise TemplateError(f"failed to resolve {{{{{key}}}}} to string")
            return value
        if self._strict(key):
            raise MissingVariable(f"failed to resolve {{{{{key}}}}}")
        if not self.allow_unresolved:
            raise TemplateError(f"failed to resolve {{{{{key}}}}}")
        return raw

    def _expression(self, source: str, raw: str) -> str:
        source = source.replace("\\u003c", "<").replace("\\u003e", ">").replace("\\u0026", "&")
        try:
            ast = exprlang.parse(source)
        except exprlang.ExprSyntaxError as exc:
            if self.allow_unresolved:
                return raw
            raise TemplateError(f"failed to evaluate expression: {exc}") from exc
        evaluator = exprlang.Evaluator(self.env)
        try:
            value = evaluator.eval(ast)
        except exprlang.ExprError as exc:
            return self._expression_failed(evaluator.missing, raw, str(exc))
        if value is None:
            return self._expression_failed(evaluator.missing, raw, "result is nil")
        if isinstance(value, str):
            return value
        return go_json(value)

    def _expression_failed(self, missing: list[str], raw: str, why: str) -> str:
        for name in missing:
            if any(name == p or name.startswith(p + ".") for p in _LATE_BINDING):
                return raw
        for name in missing:
            if self._strict(name):
                raise MissingVariable(f"failed to evaluate expression: {name} is missing")
        if self.allow_unresolved:
            return raw
        raise TemplateError(f"failed to evaluate expression {raw}: {why}")

    def obj(self, value: Any) -> Any:
        """Substitute in every string of a JSON-like object (keys too, as Argo does)."""
        if isinstance(value, str):
            return self.string(value)
        if isinstance(value, list):
            return [self.obj(v) for v in value]
        if isinstance(value, dict):
            return {
                self.string(k) if isinstance(k, str) else k: self.obj(v) for k, v in value.items()
            }
        return value


def substitute(
    value: Any,
    scope: Mapping[str, Any],
    *,
    strict_prefixes: tuple[str, ...] = (),
    allow_unresolved: bool = True,
) -> Any:
    """Substitute tags in a JSON-like object with one scope."""
    return Substituter(
        scope, strict_prefixes=strict_prefixes, allow_unresolved=allow_unresolved
    ).obj(value)


def evaluate_expression(source: str, scope: Mapping[str, Any]) -> Any:
    """Evaluate a bare expression (valueFrom.expression, retryStrategy.expression)."""
    sub = Substituter(scope)
    return exprlang.Evaluator(sub.env).eval(exprlang.parse(source))


EXPR_GLOBALS: dict[str, Any] = {}
"""Names every expression sees besides the scope (functions are resolved by the parser)."""


def scan_expressions(value: Any) -> Iterator[str]:
    """Every expression tag's source in a JSON-like object (for up-front refusal)."""
    if isinstance(value, str):
        if "{{" in value:
            try:
                for _s, _e, tag in iter_tags(value):
                    if tag.startswith("="):
                        yield tag[1:]
            except TemplateError:
                return
    elif isinstance(value, list):
        for v in value:
            yield from scan_expressions(v)
    elif isinstance(value, dict):
        for v in value.values():
            yield from scan_expressions(v)
