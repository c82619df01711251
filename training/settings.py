"""`setting()`: a dataclass field with its one-line help and bounds, read by the config loader and --help-config."""

from __future__ import annotations

from dataclasses import field
from typing import Any


def setting(default: Any, help: str, choices: tuple | None = None, low: float | None = None,
            high: float | None = None) -> Any:
    """A dataclass field whose metadata holds its help, allowed choices and bounds (checked when a config loads)."""
    meta = {"help": help, "choices": choices, "low": low, "high": high}
    if isinstance(default, (dict, list)):
        return field(default_factory=lambda d=default: type(d)(d), metadata=meta)
    return field(default=default, metadata=meta)
