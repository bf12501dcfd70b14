"""``python -m kubeline.server.watch``: one look of a data-change schedule, in a cluster pod.

The CronWorkflow of a data-change schedule runs this every polling interval
(concurrencyPolicy Forbid, so looks never overlap). It lists the watched path, applies the
same debounce as ``kubeline serve`` (kubeline.server.scheduler.debounce) with its memory
kept in the datastore itself (``kubeline/watch/<schedule>.json``, outside any watched
path), and writes ``true`` to the output file when the workflow should submit one run.
Credentials come from the pod's environment (Secret references), never from arguments.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from kubeline.exceptions import KubelineError


def look(store: Any, path: str, state_key: str, interval: float, now: float
         ) -> tuple[bool, dict[str, Any]]:
    """One debounced look; returns whether to fire and what it saw (state saved)."""
    from kubeline.server.scheduler import debounce

    prefix = f"{path.strip('/')}/" if path.strip("/") else ""
    current = {info.key: info.etag for info in store.list(prefix)}
    state: dict[str, Any] = {}
    if store.exists(state_key):
        state = json.loads(store.get_bytes(state_key))
    result = debounce(state.get("baseline"), state.get("listing"), state.get("pending_since"),
                      current, now, interval)
    saved = {"baseline": result.baseline, "listing": current,
             "pending_since": result.pending_since, "last_look": now, "last_saw": result.saw,
             "last_fire": now if result.fire else state.get("last_fire")}
    store.put_bytes(state_key, json.dumps(saved, sort_keys=True).encode())
    return result.fire, result.saw


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m kubeline.server.watch")
    parser.add_argument("--datastore", required=True)
    parser.add_argument("--config", required=True, help="the datastore's kubeline.yaml entry")
    parser.add_argument("--path", default="")
    parser.add_argument("--state-key", required=True)
    parser.add_argument("--interval", type=float, required=True, help="seconds between looks")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    from kubeline.stores import open_store
    from kubeline.stores.config import datastore_from_dict

    try:
        config = datastore_from_dict(args.datastore, json.loads(args.config))
        store = open_store(args.datastore, config, Path.cwd())
        fire, saw = look(store, args.path, args.state_key, args.interval, time.time())
    except KubelineError as exc:
        print(f"kubeline: error: {exc}", file=sys.stderr)
        return 2
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("true" if fire else "false", encoding="utf-8")
    print(json.dumps({"fire": fire, "saw": saw}, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
