"""Local-driver details that the cross-driver contract tests cannot see."""

from __future__ import annotations

from pathlib import Path

from kubeline.stores.atomic import TEMP_PREFIX
from kubeline.stores.local import LocalStore


def test_etag_is_content_sha256_and_follows_same_size_rewrites(tmp_path: Path) -> None:
    store = LocalStore("d", tmp_path)
    store.put_bytes("k", b"aaaa")
    first = store.etag("k")
    assert first == "61be55a8e2f6b4e172338bddf184d6dbee29c98853e0a0485ecee7f27b9af0b4"
    store.put_bytes("k", b"bbbb")  # same size: the cache must not answer the old hash
    assert store.etag("k") not in (None, first)


def test_temp_files_of_writers_in_flight_are_not_listed(tmp_path: Path) -> None:
    store = LocalStore("d", tmp_path)
    store.put_bytes("a/done.txt", b"1")
    (tmp_path / "a" / f"{TEMP_PREFIX}abc").write_bytes(b"partial")
    assert [o.key for o in store.list()] == ["a/done.txt"]


def test_delete_prunes_empty_folders_but_not_the_root(tmp_path: Path) -> None:
    root = tmp_path / "store"
    store = LocalStore("d", root)
    store.put_bytes("x/y/z.txt", b"1")
    store.delete("x/y/z.txt")
    assert root.is_dir() and list(root.iterdir()) == []


def test_folders_are_prefixes_not_objects(tmp_path: Path) -> None:
    store = LocalStore("d", tmp_path)
    store.put_bytes("dir/file", b"1")
    assert not store.exists("dir")
    assert store.etag("dir") is None
    assert store.list("missing-root-is-fine/") is not None
    assert list(LocalStore("d", tmp_path / "absent").list()) == []
