"""azureml.train.hyperdrive: HyperDrive (not available yet: issue 13 point 4)."""

from __future__ import annotations

from kubeline.dsl.pending import (
    BanditPolicy as BanditPolicy,
)
from kubeline.dsl.pending import (
    BayesianParameterSampling as BayesianParameterSampling,
)
from kubeline.dsl.pending import (
    GridParameterSampling as GridParameterSampling,
)
from kubeline.dsl.pending import (
    HyperDriveConfig as HyperDriveConfig,
)
from kubeline.dsl.pending import (
    HyperDriveRun as HyperDriveRun,
)
from kubeline.dsl.pending import (
    MedianStoppingPolicy as MedianStoppingPolicy,
)
from kubeline.dsl.pending import (
    NoTerminationPolicy as NoTerminationPolicy,
)
from kubeline.dsl.pending import (
    PrimaryMetricGoal as PrimaryMetricGoal,
)
from kubeline.dsl.pending import (
    RandomParameterSampling as RandomParameterSampling,
)
from kubeline.dsl.pending import (
    TruncationSelectionPolicy as TruncationSelectionPolicy,
)
from kubeline.dsl.pending import (
    choice as choice,
)
from kubeline.dsl.pending import (
    lognormal as lognormal,
)
from kubeline.dsl.pending import (
    loguniform as loguniform,
)
from kubeline.dsl.pending import (
    normal as normal,
)
from kubeline.dsl.pending import (
    qlognormal as qlognormal,
)
from kubeline.dsl.pending import (
    qloguniform as qloguniform,
)
from kubeline.dsl.pending import (
    qnormal as qnormal,
)
from kubeline.dsl.pending import (
    quniform as quniform,
)
from kubeline.dsl.pending import (
    randint as randint,
)
from kubeline.dsl.pending import (
    uniform as uniform,
)

__all__ = [
    "BanditPolicy",
    "BayesianParameterSampling",
    "GridParameterSampling",
    "HyperDriveConfig",
    "HyperDriveRun",
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
