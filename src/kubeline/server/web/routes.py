"""The JSON routes the page calls, under ``/ui/api``; each returns what one view shows.

Handlers are plain functions (FastAPI runs them in its thread pool) that open a History
for the request and close it; a refused request answers ``{"error": "<one line>"}`` with a
4xx status, never a traceback.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Body, Query
from fastapi.responses import FileResponse, JSONResponse, Response
from starlette.background import BackgroundTask

from kubeline.exceptions import KubelineError
from kubeline.history.db import History, RunNotInHistory, RunRecord, StepRecord
from kubeline.server.web import artifacts, rerun, runs
from kubeline.server.web.context import WebContext
from kubeline.server.web.errors import WebError, not_found
from kubeline.server.web.graph import PairsCache

T = TypeVar("T")


def _error(exc: Exception) -> JSONResponse:
    status = exc.status if isinstance(exc, WebError) else (
        404 if isinstance(exc, RunNotInHistory) else 409)
    return JSONResponse({"error": str(exc)}, status_code=status)


def _answer(func: Callable[[], T]) -> T | JSONResponse:
    try:
        return func()
    except KubelineError as exc:
        return _error(exc)


def _find_step(db: History, run: RunRecord, step_id: str) -> StepRecord:
    for step in db.steps(run.id):
        if step.step_id == step_id:
            return step
    raise not_found(f"step '{step_id}' of run '{run.id}'")


# Raster images the page may show inline (log_image); never SVG, which can hold script.
INLINE_IMAGES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
                 ".gif": "image/gif", ".webp": "image/webp"}


def _file(found: tuple[Path, str], inline: bool = False) -> FileResponse:
    """A download: an attachment of opaque type, so a stored HTML file never runs as a page
    of this origin; raster images may be asked for inline (for an <img>)."""
    path, name = found
    image = INLINE_IMAGES.get(Path(name).suffix.lower()) if inline else None
    return FileResponse(path, media_type=image or "application/octet-stream", filename=name,
                        content_disposition_type="inline" if image else "attachment",
                        headers={"X-Content-Type-Options": "nosniff",
                                 "Content-Security-Policy": "default-src 'none'; sandbox"},
                        background=BackgroundTask(path.unlink, missing_ok=True))


def _registry_list(read: Callable[[], list[dict[str, Any]]]) -> dict[str, Any]:
    try:
        return {"items": read(), "error": None}
    except (KubelineError, OSError, AttributeError) as exc:
        return {"items": [], "error": str(exc)}


def router(ctx: WebContext) -> APIRouter:
    """The page's API bound to one server context."""
    api = APIRouter(prefix="/ui/api", include_in_schema=False)
    state_dir = Path(ctx.state_dir)
    pairs = PairsCache(state_dir)

    @contextmanager
    def history() -> Iterator[History]:
        db = ctx.history()
        try:
            yield db
        finally:
            db.close()

    @api.get("/runs")
    def list_runs(experiment: str | None = None,
                  limit: int = Query(200, ge=1, le=5000)) -> Any:
        with history() as db:
            return _answer(lambda: runs.list_runs(db, experiment, limit))

    @api.get("/runs/{run_id}")
    def run_detail(run_id: str) -> Any:
        with history() as db:
            return _answer(lambda: runs.run_detail(db, pairs, run_id))

    @api.get("/runs/{run_id}/steps/{step_id}/logs/{stream}")
    def step_log(run_id: str, step_id: str, stream: str) -> Any:
        with history() as db:
            def read() -> dict[str, Any]:
                run = db.get_run(run_id)
                return artifacts.step_log(run, _find_step(db, run, step_id), stream)
            return _answer(read)

    @api.get("/runs/{run_id}/steps/{step_id}/artifacts")
    def step_artifacts(run_id: str, step_id: str) -> Any:
        with history() as db:
            def read() -> dict[str, Any]:
                run = db.get_run(run_id)
                step = _find_step(db, run, step_id)
                return {"outputs": artifacts.step_outputs(run, step),
                        "files": artifacts.step_files(run, step)}
            return _answer(read)

    @api.get("/runs/{run_id}/steps/{step_id}/outputs/{output}")
    def output_download(run_id: str, step_id: str, output: str, path: str = "") -> Response:
        with history() as db:
            try:
                run = db.get_run(run_id)
                step = _find_step(db, run, step_id)
                return _file(artifacts.output_download(run, step, output, path))
            except KubelineError as exc:
                return _error(exc)

    @api.get("/runs/{run_id}/steps/{step_id}/files")
    def file_download(run_id: str, step_id: str, path: str = "", inline: bool = False
                      ) -> Response:
        with history() as db:
            try:
                run = db.get_run(run_id)
                step = _find_step(db, run, step_id)
                return _file(artifacts.file_download(run, step, path), inline)
            except KubelineError as exc:
                return _error(exc)

    @api.post("/runs/{run_id}/rerun")
    def rerun_run(run_id: str, body: Annotated[dict[str, Any] | None, Body()] = None) -> Any:
        with history() as db:
            return _answer(lambda: {"Id": rerun.rerun(db, state_dir, run_id, body or {})})

    @api.get("/published")
    def published() -> dict[str, Any]:
        return {"pipelines": _registry_list(ctx.published_pipelines),
                "endpoints": _registry_list(ctx.pipeline_endpoints)}

    @api.get("/schedules")
    def schedules() -> dict[str, Any]:
        return _registry_list(ctx.schedules)

    return api
