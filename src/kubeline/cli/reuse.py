"""``kubeline explain-reuse`` and ``kubeline cache ls / rm``: reuse made visible.

The cache index lives in the workspace's default datastore (``kubeline/cache/<key>.json``,
docs/reuse.md); the local memoize store (Argo's memoize fast path, as the local executor
keeps it) lives in ``<state dir>/cache/<configmap>/<key>.json``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from kubeline.cli.support import STATE_OPTION as _STATE_OPTION
from kubeline.cli.support import state_dir as _state_dir
from kubeline.cli.support import user_errors
from kubeline.cli.support import workspace_root as _workspace_root
from kubeline.exceptions import KubelineError
from kubeline.history.results import read_record, result_key

INDEX_PREFIX = "kubeline/cache/"


def _workspace_store() -> Any:
    """The default datastore of the workspace around the current folder."""
    from kubeline.stores import open_store
    from kubeline.workspace import find_config, load_config
    from kubeline.workspace.config import WorkspaceConfig

    path = find_config(Path.cwd())
    config = (load_config(path) if path is not None else WorkspaceConfig()).with_defaults()
    root = path.parent if path is not None else Path.cwd()
    name = config.default_datastore
    return open_store(name, config.datastores[name], root)


def _run_store(run: Any) -> Any:
    """The default datastore a recorded run used."""
    from kubeline.runtime.datastores import Datastores

    props = run.properties
    if not props.get("default_datastore"):
        raise KubelineError(f"run {run.id} is not a kubeline pipeline run",
                            "explain-reuse needs a run of a compiled kubeline pipeline")
    workspace = Path(str(props.get("workspace") or _workspace_root()))
    return Datastores(dict(props.get("datastores") or {}), str(props["default_datastore"]),
                      workspace).default


def _ingredients(store: Any, run_id: str, step_id: str, key: str | None) -> dict[str, Any] | None:
    """A step run's key ingredients: its result record, else (a memoize hit, which ran no
    pod) the index record of its key."""
    from kubeline.runtime.layout import cache_index

    result = read_record(store, result_key(run_id, step_id))
    if result is not None and result.get("ingredients"):
        return dict(result["ingredients"])
    index = read_record(store, cache_index(key)) if key else None
    if index is not None and index.get("ingredients"):
        return dict(index["ingredients"])
    return None


@click.command("explain-reuse")
@click.argument("run_id")
@click.argument("step")
@_STATE_OPTION
@user_errors
def explain_command(run_id: str, step: str, state_dir: Path | None) -> None:
    """Name what differs between STEP's cache key in RUN_ID and in the nearest earlier run
    of it (files, parameters, upstream steps, inputs, image)."""
    from kubeline.history.db import HISTORY_FILE, History
    from kubeline.reuse.explain import explain
    from kubeline.runtime.layout import snapshot_manifest_key

    folder = _state_dir(state_dir)
    if not (folder / HISTORY_FILE).exists():
        raise KubelineError(f"no run history in {folder}", "run a pipeline first, or pass "
                                                           "--state-dir")
    with History(folder) as db:
        run = db.get_run(run_id)
        steps = db.steps(run.id)
        chosen = [s for s in steps if step in (s.step_id, s.name)]
        if not chosen:
            raise KubelineError(f"run {run.id} has no step '{step}'",
                                "steps: " + ", ".join(s.name for s in steps))
        this = chosen[0]
        earlier = []
        for other in db.list_runs():
            if other.pipeline != run.pipeline or other.created_at >= run.created_at \
                    or other.id == run.id:
                continue
            match = [s for s in db.steps(other.id) if s.step_id == this.step_id and s.key]
            if match:
                earlier.append((other, match[0]))
    store = _run_store(run)
    click.echo(f"step '{this.name}' in run {run.id}: key {(this.key or '-')[:12]}"
               + (f", reused from run {this.reused_from_run}" if this.reused else ""))
    if not this.key:
        click.echo(f"  the step has no key ({this.status}): it did not get to start")
        return
    if not earlier:
        click.echo(f"  no earlier run of pipeline '{run.pipeline}' has step '{this.name}'")
        return
    # the nearest run whose step finished: a key it could have been reused from (a failed
    # step's key never entered the cache), else the nearest that got a key at all
    finished = [pair for pair in earlier if pair[1].status == "Finished"]
    before, old = (finished or earlier)[0]
    click.echo(f"nearest earlier run: {before.id}: key {(old.key or '-')[:12]}"
               + ("" if finished else f" (that step {old.status.lower()})"))
    if old.key == this.key:
        click.echo("  same key: nothing that enters the key changed")
        return
    new_ing = _ingredients(store, run.id, this.step_id, this.key)
    old_ing = _ingredients(_run_store(before), before.id, old.step_id, old.key)
    if new_ing is None or old_ing is None:
        which = run.id if new_ing is None else before.id
        click.echo(f"  the key ingredients of run {which} are not recorded (run by an older "
                   "kubeline); keys differ")
        return

    def snapshot_files(digest: str) -> dict[str, Any] | None:
        return read_record(store, snapshot_manifest_key(digest)) if digest else None

    for line in explain(old_ing, new_ing, snapshot_files) or ["keys differ, but every "
                                                              "recorded ingredient is equal"]:
        click.echo(f"  {line}")


@click.group("cache")
def cache_group() -> None:
    """The reuse cache: index records in the default datastore (kubeline/cache/)."""


@cache_group.command("ls")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per entry, as a list.")
@user_errors
def ls_command(as_json: bool) -> None:
    """Cache entries: key, step, the run that computed it, outputs, and keys being computed."""
    store = _workspace_store()
    entries: list[dict[str, Any]] = []
    for obj in store.list(INDEX_PREFIX):
        name = obj.key[len(INDEX_PREFIX):]
        if name.endswith(".json"):
            record = read_record(store, obj.key) or {}
            outputs = record.get("outputs") or {}
            entries.append({
                "key": name[: -len(".json")], "state": "ready",
                "step": record.get("step_name"), "run_id": record.get("run_id"),
                "outputs_key": record.get("outputs_key"), "outputs": len(outputs),
                "size": sum(int(o.get("size") or 0) for o in outputs.values())})
        elif name.endswith(".lock"):
            owner = read_record(store, obj.key) or {}
            entries.append({"key": name[: -len(".lock")], "state": "computing",
                            "step": owner.get("step_id"), "run_id": owner.get("run_id"),
                            "outputs_key": None, "outputs": 0, "size": 0})
    if as_json:
        click.echo(json.dumps(entries, indent=2, sort_keys=True))
        return
    if not entries:
        click.echo(f"no cache entries in datastore '{store.name}'")
        return
    rows = [("KEY", "STATE", "STEP", "RUN", "OUTPUTS", "BYTES")]
    for e in entries:
        alias = f" (-> {e['outputs_key'][:12]})" if e["outputs_key"] else ""
        rows.append((e["key"][:12] + alias, e["state"], str(e["step"] or "-"),
                     str(e["run_id"] or "-"), str(e["outputs"]), str(e["size"])))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        click.echo("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


def _memo_entries(state_dir: Path) -> list[tuple[Path, str]]:
    """(file, key output) of every local memoize entry."""
    found: list[tuple[Path, str]] = []
    root = state_dir / "cache"
    if not root.is_dir():
        return found
    for path in sorted(root.glob("*/*.json")):
        try:
            entry = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if not isinstance(entry, dict) or "nodeID" not in entry:
            continue  # not a memoize entry (e.g. the fingerprint cache)
        params = (entry.get("outputs") or {}).get("parameters") or []
        key = next((str(p.get("value")) for p in params if p.get("name") == "key"), "")
        found.append((path, key))
    return found


@cache_group.command("rm")
@click.argument("key", required=False)
@click.option("--all", "remove_all", is_flag=True, help="Remove every cache entry.")
@_STATE_OPTION
@user_errors
def rm_command(key: str | None, remove_all: bool, state_dir: Path | None) -> None:
    """Remove the cache entry KEY (or a unique prefix of at least 8 characters), or --all;
    local memoize entries that hand out a removed key go too. Outputs stay in the datastore
    (earlier runs still show them); the next run of the step computes it again."""
    if (key is None) == (not remove_all):
        raise KubelineError("cache rm: give a KEY or --all", "see kubeline cache ls")
    store = _workspace_store()
    keys = [o.key[len(INDEX_PREFIX):-len(".json")] for o in store.list(INDEX_PREFIX)
            if o.key.endswith(".json")]
    if key is not None:
        chosen = [k for k in keys if k == key] or \
            ([k for k in keys if k.startswith(key)] if len(key) >= 8 else [])
        if len(chosen) != 1:
            raise KubelineError(f"cache rm: {'no' if not chosen else 'more than one'} cache "
                                f"entry matches {key!r}", "see kubeline cache ls")
        keys = chosen
    removed = set(keys)
    for k in keys:
        store.delete(f"{INDEX_PREFIX}{k}.json")
    memo = 0
    for path, handed_out in _memo_entries(_state_dir(state_dir)):
        if remove_all or path.stem in removed or handed_out in removed:
            path.unlink(missing_ok=True)
            memo += 1
    click.echo(f"removed {len(keys)} cache entr{'y' if len(keys) == 1 else 'ies'} and {memo} "
               f"memoize entr{'y' if memo == 1 else 'ies'}")
