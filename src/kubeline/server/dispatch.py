"""The server's runner pool: start recorded runs, a bounded number at a time.

A burst of submissions must not start a burst of Python processes on a small machine (they
would starve the server that answers the requests), so jobs wait in a queue and at most
``limit`` runners work at once, at a lower CPU priority than the server. The queue is the
jobs folder itself: a job file exists until its runner adopts the run, so jobs left by a
stopped server are started by the next one.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
from collections import deque
from pathlib import Path

from kubeline.server.runs import jobs_dir, runner_command

NICE = 5


class Dispatcher:
    """Starts runner processes for queued job files; ``submit`` never blocks."""

    def __init__(self, state_dir: Path, limit: int | None = None) -> None:
        self.state_dir = Path(state_dir)
        self.limit = max(1, limit or os.cpu_count() or 1)
        self._queue: deque[Path] = deque()
        self._queued: set[Path] = set()
        self._running: dict[Path, subprocess.Popen[bytes]] = {}
        self._wake = threading.Condition()
        self._stop = False
        self._thread: threading.Thread | None = None
        self.logs = self.state_dir / "serve" / "logs"

    def start(self) -> None:
        self.logs.mkdir(parents=True, exist_ok=True)
        for leftover in sorted(jobs_dir(self.state_dir).glob("*.json")):
            self.submit(leftover)
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

    def submit(self, job_file: Path) -> None:
        with self._wake:
            if job_file not in self._queued:
                self._queued.add(job_file)
                self._queue.append(job_file)
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

    def _launch(self, job: Path) -> None:
        try:
            cwd = json.loads(job.read_text(encoding="utf-8"))["info"]["workspace"]
        except (OSError, ValueError, KeyError):
            return  # adopted (and removed) already, or unreadable: nothing to start
        log = self.logs / f"{job.stem}.log"
        nice = shutil.which("nice")
        command = [nice, "-n", str(NICE), *runner_command(job)] if nice else runner_command(job)
        with open(log, "ab") as out:
            process = subprocess.Popen(
                command, cwd=cwd, stdin=subprocess.DEVNULL, stdout=out,
                stderr=subprocess.STDOUT, start_new_session=True, close_fds=True)
        with self._wake:
            self._running[job] = process
