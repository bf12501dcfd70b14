"""The background runner of ``Experiment.submit``: a child process that runs one manifest.

The submitter writes a job file and starts ``python -m kubeline.local.background JOB FD`` in
its own session (so a Ctrl-C or crash of the submitter does not stop the run; if the runner
itself is killed, the executor's state lets ``kubeline run --resume`` finish it). The child
reports on the pipe FD one JSON line, ``{"run_id", "workflow"}`` once the run is in the
history or ``{"error"}`` when it could not start, so submit returns a run that exists or
raises the reason; everything else goes to ``<state>/submissions/<token>.log``.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from kubeline.exceptions import KubelineError

SUBMISSIONS_DIR = "submissions"
START_TIMEOUT = 300.0


class SubmitError(KubelineError):
    """The background runner could not start the run."""


def start(job: dict[str, Any], state_dir: Path, cwd: Path) -> tuple[subprocess.Popen[bytes],
                                                                    str, str]:
    """Start the runner; return it with the run id and workflow name once the run exists."""
    folder = Path(state_dir) / SUBMISSIONS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    token = f"{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:8]}"
    job_file = folder / f"{token}.json"
    log_file = folder / f"{token}.log"
    job_file.write_text(json.dumps(job), encoding="utf-8")
    read_fd, write_fd = os.pipe()
    try:
        with open(log_file, "wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "kubeline.local.background", str(job_file),
                 str(write_fd)],
                cwd=cwd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                pass_fds=(write_fd,), start_new_session=True, close_fds=True)
    finally:
        os.close(write_fd)
    try:
        line = _read_line(read_fd, process, START_TIMEOUT)
    finally:
        os.close(read_fd)
    if not line:
        detail = _last_line(log_file) or f"exit code {process.poll()}"
        raise SubmitError(f"the local runner stopped before the run started: {detail}",
                          f"see {log_file}")
    message = json.loads(line)
    if "error" in message:
        process.wait()
        raise SubmitError(str(message["error"]))
    return process, str(message["run_id"]), str(message["workflow"])


def _read_line(fd: int, process: subprocess.Popen[bytes], timeout: float) -> str:
    data = b""
    deadline = time.monotonic() + timeout
    while b"\n" not in data and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.5)
        if ready:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            data += chunk
        elif process.poll() is not None:
            break
    return data.decode("utf-8", errors="replace").split("\n", 1)[0].strip()


def _last_line(path: Path) -> str:
    try:
        lines = [ln for ln in path.read_text(errors="replace").splitlines() if ln.strip()]
    except OSError:
        return ""
    return lines[-1].strip() if lines else ""


def main(argv: list[str]) -> int:
    """The child: run the job, tell the submitter when the run exists."""
    job_file, fd_text = argv
    notify = os.fdopen(int(fd_text), "w", encoding="utf-8")

    def tell(message: dict[str, Any]) -> None:
        if not notify.closed:
            notify.write(json.dumps(message) + "\n")
            notify.close()

    from kubeline.local.procs import stop_on_sigterm

    stop_on_sigterm()  # cancel() sends SIGTERM
    try:
        from kubeline.history.manifest import RunInfo
        from kubeline.local.progress import PlainReporter
        from kubeline.local.recorder import run_with_history

        job = json.loads(Path(job_file).read_text(encoding="utf-8"))
        summary, _ = run_with_history(
            job["docs"], parameters=job["parameters"], state_dir=Path(job["state_dir"]),
            info=RunInfo(**job["info"]), parallelism=job.get("parallelism"),
            reporter=PlainReporter(sys.stdout),
            on_started=lambda run_id, workflow: tell({"run_id": run_id, "workflow": workflow}))
    except KubelineError as exc:
        print(f"kubeline: error: {exc}", flush=True)
        tell({"error": str(exc)})
        return 2
    except KeyboardInterrupt:
        print("kubeline: run canceled", flush=True)
        tell({"error": "the run was canceled before it started"})
        return 130
    except BaseException as exc:
        tell({"error": f"internal error in the local runner: {type(exc).__name__}: {exc}"})
        raise
    finally:
        if not notify.closed:
            notify.close()
    print(f"run {summary.id}: {summary.phase}", flush=True)
    return 0 if summary.phase == "Succeeded" else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
