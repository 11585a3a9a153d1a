"""`__version__` comes from the package metadata (pyproject.toml holds the one copy), read on first use."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from importlib.metadata import version
from pathlib import Path

import pytest

import image_widget

SRC = Path(image_widget.__file__).resolve().parents[1]


def _bare_python(code: str) -> str:
    """Run `code` with no site-packages (-S): image_widget from the source folder, as if never installed."""
    done = subprocess.run([sys.executable, "-S", "-c", code], capture_output=True, text=True, check=True,
                          env={"PYTHONPATH": str(SRC)}, timeout=60)
    return done.stdout.strip()


def test_version_is_the_installed_metadata() -> None:
    assert image_widget.__version__ == version("image_widget")


def test_an_uninstalled_checkout_reads_pyproject() -> None:
    pyproject = SRC.parent / "pyproject.toml"
    if not pyproject.is_file():
        pytest.skip("image_widget is not imported from a source checkout")
    expected = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["version"]
    assert _bare_python("import image_widget; print(image_widget.__version__)") == expected


def test_import_stays_cheap_until_the_version_is_asked_for() -> None:
    code = ("import sys, image_widget; before = 'importlib.metadata' in sys.modules; image_widget.__version__; "
            "print(before, 'importlib.metadata' in sys.modules)")
    assert _bare_python(code) == "False True"
