"""Async tests here (LangChain's standard suites have many) run under pytest-asyncio without marking each one."""

from __future__ import annotations

import inspect
from typing import Any

import pytest


@pytest.hookimpl(tryfirst=True)
def pytest_pycollect_makeitem(collector: pytest.Collector, name: str, obj: Any) -> None:
    """Mark this directory's coroutine tests with `asyncio` before pytest-asyncio collects them (the repo keeps
    pytest-asyncio in strict mode, and the standard suites' async tests carry no mark of their own)."""
    function = getattr(obj, "__func__", obj)
    if name.startswith("test_") and inspect.iscoroutinefunction(function):
        marks = getattr(function, "pytestmark", [])
        if not any(mark.name == "asyncio" for mark in marks):
            pytest.mark.asyncio(function)
