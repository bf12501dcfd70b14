"""Image references as containerd resolves them, and where each lives on the box's mirror."""

from __future__ import annotations

# Registries whose images the box's registry mirrors (containerd's hosts.toml per registry).
MIRRORED = ("docker.io", "ghcr.io", "quay.io", "registry.k8s.io")


def qualify(ref: str) -> str:
    """The fully qualified form of an image name: ``busybox`` is
    ``docker.io/library/busybox:latest``, ``argoproj/argosay:v2`` is on docker.io."""
    first, _, rest = ref.partition("/")
    if not rest:
        ref = f"docker.io/library/{ref}"
    elif "." not in first and ":" not in first and first != "localhost":
        ref = f"docker.io/{ref}"
    last = ref.rsplit("/", 1)[-1]
    return ref if (":" in last or "@" in last) else f"{ref}:latest"


def mirror_path(ref: str) -> tuple[str, str, str]:
    """(registry, repository, tag) of a reference: a mirror of ``registry`` serves it as
    ``/v2/<repository>/manifests/<tag>`` (``docker.io/library/busybox:latest`` ->
    ``library/busybox``, ``latest``)."""
    full = qualify(ref)
    registry, _, rest = full.partition("/")
    if registry not in MIRRORED:
        raise ValueError(f"{ref}: registry {registry} is not one the box mirrors "
                         f"({', '.join(MIRRORED)})")
    repository, _, tag = rest.rpartition(":")
    return registry, repository, tag
