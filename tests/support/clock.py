"""Waits recorded instead of slept: a module's `asyncio.sleep` replaced, everything else of asyncio kept."""

from __future__ import annotations

import asyncio
from types import ModuleType
from typing import Any

import pytest


def record_sleeps(monkeypatch: pytest.MonkeyPatch, module: ModuleType) -> list[float]:
    """The seconds each `asyncio.sleep` in `module` asked for, from now on (none of them is slept)."""
    asked: list[float] = []

    async def record(seconds: float) -> None:
        asked.append(seconds)

    class Clock:
        def __getattr__(self, name: str) -> Any:
            return record if name == "sleep" else getattr(asyncio, name)

    monkeypatch.setattr(module, "asyncio", Clock())
    return asked
