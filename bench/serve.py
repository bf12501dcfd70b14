"""REST submit benchmark: 50 concurrent clients posting to ``kubeline serve`` on loopback.

A throwaway workspace gets a published pipeline of one trivial step and a token; a real
``kubeline serve --port 0`` is started; CLIENTS threads (one keep-alive HTTP connection
each) wait on a barrier, then each posts up to PER_CLIENT submissions, stopping early when
the time budget is spent. The clock covers one POST until its response is read: the
server answers once the run is recorded (the runs execute later, in a bounded runner pool).
Afterwards every accepted request is checked to be exactly one run in the history.

    python bench/serve.py                          # 50 clients x 10 requests, 60 s budget
    python bench/serve.py --clients 50 --per-client 20 --seconds 120
    python bench/serve.py --rate 4                 # paced: 4 requests/s per client (200/s)
    python bench/serve.py --wait                   # also wait for every run to finish
    python bench/serve.py --check                  # exit 1 if p99 >= 50 ms or a check fails
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

P99_TARGET_MS = 50.0
STEP = "print('trivial step')\n"


@dataclass
class ClientResult:
    latencies: list[float] = field(default_factory=list)
    accepted: list[str] = field(default_factory=list)
    rejected: list[tuple[int, str]] = field(default_factory=list)


def _setup(root: Path) -> tuple[str, str]:
    """A workspace with one published trivial pipeline; returns (published id, token)."""
    from kubeline import Pipeline, PipelineParameter, PythonScriptStep, Workspace
    from kubeline.server.registry import Registry
    from kubeline.server.tokens import create_token

    (root / "kubeline.yaml").write_text("name: bench\n", encoding="utf-8")
    (root / "src").mkdir()
    (root / "src" / "step.py").write_text(STEP, encoding="utf-8")
    ws = Workspace(_root=root)
    n = PipelineParameter("n", default_value=0)
    step = PythonScriptStep("step.py", name="trivial", source_directory="src",
                            arguments=["--n", n], allow_reuse=False)
    pipeline = Pipeline(ws, steps=[step])
    pipeline.name = "bench"
    pipeline._base_dir = root
    published = pipeline.publish(name="bench", version="1")
    return published.id, create_token(Registry(ws.state_dir), "bench")


def _start(root: Path, runners: int) -> tuple[subprocess.Popen[bytes], str, Path]:
    log = root / "serve.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "kubeline.cli", "serve", "--port", "0", "-w", str(root),
             "--runners", str(runners), "--no-schedules"],
            cwd=root, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        match = re.search(r"listening on http://([\d.]+):(\d+)", log.read_text(errors="replace"))
        if match and "Application startup complete" in log.read_text(errors="replace"):
            return process, f"{match.group(1)}:{match.group(2)}", log
        if process.poll() is not None:
            break
        time.sleep(0.05)
    process.kill()
    raise SystemExit(f"kubeline serve did not start:\n{log.read_text(errors='replace')}")


def _client(address: str, path: str, token: str, count: int, deadline: float,
            barrier: threading.Barrier, index: int, out: ClientResult,
            interval: float) -> None:
    host, port = address.split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    conn.connect()  # connection set-up is not part of a submission
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    barrier.wait()
    begin = time.monotonic() + (index * interval / 50 if interval else 0.0)  # staggered
    for i in range(count):
        if interval:  # paced: request i leaves at its slot, whatever the previous took
            time.sleep(max(0.0, begin + i * interval - time.monotonic()))
        if time.monotonic() > deadline:
            break
        body = json.dumps({"ExperimentName": "bench",
                           "ParameterAssignments": {"n": index * 100000 + i}})
        start = time.perf_counter()
        conn.request("POST", path, body=body, headers=headers)
        response = conn.getresponse()
        data = response.read()
        out.latencies.append(time.perf_counter() - start)
        if response.status == 200:
            out.accepted.append(json.loads(data)["Id"])
        else:
            out.rejected.append((response.status, data.decode(errors="replace")[:200]))
    conn.close()


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def _verify(root: Path, published_id: str, accepted: list[str]) -> list[str]:
    """Every accepted Id is one run in the history, started by this endpoint; no extras."""
    from kubeline.history.db import History

    problems = []
    with History(root / ".kubeline") as db:
        runs = [r for r in db.list_runs() if r.started_by == f"rest:{published_id}"]
    ids = [r.id for r in runs]
    if len(set(accepted)) != len(accepted):
        problems.append("two accepted requests returned the same Id")
    if sorted(ids) != sorted(accepted):
        missing = set(accepted) - set(ids)
        extra = set(ids) - set(accepted)
        problems.append(f"runs != accepted requests: {len(missing)} missing, "
                        f"{len(extra)} extra")
    return problems


def _wait_finished(root: Path, accepted: list[str], timeout: float) -> dict[str, int]:
    from kubeline.history.db import TERMINAL, History

    deadline = time.monotonic() + timeout
    while True:
        with History(root / ".kubeline") as db:
            statuses = [db.get_run(i).status for i in accepted]
        if all(s in TERMINAL for s in statuses) or time.monotonic() > deadline:
            return {s: statuses.count(s) for s in sorted(set(statuses))}
        time.sleep(1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--per-client", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=60.0, help="time budget for posting")
    parser.add_argument("--rate", type=float, default=0.0,
                        help="requests/s per client (paced); 0 = each client posts as fast "
                             "as its previous answer comes back")
    parser.add_argument("--runners", type=int, default=1,
                        help="runs executing at once while the clients post")
    parser.add_argument("--wait", action="store_true", help="wait for every run to finish")
    parser.add_argument("--wait-seconds", type=float, default=1800.0)
    parser.add_argument("--check", action="store_true",
                        help=f"exit 1 when p99 >= {P99_TARGET_MS:.0f} ms or a check fails")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="kubeline-bench-serve-",
                                     ignore_cleanup_errors=True) as tmp:
        root = Path(tmp)
        published_id, token = _setup(root)
        process, address, log = _start(root, args.runners)
        results = [ClientResult() for _ in range(args.clients)]
        barrier = threading.Barrier(args.clients + 1)
        deadline = time.monotonic() + args.seconds
        threads = [threading.Thread(target=_client, args=(
            address, f"/pipelines/{published_id}", token, args.per_client, deadline, barrier,
            i, results[i], 1.0 / args.rate if args.rate else 0.0))
            for i in range(args.clients)]
        try:
            for t in threads:
                t.start()
            barrier.wait()
            started = time.perf_counter()
            for t in threads:
                t.join()
            elapsed = time.perf_counter() - started
            latencies = [x for r in results for x in r.latencies]
            accepted = [x for r in results for x in r.accepted]
            rejected = [x for r in results for x in r.rejected]
            problems = _verify(root, published_id, accepted)
            if rejected:
                problems.append(f"{len(rejected)} requests rejected, e.g. {rejected[0]}")
            if token.split("_", 2)[2] in log.read_text(errors="replace"):
                problems.append("the token appears in the server log")
            p50 = _percentile(latencies, 0.50) * 1000
            p99 = _percentile(latencies, 0.99) * 1000
            mode = f"paced at {args.rate:g}/s per client" if args.rate else "closed loop"
            print(f"clients: {args.clients} ({mode}), requests: {len(latencies)} "
                  f"({len(accepted)} accepted, {len(rejected)} rejected) in {elapsed:.2f} s")
            print(f"throughput: {len(latencies) / elapsed:.0f} requests/s")
            print(f"submit latency: p50 {p50:.1f} ms, p99 {p99:.1f} ms, "
                  f"max {max(latencies) * 1000:.1f} ms (target p99 < {P99_TARGET_MS:.0f} ms)")
            print(f"runs recorded: {len(accepted)}; every accepted request is exactly one run: "
                  f"{'yes' if not problems else 'NO'}")
            if args.wait:
                counts = _wait_finished(root, accepted, args.wait_seconds)
                print(f"runs after waiting: {counts}")
                if set(counts) != {"Finished"}:
                    problems.append(f"not every run finished: {counts}")
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
                process.wait(timeout=30)
            _reap_runners(root)
        for problem in problems:
            print(f"problem: {problem}")
        if args.check and (problems or p99 >= P99_TARGET_MS):
            return 1
    return 0


def _reap_runners(root: Path) -> None:
    """Stop the runners this benchmark's server started (their workspace is about to go)."""
    from kubeline.history.db import History

    with History(root / ".kubeline") as db:
        pids = {r.runner_pid for r in db.list_runs() if r.runner_pid and not r.terminal}
    for pid in pids:
        if pid == os.getpid():
            continue
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGTERM)  # runners lead their own session


if __name__ == "__main__":
    sys.exit(main())
