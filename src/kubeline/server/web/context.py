"""What the web page needs from the server it is mounted on.

A Protocol rather than an import of ``kubeline.server.context.ServerContext`` so the page
depends only on the few members it reads; ServerContext satisfies it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from kubeline.history.db import History


class WebContext(Protocol):
    """The workspace, its run history and its publishing registry, as the page reads them."""

    @property
    def workspace_root(self) -> Path: ...

    @property
    def state_dir(self) -> Path: ...

    def history(self) -> History:
        """A fresh History (the caller closes it)."""
        ...

    def published_pipelines(self) -> list[dict[str, Any]]: ...

    def pipeline_endpoints(self) -> list[dict[str, Any]]: ...

    def schedules(self) -> list[dict[str, Any]]: ...
