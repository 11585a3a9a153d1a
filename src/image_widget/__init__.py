"""image_widget: the OpenAI Images API in a notebook — a widget, plain functions and an offline emulator.

Heavy modules (openai, uvicorn, starlette, the widget) load on first use, so `import image_widget`
stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_DIST = "image_widget"

_LAZY: dict[str, str] = {
    "generate": "image_widget.client.api",
    "edit": "image_widget.client.api",
    "vary": "image_widget.client.api",
    "rerun": "image_widget.client.api",
    "astream": "image_widget.client.api",
    "Partial": "image_widget.client.api",
    "resolve_backend": "image_widget.client.backend",
    "arerun": "image_widget.client.api",
    "reproduce_code": "image_widget.client.reproduce",
    "agenerate": "image_widget.client.api",
    "aedit": "image_widget.client.api",
    "expand": "image_widget.client.api",
    "aexpand": "image_widget.client.api",
    "avary": "image_widget.client.api",
    "Result": "image_widget.client.api",
    "APIRequestError": "image_widget.base.errors",
    "ValidationError": "image_widget.facts.capabilities",
    "validate": "image_widget.facts.capabilities",
    "Store": "image_widget.store",
    "History": "image_widget.store",
    "ImageWidget": "image_widget.widget",
    "Emulator": "image_widget.emulator",
    "sweep": "image_widget.sweeps.run",
    "batches": "image_widget.sweeps.batch",
    "BatchSweep": "image_widget.sweeps.batch",
    "asweep": "image_widget.sweeps.run",
    "Sweep": "image_widget.sweeps.cells",
    "BudgetError": "image_widget.base.errors",
    "models": "image_widget.client.models",
    "ModelInfo": "image_widget.client.models",
    "set_price": "image_widget.facts.prices",
    "ModelDeprecationWarning": "image_widget.facts.lifecycle",
    "spend": "image_widget.money.spending",
    "estimate": "image_widget.money.learned",
    "Estimate": "image_widget.money.learned",
    "Chat": "image_widget.chat",
}

__all__ = [
    "APIRequestError",
    "BatchSweep",
    "BudgetError",
    "Chat",
    "Emulator",
    "Estimate",
    "History",
    "ImageWidget",
    "ModelDeprecationWarning",
    "ModelInfo",
    "Partial",
    "Result",
    "Store",
    "Sweep",
    "ValidationError",
    "__version__",
    "aedit",
    "aexpand",
    "agenerate",
    "arerun",
    "astream",
    "asweep",
    "avary",
    "batches",
    "edit",
    "estimate",
    "expand",
    "generate",
    "models",
    "reproduce_code",
    "rerun",
    "resolve_backend",
    "set_price",
    "spend",
    "sweep",
    "validate",
    "vary",
]

if TYPE_CHECKING:
    __version__: str
    from image_widget.base.errors import APIRequestError, BudgetError
    from image_widget.chat import Chat
    from image_widget.client.api import (
        Partial,
        Result,
        aedit,
        aexpand,
        agenerate,
        arerun,
        astream,
        avary,
        edit,
        expand,
        generate,
        rerun,
        vary,
    )
    from image_widget.client.backend import resolve_backend
    from image_widget.client.models import ModelInfo, models
    from image_widget.client.reproduce import reproduce_code
    from image_widget.emulator import Emulator
    from image_widget.facts.capabilities import ValidationError, validate
    from image_widget.facts.lifecycle import ModelDeprecationWarning
    from image_widget.facts.prices import set_price
    from image_widget.money.learned import Estimate, estimate
    from image_widget.money.spending import spend
    from image_widget.store import History, Store
    from image_widget.sweeps.batch import BatchSweep, batches
    from image_widget.sweeps.cells import Sweep
    from image_widget.sweeps.run import asweep, sweep
    from image_widget.widget import ImageWidget


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if name == "__version__":
        value: Any = _version()
    elif module is None:
        raise AttributeError(f"module 'image_widget' has no attribute {name!r}")
    else:
        value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def _version() -> str:
    """The installed version, from the package metadata, so pyproject.toml holds the only copy.

    Computed on first use: reading metadata costs ~20 ms, `import image_widget` under 1 ms.
    """
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(_DIST)
    except PackageNotFoundError:
        return _checkout_version()


def _checkout_version() -> str:
    """A source checkout run without installing (PYTHONPATH=src): read its pyproject.toml."""
    import tomllib
    from pathlib import Path

    pyproject = Path(__file__).resolve().parents[2] / "pyproject.toml"
    try:
        project = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project", {})
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return "0+unknown"
    if project.get("name") != _DIST or not isinstance(project.get("version"), str):
        return "0+unknown"
    return str(project["version"])


def __dir__() -> list[str]:
    return sorted(__all__)
