"""A pod's volumes on the host.

emptyDir volumes are folders of the node (``<node>/volumes/<name>``), shared by its
containers. configMap and projected volumes are read-only in Kubernetes: with bubblewrap
they are written once per run (``<run>/volumes/<digest>``, named by their content) and
mounted read-only into every node that uses them, instead of being written again for each
node (a compiled pipeline's spec ConfigMap holds a file per step, so per-node copies cost
O(steps^2) file writes). Without bubblewrap nothing enforces read-only, so each node gets its
own copy, as before.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class VolumeError(Exception):
    """A volume the pod cannot have (the node errors)."""


@dataclass(frozen=True)
class Volume:
    host: Path  # the folder mounted into the containers
    spec: dict[str, Any]
    shared: bool  # a run-wide, read-only configMap/projected folder


def _configmap_refs(volume: dict[str, Any]) -> list[tuple[dict[str, Any], Any]]:
    """(configMap reference, default mode) of each source of a configMap/projected volume."""
    if "configMap" in volume:
        return [(volume["configMap"], volume["configMap"].get("defaultMode"))]
    if "projected" in volume:
        mode = volume["projected"].get("defaultMode")
        return [(src["configMap"], mode) for src in volume["projected"].get("sources") or []]
    return []


def plan(
    tmpl: dict[str, Any],
    node_dir: Path,
    workflow_volumes: list[dict[str, Any]],
    configmaps: dict[str, dict[str, str]],
    shared_dir: Path | None,
) -> dict[str, Volume]:
    """The pod's mounted volumes by name and where they live; nothing is created."""
    vols: dict[str, dict[str, Any]] = {}
    for v in [*workflow_volumes, *(tmpl.get("volumes") or [])]:
        vols[str(v["name"])] = v
    used = set()
    main = tmpl.get("container") or tmpl.get("script") or {}
    cs = tmpl.get("containerSet") or {}
    others = [*(tmpl.get("sidecars") or []), *(cs.get("containers") or []), cs]
    for c in [*(tmpl.get("initContainers") or []), main, *others]:
        for m in c.get("volumeMounts") or []:
            used.add(str(m["name"]))
    out: dict[str, Volume] = {}
    for name in sorted(used):
        if name not in vols:
            raise VolumeError(f"volumeMount '{name}' has no matching volume")
        v = vols[name]
        refs = _configmap_refs(v)
        if refs and shared_dir is not None:
            content = [(ref, mode, configmaps.get(str(ref["name"]))) for ref, mode in refs]
            text = json.dumps(content, sort_keys=True, default=str)
            digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]
            out[name] = Volume(shared_dir / digest, v, shared=True)
        else:
            out[name] = Volume(node_dir / "volumes" / name, v, shared=False)
    return out


def materialise(vols: dict[str, Volume], configmaps: dict[str, dict[str, str]]) -> None:
    """Create the folders and write the ConfigMap files (a shared folder only once)."""
    for vol in vols.values():
        if vol.shared:
            if not vol.host.is_dir():
                tmp = vol.host.with_name(f".{vol.host.name}.tmp")
                shutil.rmtree(tmp, ignore_errors=True)
                tmp.mkdir(parents=True)
                _write(tmp, vol.spec, configmaps)
                os.rename(tmp, vol.host)
            continue
        vol.host.mkdir(parents=True, exist_ok=True)
        _write(vol.host, vol.spec, configmaps)


def _write(d: Path, volume: dict[str, Any], configmaps: dict[str, dict[str, str]]) -> None:
    for ref, default_mode in _configmap_refs(volume):
        _write_configmap(d, ref, default_mode, configmaps)


def _write_configmap(
    d: Path, ref: dict[str, Any], default_mode: Any, configmaps: dict[str, dict[str, str]]
) -> None:
    cm = configmaps.get(str(ref["name"]))
    if cm is None:
        if ref.get("optional"):
            return
        raise VolumeError(f"configmap '{ref['name']}' is not a document of this file")
    items = ref.get("items")
    pairs = (
        [(str(i["key"]), str(i["path"]), i.get("mode")) for i in items]
        if items
        else [(k, k, None) for k in cm]
    )
    for key, rel, mode in pairs:
        if key not in cm:
            raise VolumeError(f"configmap '{ref['name']}' has no key '{key}'")
        target = d / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(cm[key])
        m = mode if mode is not None else default_mode
        os.chmod(target, int(m) if m is not None else 0o644)
