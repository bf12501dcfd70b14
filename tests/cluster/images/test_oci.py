"""The OCI packer on small folders: the same folder gives the same bytes, overlayfs
whiteouts and opaque folders become OCI whiteouts, hard links stay links, device files are
refused, and an archive is both an OCI layout and a docker archive that skopeo reads."""

from __future__ import annotations

import gzip
import io
import json
import os
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

from tests.cluster.images.conftest import need, script_module

oci = script_module("oci")


def sample(root: Path) -> Path:
    (root / "etc").mkdir(parents=True)
    (root / "etc/config").write_text("a = 1\n")
    (root / "bin").mkdir()
    (root / "bin/tool").write_text("#!/bin/sh\necho tool\n")
    (root / "bin/tool").chmod(0o755)
    os.link(root / "bin/tool", root / "bin/tool-again")
    (root / "bin/sh").symlink_to("tool")
    (root / "dev").mkdir()
    return root


def members(store: object, layer: object) -> list[tarfile.TarInfo]:
    data = gzip.decompress(store.path(layer.digest).read_bytes())  # type: ignore[attr-defined]
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        return tar.getmembers()


def test_the_same_folder_gives_the_same_layer(tmp_path: Path) -> None:
    store = oci.BlobStore(tmp_path / "blobs")
    first = oci.write_layer(sample(tmp_path / "a"), store)
    second = sample(tmp_path / "b")
    for path in second.rglob("*"):  # other inode numbers, other access times
        os.utime(path, (1, path.lstat().st_mtime), follow_symlinks=False)
    assert oci.write_layer(second, store) == first
    (second / "etc/config").write_text("a = 2\n")
    assert oci.write_layer(second, store).digest != first.digest


def test_layer_entries(tmp_path: Path) -> None:
    store = oci.BlobStore(tmp_path / "blobs")
    layer = oci.write_layer(sample(tmp_path / "root"), store)
    found = {m.name: m for m in members(store, layer)}
    assert list(found) == sorted(found)
    assert found["bin/tool"].isfile() and found["bin/tool"].mode == 0o755
    assert found["bin/tool-again"].islnk() and found["bin/tool-again"].linkname == "bin/tool"
    assert found["bin/sh"].issym() and found["bin/sh"].linkname == "tool"
    assert found["dev"].isdir()
    assert all(m.uname == "" and m.gname == "" for m in found.values())


def test_overlay_whiteouts_become_oci_whiteouts(tmp_path: Path) -> None:
    need(os.geteuid() == 0, "making overlayfs whiteouts (mknod, trusted xattrs) needs root")
    root = tmp_path / "upper"
    (root / "etc/gone-dir").mkdir(parents=True)
    os.mknod(root / "etc/removed", 0o600 | 0o020000, os.makedev(0, 0))  # char device 0/0
    os.setxattr(root / "etc/gone-dir", "trusted.overlay.opaque", b"y")
    store = oci.BlobStore(tmp_path / "blobs")
    names = [m.name for m in members(store, oci.write_layer(root, store))]
    assert "etc/.wh.removed" in names and "etc/removed" not in names
    assert "etc/gone-dir/.wh..wh..opq" in names


def test_device_files_are_refused(tmp_path: Path) -> None:
    need(os.geteuid() == 0, "mknod needs root")
    root = tmp_path / "root"
    root.mkdir()
    os.mknod(root / "null", 0o600 | 0o020000, os.makedev(1, 3))
    with pytest.raises(ValueError, match="device files"):
        oci.write_layer(root, oci.BlobStore(tmp_path / "blobs"))


def test_archive_is_read_by_skopeo_both_ways(tmp_path: Path) -> None:
    need(shutil.which("skopeo") is not None, "skopeo is missing: apt-get install skopeo")
    store = oci.BlobStore(tmp_path / "blobs")
    layer = oci.write_layer(sample(tmp_path / "root"), store)
    config = oci.ImageConfig(entrypoint=["/bin/tool"], cmd=["x"], env=["PATH=/bin"], user="7")
    image = oci.write_image(store, [layer], config,
                            ["docker.io/library/t:1", "ghcr.io/o/t:latest"])
    archive = tmp_path / "t.tar"
    oci.write_archive(store, [image], archive)
    for source in ("oci-archive:{}:ghcr.io/o/t:latest", "docker-archive:{}"):
        result = subprocess.run(["skopeo", "inspect", "--config", source.format(archive)],
                                capture_output=True, text=True, check=False, timeout=120)
        assert result.returncode == 0, result.stderr
        seen = json.loads(result.stdout)["config"]
        assert (seen["Entrypoint"], seen["Cmd"], seen["User"]) == (["/bin/tool"], ["x"], "7")
    # writing it again gives the same bytes
    again = tmp_path / "t2.tar"
    oci.write_archive(store, [image], again)
    assert again.read_bytes() == archive.read_bytes()
