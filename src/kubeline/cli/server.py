"""``kubeline serve``, ``kubeline token ...``, ``kubeline schedule ...`` and
``kubeline published ...``: the command-line side of publishing."""

from __future__ import annotations

import json
from pathlib import Path

import click

from kubeline.cli.support import user_errors
from kubeline.exceptions import KubelineError


def _workspace(path: Path | None) -> tuple[Path, Path]:
    from kubeline.dsl.workspace import Workspace

    ws = Workspace(_root=(path or Path.cwd()))
    return ws.root, ws.state_dir


_WS = click.option("-w", "--workspace", "workspace", type=click.Path(path_type=Path,
                   file_okay=False), default=None,
                   help="Workspace folder (default: the nearest kubeline.yaml).")


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to bind; keep loopback unless a proxy with TLS fronts it.")
@click.option("--port", default=8765, show_default=True, type=int)
@click.option("--cors-origin", "cors", multiple=True,
              help="An origin allowed to call the API from a browser (repeatable).")
@click.option("--runners", type=int, default=None,
              help="Runs executing at once (default: the number of CPUs).")
@click.option("--max-body-bytes", type=int, default=1024 * 1024, show_default=True)
@click.option("--no-schedules", is_flag=True, help="Do not fire schedules.")
@_WS
@user_errors
def serve_command(host: str, port: int, cors: tuple[str, ...], runners: int | None,
                  max_body_bytes: int, no_schedules: bool, workspace: Path | None) -> None:
    """Serve the REST endpoints of published pipelines, fire schedules, show the web page."""
    try:
        import uvicorn
    except ImportError as exc:
        raise KubelineError("kubeline serve needs FastAPI and uvicorn",
                            "pip install 'kubeline[serve]'") from exc
    import socket

    from kubeline.server.app import create_app

    root, _ = _workspace(workspace)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))  # bound here so --port 0 reports the port it got
    except OSError as exc:
        raise KubelineError(f"kubeline serve: cannot listen on {host}:{port} ({exc.strerror})",
                            "choose another --port") from None
    port = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    app = create_app(root, base_url=f"http://{shown}:{port}", cors_origins=cors or None,
                     max_body_bytes=max_body_bytes, runners=runners,
                     schedules=not no_schedules)
    click.echo(f"kubeline serve: workspace {root}", err=True)
    click.echo(f"kubeline serve: listening on http://{shown}:{port} (API docs /docs, "
               "page /ui/)", err=True)
    config = uvicorn.Config(app, fd=sock.fileno(), log_level="info", access_log=True)
    uvicorn.Server(config).run()


@click.group("token")
def token_group() -> None:
    """Bearer tokens for the REST endpoints (stored hashed; shown once)."""


@token_group.command("create")
@click.argument("name")
@_WS
@user_errors
def token_create(name: str, workspace: Path | None) -> None:
    """Make a token called NAME and print it once."""
    from kubeline.server.registry import Registry
    from kubeline.server.tokens import create_token

    _, state = _workspace(workspace)
    token = create_token(Registry(state), name)
    click.echo(token)
    click.echo(f"token '{name}' created: copy it now, it is not stored and cannot be shown "
               "again. Send it as 'Authorization: Bearer <token>'.", err=True)


@token_group.command("list")
@click.option("--json", "as_json", is_flag=True)
@_WS
@user_errors
def token_list(as_json: bool, workspace: Path | None) -> None:
    """Token names, when they were made, whether they are revoked (never the tokens)."""
    from kubeline.server.registry import Registry

    _, state = _workspace(workspace)
    tokens = [t.to_json() for t in Registry(state).list_tokens()]
    if as_json:
        click.echo(json.dumps(tokens, indent=2))
        return
    for t in tokens:
        click.echo(f"{t['name']}\t{t['created_at']}\t{'revoked' if t['revoked'] else 'active'}")


@token_group.command("revoke")
@click.argument("name")
@_WS
@user_errors
def token_revoke(name: str, workspace: Path | None) -> None:
    """Revoke the token called NAME; requests with it get 401 from now on."""
    from kubeline.server.registry import Registry

    _, state = _workspace(workspace)
    Registry(state).revoke_token(name)
    click.echo(f"token '{name}' revoked")


@click.group("schedule")
def schedule_group() -> None:
    """Schedules of published pipelines (fired by kubeline serve)."""


@schedule_group.command("list")
@click.option("--json", "as_json", is_flag=True)
@_WS
@user_errors
def schedule_list(as_json: bool, workspace: Path | None) -> None:
    """Every schedule with its last look and last trigger."""
    from kubeline.server.registry import Registry

    _, state = _workspace(workspace)
    registry = Registry(state)
    items = [registry.schedule_json(s) for s in registry.list_schedules()]
    if as_json:
        click.echo(json.dumps(items, indent=2))
        return
    for s in items:
        last = s["last_trigger"] or {}
        click.echo(f"{s['id']}\t{s['name']}\t{s['kind']}\t{s['status']}\t"
                   f"last look {s['last_look'] or '-'}\tlast trigger {last.get('at', '-')} "
                   f"{last.get('message', '')}".rstrip())


@schedule_group.command("show")
@click.argument("schedule_id")
@_WS
@user_errors
def schedule_show(schedule_id: str, workspace: Path | None) -> None:
    """One schedule as JSON, with its recent triggers."""
    from kubeline.server.registry import Registry

    _, state = _workspace(workspace)
    registry = Registry(state)
    click.echo(json.dumps(registry.schedule_json(registry.get_schedule(schedule_id), 50),
                          indent=2))


@schedule_group.command("disable")
@click.argument("schedule_id")
@_WS
@user_errors
def schedule_disable(schedule_id: str, workspace: Path | None) -> None:
    from kubeline.server.registry import DISABLED, Registry

    _, state = _workspace(workspace)
    Registry(state).set_schedule_status(schedule_id, DISABLED)
    click.echo(f"schedule {schedule_id} disabled")


@schedule_group.command("enable")
@click.argument("schedule_id")
@_WS
@user_errors
def schedule_enable(schedule_id: str, workspace: Path | None) -> None:
    from kubeline.server.registry import ACTIVE, Registry

    _, state = _workspace(workspace)
    Registry(state).set_schedule_status(schedule_id, ACTIVE)
    click.echo(f"schedule {schedule_id} enabled")


@click.group("published")
def published_group() -> None:
    """Published pipelines and pipeline endpoints."""


@published_group.command("list")
@click.option("--json", "as_json", is_flag=True)
@_WS
@user_errors
def published_list(as_json: bool, workspace: Path | None) -> None:
    """Every published pipeline version and its endpoint URL."""
    from kubeline.dsl.publish import serve_url
    from kubeline.server.registry import Registry

    _, state = _workspace(workspace)
    items = [p.to_json(serve_url()) for p in Registry(state).list_published()]
    if as_json:
        click.echo(json.dumps(items, indent=2))
        return
    for p in items:
        click.echo(f"{p['id']}\t{p['name']}\t{p['version'] or '-'}\t{p['status']}\t"
                   f"{p['endpoint']}")


@published_group.command("compile")
@click.option("-o", "--output", "outdir", type=click.Path(path_type=Path, file_okay=False),
              required=True, help="The compile output folder (its kustomization.yaml grows).")
@_WS
@user_errors
def published_compile(outdir: Path, workspace: Path | None) -> None:
    """Write the cluster objects of published pipelines, endpoints and schedules:
    WorkflowTemplates, the webhook EventSource and Sensors, CronWorkflows."""
    from kubeline.compiler.argo.events import render_files, write_into
    from kubeline.dsl.workspace import Workspace
    from kubeline.server.registry import Registry

    ws = Workspace(_root=(workspace or Path.cwd()))
    files = render_files(Registry(ws.state_dir), ws.config)
    if not files:
        click.echo("nothing published")
        return
    for name in write_into(outdir, files, ws.config.cluster.namespace):
        click.echo(f"wrote {outdir / name}")
