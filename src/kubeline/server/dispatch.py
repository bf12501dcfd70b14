"""The server's runner pool: start recorded runs, a bounded number at a time.

A burst of submissions must not start a burst of Python processes on a small machine (they
would starve the server that answers the requests), so runs wait in a queue and at most
``limit`` runners work at once, at a lower CPU priority than the server. Runs a stopped
server left waiting (recorded, never adopted) are queued again at start.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from collections import deque
from pathlib import Path

from kubeline.server.runs import runner_command, waiting_runs

NICE = 5


class Dispatcher:
    """Starts runner processes for queued runs; ``submit`` never blocks."""

    def __init__(self, state_dir: Path, workspace_root: Path, limit: int | None = None
                 ) -> None:
        self.state_dir = Path(state_dir)
        self.workspace_root = Path(workspace_root)
        # 0 pauses execution: runs are recorded and wait for a server with runners
        self.limit = (os.cpu_count() or 1) if limit is None else max(0, limit)
        self._queue: deque[str] = deque()
        self._queued: set[str] = set()
        self._running: dict[str, subprocess.Popen[bytes]] = {}
        self._wake = threading.Condition()
        self._stop = False
        self._thread: threading.Thread | None = None
        self.logs = self.state_dir / "serve" / "logs"

    def start(self) -> None:
        self.logs.mkdir(parents=True, exist_ok=True)
        for run_id in waiting_runs(self.state_dir):
            self.submit(run_id)
        self._thread = threading.Thread(target=self._loop, name="kubeline-dispatch",
                                        daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop starting runners; runners already started go on (they are detached)."""
        with self._wake:
            self._stop = True
            self._wake.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def submit(self, run_id: str) -> None:
        with self._wake:
            if run_id not in self._queued:
                self._queued.add(run_id)
                self._queue.append(run_id)
                self._wake.notify()

    def pending(self) -> int:
        with self._wake:
            return len(self._queue) + len(self._running)

    def _loop(self) -> None:
        while True:
            with self._wake:
                self._reap()
                while not self._stop and (not self._queue or len(self._running) >= self.limit):
                    self._wake.wait(timeout=0.2)
                    self._reap()
                if self._stop:
                    return
                job = self._queue.popleft()
                self._queued.discard(job)
            self._launch(job)

    def _reap(self) -> None:
        for job, process in list(self._running.items()):
            if process.poll() is not None:
                del self._running[job]

    def _launch(self, run_id: str) -> None:
        log = self.logs / f"{run_id}.log"
        nice = shutil.which("nice")
        command = runner_command(self.state_dir, run_id)
        if nice:
            command = [nice, "-n", str(NICE), *command]
        with open(log, "ab") as out:
            process = subprocess.Popen(
                command, cwd=self.workspace_root, stdin=subprocess.DEVNULL, stdout=out,
                stderr=subprocess.STDOUT, start_new_session=True, close_fds=True)
        with self._wake:
            self._running[run_id] = process
