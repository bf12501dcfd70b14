"""OCI images written without a daemon: layers from folders, an image layout, one archive.

Why our own writer rather than umoci/skopeo for packing: layers come out byte-for-byte the
same for the same folder (sorted entries, numeric owners, no atime/ctime, gzip without a
timestamp), so identical folders give identical blobs that the registry and containerd
store once, and the archive is both an OCI image layout (``index.json``, ``blobs/``) and a
``docker load`` archive (``manifest.json``) in one tar, as ``docker save`` writes since 25.0.
Standard library only: the build runs before any virtualenv exists.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import stat
import tarfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
# Every config says it was made at the epoch: the date of a build is not part of an image.
CREATED = "1970-01-01T00:00:00Z"
# Folders whose contents a container runtime provides (kept empty in a layer).
RUNTIME_MOUNTS = ("dev", "proc", "sys")


def canonical_json(value: Any) -> bytes:
    """The one JSON encoding used for configs, manifests and indexes (sorted, compact)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()


@dataclass(frozen=True)
class Layer:
    """A compressed layer in the blob store: its digest, size, and uncompressed digest."""

    digest: str
    size: int
    diff_id: str
    comment: str = ""

    def descriptor(self) -> dict[str, Any]:
        return {"mediaType": OCI_LAYER_GZIP, "digest": self.digest, "size": self.size}

    def to_json(self) -> dict[str, Any]:
        return {"digest": self.digest, "size": self.size, "diff_id": self.diff_id,
                "comment": self.comment}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Layer:
        return cls(data["digest"], int(data["size"]), data["diff_id"], data.get("comment", ""))


@dataclass(frozen=True)
class ImageConfig:
    """What an image runs: the subset of the OCI config that kubelet and Argo's emissary read."""

    entrypoint: list[str] | None = None
    cmd: list[str] | None = None
    env: list[str] = field(default_factory=list)
    user: str = ""
    workdir: str = ""

    def to_json(self) -> dict[str, Any]:
        config: dict[str, Any] = {"Env": list(self.env)}
        if self.entrypoint is not None:
            config["Entrypoint"] = list(self.entrypoint)
        if self.cmd is not None:
            config["Cmd"] = list(self.cmd)
        if self.user:
            config["User"] = self.user
        if self.workdir:
            config["WorkingDir"] = self.workdir
        return config


class BlobStore:
    """A content-addressed folder of blobs (``sha256/<hex>``), shared by every image built."""

    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "sha256").mkdir(parents=True, exist_ok=True)

    def path(self, digest: str) -> Path:
        algorithm, hexdigest = digest.split(":", 1)
        return self.root / algorithm / hexdigest

    def put_bytes(self, data: bytes) -> tuple[str, int]:
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        target = self.path(digest)
        if not target.exists():
            tmp = target.with_name(f".{target.name}.{os.getpid()}")
            tmp.write_bytes(data)
            tmp.replace(target)
        return digest, len(data)

    def read(self, digest: str) -> bytes:
        return self.path(digest).read_bytes()


class _Writable(Protocol):
    def write(self, data: bytes, /) -> int: ...


class _Hashing(io.RawIOBase):
    """A write-through stream that hashes and counts what passes on to ``target``."""

    def __init__(self, target: _Writable | None) -> None:
        self.target = target
        self.sha = hashlib.sha256()
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        self.sha.update(chunk)
        self.size += len(chunk)
        if self.target is not None:
            self.target.write(chunk)
        return len(chunk)


def _whiteout(path: Path, st: os.stat_result) -> bool:
    """overlayfs marks a deleted file with a 0/0 character device."""
    return stat.S_ISCHR(st.st_mode) and st.st_rdev == 0


def _opaque(path: Path) -> bool:
    """overlayfs marks a folder that hides the lower one's contents with an xattr."""
    for name in ("trusted.overlay.opaque", "user.overlay.opaque"):
        try:
            if os.getxattr(path, name, follow_symlinks=False) == b"y":
                return True
        except OSError:
            continue
    return False


def _tarinfo(path: Path, name: str, st: os.stat_result) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.mode = stat.S_IMODE(st.st_mode)
    info.uid, info.gid = st.st_uid, st.st_gid
    info.uname = info.gname = ""
    info.mtime = int(st.st_mtime)
    if stat.S_ISDIR(st.st_mode):
        info.type = tarfile.DIRTYPE
    elif stat.S_ISLNK(st.st_mode):
        info.type = tarfile.SYMTYPE
        info.linkname = os.readlink(path)
    elif stat.S_ISREG(st.st_mode):
        info.type = tarfile.REGTYPE
        info.size = st.st_size
    elif stat.S_ISFIFO(st.st_mode):
        info.type = tarfile.FIFOTYPE
    else:
        raise ValueError(f"{path}: device files do not belong in an image layer")
    return info


def _entries(root: Path) -> list[tuple[Path, str]]:
    """Every path under ``root`` in sorted order with its name in the layer (no ``./``)."""
    found: list[tuple[Path, str]] = []

    def walk(folder: Path, prefix: str) -> None:
        with os.scandir(folder) as scan:
            names = sorted(entry.name for entry in scan)
        for name in names:
            path = folder / name
            rel = f"{prefix}{name}"
            found.append((path, rel))
            if path.is_dir() and not path.is_symlink() and rel not in RUNTIME_MOUNTS:
                walk(path, rel + "/")

    walk(root, "")
    return found


def write_layer(root: Path, store: BlobStore, comment: str = "") -> Layer:
    """Pack the folder ``root`` as one gzip layer into ``store``; overlayfs whiteouts
    (upper folders of an overlay mount) become OCI ``.wh.`` entries."""
    tmp = store.root / f".layer.{os.getpid()}"
    seen: dict[tuple[int, int], str] = {}
    with tmp.open("wb") as raw:
        compressed = _Hashing(raw)
        with gzip.GzipFile(filename="", mode="wb", fileobj=compressed,
                           compresslevel=6, mtime=0) as gz:
            plain = _Hashing(gz)
            with tarfile.open(fileobj=plain, mode="w|",
                              format=tarfile.PAX_FORMAT) as tar:
                for path, rel in _entries(root):
                    st = path.lstat()
                    if _whiteout(path, st):
                        parent, _, base = rel.rpartition("/")
                        marker = tarfile.TarInfo(f"{parent}/.wh.{base}" if parent
                                                 else f".wh.{base}")
                        marker.mtime = int(st.st_mtime)
                        tar.addfile(marker)
                        continue
                    info = _tarinfo(path, rel, st)
                    key = (st.st_dev, st.st_ino)
                    if info.type == tarfile.REGTYPE and st.st_nlink > 1:
                        if key in seen:
                            info.type, info.linkname, info.size = tarfile.LNKTYPE, seen[key], 0
                            tar.addfile(info)
                            continue
                        seen[key] = rel
                    if info.type == tarfile.REGTYPE:
                        with path.open("rb") as handle:
                            tar.addfile(info, handle)
                    else:
                        tar.addfile(info)
                    if info.type == tarfile.DIRTYPE and _opaque(path):
                        opaque = tarfile.TarInfo(f"{rel}/.wh..wh..opq")
                        opaque.mtime = info.mtime
                        tar.addfile(opaque)
    layer = Layer("sha256:" + compressed.sha.hexdigest(), compressed.size,
                  "sha256:" + plain.sha.hexdigest(), comment)
    target = store.path(layer.digest)
    if target.exists():
        tmp.unlink()
    else:
        tmp.replace(target)
    return layer


@dataclass(frozen=True)
class Image:
    """A manifest in the store and the references it is known by."""

    manifest_digest: str
    manifest_size: int
    config_digest: str
    layers: tuple[Layer, ...]
    refs: tuple[str, ...]


def write_image(store: BlobStore, layers: list[Layer], config: ImageConfig,
                refs: list[str]) -> Image:
    """Write the config and manifest blobs of an image made of ``layers``."""
    config_doc = {
        "architecture": "amd64",
        "os": "linux",
        "created": CREATED,
        "config": config.to_json(),
        "rootfs": {"type": "layers", "diff_ids": [layer.diff_id for layer in layers]},
        "history": [{"created": CREATED, "created_by": layer.comment or "kubeline image build"}
                    for layer in layers],
    }
    config_digest, config_size = store.put_bytes(canonical_json(config_doc))
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": config_digest, "size": config_size},
        "layers": [layer.descriptor() for layer in layers],
    }
    digest, size = store.put_bytes(canonical_json(manifest))
    return Image(digest, size, config_digest, tuple(layers), tuple(refs))


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode = len(data), 0o644
    tar.addfile(info, io.BytesIO(data))


def write_archive(store: BlobStore, images: list[Image], out: Path) -> None:
    """One tar holding an OCI image layout of ``images`` (one index entry per reference,
    named by ``io.containerd.image.name`` and ``org.opencontainers.image.ref.name``) and
    docker's ``manifest.json``, so ``docker load``, ``ctr images import`` and skopeo's
    ``oci-archive:`` all read it."""
    entries = []
    docker_manifest = []
    blobs: set[str] = set()
    for image in images:
        blobs.update({image.manifest_digest, image.config_digest})
        blobs.update(layer.digest for layer in image.layers)
        for ref in image.refs:
            entries.append({
                "mediaType": OCI_MANIFEST, "digest": image.manifest_digest,
                "size": image.manifest_size,
                "annotations": {"io.containerd.image.name": ref,
                                "org.opencontainers.image.ref.name": ref},
            })
        docker_manifest.append({
            "Config": "blobs/" + image.config_digest.replace(":", "/"),
            "RepoTags": list(image.refs),
            "Layers": ["blobs/" + layer.digest.replace(":", "/") for layer in image.layers],
        })
    index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries}
    tmp = out.with_name(f".{out.name}.{os.getpid()}")
    with tarfile.open(tmp, "w", format=tarfile.PAX_FORMAT) as tar:
        for folder in ("blobs", "blobs/sha256"):
            info = tarfile.TarInfo(folder)
            info.type, info.mode = tarfile.DIRTYPE, 0o755
            tar.addfile(info)
        for digest in sorted(blobs):
            path = store.path(digest)
            info = tarfile.TarInfo("blobs/" + digest.replace(":", "/"))
            info.size, info.mode = path.stat().st_size, 0o644
            with path.open("rb") as handle:
                tar.addfile(info, handle)
        _add_bytes(tar, "index.json", canonical_json(index))
        _add_bytes(tar, "manifest.json", canonical_json(docker_manifest))
        _add_bytes(tar, "oci-layout", canonical_json({"imageLayoutVersion": "1.0.0"}))
    tmp.replace(out)
