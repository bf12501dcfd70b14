"""azureml.train.hyperdrive: parameter expressions, samplings, policies, HyperDriveConfig.

These classes hold settings only; ``settings()`` turns them into the plain JSON the graph
carries (kubeline.tuning does the sampling and the policies at run time). Wrong values fail
here, where the object is created, in one line naming the parameter.
"""

from __future__ import annotations

import enum
from typing import Any

from kubeline.aml_surface.checker import Params, Surface, aml_surface
from kubeline.dsl.runconfig import ScriptRunConfig
from kubeline.exceptions import KubelineError
from kubeline.tuning.space import MAX_TRIALS, check_space


class HyperDriveConfigError(KubelineError):
    """A HyperDrive setting that cannot be run."""


# -- parameter expressions: the SDK's JSON form ---------------------------------------------

def choice(*options: Any) -> list[Any]:
    """One of the given values (a list or a range works as one argument too)."""
    values = list(options[0]) if len(options) == 1 and isinstance(options[0], list | tuple |
                                                                    range) else list(options)
    return ["choice", [values]]


def randint(upper: int) -> list[Any]:
    """An integer in [0, upper)."""
    return ["randint", [upper]]


def uniform(min_value: float, max_value: float) -> list[Any]:
    return ["uniform", [min_value, max_value]]


def quniform(min_value: float, max_value: float, q: int) -> list[Any]:
    return ["quniform", [min_value, max_value, q]]


def loguniform(min_value: float, max_value: float) -> list[Any]:
    """exp(uniform(min_value, max_value)): the bounds are natural-log exponents."""
    return ["loguniform", [min_value, max_value]]


def qloguniform(min_value: float, max_value: float, q: int) -> list[Any]:
    return ["qloguniform", [min_value, max_value, q]]


def normal(mu: float, sigma: float) -> list[Any]:
    return ["normal", [mu, sigma]]


def qnormal(mu: float, sigma: float, q: int) -> list[Any]:
    return ["qnormal", [mu, sigma, q]]


def lognormal(mu: float, sigma: float) -> list[Any]:
    return ["lognormal", [mu, sigma]]


def qlognormal(mu: float, sigma: float, q: int) -> list[Any]:
    return ["qlognormal", [mu, sigma, q]]


# -- samplings --------------------------------------------------------------------------------

_SEED_KEYS = ("rngSeed", "seed")


class HyperParameterSampling:
    """A parameter space and how trials are drawn from it."""

    SAMPLING_NAME = ""
    _kind = ""

    def __init__(self, parameter_space: dict[str, Any], properties: dict[str, Any] | None = None
                 ) -> None:
        self._parameter_space = check_space(parameter_space, self._kind)
        self._properties = dict(properties or {})
        unknown = sorted(set(self._properties) - set(_SEED_KEYS))
        if unknown:
            raise HyperDriveConfigError(f"{type(self).__name__}: property '{unknown[0]}' is not "
                                        "supported by kubeline", "only rngSeed is")
        seed = next((self._properties[k] for k in _SEED_KEYS if k in self._properties), None)
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise HyperDriveConfigError(f"{type(self).__name__}: rngSeed must be an int, not "
                                        f"{type(seed).__name__} ({seed!r:.40})")
        self.seed: int | None = seed

    @property
    def parameter_space(self) -> dict[str, Any]:
        return dict(self._parameter_space)

    def to_json(self) -> dict[str, Any]:
        return {"sampling": self._kind, "space": self._parameter_space, "seed": self.seed}


@aml_surface(Surface())
class RandomParameterSampling(HyperParameterSampling):
    """Random draws; ``properties={"rngSeed": N}`` makes them the same on every run. Without
    a seed the draws follow the step's cache key: a reused step draws the same trials."""

    SAMPLING_NAME = "RANDOM"
    _kind = "random"

    def __init__(self, parameter_space: dict[str, Any], properties: dict[str, Any] | None = None
                 ) -> None:
        super().__init__(parameter_space, properties)


@aml_surface(Surface())
class GridParameterSampling(HyperParameterSampling):
    """Every combination of choice(...) values, in sorted parameter-name order."""

    SAMPLING_NAME = "GRID"
    _kind = "grid"

    def __init__(self, parameter_space: dict[str, Any], properties: dict[str, Any] | None = None
                 ) -> None:
        super().__init__(parameter_space, properties)


_BAYESIAN = ("BayesianParameterSampling is not supported by kubeline: it needs a model of "
             "earlier trials that kubeline does not build")


class BayesianParameterSampling:
    """Refused where it is created (one line naming the alternatives)."""

    SAMPLING_NAME = "BAYESIANOPTIMIZATION"
    __kubeline_refused__ = _BAYESIAN

    def __init__(self, parameter_space: dict[str, Any], properties: dict[str, Any] | None = None
                 ) -> None:
        raise HyperDriveConfigError(_BAYESIAN, "use RandomParameterSampling or "
                                               "GridParameterSampling")


# -- goal and policies ------------------------------------------------------------------------

class PrimaryMetricGoal(enum.Enum):
    """Whether a higher or a lower primary metric is better."""

    MAXIMIZE = "MAXIMIZE"
    MINIMIZE = "MINIMIZE"

    @staticmethod
    def from_str(goal: str) -> PrimaryMetricGoal:
        for member in PrimaryMetricGoal:
            if str(goal).upper() == member.value:
                return member
        raise HyperDriveConfigError(f"PrimaryMetricGoal: unknown goal {goal!r}",
                                    "use MAXIMIZE or MINIMIZE")


def _interval(cls: str, name: str, value: object, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise HyperDriveConfigError(f"{cls}: {name} must be an int of at least {minimum}, not "
                                    f"{value!r:.40}")
    return value


class EarlyTerminationPolicy:
    """Settings of an early termination policy (kubeline.tuning.policies applies them)."""

    POLICY_NAME = ""
    _name = ""

    def __init__(self, evaluation_interval: int = 1, delay_evaluation: int = 0) -> None:
        cls = type(self).__name__
        self._evaluation_interval = _interval(cls, "evaluation_interval", evaluation_interval, 1)
        self._delay_evaluation = _interval(cls, "delay_evaluation", delay_evaluation, 0)

    @property
    def evaluation_interval(self) -> int:
        return self._evaluation_interval

    @property
    def delay_evaluation(self) -> int:
        return self._delay_evaluation

    def to_json(self) -> dict[str, Any]:
        return {"name": self._name, "evaluation_interval": self._evaluation_interval,
                "delay_evaluation": self._delay_evaluation}


@aml_surface(Surface())
class BanditPolicy(EarlyTerminationPolicy):
    """Stop trials whose best value falls outside a slack of the best trial's."""

    POLICY_NAME = "Bandit"
    _name = "bandit"

    def __init__(self, evaluation_interval: int = 1, slack_factor: float | None = None,
                 slack_amount: float | None = None, delay_evaluation: int = 0) -> None:
        super().__init__(evaluation_interval, delay_evaluation)
        if (slack_factor is None) == (slack_amount is None):
            raise HyperDriveConfigError("BanditPolicy: give exactly one of slack_factor and "
                                        "slack_amount", "e.g. BanditPolicy(slack_factor=0.1)")
        for name, value in (("slack_factor", slack_factor), ("slack_amount", slack_amount)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)
                                      or value < 0):
                raise HyperDriveConfigError(f"BanditPolicy: {name} must be a number >= 0, not "
                                            f"{value!r:.40}")
        self._slack_factor = slack_factor
        self._slack_amount = slack_amount

    @property
    def slack_factor(self) -> float | None:
        return self._slack_factor

    @property
    def slack_amount(self) -> float | None:
        return self._slack_amount

    def to_json(self) -> dict[str, Any]:
        return {**super().to_json(), "slack_factor": self._slack_factor,
                "slack_amount": self._slack_amount}


@aml_surface(Surface())
class MedianStoppingPolicy(EarlyTerminationPolicy):
    """Stop trials whose best value is worse than the median of all running averages."""

    POLICY_NAME = "MedianStopping"
    _name = "median_stopping"

    def __init__(self, evaluation_interval: int = 1, delay_evaluation: int = 0) -> None:
        super().__init__(evaluation_interval, delay_evaluation)


@aml_surface(Surface())
class TruncationSelectionPolicy(EarlyTerminationPolicy):
    """Stop the worst truncation_percentage percent of trials at each evaluation."""

    POLICY_NAME = "TruncationSelection"
    _name = "truncation_selection"

    def __init__(self, truncation_percentage: int, evaluation_interval: int = 1,
                 delay_evaluation: int = 0, exclude_finished_jobs: bool = False) -> None:
        super().__init__(evaluation_interval, delay_evaluation)
        if isinstance(truncation_percentage, bool) or not isinstance(truncation_percentage, int) \
                or not 1 <= truncation_percentage <= 99:
            raise HyperDriveConfigError("TruncationSelectionPolicy: truncation_percentage must "
                                        f"be an int from 1 to 99, not "
                                        f"{truncation_percentage!r:.40}")
        self._truncation_percentage = truncation_percentage
        self._exclude_finished_jobs = bool(exclude_finished_jobs)

    @property
    def truncation_percentage(self) -> int:
        return self._truncation_percentage

    def to_json(self) -> dict[str, Any]:
        return {**super().to_json(), "truncation_percentage": self._truncation_percentage,
                "exclude_finished_jobs": self._exclude_finished_jobs}


@aml_surface(Surface())
class NoTerminationPolicy(EarlyTerminationPolicy):
    """Every trial runs to its end."""

    POLICY_NAME = "Default"
    _name = "no_termination"

    def __init__(self) -> None:
        super().__init__(1, 0)

    def to_json(self) -> dict[str, Any]:
        return {"name": self._name}


# -- the configuration ------------------------------------------------------------------------

_NOT_HERE = "not available in kubeline's HyperDrive: leave it at its default"
_CONFIG_SURFACE = Surface(params={"__init__": Params(refused={
    "estimator": (None, "estimators are deprecated in the SDK: pass run_config=ScriptRunConfig"),
    "resume_from": (None, _NOT_HERE), "resume_child_runs": (None, _NOT_HERE),
    "pipeline": (None, "a HyperDrive over a whole pipeline is " + _NOT_HERE.split(":")[0]),
    "debug_flag": (None, _NOT_HERE), "custom_run_id": (None, _NOT_HERE),
})})


@aml_surface(_CONFIG_SURFACE)
class HyperDriveConfig:
    """What a HyperDriveStep runs: a ScriptRunConfig, the space, the metric and the limits."""

    def __init__(self, hyperparameter_sampling: HyperParameterSampling,
                 primary_metric_name: str, primary_metric_goal: PrimaryMetricGoal,
                 max_total_runs: int, max_concurrent_runs: int | None = None,
                 max_duration_minutes: float = 10080, policy: EarlyTerminationPolicy | None = None,
                 run_config: ScriptRunConfig | None = None) -> None:
        if not isinstance(hyperparameter_sampling, HyperParameterSampling):
            raise HyperDriveConfigError(
                f"HyperDriveConfig: hyperparameter_sampling is a "
                f"{type(hyperparameter_sampling).__name__}",
                "pass RandomParameterSampling(...) or GridParameterSampling(...)")
        if not isinstance(primary_metric_name, str) or not primary_metric_name.strip():
            raise HyperDriveConfigError("HyperDriveConfig: primary_metric_name must be the name "
                                        "a trial logs with Run.get_context().log(...)")
        if isinstance(primary_metric_goal, str):
            primary_metric_goal = PrimaryMetricGoal.from_str(primary_metric_goal)
        if not isinstance(primary_metric_goal, PrimaryMetricGoal):
            raise HyperDriveConfigError("HyperDriveConfig: primary_metric_goal must be "
                                        "PrimaryMetricGoal.MAXIMIZE or .MINIMIZE")
        total = _interval("HyperDriveConfig", "max_total_runs", max_total_runs, 1)
        if total > MAX_TRIALS:
            raise HyperDriveConfigError(f"HyperDriveConfig: max_total_runs is {total}",
                                        f"at most {MAX_TRIALS}")
        concurrent = total if max_concurrent_runs is None else _interval(
            "HyperDriveConfig", "max_concurrent_runs", max_concurrent_runs, 1)
        minutes = max_duration_minutes
        if isinstance(minutes, bool) or not isinstance(minutes, int | float) or not minutes > 0:
            raise HyperDriveConfigError("HyperDriveConfig: max_duration_minutes must be a "
                                        f"number of minutes above 0, not {minutes!r:.40}",
                                        "the SDK's default is 10080 (7 days)")
        if policy is not None and not isinstance(policy, EarlyTerminationPolicy):
            raise HyperDriveConfigError(f"HyperDriveConfig: policy is a {type(policy).__name__}",
                                        "pass BanditPolicy, MedianStoppingPolicy, "
                                        "TruncationSelectionPolicy or NoTerminationPolicy")
        if not isinstance(run_config, ScriptRunConfig) or not run_config.script:
            raise HyperDriveConfigError("HyperDriveConfig: run_config must be a ScriptRunConfig "
                                        "with a script",
                                        "ScriptRunConfig(source_directory=..., script='train.py')")
        self.hyperparameter_sampling = hyperparameter_sampling
        self.primary_metric_name = primary_metric_name
        self.primary_metric_goal = primary_metric_goal
        self.max_total_runs = total
        self.max_concurrent_runs = min(concurrent, total)
        self.max_duration_minutes = minutes
        self.policy = policy or NoTerminationPolicy()
        self._run_config = run_config

    @property
    def run_config(self) -> ScriptRunConfig:
        return self._run_config

    @property
    def estimator(self) -> None:
        """Always None: kubeline takes run_config only."""
        return None

    @property
    def pipeline(self) -> None:
        """Always None: a HyperDrive over a whole pipeline is not available."""
        return None

    @property
    def source_directory(self) -> str:
        return str(self._run_config.source_directory)

    def settings(self) -> dict[str, Any]:
        """The plain JSON the graph carries for the runtime."""
        return {**self.hyperparameter_sampling.to_json(),
                "primary_metric": self.primary_metric_name,
                "goal": self.primary_metric_goal.value,
                "max_total_runs": self.max_total_runs,
                "max_concurrent_runs": self.max_concurrent_runs,
                "max_duration_minutes": self.max_duration_minutes,
                "policy": self.policy.to_json()}
