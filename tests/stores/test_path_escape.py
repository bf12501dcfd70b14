"""No driver lets a key leave its datastore: local folder, moto's S3 server, Azurite.

Keys that climb out are refused before any request or file operation, whatever the call;
stored keys that would climb out of a download folder (S3 keeps '..' literally) refuse the
whole download before a file is written; a local datastore never follows a symbolic link
that leads outside its folder, reading or writing.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from kubeline.datapaths import DatastorePathError
from kubeline.exceptions import DatastoreError
from kubeline.stores import Store, get_dir, open_store
from kubeline.stores.config import AzureBlobDatastore, LocalDatastore, S3Datastore
from kubeline.stores.local import LocalStore
from tests.servers import AzuriteServer, S3Server
from tests.stores.conftest import AZ_KEY, S3_ACCESS, S3_SECRET

ESCAPING = [
    "../escape.txt",
    "a/../../escape.txt",
    "a/b/../../../escape.txt",
    "/etc/passwd",
    "..\\escape.txt",
    "a\\..\\..\\escape.txt",
    "a\x00b.txt",
    "C:/escape.txt",
    "s3://other-bucket/escape.txt",
    "..",
]


def _every_call(store: Store, key: str, tmp_path: Path, listing: bool = True
                ) -> list[Callable[[], Any]]:
    source = tmp_path / "source.txt"
    source.write_text("payload")
    return [
        lambda: store.put_bytes(key, b"x"),
        lambda: store.put_bytes(key, b"x", if_absent=True),
        lambda: store.put_file(source, key),
        lambda: store.put_file(source, key, overwrite=False),
        lambda: store.get_bytes(key),
        lambda: store.get_file(key, tmp_path / "got.txt"),
        lambda: store.exists(key),
        lambda: store.etag(key),
        lambda: store.delete(key),
        *([lambda: list(store.list(key + "/"))] if listing else []),
    ]


def _everything(kind: str, store: Store, workspace: Path) -> list[str]:
    """Every object in the whole bucket/container (not just under the store's prefix), or
    every file under the workspace for a local store."""
    if kind == "local":
        return sorted(str(p.relative_to(workspace)) for p in workspace.rglob("*") if p.is_file())
    config: Any = store.config  # type: ignore[attr-defined]
    if kind == "s3":
        client = store._client  # type: ignore[attr-defined]
        listed = client.list_objects_v2(Bucket=config.bucket).get("Contents", [])
        return sorted(o["Key"] for o in listed)
    container = store._container  # type: ignore[attr-defined]
    return sorted(b.name for b in container.list_blobs())


@pytest.mark.parametrize("key", ESCAPING)
def test_every_call_refuses_a_key_that_leaves_the_store(
        kind: str, make_store: Callable[..., Store], tmp_path: Path, key: str) -> None:
    store = make_store()
    store.put_bytes("team-data/kept.txt", b"kept")
    workspace = tmp_path / "workspace"
    before = _everything(kind, store, workspace)
    for call in _every_call(store, key, tmp_path):
        with pytest.raises(DatastorePathError) as info:
            call()
        message = str(info.value)
        assert "\n" not in message and "datastore 'main'" in message
    assert _everything(kind, store, workspace) == before
    assert store.get_bytes("team-data/kept.txt") == b"kept"
    assert not (tmp_path / "got.txt").exists()
    assert not list(tmp_path.glob("escape*")) and not (tmp_path.parent / "escape.txt").exists()


def test_s3_prefix_that_climbs_out_of_the_bucket_is_refused(s3_server: S3Server,
                                                            tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    monkeypatch.setenv("KL_TEST_S3_ACCESSKEY", s3_server.access_key)
    monkeypatch.setenv("KL_TEST_S3_SECRETKEY", s3_server.secret_key)
    for prefix in ("../other", "team/../../other", "team\\..\\x"):
        config = S3Datastore(bucket=s3_server.create_bucket(), prefix=prefix,
                             endpoint=s3_server.endpoint_url.removeprefix("http://"),
                             insecure=True, access_key_secret=S3_ACCESS,
                             secret_key_secret=S3_SECRET)
        with pytest.raises(DatastorePathError, match=r"datastores\.main\.prefix"):
            open_store("main", config, tmp_path)
    fine = S3Datastore(bucket=s3_server.create_bucket(), prefix="/team/exp/",
                       endpoint=s3_server.endpoint_url.removeprefix("http://"), insecure=True,
                       access_key_secret=S3_ACCESS, secret_key_secret=S3_SECRET)
    store = open_store("main", fine, tmp_path)
    store.put_bytes("a.txt", b"1")
    listed = s3_server.client().list_objects_v2(Bucket=fine.bucket)["Contents"]
    assert [o["Key"] for o in listed] == ["team/exp/a.txt"]


def test_azure_prefix_that_climbs_out_of_the_container_is_refused(
        azurite: AzuriteServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KL_TEST_AZ_ACCOUNTKEY", azurite.account_key)
    for prefix in ("../other", "a/../../b", "x\x00y"):
        config = AzureBlobDatastore(account_name=azurite.account_name,
                                    container_name=azurite.create_container(), prefix=prefix,
                                    endpoint=azurite.endpoint_url, account_key_secret=AZ_KEY)
        with pytest.raises(DatastorePathError, match=r"datastores\.main\.prefix"):
            open_store("main", config, tmp_path)


@pytest.mark.parametrize("stored", ["in/../../evil.txt", "in/sub/../../../evil.txt"])
def test_s3_keys_with_dotdot_refuse_a_folder_download_before_writing(
        s3_server: S3Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        stored: str) -> None:
    """moto keeps '..' in keys literally (as S3 does): such an object, written by another
    tool, must not make a download write outside its folder, nor anything at all."""
    monkeypatch.setenv("KL_TEST_S3_ACCESSKEY", s3_server.access_key)
    monkeypatch.setenv("KL_TEST_S3_SECRETKEY", s3_server.secret_key)
    config = S3Datastore(bucket=s3_server.create_bucket(), prefix="team/exp",
                         endpoint=s3_server.endpoint_url.removeprefix("http://"), insecure=True,
                         access_key_secret=S3_ACCESS, secret_key_secret=S3_SECRET)
    store = open_store("main", config, tmp_path)
    store.put_bytes("in/a.txt", b"a")
    s3_server.client().put_object(Bucket=config.bucket, Key=f"team/exp/{stored}", Body=b"x")
    dest = tmp_path / "dest" / "inner"
    with pytest.raises(DatastorePathError, match=r"invalid key .*'\.\.' segment"):
        get_dir(store, "in", dest)
    assert not (tmp_path / "dest").exists()
    assert not list(tmp_path.rglob("evil.txt"))


# -- local datastores and symbolic links -----------------------------------------------------


@pytest.fixture
def linked(tmp_path: Path) -> tuple[LocalStore, Path]:
    """A local store whose folder holds links out (to a file and a folder) and in."""
    outside = tmp_path / "outside"
    (outside / "secrets").mkdir(parents=True)
    (outside / "secret.txt").write_text("outside file")
    (outside / "secrets" / "key.txt").write_text("outside folder")
    root = tmp_path / "store"
    (root / "data").mkdir(parents=True)
    (root / "data" / "real.txt").write_text("inside")
    os.symlink(outside / "secret.txt", root / "data" / "out-file.txt")
    os.symlink(outside / "secrets", root / "data" / "out-dir")
    os.symlink("../../outside/secret.txt", root / "rel-out.txt")  # relative target
    os.symlink("real.txt", root / "data" / "in-file.txt")
    os.symlink(root / "data", root / "in-dir")
    return LocalStore("main", root), outside


@pytest.mark.parametrize("key", ["data/out-file.txt", "data/out-dir/key.txt", "rel-out.txt",
                                 "data/out-dir/new.txt"])
def test_local_links_leading_out_are_not_followed(linked: tuple[LocalStore, Path],
                                                  tmp_path: Path, key: str) -> None:
    store, outside = linked
    before = {p: p.read_text() for p in outside.rglob("*") if p.is_file()}
    for call in _every_call(store, key, tmp_path, listing=False):  # listings: test below
        with pytest.raises(DatastorePathError, match=r"symbolic link .* outside the datastore"):
            call()
    assert {p: p.read_text() for p in outside.rglob("*") if p.is_file()} == before
    assert not (tmp_path / "got.txt").exists()
    assert not (outside / "secrets" / "new.txt").exists()


def test_local_links_that_stay_inside_work(linked: tuple[LocalStore, Path]) -> None:
    store, _ = linked
    assert store.get_bytes("data/in-file.txt") == b"inside"
    assert store.get_bytes("in-dir/real.txt") == b"inside"
    store.put_bytes("in-dir/written.txt", b"w")
    assert (store.root / "data" / "written.txt").read_bytes() == b"w"


def test_local_listing_leaves_links_out(linked: tuple[LocalStore, Path], tmp_path: Path,
                                        caplog: pytest.LogCaptureFixture) -> None:
    store, _ = linked
    with caplog.at_level(logging.WARNING, logger="kubeline.stores.local"):
        keys = [o.key for o in store.list()]
        assert [o.key for o in store.list("data/out-dir/")] == []
    assert keys == ["data/in-file.txt", "data/real.txt"]
    assert "data/out-file.txt" in caplog.text and "rel-out.txt" in caplog.text
    dest = tmp_path / "copy"
    assert get_dir(store, "data", dest) == [dest / "in-file.txt", dest / "real.txt"]


def test_local_datastore_folder_that_is_itself_a_link_works(tmp_path: Path) -> None:
    real = tmp_path / "big-disk" / "store"
    real.mkdir(parents=True)
    (tmp_path / "workspace").mkdir()
    os.symlink(real, tmp_path / "workspace" / "store")
    store = open_store("main", LocalDatastore(path="store"), tmp_path / "workspace")
    store.put_bytes("a/b.txt", b"1")
    assert (real / "a" / "b.txt").read_bytes() == b"1"
    assert [o.key for o in store.list()] == ["a/b.txt"]


def test_a_refused_key_is_a_datastore_error_line(store: Store) -> None:
    with pytest.raises(DatastoreError) as info:
        store.get_bytes("../../etc/passwd")
    assert str(info.value) == (
        "datastore 'main': invalid key '../../etc/passwd': it has a '..' segment "
        "(use a relative path like 'folder/file.txt')")
