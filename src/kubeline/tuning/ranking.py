"""Which trial is best: by the best value of the primary metric each trial logged."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from kubeline.tuning.policies import best_of, numeric


def best_value(metrics: Mapping[str, Any], primary: str, maximize: bool) -> float | None:
    """A trial's best primary metric value (a series or one value), None if it logged none."""
    raw = metrics.get(primary)
    values = numeric(raw if isinstance(raw, list) else [raw])
    return best_of(values, maximize) if values else None


def ranked(trials: Sequence[Mapping[str, Any]], primary: str, maximize: bool,
           statuses: Sequence[str] | None = None) -> list[Mapping[str, Any]]:
    """Trials with a primary metric, best first (ties: lower trial number first); only the
    given statuses when named."""
    scored = [(best_value(t.get("metrics") or {}, primary, maximize), t) for t in trials
              if statuses is None or t.get("status") in statuses]
    present = [(v, t) for v, t in scored if v is not None]
    present.sort(key=lambda item: ((-item[0] if maximize else item[0]), int(item[1]["n"])))
    return [t for _, t in present]
