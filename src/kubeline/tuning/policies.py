"""Early termination policies, evaluated on the primary metric curves trials report.

A curve is the list of numeric values a trial logged for the primary metric, in order; its
k-th value is interval k (1-based). A policy is the SDK's settings as a dict:
``{"name": "bandit", "evaluation_interval": 2, "slack_factor": 0.1, ...}``. ``decide``
answers, for one trial at its interval k, whether the policy stops it, against the curves
of the other trials of the same step as they stand (peers that reached interval k):

* evaluated at interval k when k >= max(delay_evaluation, 1) and
  (k - delay_evaluation) is a multiple of evaluation_interval;
* bandit: stop when the trial's best value up to k is outside the slack of the best value
  up to k among all trials (slack_factor: best/(1+f) when maximizing, best*(1+f) when
  minimizing; slack_amount: best -/+ amount);
* median stopping: stop when the trial's best value up to k is worse than the median of the
  running averages (mean of values 1..k) of all trials;
* truncation selection: rank the trials by their value at interval k; stop the trial when
  it is among the worst floor(n * truncation_percentage / 100) of the n trials (ties count
  in its favour); exclude_finished_jobs leaves finished peers out of the n.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

POLICY_NAMES = ("bandit", "median_stopping", "truncation_selection", "no_termination")


@dataclass(frozen=True)
class Peer:
    """Another trial's curve as it stands, and whether that trial has ended."""

    values: Sequence[float]
    finished: bool = False


def numeric(values: Sequence[Any]) -> list[float]:
    """The numbers of a logged series (strings such as "NaN" are left out)."""
    return [float(v) for v in values if isinstance(v, int | float) and not isinstance(v, bool)]


def _better(a: float, b: float, maximize: bool) -> bool:
    return a > b if maximize else a < b


def best_of(values: Sequence[float], maximize: bool) -> float:
    return max(values) if maximize else min(values)


def evaluates_at(policy: Mapping[str, Any], k: int) -> bool:
    """Whether the policy is applied at interval k."""
    if policy.get("name", "no_termination") == "no_termination":
        return False
    delay = int(policy.get("delay_evaluation", 0) or 0)
    every = max(int(policy.get("evaluation_interval", 1) or 1), 1)
    return k >= max(delay, 1) and (k - delay) % every == 0


def decide(policy: Mapping[str, Any], maximize: bool, curve: Sequence[float],
           peers: Sequence[Peer]) -> str:
    """Why the policy stops this trial at interval len(curve), or "" to let it go on."""
    k = len(curve)
    if k == 0 or not evaluates_at(policy, k):
        return ""
    name = policy["name"]
    field = [list(p.values[:k]) for p in peers if len(p.values) >= k]
    own_best = best_of(curve, maximize)
    if name == "bandit":
        top = own_best
        for values in field:
            candidate = best_of(values, maximize)
            if _better(candidate, top, maximize):
                top = candidate
        if policy.get("slack_factor") is not None:
            factor = 1.0 + float(policy["slack_factor"])
            limit = top / factor if maximize else top * factor
        else:
            amount = float(policy.get("slack_amount") or 0.0)
            limit = top - amount if maximize else top + amount
        if _better(limit, own_best, maximize):
            return (f"bandit policy at interval {k}: best {own_best:g} is outside the slack of "
                    f"the best trial's {top:g} (limit {limit:g})")
        return ""
    if name == "median_stopping":
        averages = [statistics.fmean(v) for v in field] + [statistics.fmean(curve)]
        median = statistics.median(averages)
        if _better(median, own_best, maximize):
            return (f"median stopping policy at interval {k}: best {own_best:g} is worse than "
                    f"the median {median:g} of the running averages of {len(averages)} trials")
        return ""
    if name == "truncation_selection":
        if policy.get("exclude_finished_jobs"):
            field = [list(p.values[:k]) for p in peers if len(p.values) >= k and not p.finished]
        others = [values[k - 1] for values in field]
        n = len(others) + 1
        cut = n * int(policy["truncation_percentage"]) // 100
        worse = sum(1 for v in others if _better(curve[k - 1], v, maximize))
        if worse < cut:
            return (f"truncation selection policy at interval {k}: value {curve[k - 1]:g} is "
                    f"among the worst {cut} of {n} trials")
        return ""
    return ""
