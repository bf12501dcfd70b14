"""Conditional creates must be atomic on the server, not only guarded by a look-before-write.

Each driver checks for an existing object first as a shortcut; these tests disable that
shortcut so the write itself has to be refused by the backend (If-None-Match / hard link).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from azure.storage.blob import BlobClient

from kubeline.stores import Store

from .conftest import StoreFactory

SIZES = [5, 9 * 1024 * 1024]  # one request, and multipart / staged blocks


def disable_precheck(store: Store, kind: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the driver believe the object is absent so only the backend can refuse."""
    if kind == "s3":
        monkeypatch.setattr(store, "_head", lambda key: None)
    elif kind == "azure":
        monkeypatch.setattr(BlobClient, "exists", lambda self, **kwargs: False)
    else:
        monkeypatch.setattr(Path, "exists", lambda self, **kwargs: False)


@pytest.mark.parametrize("size", SIZES, ids=["small", "multipart"])
def test_put_file_without_overwrite_is_refused_by_the_backend(
    make_store: StoreFactory,
    kind: str,
    size: int,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store = make_store()
    original = os.urandom(size)
    store.put_bytes("out/model.bin", original)
    other = tmp_path / "other.bin"
    other.write_bytes(os.urandom(size))

    with monkeypatch.context() as patched:
        disable_precheck(store, kind, patched)
        assert store.put_file(other, "out/model.bin", overwrite=False) is False

    assert store.get_bytes("out/model.bin") == original
    assert [o.key for o in store.list()] == ["out/model.bin"]  # no stray temp objects
    if kind == "s3":  # the refused multipart upload was aborted, not left to cost storage
        client, bucket = store._client, store.config.bucket  # type: ignore[attr-defined]
        assert client.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


def test_put_bytes_if_absent_is_refused_by_the_backend(
    make_store: StoreFactory, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = make_store()
    assert store.put_bytes("cache/key", b"winner", if_absent=True) is True
    with monkeypatch.context() as patched:
        disable_precheck(store, kind, patched)
        assert store.put_bytes("cache/key", b"loser", if_absent=True) is False
    assert store.get_bytes("cache/key") == b"winner"


@pytest.mark.parametrize("kind", ["local"])
def test_racing_local_creates_have_exactly_one_winner(make_store: StoreFactory) -> None:
    """Local atomicity is this driver's own job (S3/Azure delegate it to the service)."""
    store = make_store()
    results: dict[int, bool] = {}
    barrier = threading.Barrier(16)

    def create(i: int) -> None:
        barrier.wait()
        results[i] = store.put_bytes("lock/claim", f"writer {i}".encode(), if_absent=True)

    threads = [threading.Thread(target=create, args=(i,)) for i in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    winners = [i for i, won in results.items() if won]
    assert len(results) == 16 and len(winners) == 1
    assert store.get_bytes("lock/claim") == f"writer {winners[0]}".encode()
    assert [o.key for o in store.list()] == ["lock/claim"]
