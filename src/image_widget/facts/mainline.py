"""Which models a conversation uses when none is named: the mainline (text) model and the image model.

A conversation through the Responses API (`image_widget.chat`) runs on two models: a mainline model that
reads the thread and calls the image tool, and the image model the tool draws with. Defaults must be models
that neither are shut down nor have a shutdown announced, so the lifecycle table decides, as it does for
images; the preference order below is data, read from the installed SDK's model lists.
"""

from __future__ import annotations

from image_widget.facts import capabilities
from image_widget.facts.lifecycle import lifecycle_of

__all__ = ["MAINLINE_MODELS", "default_image_model", "default_mainline"]

MAINLINE_MODELS: tuple[str, ...] = ("gpt-5.5", "gpt-5.4", "gpt-5.4-mini", "gpt-5.2", "gpt-4.1", "gpt-4o")
"""Mainline models that take the image_generation tool, best first: the SDK's `types/shared/chat_model.py`
(gpt-5.5 is the newest without an announced shutdown that has a published price; see prices.py)."""


def default_mainline(server: str | None = None) -> str:
    """The first mainline model in preference order that is current (no shutdown announced or passed)."""
    for name in MAINLINE_MODELS:
        if lifecycle_of(name, server).status() == "current":
            return name
    return MAINLINE_MODELS[0]


def default_image_model(server: str | None = None) -> str:
    """The images default when it is current, else the first current model of the table."""
    if lifecycle_of(capabilities.DEFAULT_MODEL, server).status() == "current":
        return capabilities.DEFAULT_MODEL
    current = [name for name in capabilities.current_models() if lifecycle_of(name, server).status() == "current"]
    return current[0] if current else capabilities.DEFAULT_MODEL
