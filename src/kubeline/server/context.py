"""What the ``kubeline serve`` app shares with its parts (the REST routes, the scheduler and
the web page mounted by ``kubeline.server.web.mount(app, ctx)``).

One small frozen object instead of module globals, so several apps (tests start one per
workspace) never see each other's state. SQLite connections are not shared between
threads: ``history()`` opens a fresh History each call (close it, or use ``with``), and the
registry keeps one connection per thread itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kubeline.history.db import History
    from kubeline.server.registry import PublishedRecord, Registry


@dataclass(frozen=True)
class ServerContext:
    """The workspace a server serves, its run history and its publishing registry.

    ``registry`` holds published pipelines, pipeline endpoints, schedules (with their
    trigger log) and token hashes; the JSON helpers below return exactly what the
    ``/api/...`` routes return, so the page and the API agree.
    """

    workspace_root: Path
    state_dir: Path
    registry: Registry
    base_url: str = "http://127.0.0.1:8765"
    cors_origins: tuple[str, ...] = field(default_factory=tuple)

    def history(self) -> History:
        """A new History on the workspace's history.db (one per thread; close it)."""
        from kubeline.history.db import History

        return History(self.state_dir)

    def endpoint_url(self, published_id: str) -> str:
        """The REST endpoint of a published pipeline on this server."""
        return f"{self.base_url}/pipelines/{published_id}"

    def published_json(self, record: PublishedRecord) -> dict[str, Any]:
        """One published pipeline with its endpoint URL and a working curl command."""
        from kubeline.server.curl import curl_command, example_body

        url = self.endpoint_url(record.id)
        return {**record.to_json(self.base_url), "curl": curl_command(url, example_body(record))}

    def endpoint_json(self, name: str) -> dict[str, Any]:
        """One pipeline endpoint with its versions and a curl command for the default."""
        from kubeline.server.curl import curl_command, example_body

        endpoint = self.registry.get_endpoint(name)
        out = endpoint.to_json(self.base_url)
        default = self.registry.get_published(endpoint.versions[endpoint.default_version])
        out["curl"] = curl_command(out["endpoint"], example_body(default))
        return out

    def published_pipelines(self) -> list[dict[str, Any]]:
        """Like ``GET /api/published-pipelines``: every version, newest first, with curl."""
        return [self.published_json(p) for p in self.registry.list_published()]

    def pipeline_endpoints(self) -> list[dict[str, Any]]:
        """Like ``GET /api/pipeline-endpoints``, with curl."""
        return [self.endpoint_json(e.name) for e in self.registry.list_endpoints()]

    def schedules(self) -> list[dict[str, Any]]:
        """Like ``GET /api/schedules``: each with its last look (when, what it saw) and its
        last trigger (when, what it saw, the run it started)."""
        return [self.registry.schedule_json(s) for s in self.registry.list_schedules()]
