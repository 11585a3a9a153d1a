"""`import image_widget as iw` keeps every public name, and the old compatibility modules are gone.

The names are written out here (not read from `__all__`) so that moving a module cannot drop one unnoticed.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

import image_widget as iw

SRC = Path(iw.__file__).resolve().parents[1]
PUBLIC = [
    "APIRequestError", "BatchSweep", "BudgetError", "Chat", "Emulator", "Estimate", "History", "ImageWidget",
    "ModelDeprecationWarning", "ModelInfo", "Partial", "Result", "Store", "Sweep", "ValidationError",
    "__version__", "aedit", "aexpand", "agenerate", "arerun", "astream", "asweep", "avary", "batches",
    "edit", "estimate", "expand", "generate", "models", "reproduce_code", "rerun", "resolve_backend", "set_price",
    "spend", "sweep", "validate", "vary",
]
CLASSES = {"APIRequestError", "BatchSweep", "BudgetError", "Chat", "Emulator", "Estimate", "History", "ImageWidget",
           "ModelDeprecationWarning", "ModelInfo", "Partial", "Result", "Store", "Sweep", "ValidationError"}


def test_all_lists_exactly_the_public_names() -> None:
    assert sorted(iw.__all__) == sorted(PUBLIC)
    assert sorted(dir(iw)) == sorted(PUBLIC)


@pytest.mark.parametrize("name", PUBLIC)
def test_each_public_name_resolves(name: str) -> None:
    value = getattr(iw, name)
    if name == "__version__":
        assert isinstance(value, str)
    elif name in CLASSES:
        assert isinstance(value, type)
    else:
        assert callable(value)
    if name != "__version__":
        home = importlib.import_module(value.__module__)
        assert getattr(home, name) is value    # the name is the real object, not a copy


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = iw.nope  # type: ignore[attr-defined]


@pytest.mark.parametrize("shim", ["image_widget.api", "image_widget.backend", "image_widget.widget_state"])
def test_the_compatibility_shims_are_gone(shim: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(SRC)}    # this checkout, whatever else is installed
    done = subprocess.run([sys.executable, "-c", f"import {shim}"], check=False, capture_output=True, text=True,
                          env=env, timeout=60)
    assert done.returncode != 0
    assert "ModuleNotFoundError" in done.stderr


def test_the_package_root_holds_only_the_facade_and_the_command_line() -> None:
    """Issue 22: the folders tell the layers; a new module goes into the package of its layer, not the root."""
    loose = sorted(path.name for path in (SRC / "image_widget").glob("*.py"))
    assert loose == ["__init__.py", "cli.py"]
    packages = sorted(path.parent.name for path in (SRC / "image_widget").glob("*/__init__.py"))
    assert packages == ["base", "chat", "client", "emulator", "facts", "images", "mcp", "money", "store", "sweeps",
                        "widget"]
