"""Which cluster, context and namespace a submission goes to, resolved as kubectl does,
from real kubeconfig files (no API server is contacted to resolve them)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from kubeline.cluster.connect import ClusterError, connect
from kubeline.workspace.config import ClusterConfig, WorkspaceConfig


def kubeconfig(path: Path, current: str, contexts: dict[str, str | None]) -> Path:
    """A kubeconfig with one cluster per context (server https://127.0.0.1:<n>)."""
    doc = {"apiVersion": "v1", "kind": "Config", "current-context": current,
           "clusters": [], "contexts": [], "users": [{"name": "u", "user": {"token": "t"}}]}
    for i, (name, namespace) in enumerate(contexts.items()):
        server = f"https://127.0.0.1:{7000 + i}"
        doc["clusters"].append({"name": name, "cluster": {"server": server}})
        context = {"cluster": name, "user": "u"}
        if namespace:
            context["namespace"] = namespace
        doc["contexts"].append({"name": name, "context": context})
    path.write_text(yaml.safe_dump(doc))
    return path


@pytest.fixture
def two(tmp_path: Path) -> Path:
    return kubeconfig(tmp_path / "config", "dev", {"dev": "team-a", "prod": None})


def test_current_context_and_its_namespace(two: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KUBECONFIG", str(two))
    cluster = connect(ClusterConfig(), two.parent)
    assert (cluster.context, cluster.server, cluster.namespace) == (
        "dev", "https://127.0.0.1:7000", "team-a")


def test_named_context_without_namespace_uses_the_default(two: Path) -> None:
    cluster = connect(ClusterConfig(kubeconfig=str(two), context="prod"), two.parent)
    assert (cluster.context, cluster.server, cluster.namespace) == (
        "prod", "https://127.0.0.1:7001", "kubeline")


def test_kubeline_yaml_namespace_wins(two: Path) -> None:
    settings = WorkspaceConfig.model_validate(
        {"cluster": {"kubeconfig": "config", "namespace": "ml"}}).cluster
    assert connect(settings, two.parent).namespace == "ml"  # relative to kubeline.yaml


def test_kubeconfig_list_in_the_environment(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    first = kubeconfig(tmp_path / "a", "one", {"one": None})
    second = kubeconfig(tmp_path / "b", "two", {"two": "n2"})
    monkeypatch.setenv("KUBECONFIG", f"{tmp_path / 'missing'}:{first}:{second}")
    cluster = connect(ClusterConfig(context="two"), tmp_path)
    assert (cluster.context, cluster.namespace) == ("two", "n2")


def test_unknown_context_names_the_known_ones(two: Path) -> None:
    with pytest.raises(ClusterError) as err:
        connect(ClusterConfig(kubeconfig=str(two), context="staging"), two.parent)
    assert "no context 'staging'" in str(err.value) and "dev, prod" in str(err.value)


def test_no_kubeconfig_outside_a_pod(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "none"))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    with pytest.raises(ClusterError) as err:
        connect(ClusterConfig(), tmp_path)
    assert str(err.value).startswith(f"no kubeconfig: {tmp_path / 'none'} does not exist")
    assert "\n" not in str(err.value)


def test_a_wrong_cluster_setting_is_one_line(tmp_path: Path) -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError) as err:
        WorkspaceConfig.model_validate({"cluster": {"submit": "sometimes"}})
    assert "cluster.submit" in str(err.value)
