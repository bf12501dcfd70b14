"""kubeline.tuning: sampling, the policies' verdicts on scripted curves, the ranking."""

from __future__ import annotations

import math

import pytest

from kubeline.tuning import policies, ranking, space
from kubeline.tuning.policies import Peer

SPACE = {"--batch": ["choice", [[16, 32, 64]]], "--lr": ["loguniform", [-6, -1]],
         "--drop": ["uniform", [0.1, 0.5]], "--units": ["quniform", [8, 64, 8]],
         "--seed": ["randint", [5]], "--w": ["normal", [0, 1]],
         "--ln": ["qlognormal", [0, 1, 1]]}


def test_random_sampling_is_determined_by_the_seed() -> None:
    one = space.sample(SPACE, "random", 20, seed=42)
    assert one == space.sample(SPACE, "random", 20, seed=42)
    assert one != space.sample(SPACE, "random", 20, seed=43)
    assert [t["n"] for t in one] == list(range(20))
    for trial in one:
        p = trial["params"]
        assert p["--batch"] in (16, 32, 64)
        assert math.exp(-6) <= p["--lr"] <= math.exp(-1)
        assert 0.1 <= p["--drop"] <= 0.5
        assert p["--units"] % 8 == 0 and 8 <= p["--units"] <= 64
        assert p["--seed"] in range(5)
        assert p["--ln"] == round(p["--ln"])
    assert len({t["params"]["--lr"] for t in one}) == 20  # real draws, not one value


def test_grid_lists_every_combination_in_name_order() -> None:
    grid = {"--b": ["choice", [["x", "y"]]], "--a": ["choice", [[1, 2, 3]]]}
    trials = space.sample(grid, "grid", 100, seed=0)
    assert [tuple(t["params"].values()) for t in trials] == [
        (1, "x"), (1, "y"), (2, "x"), (2, "y"), (3, "x"), (3, "y")]
    assert space.grid_size(grid) == 6
    assert len(space.sample(grid, "grid", 4, seed=0)) == 4


def test_trial_arguments_are_name_value_pairs() -> None:
    assert space.arguments({"--lr": 0.1, "--b": 32, "--opt": "adam"}) == [
        "--b", "32", "--lr", "0.1", "--opt", "adam"]


@pytest.mark.parametrize(("bad", "words"), [
    ({}, "non-empty dict"),
    ({"--a": ["gauss", [0, 1]]}, "'--a' is not a parameter expression"),
    ({"--a": ["uniform", [2, 1]]}, "min_value <= max_value"),
    ({"--a": ["choice", [[]]]}, "choice needs one or more"),
    ({"--a b": ["choice", [[1]]]}, "is not a script argument name"),
    ({"--a": ["qnormal", [0, 1, 0]]}, "needs q > 0"),
])
def test_bad_spaces_fail_in_one_line(bad: object, words: str) -> None:
    with pytest.raises(space.SpaceError) as err:
        space.check_space(bad, "random")
    assert words in str(err.value) and "\n" not in str(err.value)


def test_grid_refuses_continuous_expressions() -> None:
    with pytest.raises(space.SpaceError, match="grid sampling takes choice"):
        space.check_space({"--lr": ["uniform", [0, 1]]}, "grid")


BANDIT = {"name": "bandit", "evaluation_interval": 1, "delay_evaluation": 0,
          "slack_factor": 0.1, "slack_amount": None}


def test_bandit_slack_factor_and_amount() -> None:
    leader = Peer([0.8, 0.9])
    assert policies.decide(BANDIT, True, [0.75], [leader]) == ""  # 0.75 >= 0.8/1.1
    assert "bandit" in policies.decide(BANDIT, True, [0.7], [leader])  # < 0.727
    amount = {**BANDIT, "slack_factor": None, "slack_amount": 0.05}
    assert policies.decide(amount, True, [0.76], [leader]) == ""
    assert policies.decide(amount, True, [0.74], [leader]) != ""
    # minimize: the limit is best * (1 + f)
    assert policies.decide(BANDIT, False, [0.21], [Peer([0.2])]) == ""
    assert policies.decide(BANDIT, False, [0.23], [Peer([0.2])]) != ""
    # peers that have not reached this interval do not count
    assert policies.decide(BANDIT, True, [0.1, 0.1], [Peer([0.9])]) == ""


def test_evaluation_interval_and_delay() -> None:
    policy = {**BANDIT, "evaluation_interval": 2, "delay_evaluation": 3}
    assert [k for k in range(1, 10) if policies.evaluates_at(policy, k)] == [3, 5, 7, 9]
    default = {**BANDIT, "evaluation_interval": 2}
    assert [k for k in range(1, 7) if policies.evaluates_at(default, k)] == [2, 4, 6]
    assert not policies.evaluates_at({"name": "no_termination"}, 1)
    # a bad value between evaluations is not judged
    assert policies.decide(policy, True, [0.1, 0.1, 0.1, 0.1], [Peer([1.0] * 4)]) == ""


def test_median_stopping_uses_running_averages() -> None:
    policy = {"name": "median_stopping", "evaluation_interval": 1, "delay_evaluation": 0}
    peers = [Peer([0.5, 0.6]), Peer([0.9, 0.95]), Peer([0.5, 0.55])]
    # averages 0.55, 0.925, 0.525 and own 0.45 -> median (0.45, 0.525, 0.55, 0.925) = 0.5375
    assert policies.decide(policy, True, [0.4, 0.5], peers) != ""  # best 0.5 < 0.5375
    assert policies.decide(policy, True, [0.4, 0.54], peers) == ""  # 0.54 >= 0.5375


def test_truncation_cuts_the_worst_percentage() -> None:
    policy = {"name": "truncation_selection", "evaluation_interval": 1, "delay_evaluation": 0,
              "truncation_percentage": 50, "exclude_finished_jobs": False}
    peers = [Peer([0.5]), Peer([0.6]), Peer([0.7])]
    assert policies.decide(policy, True, [0.55], peers) != ""  # 2 of 4 cut; 1 peer is worse
    assert policies.decide(policy, True, [0.65], peers) == ""  # 2 peers are worse
    finished = [Peer([0.5], True), Peer([0.6], True), Peer([0.7])]
    excluded = {**policy, "exclude_finished_jobs": True}
    assert policies.decide(excluded, True, [0.55], finished) != ""  # 1 of 2: 0.55 < 0.7
    assert policies.decide({**policy, "truncation_percentage": 20}, True, [0.1], peers) == ""


def test_ranking_by_best_value_for_both_goals() -> None:
    trials = [{"n": 0, "status": "Completed", "metrics": {"loss": [0.9, 0.3, 0.5]}},
              {"n": 1, "status": "Completed", "metrics": {"loss": 0.4}},
              {"n": 2, "status": "Canceled", "metrics": {"loss": [0.8, 0.1]}},
              {"n": 3, "status": "Failed", "metrics": {}}]
    assert [t["n"] for t in ranking.ranked(trials, "loss", maximize=False)] == [2, 0, 1]
    assert [t["n"] for t in ranking.ranked(trials, "loss", maximize=True)] == [0, 2, 1]
    assert [t["n"] for t in ranking.ranked(trials, "loss", False, ("Completed",))] == [0, 1]
    assert ranking.best_value({"loss": ["NaN", 0.2]}, "loss", False) == 0.2
    assert ranking.best_value({}, "loss", True) is None
