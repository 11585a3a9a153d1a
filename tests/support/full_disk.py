"""A disk that fills up for some files: `os.replace` (how every save puts a file in place) fails with ENOSPC."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest


def full_disk_for(monkeypatch: pytest.MonkeyPatch, when: Callable[[Path], bool]) -> None:
    """Every file put in place whose final path satisfies `when` fails as on a full disk; the rest go through."""
    real_replace = os.replace

    def replace(src: Any, dst: Any, *args: Any, **kwargs: Any) -> None:
        if when(Path(dst)):
            raise OSError(28, "No space left on device")
        real_replace(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", replace)
