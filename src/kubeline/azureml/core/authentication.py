"""azureml.core.authentication: Credentials that answer with a kubeline REST token."""

from __future__ import annotations

from kubeline.dsl.auth import (
    AbstractAuthentication as AbstractAuthentication,
)
from kubeline.dsl.auth import (
    AzureCliAuthentication as AzureCliAuthentication,
)
from kubeline.dsl.auth import (
    InteractiveLoginAuthentication as InteractiveLoginAuthentication,
)
from kubeline.dsl.auth import (
    MsiAuthentication as MsiAuthentication,
)
from kubeline.dsl.auth import (
    ServicePrincipalAuthentication as ServicePrincipalAuthentication,
)
from kubeline.dsl.auth import (
    TokenAuthentication as TokenAuthentication,
)

__all__ = [
    "AbstractAuthentication",
    "AzureCliAuthentication",
    "InteractiveLoginAuthentication",
    "MsiAuthentication",
    "ServicePrincipalAuthentication",
    "TokenAuthentication",
]
