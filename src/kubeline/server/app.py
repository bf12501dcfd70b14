"""The ``kubeline serve`` app: AML-style REST endpoints, read-only JSON, the runner pool, the
scheduler, and (when installed) the web page.

Submissions are checked in this order, and a rejected one starts nothing: token (401),
body size (413), target (404), disabled (409), body fields and parameter types (400).
The handlers are ``async`` and do their few short SQLite writes inline: that costs far
less than handing each request to a thread, and keeps a burst of submissions fast.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, RedirectResponse
from pydantic import BaseModel, Field

from kubeline.server import dataset_assignments
from kubeline.server.body import BODY_FIELDS, RequestError, bind, parse_body
from kubeline.server.context import ServerContext
from kubeline.server.dispatch import Dispatcher
from kubeline.server.registry import (
    ACTIVE,
    PublishedRecord,
    Registry,
    RegistryError,
    ScheduleRecord,
)
from kubeline.server.runs import RunStarter
from kubeline.server.scheduler import Scheduler
from kubeline.server.tokens import HINT, authenticate

MAX_BODY_BYTES = 1024 * 1024
CORS_ENV = "KUBELINE_CORS_ORIGINS"


class SubmitResponse(BaseModel):
    """What a successful submission returns (AML's field names)."""

    Id: str = Field(description="The run id: PipelineRun(Experiment(ws, name), Id) finds it")
    ExperimentName: str
    Status: str = Field(description="Running: the run is recorded; a runner drives it")
    PublishedPipelineId: str
    PipelineVersion: str | None = None
    RunUrl: str


class ErrorDetail(BaseModel):
    code: int
    field: str = Field(description="The request field at fault (Authorization, body, ...)")
    message: str


class ErrorResponse(BaseModel):
    error: ErrorDetail


def _body_schema(endpoint: bool) -> dict[str, Any]:
    props: dict[str, Any] = {
        "ExperimentName": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9_-]{0,254}$"},
        "ParameterAssignments": {"type": "object", "additionalProperties": True,
                                 "description": "pipeline parameter name -> value"},
        "DataPathAssignments": {"type": "object", "additionalProperties": {
            "type": "object", "additionalProperties": False,
            "properties": {"DataStoreName": {"type": "string"},
                           "RelativePath": {"type": "string"}},
            "required": ["DataStoreName"]}},
        "Tags": {"type": "object", "additionalProperties": {"type": "string"}},
        dataset_assignments.FIELD: dataset_assignments.SCHEMA,
    }
    if endpoint:
        props["PipelineVersion"] = {"type": "string",
                                    "description": "the endpoint's version; default if absent"}
    return {"required": True, "content": {"application/json": {"schema": {
        "type": "object", "additionalProperties": False, "required": ["ExperimentName"],
        "properties": props}}}}


_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse, "description": text} for code, text in (
        (400, "a body field or parameter is wrong (the field is named)"),
        (401, "no token, or a wrong or revoked one"),
        (404, "no such published pipeline or endpoint"),
        (409, "the published pipeline or endpoint is disabled"),
        (413, "the body is larger than the server's limit"))}


def _cors(cors_origins: Sequence[str] | None, configured: Sequence[str]) -> tuple[str, ...]:
    """The allowlist: the argument, else KUBELINE_CORS_ORIGINS, else kubeline.yaml's
    serve.cors_origins; empty means no cross-origin access."""
    if cors_origins is not None:
        return tuple(cors_origins)
    env = os.environ.get(CORS_ENV, "")
    from_env = tuple(o.strip() for o in env.split(",") if o.strip())
    return from_env or tuple(configured)


def create_app(workspace_root: Path, *, base_url: str | None = None,
               cors_origins: Sequence[str] | None = None,
               max_body_bytes: int = MAX_BODY_BYTES, runners: int | None = None,
               schedules: bool = True, scheduler_tick: float = 1.0,
               remote_start: Callable[..., Any] | None = None) -> FastAPI:
    """The server of one workspace. ``base_url`` is how clients reach it (for the endpoint
    URLs it reports); ``runners`` bounds concurrent runs; ``schedules`` fires schedules."""
    from kubeline.workspace.settings import WorkspaceFolder

    ws = WorkspaceFolder.find(Path(workspace_root))
    registry = Registry(ws.state_dir)
    ctx = ServerContext(workspace_root=ws.root, state_dir=ws.state_dir, registry=registry,
                        base_url=(base_url or "http://127.0.0.1:8765").rstrip("/"),
                        cors_origins=_cors(cors_origins, ws.config.serve.cors_origins))
    dispatcher = Dispatcher(ws.state_dir, ws.root, runners)
    starter = RunStarter(ws.state_dir, ws.root, launch=dispatcher.submit, remote=remote_start)
    datastores = frozenset(ws.config.datastores)
    cache: dict[str, PublishedRecord] = {}

    def registry_store() -> Any:
        """The default datastore, where the dataset registry lives (opened when needed)."""
        from kubeline.stores import open_store

        name = ws.config.default_datastore
        return open_store(name, ws.config.datastores[name], ws.root)

    def published(published_id: str) -> PublishedRecord:
        """The immutable record (cached) with its current status."""
        status = registry.published_status(published_id)
        if status is None:
            cache.pop(published_id, None)
            raise RequestError(404, "id", f"no published pipeline '{published_id}'",
                               "list them at GET /api/published-pipelines")
        record = cache.get(published_id)
        if record is None:
            record = cache[published_id] = registry.get_published(published_id)
        if record.status != status:
            from dataclasses import replace

            record = cache[published_id] = replace(record, status=status)
        return record

    def schedule_run(schedule: ScheduleRecord, record: PublishedRecord,
                     data_paths: dict[str, Any]) -> str:
        arguments = bind(record, schedule.parameters, data_paths, datastores,
                         where="pipeline_parameters")
        return starter.start(record, schedule.experiment, arguments,
                             started_by=f"schedule:{schedule.id}",
                             properties={"schedule_id": schedule.id,
                                         "schedule_name": schedule.name}).id

    scheduler = Scheduler(ws.root, registry, schedule_run, tick=scheduler_tick)

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        dispatcher.start()
        if schedules:
            scheduler.start()
        try:
            yield
        finally:
            scheduler.stop()
            dispatcher.stop()

    app = FastAPI(title="kubeline serve", version="1", lifespan=lifespan,
                  description="AML-style REST endpoints of published pipelines "
                              "(docs/serve.md). Submissions need 'Authorization: Bearer "
                              "<token>' from 'kubeline token create'.")
    app.state.ctx = ctx
    app.state.dispatcher = dispatcher
    app.state.scheduler = scheduler
    if ctx.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=list(ctx.cors_origins),
                           allow_methods=["GET", "POST"],
                           allow_headers=["Authorization", "Content-Type"])

    @app.exception_handler(RequestError)
    async def request_error(_: Request, exc: RequestError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return JSONResponse(exc.to_json(), status_code=exc.status, headers=headers)

    @app.exception_handler(RegistryError)
    async def registry_error(_: Request, exc: RegistryError) -> JSONResponse:
        return JSONResponse(RequestError(404, "id", exc.message, exc.hint).to_json(),
                            status_code=404)

    async def read_body(request: Request) -> bytes:
        """The body, refused past the limit without reading it all (413 naming 'body')."""
        too_big = RequestError(413, "body", f"the request body is larger than "
                               f"{max_body_bytes} bytes", "send fewer or shorter values")
        length = request.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > max_body_bytes:
            raise too_big
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > max_body_bytes:
                raise too_big
            chunks.append(chunk)
        return b"".join(chunks)

    def caller(request: Request) -> str:
        who = authenticate(registry, request.headers.get("authorization"))
        if who is None:
            raise RequestError(401, "Authorization", "missing, wrong or revoked bearer token",
                               HINT)
        return who.token_name

    def start(record: PublishedRecord, raw: bytes, token: str, started_by: str,
              endpoint: bool, extra: dict[str, Any]) -> JSONResponse:
        body = parse_body(raw, endpoint=endpoint)
        datasets = dataset_assignments.resolve(
            body.datasets, {p.name: p.default for p in record.parameters}, record.name,
            registry_store, datastores) if body.datasets else None
        arguments = bind(record, body.parameters, body.data_paths, datastores,
                         datasets=datasets)
        run = starter.start(record, body.experiment, arguments, started_by=started_by,
                            properties={"token_name": token, **extra}, tags=body.tags)
        # a plain dict in a JSONResponse: SubmitResponse documents it without a second
        # validation pass on the hot path
        return JSONResponse({
            "Id": run.id, "ExperimentName": run.experiment, "Status": "Running",
            "PublishedPipelineId": record.id,
            "PipelineVersion": extra.get("pipeline_version") or record.version or None,
            "RunUrl": f"{ctx.base_url}/ui/#/runs/{run.id}"})

    @app.post("/pipelines/{published_id}", response_model=SubmitResponse, responses=_ERRORS,
              tags=["submit"], summary="Run a published pipeline",
              openapi_extra={"requestBody": _body_schema(False),
                             "security": [{"bearer": []}]})
    async def submit_published(published_id: str, request: Request) -> JSONResponse:
        token = caller(request)
        raw = await read_body(request)
        record = published(published_id)
        if record.status != ACTIVE:
            raise RequestError(409, "status", f"published pipeline '{record.name}' "
                               f"({record.id}) is disabled",
                               "enable it with PublishedPipeline.get(ws, id).enable()")
        return start(record, raw, token, f"rest:{record.id}", False, {})

    async def endpoint_run(request: Request, name: str | None, endpoint_id: str | None,
                           url_version: str | None) -> JSONResponse:
        """A run of an endpoint found by name or id; the version from the URL (AML's
        ``.../Id/<id>/<version>`` and ``?pipelineVersion=``), else the body, else its
        default."""
        token = caller(request)
        raw = await read_body(request)
        endpoint = registry.find_endpoint(name=name, endpoint_id=endpoint_id)
        if endpoint is None:
            field = "name" if name is not None else "id"
            raise RequestError(404, field, f"no pipeline endpoint '{name or endpoint_id}'",
                               "list them at GET /api/pipeline-endpoints")
        name = endpoint.name
        if endpoint.status != ACTIVE:
            raise RequestError(409, "status", f"pipeline endpoint '{name}' is disabled",
                               "enable it with PipelineEndpoint.get(ws, name=...).enable()")
        body = parse_body(raw, endpoint=True)
        version = url_version if url_version is not None else body.version
        version = version if version is not None else endpoint.default_version
        if version not in endpoint.versions:
            raise RequestError(400, "PipelineVersion", f"pipeline endpoint '{name}' has no "
                               f"version '{version}'",
                               f"its versions are {', '.join(sorted(endpoint.versions))}")
        record = published(endpoint.versions[version])
        if record.status != ACTIVE:
            raise RequestError(409, "PipelineVersion", f"version '{version}' of pipeline "
                               f"endpoint '{name}' is a disabled published pipeline",
                               "enable it or choose another PipelineVersion")
        return start(record, raw, token, f"rest:{record.id}", True,
                     {"pipeline_endpoint": name, "pipeline_version": version})

    endpoint_doc: dict[str, Any] = {
        "response_model": SubmitResponse, "responses": _ERRORS, "tags": ["submit"],
        "openapi_extra": {"requestBody": _body_schema(True), "security": [{"bearer": []}]}}

    @app.post("/pipelineEndpoints/Name", summary="Run a pipeline endpoint by name (AML's "
              "URL: ?name=...&pipelineVersion=...)", **endpoint_doc)
    async def submit_endpoint_by_name_query(request: Request, name: str,
                                            pipelineVersion: str | None = None
                                            ) -> JSONResponse:
        return await endpoint_run(request, name, None, pipelineVersion)

    @app.post("/pipelineEndpoints/Id/{endpoint_id}", summary="Run a pipeline endpoint by id "
              "(PipelineEndpoint.endpoint)", **endpoint_doc)
    async def submit_endpoint_by_id(endpoint_id: str, request: Request) -> JSONResponse:
        return await endpoint_run(request, None, endpoint_id, None)

    @app.post("/pipelineEndpoints/Id/{endpoint_id}/{version}", summary="Run one version of a "
              "pipeline endpoint by id", **endpoint_doc)
    async def submit_endpoint_version_by_id(endpoint_id: str, version: str, request: Request
                                            ) -> JSONResponse:
        return await endpoint_run(request, None, endpoint_id, version)

    @app.post("/pipelineEndpoints/{name}", summary="Run a version of a pipeline endpoint",
              **endpoint_doc)
    async def submit_endpoint(name: str, request: Request) -> JSONResponse:
        return await endpoint_run(request, name, None, None)

    # --- read-only JSON --------------------------------------------------------------------

    @app.get("/api/published-pipelines", tags=["read"])
    async def list_published(active_only: bool = False) -> list[dict[str, Any]]:
        return [ctx.published_json(r) for r in registry.list_published(active_only)]

    @app.get("/api/published-pipelines/{published_id}", tags=["read"],
             responses={404: _ERRORS[404]})
    async def get_published(published_id: str) -> dict[str, Any]:
        return ctx.published_json(registry.get_published(published_id))

    @app.get("/api/pipeline-endpoints", tags=["read"])
    async def list_endpoints() -> list[dict[str, Any]]:
        return ctx.pipeline_endpoints()

    @app.get("/api/pipeline-endpoints/{name}", tags=["read"], responses={404: _ERRORS[404]})
    async def get_endpoint(name: str) -> dict[str, Any]:
        return ctx.endpoint_json(name)

    @app.get("/api/schedules", tags=["read"])
    async def list_schedules() -> list[dict[str, Any]]:
        return ctx.schedules()

    @app.get("/api/schedules/{schedule_id}", tags=["read"], responses={404: _ERRORS[404]})
    async def get_schedule(schedule_id: str, triggers: int = 50) -> dict[str, Any]:
        return registry.schedule_json(registry.get_schedule(schedule_id),
                                      max(1, min(triggers, 500)))

    @app.get("/api/health", tags=["read"])
    async def health() -> dict[str, Any]:
        return {"status": "ok", "workspace": str(ctx.workspace_root),
                "queued_or_running": dispatcher.pending()}

    _bearer_scheme(app)
    _mount_web(app, ctx)
    return app


def _bearer_scheme(app: FastAPI) -> None:
    """Declare the bearer scheme the submit routes name in their ``security``."""
    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = original()
            schema.setdefault("components", {})["securitySchemes"] = {
                "bearer": {"type": "http", "scheme": "bearer",
                           "description": "a token from 'kubeline token create NAME'"}}
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _mount_web(app: FastAPI, ctx: ServerContext) -> None:
    try:
        from kubeline.server import web
    except ImportError:
        return
    web.mount(app, ctx)

    @app.get("/", include_in_schema=False)
    async def root() -> RedirectResponse:
        return RedirectResponse("/ui/")


__all__ = ["BODY_FIELDS", "create_app"]
