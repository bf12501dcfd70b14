"""Datastore paths are refused where a pipeline defines them: DataReference, DataPath,
PipelineData names, Datastore.path/upload/upload_files/download (local, moto's S3, Azurite),
Schedule.create; and `kubeline compile` exits 2 with one line, writing and uploading nothing."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest
from tests.dsl.test_remote_datastores import register_lake
from tests.pipelines import kubeline, workspace
from tests.server.conftest import publish
from tests.servers import AzuriteServer, S3Server

from kubeline import (
    DataPath,
    DataReference,
    Datastore,
    Pipeline,
    PipelineData,
    PipelineParameter,
    PythonScriptStep,
    Workspace,
)
from kubeline.datapaths import DatastorePathError
from kubeline.dsl.schedule import Schedule
from kubeline.exceptions import ValidationError
from kubeline.server.registry import Registry

ESCAPING = ["../../x", "data/../../x", "/etc/passwd", "..\\..\\x", "data\\..\\..\\x",
            "a\x00b", "C:/Windows", "s3://other-bucket/x", "..", "a/b/.."]


def _one_line(exc: BaseException, *parts: str) -> None:
    text = str(exc)
    assert "\n" not in text, text
    for part in parts:
        assert part in text, (part, text)


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return workspace(tmp_path / "ws")


@pytest.mark.parametrize("path", ESCAPING)
def test_data_reference_refuses_paths_leaving_the_datastore(ws: Workspace, path: str) -> None:
    store = ws.get_default_datastore()
    with pytest.raises(DatastorePathError) as info:
        DataReference(store, "raw", path)
    _one_line(info.value, "DataReference 'raw': path_on_datastore", repr(path),
              "datastore 'workspaceblobstore'")
    with pytest.raises(DatastorePathError):
        store.path(path)
    with pytest.raises(DatastorePathError):
        DataReference(store, "raw", "data").path(path)
    with pytest.raises(DatastorePathError) as info:
        DataPath(store, path, name="input_path")
    _one_line(info.value, "DataPath 'input_path': path_on_datastore", repr(path))


@pytest.mark.parametrize(("given", "canonical"), [
    (None, ""), ("", ""), (".", ""), ("./data", "data"), ("data/./v1/", "data/v1"),
    ("data//v1", "data/v1"), ("20news/20news.pkl", "20news/20news.pkl"),
    ("data/..v1/x..y", "data/..v1/x..y"), ("~user/x", "~user/x"),
])
def test_paths_inside_are_kept_in_one_canonical_form(ws: Workspace, given: str | None,
                                                     canonical: str) -> None:
    store = ws.get_default_datastore()
    assert DataReference(store, "raw", given).path_on_datastore == canonical
    assert DataPath(store, given).path_on_datastore == canonical
    assert DataReference(store, "raw", "base").path(given).path_on_datastore == \
        "/".join(p for p in ("base", canonical) if p)


@pytest.mark.parametrize("name", ["..", "../model", "a/b", "/model", "", "a\\b", "x\x00", "."])
def test_pipeline_data_names_are_single_datastore_names(name: str) -> None:
    with pytest.raises(DatastorePathError) as info:
        PipelineData(name)
    _one_line(info.value, "PipelineData: name", repr(name))


def _pipeline(ws: Workspace, inputs: list[Any], outputs: list[Any]) -> Pipeline:
    step = PythonScriptStep("step.py", name="train", source_directory="scripts",
                            arguments=[*inputs, *outputs], inputs=inputs, outputs=outputs)
    pipeline = Pipeline(ws, steps=[step])
    pipeline._base_dir = ws.root
    return pipeline


def test_paths_changed_after_construction_are_caught_by_the_graph(ws: Workspace) -> None:
    """Attributes are plain: a path set later is checked again when the graph is built."""
    store = ws.get_default_datastore()
    raw = DataReference(store, "raw", "data")
    raw.path_on_datastore = "../outside"
    path = DataPath(store, "ok")
    path.path_on_datastore = "/etc"
    param = PipelineParameter("input_path", default_value=path)
    model = PipelineData("model")
    model.name = "../model"
    with pytest.raises(ValidationError) as info:
        _pipeline(ws, [raw, param], [model]).graph()
    problems = info.value.problems
    assert any(p.startswith("step 'train': input 'raw': path_on_datastore '../outside' has "
                            "a '..' segment") for p in problems), problems
    assert any("PipelineParameter 'input_path': DataPath path '/etc' is absolute" in p
               for p in problems), problems
    assert any("PipelineData: name '../model'" in p for p in problems), problems


def test_compile_refuses_with_one_line_and_writes_nothing(ws: Workspace) -> None:
    (ws.root / "pipeline.py").write_text(textwrap.dedent("""
        from kubeline import DataReference, Pipeline, PythonScriptStep, Workspace
        ws = Workspace.from_config()
        raw = DataReference(ws.get_default_datastore(), "raw", "../../../outside.txt")
        step = PythonScriptStep("step.py", arguments=[raw], inputs=[raw],
                                source_directory="scripts")
        pipeline = Pipeline(ws, steps=[step])
    """), encoding="utf-8")
    done = kubeline("compile", "pipeline.py", "-o", "build", cwd=ws.root, check=False)
    assert done.returncode == 2, done
    assert done.stderr.strip().count("\n") == 0 and "Traceback" not in done.stderr
    assert done.stderr.startswith("kubeline: error: DataReference 'raw': path_on_datastore "
                                  "'../../../outside.txt' has a '..' segment"), done.stderr
    assert not (ws.root / "build").exists()
    assert not (ws.root / ".kubeline" / "datastores").exists()  # no snapshot uploaded


def _files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def _local_objects(ws: Workspace) -> list[str]:
    root = ws.root / ".kubeline" / "datastores"
    return _files(root) if root.exists() else []


def _uploads_refused(store: Datastore, tmp_path: Path, objects: Any) -> None:
    """Every bad target_path/prefix, and a file outside relative_root, upload nothing."""
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "a.csv").write_text("a")
    (src / "sub" / "b.csv").write_text("b")
    (tmp_path / "elsewhere.csv").write_text("e")
    store.upload_files([str(src / "a.csv")], target_path="kept", show_progress=False)
    before = objects()
    for bad in ESCAPING:
        with pytest.raises(DatastorePathError) as info:
            store.upload(str(src), target_path=bad, show_progress=False)
        _one_line(info.value, "upload: target_path", repr(bad), f"datastore '{store.name}'")
        with pytest.raises(DatastorePathError) as info:
            store.upload_files([str(src / "a.csv")], target_path=bad, show_progress=False)
        _one_line(info.value, "upload_files: target_path", repr(bad))
        with pytest.raises(DatastorePathError) as info:
            store.download(str(tmp_path / "down"), prefix=bad, show_progress=False)
        _one_line(info.value, "download: prefix", repr(bad))
    with pytest.raises(DatastorePathError) as info:  # the first file is fine, the second not
        store.upload_files([str(src / "a.csv"), str(tmp_path / "elsewhere.csv")],
                           relative_root=str(src), target_path="batch", show_progress=False)
    _one_line(info.value, "upload_files:", "elsewhere.csv", "'..' segment")
    assert objects() == before
    assert not (tmp_path / "down").exists()
    assert store.download(str(tmp_path / "ok"), prefix="kept/", show_progress=False) == 1


def test_local_datastore_uploads_and_downloads(ws: Workspace, tmp_path: Path) -> None:
    _uploads_refused(ws.get_default_datastore(), tmp_path, lambda: _local_objects(ws))


def test_s3_datastore_uploads_and_downloads(ws: Workspace, tmp_path: Path,
                                            s3_server: S3Server,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    bucket = s3_server.create_bucket()
    store = register_lake(ws, s3_server, bucket, monkeypatch)
    client = s3_server.client()

    def objects() -> list[str]:
        return sorted(o["Key"] for o in client.list_objects_v2(Bucket=bucket).get("Contents", []))

    _uploads_refused(store, tmp_path, objects)
    # an object another tool stored with '..' in its key refuses the whole download
    client.put_object(Bucket=bucket, Key="team/in/a.txt", Body=b"a")
    client.put_object(Bucket=bucket, Key="team/in/../../../evil.txt", Body=b"x")
    with pytest.raises(DatastorePathError, match=r"invalid key 'in/\.\./\.\./\.\./evil\.txt'"):
        store.download(str(tmp_path / "dl" / "inner"), prefix="in/", show_progress=False)
    assert not (tmp_path / "dl").exists() and not list(tmp_path.rglob("evil.txt"))


def test_azure_datastore_uploads_and_downloads(ws: Workspace, tmp_path: Path,
                                               azurite: AzuriteServer,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    container = azurite.create_container()
    monkeypatch.setenv("BLOBS_CREDENTIALS_ACCOUNTKEY", azurite.account_key)
    store = Datastore.register_azure_blob_container(
        ws, "blobs", container, azurite.account_name, endpoint=azurite.endpoint_url)
    client = azurite.service_client().get_container_client(container)
    _uploads_refused(store, tmp_path, lambda: sorted(b.name for b in client.list_blobs()))


@pytest.mark.parametrize("path", ["../other", "/incoming", "in\\..\\..\\x"])
def test_data_change_schedule_refuses_a_path_leaving_the_datastore(tmp_path: Path,
                                                                   path: str) -> None:
    from tests.server.conftest import make_workspace

    ws = make_workspace(tmp_path / "ws")
    pub = publish(ws)
    with pytest.raises(DatastorePathError) as info:
        Schedule.create(ws, "watch", pub.id, "Watched", datastore=ws.get_default_datastore(),
                        path_on_datastore=path, polling_interval=1)
    _one_line(info.value, "Schedule.create: path_on_datastore", repr(path))
    assert Registry(ws.state_dir).list_schedules() == []
