"""The SDK's authentication classes, answering with a kubeline REST token.

AML code gets a header with ``auth.get_authentication_header()`` and posts it to a published
pipeline's endpoint. Here the header carries a bearer token that ``kubeline serve`` accepts:
``KUBELINE_TOKEN`` from the environment when set, else the workspace's SDK token, made once
with ``kubeline token``'s machinery and kept in ``.kubeline/sdk-token`` (mode 0600; the
folder is never part of a snapshot, and the registry keeps only its hash). No Azure login
happens: ``InteractiveLoginAuthentication(force=True)``, which asks for one, is refused.
"""

from __future__ import annotations

import getpass
import os
import re
import secrets
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from kubeline.aml_surface.checker import aml_surface
from kubeline.aml_surface.data import surface
from kubeline.exceptions import AuthenticationException

if TYPE_CHECKING:
    from kubeline.dsl.workspace import Workspace

TOKEN_ENV = "KUBELINE_TOKEN"
TOKEN_FILE = "sdk-token"
_TOKEN = re.compile(r"^kl_[0-9a-f]{12}_[A-Za-z0-9_-]{20,100}$")


def workspace_token(workspace: Workspace) -> str:
    """The workspace's SDK token, made on first use (the plain token exists only in the file)."""
    from kubeline.server.registry import Registry
    from kubeline.server.tokens import create_token

    path = workspace.state_dir / TOKEN_FILE
    if path.is_file():
        token = path.read_text(encoding="ascii").strip()
        if _TOKEN.match(token):
            return token
    path.parent.mkdir(parents=True, exist_ok=True)
    user = re.sub(r"[^A-Za-z0-9_.-]", "-", getpass.getuser() or "user")[:40]
    token = create_token(Registry(workspace.state_dir), f"sdk-{user}-{secrets.token_hex(3)}")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(token + "\n")
    return token


class AbstractAuthentication:
    """Base of the SDK's credential classes: a bearer header for ``kubeline serve``."""

    def __init__(self, cloud: str | None = None) -> None:
        self.cloud = cloud
        self._workspace: Workspace | None = None

    def _token(self) -> str:
        token = os.environ.get(TOKEN_ENV, "").strip()
        if token:
            if not _TOKEN.match(token):
                raise AuthenticationException(f"{TOKEN_ENV} does not hold a kubeline token",
                                              "make one with 'kubeline token create NAME'")
            return token
        from kubeline.dsl.workspace import Workspace

        return workspace_token(self._workspace or Workspace.from_config())

    def get_authentication_header(self) -> dict[str, str]:
        """``{"Authorization": "Bearer <token>"}`` for the REST endpoints."""
        return {"Authorization": f"Bearer {self._token()}"}

    def get_token(self, *scopes: str, **kwargs: Any) -> str:
        return self._token()

    def signed_session(self, session: Any = None) -> Any:
        import requests

        session = session or requests.Session()
        session.headers.update(self.get_authentication_header())
        return session


@aml_surface(surface("InteractiveLoginAuthentication"))
class InteractiveLoginAuthentication(AbstractAuthentication):
    """No Azure login: the header carries the workspace's kubeline token."""

    def __init__(self, force: bool = False, tenant_id: str | None = None,
                 cloud: str | None = None) -> None:
        if force:
            raise AuthenticationException(
                "InteractiveLoginAuthentication(force=True): kubeline has no interactive Azure "
                "login", f"REST calls use a kubeline token ({TOKEN_ENV} or "
                "'kubeline token create NAME'); drop force=True")
        super().__init__(cloud)
        self.tenant_id = tenant_id


@aml_surface(surface("AzureCliAuthentication"))
class AzureCliAuthentication(AbstractAuthentication):
    """No ``az login``: the header carries the workspace's kubeline token."""


@aml_surface(surface("MsiAuthentication"))
class MsiAuthentication(AbstractAuthentication):
    """No managed identity: the header carries the workspace's kubeline token."""

    def __init__(self, cloud: str | None = None, **kwargs: Any) -> None:
        super().__init__(cloud)


@aml_surface(surface("ServicePrincipalAuthentication"))
class ServicePrincipalAuthentication(AbstractAuthentication):
    """A service principal's password that is a kubeline token is used as the token;
    otherwise the environment's or the workspace's token is (the password is never kept)."""

    def __init__(self, tenant_id: str, service_principal_id: str,
                 service_principal_password: str, cloud: str = "AzureCloud",
                 _enable_caching: bool = True) -> None:
        super().__init__(cloud)
        self.tenant_id = tenant_id
        self.service_principal_id = service_principal_id
        self._given = service_principal_password if _TOKEN.match(
            str(service_principal_password or "")) else None

    def _token(self) -> str:
        return self._given or super()._token()


@aml_surface(surface("TokenAuthentication"))
class TokenAuthentication(AbstractAuthentication):
    """The token is whatever ``get_token_for_audience(audience)`` returns."""

    def __init__(self, get_token_for_audience: Callable[[str], Any],
                 cloud: str | None = None) -> None:
        if not callable(get_token_for_audience):
            raise AuthenticationException("TokenAuthentication: get_token_for_audience must be "
                                          "a function returning a token")
        super().__init__(cloud)
        self._get = get_token_for_audience

    def _token(self) -> str:
        value = self._get("kubeline")
        token = value[0] if isinstance(value, tuple) else getattr(value, "token", value)
        return str(token)
