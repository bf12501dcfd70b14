"""``python -m tests.web.serve_app WORKSPACE FD``: the serve app on an inherited socket.

The test binds 127.0.0.1:0 itself and passes the socket's descriptor, so the port is known
before the server starts and no other process can take it in between.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any


def build_app(workspace: Path, base_url: str) -> Any:
    """The ``kubeline serve`` app for a workspace, with the web page mounted."""
    from fastapi import FastAPI

    from kubeline.server.context import ServerContext
    from kubeline.server.registry import Registry
    from kubeline.server.web import mount

    state_dir = workspace / ".kubeline"
    app = FastAPI()
    mount(app, ServerContext(workspace_root=workspace, state_dir=state_dir,
                             registry=Registry(state_dir), base_url=base_url))
    return app


def main(argv: list[str]) -> None:
    import uvicorn

    workspace, fd, base_url = Path(argv[0]), int(argv[1]), argv[2]
    uvicorn.run(build_app(workspace, base_url), fd=fd, log_level="warning")


if __name__ == "__main__":
    main(sys.argv[1:])
