"""The CORS allowlist comes from the argument, else the environment, else kubeline.yaml."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubeline.server.app import CORS_ENV, _cors
from kubeline.workspace.config import load_config


def test_cors_origins_from_kubeline_yaml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config_file = tmp_path / "kubeline.yaml"
    config_file.write_text("serve:\n  cors_origins: [https://portal.example]\n",
                           encoding="utf-8")
    configured = load_config(config_file).serve.cors_origins
    monkeypatch.delenv(CORS_ENV, raising=False)
    assert _cors(None, configured) == ("https://portal.example",)
    monkeypatch.setenv(CORS_ENV, "https://a.example, https://b.example")
    assert _cors(None, configured) == ("https://a.example", "https://b.example")
    assert _cors(["https://c.example"], configured) == ("https://c.example",)


def test_unknown_serve_setting_names_the_field(tmp_path: Path) -> None:
    config_file = tmp_path / "kubeline.yaml"
    config_file.write_text("serve:\n  cors: [x]\n", encoding="utf-8")
    from kubeline.exceptions import ConfigError

    with pytest.raises(ConfigError, match=r"field 'serve.cors'"):
        load_config(config_file)
