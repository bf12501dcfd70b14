"""Datasets (issue 13 point 2): Dataset.File/Tabular over datastore paths and globs, the
registry with versions, consumption by steps (mount, download, direct with input_datasets),
OutputFileDatasetConfig (destination, register_on_complete, read_delimited_files), reuse keys
that follow the dataset version, dataset parameters, Argo compilation, and one-line errors.
Local, S3 (moto's server) and Azure Blob (Azurite) datastores, all real."""

from __future__ import annotations

import functools
import http.server
import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from kubeline import (
    Dataset,
    DatasetConsumptionConfig,
    Datastore,
    Experiment,
    FileDataset,
    OutputFileDatasetConfig,
    Pipeline,
    PipelineParameter,
    PythonScriptStep,
    TabularDataset,
    Workspace,
)
from kubeline.datapaths import DatastorePathError
from kubeline.exceptions import KubelineError, UserErrorException
from kubeline.stores.config import SecretRef, secret_env_name
from tests.servers import AzuriteServer, S3Server

TRAIN = """\
import argparse, json, os
from azureml.core import Run
p = argparse.ArgumentParser()
p.add_argument("--files"); p.add_argument("--table"); p.add_argument("--out")
a = p.parse_args()
run = Run.get_context()
table = run.input_datasets["table"]
df = table.to_pandas_dataframe()
listing = sorted(os.path.relpath(os.path.join(d, n), a.files)
                 for d, _, names in os.walk(a.files) for n in names)
print("SEEN", json.dumps({"files": listing, "table_arg": a.table, "rows": len(df),
                          "columns": list(df.columns), "kind": type(table).__name__,
                          "out": run.output_datasets["result"] == a.out}))
os.makedirs(a.out, exist_ok=True)
df.to_csv(os.path.join(a.out, "result.csv"), index=False)
with open(os.path.join(a.out, "notes.txt"), "w") as f:
    f.write("not a table")
"""
CONSUME = """\
import sys
from azureml.core import Run
run = Run.get_context()
table = run.input_datasets["result_table"]
print("CONSUMED", sys.argv[1], open(sys.argv[1]).read(), len(table.to_pandas_dataframe()))
"""
SHOW = "import sys\nprint('SHOW', sys.argv[1], open(sys.argv[1]).read())\n"


def _workspace(root: Path, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    root.mkdir(parents=True, exist_ok=True)
    (root / "kubeline.yaml").write_text("name: datasets\n", encoding="utf-8")
    src = root / "src"
    src.mkdir(exist_ok=True)
    for name, text in (("train.py", TRAIN), ("consume.py", CONSUME), ("show.py", SHOW)):
        (src / name).write_text(text, encoding="utf-8")
    monkeypatch.chdir(root)
    return Workspace(_root=root)


def _upload(store: Datastore, root: Path) -> None:
    data = root / "data"
    for rel, text in (("parts/a/1.csv", "x,y\n1,2\n3,4\n"), ("parts/b/2.csv", "x,y\n5,6\n"),
                      ("parts/b/skip.txt", "not csv"), ("one.txt", "hello"),
                      ("two.txt", "bye")):
        (data / rel).parent.mkdir(parents=True, exist_ok=True)
        (data / rel).write_text(text, encoding="utf-8")
    store.upload(str(data), target_path="data", overwrite=True, show_progress=False)


def _seen(run: Any, step: str, marker: str) -> str:
    log = str(run.find_step_run(step)[0].get_stdout_log())
    return next(line for line in log.splitlines() if line.startswith(marker))


# --- one pipeline on each datastore kind --------------------------------------------------------

def _pipeline_on(ws: Workspace, store: Datastore) -> None:
    _upload(store, ws.root)
    files = Dataset.File.from_files(path=(store, "data/parts/**/*.csv"))
    assert files.to_path() == ["/a/1.csv", "/b/2.csv"]
    table = Dataset.Tabular.from_delimited_files(store.path("data/parts/*/*.csv"),
                                                 partition_format="{part}/{n}.csv")
    table = table.register(ws, "parts")
    frame = table.to_pandas_dataframe()
    assert list(frame["x"]) == [1, 3, 5] and list(frame["part"]) == ["a", "a", "b"]
    result = OutputFileDatasetConfig(
        name="result", destination=(store, "published/{run-id}/{output-name}"))
    result = result.register_on_complete("results", tags={"kind": "csv"})
    train = PythonScriptStep(
        "train.py", source_directory="src",
        arguments=["--files", files.as_named_input("files").as_mount(),
                   "--table", table.as_named_input("table"), "--out", result])
    consume = PythonScriptStep(
        "consume.py", source_directory="src",
        arguments=[Dataset.File.from_files(store.path("data/one.txt")).as_download()],
        inputs=[result.read_delimited_files().as_input("result_table")])
    run = Experiment(ws, "datasets").submit(Pipeline(ws, steps=[consume, train]))
    assert run.wait_for_completion(show_output=False) == "Finished"
    seen = json.loads(_seen(run, "train.py", "SEEN").split(" ", 1)[1])
    assert seen == {"files": ["a/1.csv", "b/2.csv"], "table_arg": "table", "rows": 3,
                    "columns": ["x", "y", "part", "n"], "kind": "TabularDataset", "out": True}
    # the consumer ran after the producer and read its output as a table (notes.txt is read
    # too: a header line and no rows)
    assert _seen(run, "consume.py", "CONSUMED").endswith(" hello 3")
    registered = Dataset.get_by_name(ws, "results")
    assert registered.version == 1 and registered.tags == {"kind": "csv"}
    (source,) = registered.spec.sources
    assert (source.datastore, source.path) == (store.name, f"published/{run.id}/result")
    assert registered.to_path() == ["/notes.txt", "/result.csv"]
    downloaded = registered.download(str(ws.root / "dl"))
    assert sorted(Path(p).name for p in downloaded) == ["notes.txt", "result.csv"]
    assert (ws.root / "dl" / "result.csv").read_text().startswith("x,y,part,n")


def test_pipeline_on_the_local_datastore(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                         ) -> None:
    ws = _workspace(tmp_path / "ws", monkeypatch)
    _pipeline_on(ws, ws.get_default_datastore())


def test_pipeline_on_s3(s3_server: S3Server, tmp_path: Path,
                        monkeypatch: pytest.MonkeyPatch) -> None:
    ws = _workspace(tmp_path / "ws", monkeypatch)
    bucket = s3_server.create_bucket()
    store = Datastore.register_s3(ws, "lake", bucket, prefix="team",
                                  endpoint=s3_server.endpoint_url, region=s3_server.region,
                                  insecure=True, credentials_secret="lake-creds")
    for key, value in (("accessKey", s3_server.access_key),
                       ("secretKey", s3_server.secret_key)):
        monkeypatch.setenv(secret_env_name(SecretRef(name="lake-creds", key=key)), value)
    store.set_as_default()  # the registry lives in the default datastore: the bucket
    _pipeline_on(ws, store)
    keys = {o["Key"] for o in s3_server.client().list_objects_v2(
        Bucket=bucket, Prefix="team/kubeline/datasets/")["Contents"]}
    assert keys == {"team/kubeline/datasets/parts/1.json", "team/kubeline/datasets/results/1.json"}


def test_pipeline_on_azure_blob(azurite: AzuriteServer, tmp_path: Path,
                                monkeypatch: pytest.MonkeyPatch) -> None:
    ws = _workspace(tmp_path / "ws", monkeypatch)
    container = azurite.create_container()
    monkeypatch.setenv("BLOBS_CREDENTIALS_ACCOUNTKEY", azurite.account_key)
    store = Datastore.register_azure_blob_container(ws, "blobs", container,
                                                    azurite.account_name,
                                                    endpoint=azurite.endpoint_url)
    _pipeline_on(ws, store)  # the registry stays in the local default datastore
    names = {b.name for b in azurite.service_client().get_container_client(container)
             .list_blobs(name_starts_with="published/")}
    assert len(names) == 2 and all(n.endswith(("/result/result.csv", "/result/notes.txt"))
                                   for n in names)
    assert (ws.root / ".kubeline/datastores/workspaceblobstore/kubeline/datasets/results/1.json"
            ).is_file()


# --- files, globs, tables -------------------------------------------------------------------

def test_globs_folders_and_single_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                        ) -> None:
    ws = _workspace(tmp_path / "ws", monkeypatch)
    store = ws.get_default_datastore()
    _upload(store, ws.root)

    def paths(path: Any) -> list[str]:
        return Dataset.File.from_files(path).to_path()

    assert paths((store, "data/parts")) == ["/a/1.csv", "/b/2.csv", "/b/skip.txt"]
    assert paths(store.path("data/parts/*/*.txt")) == ["/b/skip.txt"]
    assert paths((store, "data/*.txt")) == ["/one.txt", "/two.txt"]
    assert paths((store, "data/?ne.txt")) == ["/one.txt"]
    assert paths((store, "data/parts/[ab]/1.csv")) == ["/a/1.csv"]
    assert paths((store, "data/**/*.csv")) == ["/parts/a/1.csv", "/parts/b/2.csv"]
    assert paths([(store, "data/one.txt"), (store, "data/parts/a/1.csv")]) == \
        ["/one.txt", "/parts/a/1.csv"]
    single = Dataset.File.from_files((store, "data/one.txt"))
    (path,) = single.download(str(tmp_path / "single"))
    assert Path(path).read_text() == "hello"
    assert single.take(1).to_path() == ["/one.txt"]
    assert Dataset.File.from_files((store, "data/*.txt")).skip(1).to_path() == ["/two.txt"]
    with pytest.raises(UserErrorException, match="exists"):
        single.download(str(tmp_path / "single"))
    assert single.download(str(tmp_path / "single"), overwrite=True) == [path]


def test_tables_delimited_parquet_and_partitions(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    import pandas  # a test dependency (and the datasets extra)
    ws = _workspace(tmp_path / "ws", monkeypatch)
    store = ws.get_default_datastore()
    data = tmp_path / "t"
    (data / "sales/2024/01/02").mkdir(parents=True)
    (data / "sales/2024/01/03").mkdir(parents=True)
    (data / "sales/2024/01/02/eu.csv").write_text("1;a\n2;b\n", encoding="utf-8")
    (data / "sales/2024/01/03/us.csv").write_text("3;c\n", encoding="utf-8")
    frame = pandas.DataFrame({"v": [1.5, 2.5, 3.5], "k": ["p", "q", "r"]})
    (data / "pq").mkdir()
    frame.to_parquet(data / "pq" / "part-0.parquet")
    store.upload(str(data), target_path="t", show_progress=False)
    sales = Dataset.Tabular.from_delimited_files(
        (store, "t/sales/**/*.csv"), separator=";", header=False, include_path=True,
        partition_format="{when:yyyy/MM/dd}/{region}.csv")
    assert sales.partition_keys == ["when", "region"]
    table = sales.to_pandas_dataframe()
    assert list(table.columns) == ["Path", 0, 1, "when", "region"]
    assert list(table["Path"]) == ["/2024/01/02/eu.csv", "/2024/01/02/eu.csv",
                                   "/2024/01/03/us.csv"]
    assert [d.day for d in table["when"]] == [2, 2, 3]
    assert sales.get_partition_key_values(["region"]) == [{"region": "eu"}, {"region": "us"}]
    assert len(sales.skip(1).take(1).to_pandas_dataframe()) == 1
    assert list(sales.keep_columns(["region"]).to_pandas_dataframe().columns) == ["region"]
    assert "Path" not in sales.drop_columns("Path").to_pandas_dataframe().columns
    parquet = Dataset.Tabular.from_parquet_files(store.path("t/pq/*.parquet"))
    assert parquet.to_pandas_dataframe().equals(frame)
    assert isinstance(parquet, TabularDataset) and not isinstance(parquet, FileDataset)


def test_url_source_served_on_loopback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                       ) -> None:
    """A public URL, as the REST notebook's Titanic.csv (a loopback server stands in)."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "Titanic.csv").write_text("PassengerId,Survived\n1,0\n2,1\n", encoding="utf-8")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/Titanic.csv"
        ws = _workspace(tmp_path / "ws", monkeypatch)
        assert len(Dataset.Tabular.from_delimited_files(url).to_pandas_dataframe()) == 2
        step = PythonScriptStep("show.py", source_directory="src", arguments=[
            Dataset.File.from_files(url).as_named_input("test_data").as_mount()])
        run = Experiment(ws, "url").submit(Pipeline(ws, steps=[step]))
        assert run.wait_for_completion(show_output=False) == "Finished"
        shown = _seen(run, "show.py", "SHOW")
        assert shown.endswith("Titanic.csv PassengerId,Survived")
    finally:
        server.shutdown()
        server.server_close()


# --- the registry ---------------------------------------------------------------------------

def test_registry_versions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ws = _workspace(tmp_path / "ws", monkeypatch)
    store = ws.get_default_datastore()
    _upload(store, ws.root)
    one = Dataset.File.from_files((store, "data/one.txt"))
    first = one.register(ws, "text", description="greeting", tags={"lang": "en"})
    assert (first.name, first.version, first.id) == ("text", 1, "text:1")
    assert one.register(ws, "text").version == 1, "the same definition keeps its version"
    table = Dataset.Tabular.from_delimited_files((store, "data/parts/*/*.csv"))
    narrow = table.keep_columns(["x"]).register(ws, "narrow")
    assert table.keep_columns(["x"]).register(ws, "narrow").version == narrow.version == 1
    assert Dataset.get_by_name(ws, "narrow").register(ws, "narrow").version == 1
    assert list(Dataset.get_by_name(ws, "narrow").to_pandas_dataframe().columns) == ["x"]
    two = Dataset.File.from_files((store, "data/two.txt"))
    with pytest.raises(UserErrorException, match=r"already registered .*create_new_version"):
        two.register(ws, "text")
    assert two.register(ws, "text", create_new_version=True).version == 2
    assert Dataset.get_by_name(ws, "text").to_path() == ["/two.txt"]
    assert Dataset.get_by_name(ws, "text", version=1).description == "greeting"
    assert Dataset.get_by_id(ws, "text:1").tags == {"lang": "en"}
    assert isinstance(Dataset.get_by_name(ws, "text"), FileDataset)
    assert sorted(Dataset.get_all(ws)) == ["narrow", "text"] == sorted(ws.datasets)
    assert [d.id for d in Dataset.list(ws)] == ["narrow:1", "text:2"]
    latest = Dataset.get_by_name(ws, "text").add_tags({"stage": "prod"})
    assert Dataset.get_by_name(ws, "text").tags == {"stage": "prod"}
    with pytest.raises(UserErrorException, match="dataset 'text' version 7 is not registered"):
        Dataset.get_by_name(ws, "text", version=7)
    latest.unregister_all_versions()
    with pytest.raises(UserErrorException, match="dataset 'text' is not registered"):
        Dataset.get_by_name(ws, "text")
    assert (store.name, "data/two.txt") == (latest.spec.sources[0].datastore,
                                            latest.spec.sources[0].path)


# --- reuse follows the dataset version --------------------------------------------------------

def test_reuse_key_includes_the_dataset_version(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    ws = _workspace(tmp_path / "ws", monkeypatch)
    store = ws.get_default_datastore()
    _upload(store, ws.root)
    Dataset.File.from_files((store, "data/one.txt")).register(ws, "greeting")

    def submit() -> Any:
        ds = Dataset.get_by_name(ws, "greeting")
        step = PythonScriptStep("show.py", source_directory="src",
                                arguments=[ds.as_named_input("g").as_download()])
        run = Experiment(ws, "reuse").submit(Pipeline(ws, steps=[step]))
        assert run.wait_for_completion(show_output=False) == "Finished"
        return run

    first = submit()
    assert _seen(first, "show.py", "SHOW").endswith("one.txt hello")
    second = submit()
    assert second.find_step_run("show.py")[0].reused, "same dataset version: reused"
    Dataset.File.from_files((store, "data/two.txt")).register(ws, "greeting",
                                                              create_new_version=True)
    third = submit()
    assert not third.find_step_run("show.py")[0].reused, "a new dataset version reruns"
    assert _seen(third, "show.py", "SHOW").endswith("two.txt bye")


def test_dataset_as_pipeline_parameter(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                       ) -> None:
    """The mnist notebook's form: PipelineParameter(default_value=dataset) consumed through
    DatasetConsumptionConfig, and another dataset passed at submit time."""
    ws = _workspace(tmp_path / "ws", monkeypatch)
    store = ws.get_default_datastore()
    _upload(store, ws.root)
    param = PipelineParameter(name="text_param",
                              default_value=Dataset.File.from_files((store, "data/one.txt")))
    config = DatasetConsumptionConfig("text_config", param).as_mount()
    step = PythonScriptStep("show.py", source_directory="src", arguments=[config])
    pipeline = Pipeline(ws, steps=[step])
    run = Experiment(ws, "param").submit(pipeline)
    assert run.wait_for_completion(show_output=False) == "Finished"
    assert _seen(run, "show.py", "SHOW").endswith("one.txt hello")
    other = Dataset.File.from_files((store, "data/two.txt"), validate=False)
    run = Experiment(ws, "param").submit(pipeline, pipeline_parameters={"text_param": other})
    assert run.wait_for_completion(show_output=False) == "Finished"
    assert _seen(run, "show.py", "SHOW").endswith("two.txt bye")
    published = pipeline.publish(name="show-text")
    run = published.submit(ws, "param", pipeline_parameters={"text_param": other})
    assert run.wait_for_completion(show_output=False) == "Finished"
    # the same definition as the run before, so the same key: that run's outputs are reused
    assert run.find_step_run("show.py")[0].reused


# --- compiled for clusters, and `kubeline run` --------------------------------------------------

PIPELINE_FILE = """\
from azureml.core import Dataset, Experiment, Workspace
from azureml.data import OutputFileDatasetConfig
from azureml.pipeline.core import Pipeline
from azureml.pipeline.steps import PythonScriptStep

ws = Workspace.from_config()
store = ws.get_default_datastore()
ds = Dataset.get_by_name(ws, "greeting")
out = OutputFileDatasetConfig(name="copy").register_on_complete("copies")
step = PythonScriptStep("copy.py", source_directory="src",
                        arguments=[ds.as_named_input("g").as_download(), out])
pipeline = Pipeline(ws, steps=[step])

if __name__ == "__main__":
    Experiment(ws, "cli").submit(pipeline).wait_for_completion()
"""
COPY = ("import os, shutil, sys\nos.makedirs(sys.argv[2], exist_ok=True)\n"
        "shutil.copy(sys.argv[1], sys.argv[2])\nprint('COPIED', os.listdir(sys.argv[2]))\n")


def test_compiled_for_argo_and_run_with_the_cli(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from kubeline.compiler.api import compile_pipelines, render

    ws = _workspace(tmp_path / "ws", monkeypatch)
    store = ws.get_default_datastore()
    _upload(store, ws.root)
    Dataset.File.from_files((store, "data/one.txt")).register(ws, "greeting")
    (ws.root / "src" / "copy.py").write_text(COPY, encoding="utf-8")
    (ws.root / "pipeline.py").write_text(PIPELINE_FILE, encoding="utf-8")
    texts = ["".join(text for name, text in render(compile_pipelines(ws.root / "pipeline.py"))
                     .items() if name != "kustomization.yaml") for _ in range(2)]
    assert texts[0] == texts[1], "the same pipeline compiles to the same bytes"
    text = texts[0]
    spec = ('"dataset":"{\\"format\\":\\"files\\",\\"kind\\":\\"file\\",\\"name\\":\\"greeting'
            '\\",\\"sources\\":[{\\"datastore\\":\\"workspaceblobstore\\",\\"path\\":\\"data/'
            'one.txt\\"}],\\"version\\":1}"')
    assert spec in text, "the step spec carries the definition with its version"
    assert '"register":{"description":"","name":"copies","tags":{}}' in text.replace("\\", "")
    kubeline = Path(sys.executable).parent / "kubeline"
    env = {k: v for k, v in os.environ.items() if not k.startswith("KUBELINE_")}
    done = subprocess.run([str(kubeline), "run", "pipeline.py"], cwd=ws.root, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    copies = Dataset.get_by_name(ws, "copies")
    assert copies.to_path() == ["/one.txt"]
    assert Path(copies.download(str(tmp_path / "dl"))[0]).read_text() == "hello"


# --- bad input: one line, where the object is created ----------------------------------------

def _one_line(action: Callable[[], Any], kind: type[Exception], *words: str) -> None:
    with pytest.raises(kind) as caught:
        action()
    text = str(caught.value)
    assert "\n" not in text and all(w in text for w in words), text


def test_bad_input_fails_in_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ws = _workspace(tmp_path / "ws", monkeypatch)
    store = ws.get_default_datastore()
    _upload(store, ws.root)
    files = Dataset.File.from_files((store, "data/one.txt"))
    _one_line(lambda: Dataset.File.from_files(42), KubelineError, "path 42",
              "not a datastore path")
    _one_line(lambda: Dataset.File.from_files("data/one.txt"), KubelineError, "data/one.txt")
    _one_line(lambda: Dataset.File.from_files((store, "../etc/passwd")), DatastorePathError,
              "'..'", "path")
    _one_line(lambda: Dataset.File.from_files((store, "/etc/passwd")), DatastorePathError,
              "absolute")
    _one_line(lambda: Dataset.File.from_files((store, "nothing/*.csv")), KubelineError,
              "no files match", "validate=False")
    _one_line(lambda: Dataset.File.from_files((store, "data"), validate="yes"), KubelineError,
              "validate must be bool")
    _one_line(lambda: Dataset.File.from_files((store, "data"), wrong=1), KubelineError,
              "unknown argument 'wrong'")
    _one_line(lambda: Dataset.Tabular.from_delimited_files((store, "data"), header="maybe"),
              KubelineError, "header 'maybe'")
    _one_line(lambda: Dataset.Tabular.from_delimited_files((store, "data"),
                                                           set_column_types={"x": int}),
              KubelineError, "set_column_types")
    _one_line(lambda: files.as_named_input("bad name"), KubelineError, "name 'bad name'")
    _one_line(lambda: DatasetConsumptionConfig("x", files, mode="stream"), KubelineError,
              "mode 'stream'")
    _one_line(lambda: DatasetConsumptionConfig("x", "data/one.txt"), KubelineError,
              "dataset must be")
    table = Dataset.Tabular.from_delimited_files((store, "data/parts/a/1.csv"))
    _one_line(lambda: table.as_named_input("t").as_mount(), KubelineError,
              "TabularDataset cannot be consumed with as_mount")
    _one_line(lambda: OutputFileDatasetConfig(name="o", destination="somewhere"),
              KubelineError, "destination must be a tuple")
    _one_line(lambda: OutputFileDatasetConfig(name="o", destination=(store, "../up")),
              DatastorePathError, "'..'")
    _one_line(lambda: OutputFileDatasetConfig(name="o").register_on_complete("bad name!"),
              KubelineError, "register_on_complete", "bad name!")
    _one_line(lambda: files.mount(), KubelineError, "FileDataset.mount is not supported")
    _one_line(lambda: files.take("3"), KubelineError, "FileDataset.take: count must be int")
    _one_line(lambda: files.register(ws, 5), KubelineError, "register: name must be str")
    _one_line(lambda: OutputFileDatasetConfig(name="o").as_upload(overwrite="yes"),
              KubelineError, "as_upload: overwrite must be bool")
    _one_line(lambda: Dataset(definition=None), UserErrorException, "Dataset.File.from_files")
    _one_line(lambda: Dataset.get_by_name(ws, "missing"), UserErrorException,
              "dataset 'missing' is not registered")
    _one_line(lambda: Dataset.get_by_id(ws, "no-version"), UserErrorException,
              "'name:version'")


def test_consumer_alone_pulls_in_its_producer(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """The REST notebook's Pipeline(steps=[compareStep]): outputs read through as_input()
    bring their producing steps, as PipelineData inputs do."""
    ws = _workspace(tmp_path / "ws", monkeypatch)
    first = OutputFileDatasetConfig(name="first")
    second = OutputFileDatasetConfig(name="second")
    # the producers are only reachable through the data they write
    PythonScriptStep("show.py", name="make", source_directory="src", arguments=["--out", first])
    PythonScriptStep("show.py", name="extract", source_directory="src",
                     arguments=[first.as_input(), second])
    compare = PythonScriptStep("show.py", name="compare", source_directory="src",
                               arguments=[first.as_input(), second.as_input()])
    graph = Pipeline(ws, steps=[compare]).graph()
    assert [s.name for s in graph.steps] == ["make", "extract", "compare"]
    inputs = {i.name: (i.source, i.producer, i.mode) for i in graph.step("compare").inputs}
    assert inputs == {"first": ("pipeline_data", "make", "mount"),
                      "second": ("pipeline_data", "extract", "mount")}
    assert [o.is_directory for o in graph.step("make").outputs] == [True]
    assert {i.name: i.source for i in graph.step("extract").inputs} == {"first": "pipeline_data"}


WRITE = ("import os, sys\nos.makedirs(sys.argv[1], exist_ok=True)\n"
         "open(os.path.join(sys.argv[1], 'a.csv'), 'w').write('x\\n1\\n')\n"
         "open(os.path.join(sys.argv[1], 'log.txt'), 'w').write('log')\n")


def test_destination_upload_globs_and_overwrite(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    ws = _workspace(tmp_path / "ws", monkeypatch)
    (ws.root / "src" / "write.py").write_text(WRITE, encoding="utf-8")
    store = ws.get_default_datastore()
    published = ws.root / ".kubeline/datastores/workspaceblobstore/fixed"

    def submit(output: OutputFileDatasetConfig) -> Any:
        step = PythonScriptStep("write.py", source_directory="src", arguments=[output],
                                allow_reuse=False)
        run = Experiment(ws, "dest").submit(Pipeline(ws, steps=[step]))
        run.wait_for_completion(show_output=False, raise_on_error=False)
        return run

    upload = OutputFileDatasetConfig(name="tables", destination=(store, "fixed/{output-name}"))
    run = submit(upload.as_upload(source_globs=["*.csv"]))
    assert run.get_status() == "Finished"
    assert sorted(p.name for p in (published / "tables").iterdir()) == ["a.csv"]
    again = submit(upload.as_upload(source_globs=["*.csv"]))  # overwrite=False: refused
    assert again.get_status() == "Failed"
    err = str(again.find_step_run("write.py")[0].get_stderr_log())
    assert "output 'tables': workspaceblobstore:fixed/tables/a.csv exists (pass " \
           "as_upload(overwrite=True) or put {run-id} in the destination path)" in err
    assert submit(upload.as_upload(overwrite=True)).get_status() == "Finished"
    assert sorted(p.name for p in (published / "tables").iterdir()) == ["a.csv", "log.txt"]
    assert submit(upload.as_mount()).get_status() == "Finished", "mount mode overwrites"


def test_content_aware_runs_follow_the_files(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """`kubeline run --content-aware`: a registered version reused while its files are
    unchanged, rerun when a file at the same path changes."""
    ws = _workspace(tmp_path / "ws", monkeypatch)
    store = ws.get_default_datastore()
    _upload(store, ws.root)
    Dataset.File.from_files((store, "data/one.txt")).register(ws, "greeting")
    (ws.root / "src" / "copy.py").write_text(COPY, encoding="utf-8")
    (ws.root / "pipeline.py").write_text(PIPELINE_FILE, encoding="utf-8")
    kubeline = Path(sys.executable).parent / "kubeline"
    env = {k: v for k, v in os.environ.items() if not k.startswith("KUBELINE_")}

    def run() -> dict[str, Any]:
        done = subprocess.run([str(kubeline), "run", "--content-aware", "--json",
                               "pipeline.py"], cwd=ws.root, env=env, capture_output=True,
                              text=True, timeout=300)
        assert done.returncode == 0, done.stdout + done.stderr
        summary: dict[str, Any] = json.loads(done.stdout[done.stdout.index("{"):])
        return summary

    first, second = run(), run()
    stored = ws.root / ".kubeline/datastores/workspaceblobstore/data/one.txt"
    stored.write_text("changed", encoding="utf-8")
    third = run()
    keys = [_step_key(s) for s in (first, second, third)]
    assert keys[0] == keys[1] != keys[2], "same files: the same key; a changed file: another"
    copies = Dataset.get_by_name(ws, "copies", version=2)
    assert Path(copies.download(str(tmp_path / "dl"))[0]).read_text() == "changed"


def _step_key(summary: dict[str, Any]) -> str:
    (node,) = [n for n in summary["nodes"] if n["type"] == "Pod"]
    return str(node["outputParameters"]["key"])
