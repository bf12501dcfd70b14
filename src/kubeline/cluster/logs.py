"""Live step logs of a cluster run (``wait_for_completion(show_output=True)``): the main
container's log of each step's pod, followed through the API as it is written, one
thread per pod, each line prefixed with the step's name. When the pod is already gone
the step's logs are in the history (fetched from the datastore the shim uploaded them to)."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Mapping
from typing import IO, Any

from kubeline.cluster.connect import Cluster

NODE_ANNOTATION = "workflows.argoproj.io/node-name"
WORKFLOW_LABEL = "workflows.argoproj.io/workflow"


class LogStreamer:
    """Streams the logs of a run's steps as they start; ``close`` waits briefly for the
    streams to drain."""

    def __init__(self, cluster: Cluster, workflow: str, out: IO[str]) -> None:
        self.cluster = cluster
        self.workflow = workflow
        self.out = out
        self._lock = threading.Lock()
        self._threads: dict[str, threading.Thread] = {}

    def step_running(self, step_id: str, name: str) -> None:
        """Start following the step's pod (once per step)."""
        if step_id in self._threads:
            return
        thread = threading.Thread(target=self._follow, args=(step_id, name), daemon=True,
                                  name=f"kubeline-logs-{step_id}")
        self._threads[step_id] = thread
        thread.start()

    def close(self, seconds: float = 5.0) -> None:
        for thread in self._threads.values():
            thread.join(timeout=seconds / max(1, len(self._threads)))

    def _pods(self, step_id: str) -> list[Any]:
        pods = self.cluster.core.list_namespaced_pod(
            self.cluster.namespace, label_selector=f"{WORKFLOW_LABEL}={self.workflow}").items
        suffix = f".{step_id}"
        found = [p for p in pods if str((p.metadata.annotations or {}).get(NODE_ANNOTATION, ""))
                 .split("(")[0].endswith(suffix)]
        return sorted(found, key=lambda p: p.metadata.creation_timestamp)

    def _follow(self, step_id: str, name: str) -> None:
        with contextlib.suppress(Exception):  # logs are a courtesy: never fail the wait
            pods = self._pods(step_id)
            if not pods:
                return
            response = self.cluster.core.read_namespaced_pod_log(
                pods[-1].metadata.name, self.cluster.namespace, container="main", follow=True,
                _preload_content=False)
            pending = b""
            for chunk in response.stream(4096):
                pending += chunk
                *lines, pending = pending.split(b"\n")
                self._write(name, lines)
            if pending:
                self._write(name, [pending])

    def _write(self, name: str, lines: list[bytes]) -> None:
        if not lines:
            return
        with self._lock:
            for line in lines:
                self.out.write(f"[{name}] {line.decode('utf-8', errors='replace')}\n")
            self.out.flush()


def streamer_for(properties: Mapping[str, Any], workflow: str, out: IO[str]
                 ) -> LogStreamer | None:
    """A streamer for a recorded cluster run, or None when its cluster cannot be reached."""
    from kubeline.cluster.jobs import reconnect
    from kubeline.exceptions import KubelineError

    try:
        cluster = reconnect(properties.get("cluster") or {})
    except KubelineError:
        return None
    return LogStreamer(cluster, workflow, out)
