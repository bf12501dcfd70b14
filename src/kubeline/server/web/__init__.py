"""The web page of ``kubeline serve``: runs, their step graphs, logs, metrics and outputs,
published pipelines and schedules.

``mount(app, ctx)`` adds the page at ``/ui/`` (plain HTML, CSS and JavaScript from
``static/``, no build step, nothing loaded from other hosts) and the JSON routes it reads
under ``/ui/api/``. docs/web.md describes both.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import FastAPI

    from kubeline.server.web.context import WebContext

STATIC = Path(__file__).parent / "static"

# Only this origin's own files: even a value that escaped escaping could not run a script.
SECURITY_HEADERS = {
    "Content-Security-Policy": ("default-src 'self'; script-src 'self'; style-src 'self'; "
                                "img-src 'self' data:; connect-src 'self'; "
                                "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


def mount(app: FastAPI, ctx: WebContext) -> None:
    """Add the page (``/ui/``), its files (``/ui/static/``) and its API (``/ui/api/``)."""
    from fastapi.responses import FileResponse, RedirectResponse
    from fastapi.staticfiles import StaticFiles

    from kubeline.server.web.routes import router

    app.include_router(router(ctx))

    @app.get("/ui", include_in_schema=False)
    def ui_redirect() -> RedirectResponse:
        return RedirectResponse("/ui/")

    @app.get("/ui/", include_in_schema=False)
    def ui_index() -> FileResponse:
        return FileResponse(STATIC / "index.html", media_type="text/html",
                            headers=SECURITY_HEADERS)

    app.mount("/ui/static", StaticFiles(directory=STATIC), name="kubeline-web-static")
