"""templateDefaults and podSpecPatch: what Argo merges into a template or its pod.

Argo merges ``spec.templateDefaults`` into every template with a strategic merge patch
(the template's own fields win; defaults of another template type are dropped) and applies
``spec.podSpecPatch`` then the template's ``podSpecPatch`` to the pod it builds. Locally only
what a process can feel is applied: containers' ``env`` (merged by name), ``command``,
``args``, and the pod's ``activeDeadlineSeconds``; the rest (resources, images, scheduling)
has no meaning on one machine and is ignored (docs/decisions/0022-local-pod-features.md).
"""

from __future__ import annotations

import copy
import json
from typing import Any

import yaml

TEMPLATE_TYPES = ("container", "script", "containerSet", "dag", "steps", "resource",
                  "suspend", "data", "http", "plugin")
# Kubernetes' patch merge keys for the lists a template's containers hold
_MERGE_KEYS = {"env": "name", "volumeMounts": "mountPath", "containers": "name",
               "initContainers": "name", "sidecars": "name", "volumes": "name",
               "ports": "containerPort"}
WF_PATCH_KEY = "podSpecPatch"  # a template's own, substituted like the rest of it
WF_LEVEL_KEY = "x-kubeline-workflow-podSpecPatch"  # the workflow's, copied in by load()


class PodSpecPatchError(Exception):
    """A podSpecPatch that is not a PodSpec-shaped mapping (Argo errors the node)."""


def merge(base: Any, patch: Any, key: str = "") -> Any:
    """Strategic merge of ``patch`` over ``base``: mappings merge, lists of named objects
    merge by their merge key, other lists and scalars are replaced; ``null`` deletes."""
    if isinstance(base, dict) and isinstance(patch, dict):
        out = copy.deepcopy(base)
        for k, v in patch.items():
            if v is None:
                out.pop(k, None)
            elif k in out:
                out[k] = merge(out[k], v, str(k))
            else:
                out[k] = copy.deepcopy(v)
        return out
    merge_key = _MERGE_KEYS.get(key)
    if merge_key and isinstance(base, list) and isinstance(patch, list) and all(
            isinstance(x, dict) and merge_key in x for x in [*base, *patch]):
        out_list = [copy.deepcopy(x) for x in base]
        index = {x[merge_key]: i for i, x in enumerate(out_list)}
        for item in patch:
            if item[merge_key] in index:
                i = index[item[merge_key]]
                out_list[i] = merge(out_list[i], item)
            else:
                out_list.append(copy.deepcopy(item))
        return out_list
    return copy.deepcopy(patch)


def apply_template_defaults(spec: dict[str, Any]) -> None:
    """Merge ``spec.templateDefaults`` into each template, as Argo does when it runs one."""
    defaults = spec.pop("templateDefaults", None)
    if not isinstance(defaults, dict) or not defaults:
        return
    templates = spec.get("templates") or []
    for i, tmpl in enumerate(templates):
        if not isinstance(tmpl, dict):
            continue
        own = next((t for t in TEMPLATE_TYPES if t in tmpl), None)
        applicable = {k: v for k, v in defaults.items()
                      if k not in TEMPLATE_TYPES or k == own}
        templates[i] = merge(applicable, tmpl)


def parse_patch(text: Any, where: str) -> dict[str, Any]:
    """A podSpecPatch (JSON or YAML) as a mapping whose containers are named mappings."""
    if isinstance(text, dict):
        data: Any = text
    else:
        try:
            data = yaml.safe_load(str(text))
        except yaml.YAMLError as exc:
            raise PodSpecPatchError(f"{where}: invalid podSpecPatch: {exc}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise PodSpecPatchError(f"{where}: invalid podSpecPatch {json.dumps(text)}: "
                                "not a PodSpec (a mapping)")
    for field in ("containers", "initContainers"):
        items = data.get(field)
        if items is not None and not (isinstance(items, list) and all(
                isinstance(c, dict) and c.get("name") for c in items)):
            raise PodSpecPatchError(
                f"{where}: invalid podSpecPatch: {field} must be a list of named containers")
    return data


def _patch_container(container: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    meaningful = {k: v for k, v in patch.items() if k in ("env", "command", "args")}
    merged: dict[str, Any] = merge(container, meaningful)
    return merged


def apply_pod_spec_patches(tmpl: dict[str, Any]) -> dict[str, Any]:
    """The processed template with the workflow's then its own podSpecPatch applied to what
    runs here; raises PodSpecPatchError for a patch Argo would refuse."""
    patches: list[tuple[str, Any]] = []
    if tmpl.get(WF_LEVEL_KEY):
        patches.append(("spec.podSpecPatch", tmpl[WF_LEVEL_KEY]))
    if tmpl.get(WF_PATCH_KEY):
        patches.append(("podSpecPatch", tmpl[WF_PATCH_KEY]))
    out = {k: v for k, v in tmpl.items() if k not in (WF_LEVEL_KEY, WF_PATCH_KEY)}
    for where, text in patches:
        patch = parse_patch(text, where)
        for entry in patch.get("containers") or []:
            name = str(entry["name"])
            kind = "script" if "script" in out else "container"
            if name == "main" and kind in out:
                out[kind] = _patch_container(out[kind], entry)
            for listed in ("sidecars",):
                out[listed] = [_patch_container(c, entry) if c.get("name") == name else c
                               for c in out.get(listed) or []] or out.get(listed)
            if "containerSet" in out:
                cs = dict(out["containerSet"])
                cs["containers"] = [_patch_container(c, entry) if c.get("name") == name
                                    else c for c in cs.get("containers") or []]
                out["containerSet"] = cs
        for entry in patch.get("initContainers") or []:
            out["initContainers"] = [
                _patch_container(c, entry) if c.get("name") == entry["name"] else c
                for c in out.get("initContainers") or []]
        if patch.get("activeDeadlineSeconds") not in (None, ""):
            out["activeDeadlineSeconds"] = patch["activeDeadlineSeconds"]
        out = {k: v for k, v in out.items() if v is not None}
    return out
