"""Small local stand-ins for the data and models the ParallelRunStep notebooks fetch from
Microsoft's public storage account ``pipelinedata``: the same shapes (files, columns, model
types, tensor names), not the same content.

``serve_account`` puts them into Azurite containers named like the public ones and writes
the workspace's kubeline.yaml so that the notebook's own ``register_azure_blob_container``
calls (account ``pipelinedata``, no key: public containers) reach Azurite: the registration
keeps the endpoint kubeline.yaml gives the datastore (``datastores.<name>.endpoint``).
"""

from __future__ import annotations

import pickle
import subprocess
import sys
import tarfile
from pathlib import Path

import yaml

from tests.servers import AzuriteServer

PUBLIC_ACCOUNT = "pipelinedata"
IRIS_COLUMNS = ["sepal.length", "sepal.width", "petal.length", "petal.width"]


def iris_files(folder: Path) -> tuple[Path, Path]:
    """iris.csv (the four measurement columns, 150 rows: scikit-learn's bundled copy) and
    iris_model.pkl (a pickled scikit-learn classifier trained on it, predicting the
    variety's class number)."""
    import pandas as pd
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    data = load_iris()
    frame = pd.DataFrame(data.data, columns=IRIS_COLUMNS)
    folder.mkdir(parents=True, exist_ok=True)
    csv = folder / "iris.csv"
    frame.to_csv(csv, index=False)
    model = LogisticRegression(max_iter=500).fit(frame, data.target)
    pkl = folder / "iris_model.pkl"
    pkl.write_bytes(pickle.dumps(model))
    return csv, pkl


def mnist_pngs(folder: Path, count: int = 6) -> list[Path]:
    """28x28 greyscale PNGs named 0.png, 1.png... (the public folder's naming)."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(13)
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(count):
        path = folder / f"{i}.png"
        Image.fromarray(rng.integers(0, 256, (28, 28), dtype=np.uint8), mode="L").save(path)
        out.append(path)
    return out


_TF_MODEL = r'''
import sys, numpy as np, tensorflow as tf
tf.compat.v1.disable_eager_execution()
graph = tf.Graph()
with graph.as_default():
    with tf.compat.v1.name_scope("network"):
        x = tf.compat.v1.placeholder(tf.float32, [None, 784], name="X")
        with tf.compat.v1.name_scope("output"):
            w = tf.Variable(np.random.default_rng(13).normal(size=(784, 10)).astype("float32"))
            tf.matmul(x, w)  # network/output/MatMul, the tensor the scoring script reads
    saver = tf.compat.v1.train.Saver()
    with tf.compat.v1.Session(graph=graph) as session:
        session.run(tf.compat.v1.global_variables_initializer())
        saver.save(session, sys.argv[1] + "/mnist-tf.model")
'''


def mnist_tf_model(folder: Path) -> Path:
    """mnist-tf.tar.gz: a TF1-style checkpoint (mnist-tf.model.meta/.index/.data) whose graph
    has the public model's input ``network/X`` and output ``network/output/MatMul``."""
    model = folder / "model"
    model.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-c", _TF_MODEL, str(model)], check=True,
                   capture_output=True, timeout=600)
    archive = folder / "mnist-tf.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for path in sorted(model.iterdir()):
            tar.add(path, arcname=path.name)
    return archive


def serve_account(azurite: AzuriteServer, workdir: Path,
                  datastores: dict[str, str], blobs: dict[str, dict[str, Path]]
                  ) -> list[str]:
    """Public (anonymous-read) Azurite containers holding ``blobs`` (container -> key ->
    file), and kubeline.yaml pointing each datastore (name -> container) of account
    ``pipelinedata`` at Azurite. Returns what was put where, for the harness to print."""
    service = azurite.service_client()
    said = []
    for container, files in blobs.items():
        client = service.get_container_client(container)
        if not client.exists():
            client.create_container(public_access="container")
        for key, path in sorted(files.items()):
            client.upload_blob(key, path.read_bytes(), overwrite=True)
            said.append(f"harness: stand-in {path.name} at Azurite {container}/{key} "
                        f"(for {PUBLIC_ACCOUNT}'s {container})")
    config = {"datastores": {
        name: {"kind": "azureblob", "account_name": PUBLIC_ACCOUNT, "container_name": container,
               "endpoint": azurite.endpoint_url}
        for name, container in datastores.items()}}
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "kubeline.yaml").write_text(yaml.safe_dump(config, sort_keys=True),
                                           encoding="utf-8")
    return said
