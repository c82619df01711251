"""Browser tests need Debian's chromium and chromedriver and Selenium; without them they skip (in CI they fail)."""

from __future__ import annotations

import importlib.util
import os

import pytest

from hiper_gym.web.browser import CHROMEDRIVER, CHROMIUM


def browser_missing() -> str | None:
    """Why the browser tests cannot run here (None when they can)."""
    if importlib.util.find_spec("selenium") is None:
        return "selenium is not installed (pip install 'hiper[web]')"
    for path in (CHROMIUM, CHROMEDRIVER):
        if not os.access(path, os.X_OK):
            return f"{path} is missing (apt-get install -y chromium chromium-driver)"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    reason = browser_missing()
    if reason is None or os.environ.get("CI"):  # CI installs the browser: there a missing one fails the tests
        return
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(pytest.mark.skip(reason=reason))
