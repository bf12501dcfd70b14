"""The completion record is written last, with a conditional create (first commit wins)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kubeline.runtime import records
from kubeline.stores.local import LocalStore


class RecordingStore(LocalStore):
    """The real local store, noting the order of its writes."""

    def __init__(self, name: str, root: Path) -> None:
        super().__init__(name, root)
        self.writes: list[str] = []

    def put_file(self, local_path: Path, key: str, *, overwrite: bool = True) -> bool:
        self.writes.append(key)
        return super().put_file(local_path, key, overwrite=overwrite)

    def put_bytes(self, key: str, data: bytes, *, if_absent: bool = False) -> bool:
        self.writes.append(key)
        return super().put_bytes(key, data, if_absent=if_absent)


def _folder(tmp_path: Path, text: str) -> Path:
    out = tmp_path / f"out-{text}"
    (out / "deep").mkdir(parents=True)
    (out / "a.bin").write_text(text)
    (out / "deep" / "b.bin").write_text(text * 2)
    return out


def test_record_is_the_last_write(tmp_path: Path) -> None:
    store = RecordingStore("main", tmp_path / "store")
    meta = records.OutputMeta("k" * 64, "run-1", "prod")
    record = records.commit(store, meta, "d", _folder(tmp_path, "x"))
    prefix = f"kubeline/outputs/{'k' * 64}/d"
    assert store.writes == [f"{prefix}/a.bin", f"{prefix}/deep/b.bin", f"{prefix}.complete.json"]
    assert record["files"] == [
        {"path": "a.bin", "size": 1, "sha256": records.sha256_file(tmp_path / "out-x/a.bin")},
        {"path": "deep/b.bin", "size": 2,
         "sha256": records.sha256_file(tmp_path / "out-x/deep/b.bin")},
    ]


def test_first_commit_of_a_key_wins(tmp_path: Path) -> None:
    store = RecordingStore("main", tmp_path / "store")
    first = records.commit(store, records.OutputMeta("k" * 64, "run-1", "prod"), "d",
                           _folder(tmp_path, "x"))
    store.writes.clear()
    second = records.commit(store, records.OutputMeta("k" * 64, "run-2", "prod"), "d",
                            _folder(tmp_path, "y"))
    assert second == first and second["run_id"] == "run-1"
    assert store.writes == []  # already committed: nothing uploaded again
    fetched = records.fetch(store, "k" * 64, "d", "prod", tmp_path / "got")
    assert fetched["run_id"] == "run-1"
    assert (tmp_path / "got" / "a.bin").read_text() == "x"


def test_half_uploaded_output_is_invisible(tmp_path: Path) -> None:
    store = LocalStore("main", tmp_path / "store")
    key = "c" * 64
    store.put_bytes(f"kubeline/outputs/{key}/d/a.bin", b"partial")  # objects, no record
    with pytest.raises(records.UpstreamError, match="upstream output not committed"):
        records.fetch(store, key, "d", "prod", tmp_path / "got")
    assert not (tmp_path / "got").exists()


def test_missing_output_commits_an_empty_folder(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    store = LocalStore("main", tmp_path / "store")
    record = records.commit(store, records.OutputMeta("e" * 64, "r", "s"), "never",
                            tmp_path / "absent")
    assert record["kind"] == "dir" and record["files"] == []
    assert "output 'never' was not written by the step" in capsys.readouterr().err
    records.fetch(store, "e" * 64, "never", "s", tmp_path / "got")
    assert (tmp_path / "got").is_dir() and list((tmp_path / "got").iterdir()) == []
    body = json.loads(store.get_bytes(f"kubeline/outputs/{'e' * 64}/never.complete.json"))
    assert body["size"] == 0
