"""azureml.exceptions: The SDK's exception names; every one is a kubeline error (one line, no
traceback).
"""

from __future__ import annotations

from kubeline.exceptions import (
    ActivityFailedException as ActivityFailedException,
)
from kubeline.exceptions import (
    AuthenticationException as AuthenticationException,
)
from kubeline.exceptions import (
    AzureMLAggregatedException as AzureMLAggregatedException,
)
from kubeline.exceptions import (
    AzureMLException as AzureMLException,
)
from kubeline.exceptions import (
    ComputeTargetException as ComputeTargetException,
)
from kubeline.exceptions import (
    DatasetTimestampMissingError as DatasetTimestampMissingError,
)
from kubeline.exceptions import (
    DiscoveryUrlNotFoundException as DiscoveryUrlNotFoundException,
)
from kubeline.exceptions import (
    ExperimentExecutionException as ExperimentExecutionException,
)
from kubeline.exceptions import (
    ModelNotFoundException as ModelNotFoundException,
)
from kubeline.exceptions import (
    ModelPathNotFoundException as ModelPathNotFoundException,
)
from kubeline.exceptions import (
    ParallelRunException as ParallelRunException,
)
from kubeline.exceptions import (
    ProjectSystemException as ProjectSystemException,
)
from kubeline.exceptions import (
    RunConfigurationException as RunConfigurationException,
)
from kubeline.exceptions import (
    RunEnvironmentException as RunEnvironmentException,
)
from kubeline.exceptions import (
    ServiceException as ServiceException,
)
from kubeline.exceptions import (
    SnapshotException as SnapshotException,
)
from kubeline.exceptions import (
    TrainingException as TrainingException,
)
from kubeline.exceptions import (
    UserErrorException as UserErrorException,
)
from kubeline.exceptions import (
    WebserviceException as WebserviceException,
)
from kubeline.exceptions import (
    WorkspaceException as WorkspaceException,
)
from kubeline.exceptions import (
    WorkspacePrivateEndpointException as WorkspacePrivateEndpointException,
)

__all__ = [
    "ActivityFailedException",
    "AuthenticationException",
    "AzureMLAggregatedException",
    "AzureMLException",
    "ComputeTargetException",
    "DatasetTimestampMissingError",
    "DiscoveryUrlNotFoundException",
    "ExperimentExecutionException",
    "ModelNotFoundException",
    "ModelPathNotFoundException",
    "ParallelRunException",
    "ProjectSystemException",
    "RunConfigurationException",
    "RunEnvironmentException",
    "ServiceException",
    "SnapshotException",
    "TrainingException",
    "UserErrorException",
    "WebserviceException",
    "WorkspaceException",
    "WorkspacePrivateEndpointException",
]
