"""azureml.train.hyperdrive: HyperDrive configuration (kubeline.dsl.hyperdrive_config)."""

from __future__ import annotations

from kubeline.dsl.hyperdrive_config import (
    BanditPolicy as BanditPolicy,
)
from kubeline.dsl.hyperdrive_config import (
    BayesianParameterSampling as BayesianParameterSampling,
)
from kubeline.dsl.hyperdrive_config import (
    EarlyTerminationPolicy as EarlyTerminationPolicy,
)
from kubeline.dsl.hyperdrive_config import (
    GridParameterSampling as GridParameterSampling,
)
from kubeline.dsl.hyperdrive_config import (
    HyperDriveConfig as HyperDriveConfig,
)
from kubeline.dsl.hyperdrive_config import (
    HyperParameterSampling as HyperParameterSampling,
)
from kubeline.dsl.hyperdrive_config import (
    MedianStoppingPolicy as MedianStoppingPolicy,
)
from kubeline.dsl.hyperdrive_config import (
    NoTerminationPolicy as NoTerminationPolicy,
)
from kubeline.dsl.hyperdrive_config import (
    PrimaryMetricGoal as PrimaryMetricGoal,
)
from kubeline.dsl.hyperdrive_config import (
    RandomParameterSampling as RandomParameterSampling,
)
from kubeline.dsl.hyperdrive_config import (
    TruncationSelectionPolicy as TruncationSelectionPolicy,
)
from kubeline.dsl.hyperdrive_config import (
    choice as choice,
)
from kubeline.dsl.hyperdrive_config import (
    lognormal as lognormal,
)
from kubeline.dsl.hyperdrive_config import (
    loguniform as loguniform,
)
from kubeline.dsl.hyperdrive_config import (
    normal as normal,
)
from kubeline.dsl.hyperdrive_config import (
    qlognormal as qlognormal,
)
from kubeline.dsl.hyperdrive_config import (
    qloguniform as qloguniform,
)
from kubeline.dsl.hyperdrive_config import (
    qnormal as qnormal,
)
from kubeline.dsl.hyperdrive_config import (
    quniform as quniform,
)
from kubeline.dsl.hyperdrive_config import (
    randint as randint,
)
from kubeline.dsl.hyperdrive_config import (
    uniform as uniform,
)
from kubeline.dsl.hyperdrive_run import (
    HyperDriveRun as HyperDriveRun,
)

__all__ = [
    "BanditPolicy",
    "BayesianParameterSampling",
    "EarlyTerminationPolicy",
    "GridParameterSampling",
    "HyperDriveConfig",
    "HyperDriveRun",
    "HyperParameterSampling",
    "MedianStoppingPolicy",
    "NoTerminationPolicy",
    "PrimaryMetricGoal",
    "RandomParameterSampling",
    "TruncationSelectionPolicy",
    "choice",
    "lognormal",
    "loguniform",
    "normal",
    "qlognormal",
    "qloguniform",
    "qnormal",
    "quniform",
    "randint",
    "uniform",
]
