"""The Store contract, one test body run against the local folder, moto S3 and Azurite."""

from __future__ import annotations

import dataclasses
import hashlib
import os
from pathlib import Path

import pytest

from kubeline.exceptions import DatastoreError
from kubeline.stores import Store, get_dir, open_store, put_dir

from .conftest import StoreFactory


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_put_file_get_file_round_trip(store: Store, tmp_path: Path) -> None:
    src = write(tmp_path / "in" / "model.bin", b"weights \x00\x01\x02" * 100)

    assert store.put_file(src, "models/model.bin") is True

    assert store.exists("models/model.bin")
    out = tmp_path / "out" / "deep" / "model.bin"
    store.get_file("models/model.bin", out)
    assert out.read_bytes() == src.read_bytes()
    assert [p.name for p in out.parent.iterdir()] == ["model.bin"]  # no temp left behind
    [info] = store.list("models/")
    assert (info.key, info.size) == ("models/model.bin", 1100)
    assert info.etag and info.etag == store.etag("models/model.bin")


def test_put_file_overwrite_false_refuses_and_keeps_content(store: Store, tmp_path: Path) -> None:
    first = write(tmp_path / "first.txt", b"first")
    second = write(tmp_path / "second.txt", b"second, longer")
    assert store.put_file(first, "out/result.txt") is True
    etag = store.etag("out/result.txt")

    assert store.put_file(second, "out/result.txt", overwrite=False) is False
    assert store.get_bytes("out/result.txt") == b"first"
    assert store.etag("out/result.txt") == etag

    assert store.put_file(second, "out/result.txt", overwrite=True) is True
    assert store.get_bytes("out/result.txt") == b"second, longer"
    assert store.etag("out/result.txt") != etag


def test_put_file_overwrite_false_creates_when_absent(store: Store, tmp_path: Path) -> None:
    src = write(tmp_path / "a.txt", b"new")
    assert store.put_file(src, "fresh/a.txt", overwrite=False) is True
    assert store.get_bytes("fresh/a.txt") == b"new"


def test_put_bytes_if_absent_is_a_conditional_create(store: Store) -> None:
    assert store.put_bytes("cache/abc.json", b'{"run": 1}', if_absent=True) is True
    assert store.put_bytes("cache/abc.json", b'{"run": 2}', if_absent=True) is False
    assert store.get_bytes("cache/abc.json") == b'{"run": 1}'

    assert store.put_bytes("cache/abc.json", b'{"run": 3}') is True
    assert store.get_bytes("cache/abc.json") == b'{"run": 3}'


def test_list_is_sorted_and_prefix_is_a_string_prefix(store: Store) -> None:
    keys = ["b.txt", "a/b.txt", "a-b.txt", "a/a/z.txt", "A.txt", "a.b/c", "ab", "é.txt", "a/ü"]
    for i, key in enumerate(keys):
        store.put_bytes(key, b"x" * i)

    listed = list(store.list())
    assert [o.key for o in listed] == sorted(keys)
    assert {o.key: o.size for o in listed} == {k: i for i, k in enumerate(keys)}
    assert [o.key for o in store.list("a/")] == ["a/a/z.txt", "a/b.txt", "a/ü"]
    assert [o.key for o in store.list("a")] == sorted(k for k in keys if k.startswith("a"))
    assert list(store.list("nothing/")) == []


@pytest.mark.parametrize("kind", ["s3", "azure"])  # a local store's root is its folder
def test_list_does_not_see_outside_the_configured_prefix(
    make_store: StoreFactory, tmp_path: Path
) -> None:
    inner = make_store("team/exp")
    inner.put_bytes("x.txt", b"1")
    # a second store on the same bucket/container with another prefix must not see it
    other_config = dataclasses.replace(inner.config, prefix="team/other")  # type: ignore[attr-defined]
    other = open_store("other", other_config, tmp_path)
    assert list(other.list()) == []
    assert not other.exists("x.txt")
    assert [o.key for o in inner.list()] == ["x.txt"]


def test_put_dir_get_dir_round_trip(store: Store, tmp_path: Path) -> None:
    tree = {
        "a.txt": b"a",
        "sub/b.bin": os.urandom(3000),
        "sub/deeper/c.csv": b"x,y\n1,2\n",
        "sub/deeper/empty": b"",
    }
    src = tmp_path / "src"
    for rel, data in tree.items():
        write(src / rel, data)
    store.put_bytes("outputs/run1x/not-mine.txt", b"sibling with a longer name")

    keys = put_dir(store, src, "outputs/run1")

    assert keys == sorted(f"outputs/run1/{rel}" for rel in tree)
    dest = tmp_path / "dest"
    written = get_dir(store, "outputs/run1", dest)
    assert [p.relative_to(dest).as_posix() for p in written] == sorted(tree)
    got = {p.relative_to(dest).as_posix(): p.read_bytes() for p in dest.rglob("*") if p.is_file()}
    assert got == tree


def test_put_dir_method_with_overwrite_false_skips_existing(store: Store, tmp_path: Path) -> None:
    write(tmp_path / "src" / "keep.txt", b"new")
    write(tmp_path / "src" / "add.txt", b"added")
    store.put_bytes("d/keep.txt", b"old")

    keys = store.put_dir(tmp_path / "src", "d", overwrite=False)  # type: ignore[attr-defined]

    assert keys == ["d/add.txt"]
    assert store.get_bytes("d/keep.txt") == b"old"
    assert get_dir(store, "d/", tmp_path / "back") == [
        tmp_path / "back" / "add.txt",
        tmp_path / "back" / "keep.txt",
    ]


def test_twenty_megabyte_file_streams_both_ways(store: Store, tmp_path: Path, kind: str) -> None:
    big = tmp_path / "big.bin"
    digest = hashlib.sha256()
    with open(big, "wb") as out:
        for _ in range(20):
            chunk = os.urandom(1024 * 1024)
            digest.update(chunk)
            out.write(chunk)

    assert store.put_file(big, "big/data.bin", overwrite=False) is True

    [info] = store.list("big/")
    assert info.size == 20 * 1024 * 1024
    if kind == "s3":
        assert info.etag.endswith("-3"), "expected a 3-part multipart upload (8 MiB parts)"
    if kind == "azure":
        blocks = store._blob("big/data.bin").get_block_list("committed")[0]  # type: ignore[attr-defined]
        assert len(blocks) == 5, "expected 4 MiB staged blocks"
    back = tmp_path / "back" / "big.bin"
    store.get_file("big/data.bin", back)
    assert hashlib.sha256(back.read_bytes()).hexdigest() == digest.hexdigest()


def test_missing_object_errors_name_datastore_and_key(store: Store, tmp_path: Path) -> None:
    (tmp_path / "x").mkdir()
    with pytest.raises(DatastoreError, match=r"datastore 'main': object 'no/such\.txt' not found"):
        store.get_bytes("no/such.txt")
    with pytest.raises(DatastoreError, match=r"datastore 'main': object 'no/such\.txt' not found"):
        store.get_file("no/such.txt", tmp_path / "x" / "such.txt")
    assert list((tmp_path / "x").iterdir()) == []  # neither the file nor a temp remains
    assert not store.exists("no/such.txt")
    assert store.etag("no/such.txt") is None
    store.delete("no/such.txt")  # deleting what is absent is not an error


@pytest.mark.parametrize("kind", ["s3", "azure"])  # a local folder is created on write
def test_missing_bucket_or_container_is_named(make_store: StoreFactory, kind: str) -> None:
    store = make_store(create=False)
    what = "bucket 'kl-no-such-bucket'" if kind == "s3" else "container 'kl-no-such-container'"
    for call in (
        lambda: store.get_bytes("a.txt"),
        lambda: list(store.list()),
        lambda: store.put_bytes("a.txt", b"x"),
    ):
        with pytest.raises(DatastoreError, match=rf"datastore 'main': {what} does not exist"):
            call()


def test_delete_removes_object_and_listing(store: Store) -> None:
    store.put_bytes("tmp/a/b.txt", b"1")
    store.put_bytes("tmp/keep.txt", b"2")
    store.delete("tmp/a/b.txt")
    assert not store.exists("tmp/a/b.txt")
    assert [o.key for o in store.list("tmp/")] == ["tmp/keep.txt"]


@pytest.mark.parametrize("bad", ["../escape.txt", "/abs.txt", "a//b", "a/./b", "", "a\\b"])
def test_invalid_keys_are_refused(store: Store, bad: str) -> None:
    with pytest.raises(DatastoreError, match=r"datastore 'main': invalid key"):
        store.put_bytes(bad, b"x")
    with pytest.raises(DatastoreError, match=r"invalid key"):
        store.get_bytes(bad)


def test_upload_of_missing_local_file_names_the_file(store: Store, tmp_path: Path) -> None:
    with pytest.raises(DatastoreError, match=r"cannot .*nope\.txt"):
        store.put_file(tmp_path / "nope.txt", "k.txt")
