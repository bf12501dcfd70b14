"""Parameter expressions and sampling: the trials a HyperDriveStep runs.

An expression is the SDK's JSON form, ``["choice", [[1, 2, 3]]]``, ``["uniform", [0, 1]]``,
and so on; a space maps argument names (``"--learning-rate"``) to expressions. Sampling is
deterministic for a seed: random sampling draws the parameters in sorted name order from one
``random.Random(seed)``; grid sampling lists every combination of choices in sorted name
order. A trial's values become command-line arguments, name then value.
"""

from __future__ import annotations

import itertools
import json
import math
import random
from collections.abc import Mapping
from typing import Any

from kubeline.exceptions import KubelineError

Expression = list[Any]  # [kind, [arguments]]
Space = Mapping[str, Expression]
Trial = dict[str, Any]  # {"n": index, "params": {name: value}}

ARITY = {"choice": 1, "randint": 1, "uniform": 2, "loguniform": 2, "normal": 2,
         "lognormal": 2, "quniform": 3, "qloguniform": 3, "qnormal": 3, "qlognormal": 3}
SAMPLINGS = ("random", "grid")
MAX_TRIALS = 1000  # the SDK's own cap on max_total_runs


class SpaceError(KubelineError):
    """A parameter space or sampling setting that cannot be sampled."""


def check_space(space: object, sampling: str) -> dict[str, Expression]:
    """The space as plain JSON data, or one line naming the parameter that is wrong."""
    where = f"{sampling.capitalize()}ParameterSampling"
    if not isinstance(space, Mapping) or not space:
        raise SpaceError(f"{where}: parameter_space must be a non-empty dict",
                         "write {'--learning-rate': uniform(0.01, 0.1), ...}")
    out: dict[str, Expression] = {}
    for name, expr in space.items():
        if not isinstance(name, str) or not name.strip() or any(c.isspace() for c in name):
            raise SpaceError(f"{where}: parameter name {name!r} is not a script argument name",
                             "use names like '--learning-rate'")
        if (not isinstance(expr, list | tuple) or len(expr) != 2 or expr[0] not in ARITY
                or not isinstance(expr[1], list | tuple) or len(expr[1]) != ARITY[expr[0]]):
            raise SpaceError(f"{where}: parameter '{name}' is not a parameter expression "
                             f"({expr!r:.60})",
                             f"use one of {', '.join(sorted(ARITY))}(...)")
        kind, args = expr[0], list(expr[1])
        if kind == "choice":
            values = list(args[0])
            if not values or not all(isinstance(v, str | int | float | bool) for v in values):
                raise SpaceError(f"{where}: parameter '{name}': choice needs one or more "
                                 "numbers or strings", "write choice(16, 32, 64)")
            args = [values]
        elif kind == "randint":
            if isinstance(args[0], bool) or not isinstance(args[0], int) or args[0] < 1:
                raise SpaceError(f"{where}: parameter '{name}': randint(upper) needs an int "
                                 "upper bound of at least 1", "write randint(10)")
        else:
            if not all(isinstance(a, int | float) and not isinstance(a, bool) for a in args):
                raise SpaceError(f"{where}: parameter '{name}': {kind} needs numbers",
                                 f"got {args!r:.60}")
            if kind in ("uniform", "loguniform", "quniform", "qloguniform") and args[0] > args[1]:
                raise SpaceError(f"{where}: parameter '{name}': {kind} needs min_value <= "
                                 f"max_value, got {args[0]} > {args[1]}", "swap them")
            if kind in ("normal", "lognormal", "qnormal", "qlognormal") and args[1] < 0:
                raise SpaceError(f"{where}: parameter '{name}': {kind} needs sigma >= 0",
                                 f"got {args[1]}")
            if kind.startswith("q") and args[2] <= 0:
                raise SpaceError(f"{where}: parameter '{name}': {kind} needs q > 0",
                                 f"got {args[2]}")
        if sampling == "grid" and kind != "choice":
            raise SpaceError(f"GridParameterSampling: parameter '{name}' is {kind}(...); grid "
                             "sampling takes choice(...) only",
                             "list the values with choice(...) or use "
                             "RandomParameterSampling")
        out[name] = [kind, args]
    return out


def grid_size(space: Space) -> int:
    return math.prod(len(expr[1][0]) for expr in space.values())


def _quantize(value: float, q: float) -> float:
    return round(value / q) * q


def draw(expr: Expression, rng: random.Random) -> Any:
    """One value of an expression (the SDK's meaning of each kind)."""
    kind, args = expr[0], expr[1]
    if kind == "choice":
        return rng.choice(args[0])
    if kind == "randint":
        return rng.randrange(args[0])
    if kind == "uniform":
        return rng.uniform(args[0], args[1])
    if kind == "loguniform":  # exp(uniform): the bounds are exponents
        return math.exp(rng.uniform(args[0], args[1]))
    if kind == "normal":
        return rng.gauss(args[0], args[1])
    if kind == "lognormal":
        return math.exp(rng.gauss(args[0], args[1]))
    if kind == "quniform":
        return _quantize(rng.uniform(args[0], args[1]), args[2])
    if kind == "qloguniform":
        return _quantize(math.exp(rng.uniform(args[0], args[1])), args[2])
    if kind == "qnormal":
        return _quantize(rng.gauss(args[0], args[1]), args[2])
    return _quantize(math.exp(rng.gauss(args[0], args[1])), args[2])  # qlognormal


def sample(space: Space, sampling: str, count: int, seed: int) -> list[Trial]:
    """The trials: ``count`` random draws, or the first ``count`` grid combinations."""
    names = sorted(space)
    if sampling == "grid":
        combos = itertools.product(*(space[n][1][0] for n in names))
        return [{"n": i, "params": dict(zip(names, values, strict=True))}
                for i, values in enumerate(itertools.islice(combos, count))]
    rng = random.Random(seed)
    return [{"n": i, "params": {n: draw(space[n], rng) for n in names}} for i in range(count)]


def seed_from(text: str) -> int:
    """A seed derived from a key (the step's cache key when no rngSeed is given)."""
    return int(text[:15], 16) if text else 0


def render(value: Any) -> str:
    """A value as a command-line token: repr for floats (shortest round-trip), else str."""
    if isinstance(value, float):
        return repr(value)
    return str(value)


def arguments(params: Mapping[str, Any]) -> list[str]:
    """A trial's command-line arguments: name, value, in sorted name order."""
    return [token for name in sorted(params) for token in (name, render(params[name]))]


def canonical(params: Mapping[str, Any]) -> str:
    """A trial's values as canonical JSON (part of its cache key)."""
    return json.dumps(dict(params), sort_keys=True, separators=(",", ":"))
