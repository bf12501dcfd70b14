"""Debian's headless Chromium driven by selenium, with no network and no downloads.

The flags keep Chromium from reaching for the network at start (component updates, sync,
background requests), which would stall on this machine; a fresh profile folder per
session keeps runs independent.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path(os.environ.get("KUBELINE_CHROMIUM", "/usr/bin/chromium"))
CHROMEDRIVER = Path(os.environ.get("KUBELINE_CHROMEDRIVER", "/usr/bin/chromedriver"))
INSTALL_HINT = "run scripts/install-test-deps.sh (installs Debian's chromium and chromium-driver)"
FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--no-first-run", "--no-default-browser-check", "--window-size=1400,1200")


def require_browser() -> None:
    """Fail under CI, skip elsewhere, when Chromium, its driver or selenium is missing."""
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing.append("the selenium package (pip install -e '.[test]')")
    if missing:
        message = f"browser test needs {', '.join(missing)}: {INSTALL_HINT}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


def start_chromium(profile: Path) -> Any:
    """A headless Chromium session with a fresh profile in ``profile``."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
