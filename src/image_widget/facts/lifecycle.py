"""When each model stops working, as dated data — and what that means today.

Models are retired under us (DALL·E in May 2026, gpt-image-1 in October, gpt-image-1-mini, 1.5 and
chatgpt-image-latest on 2026-12-01). Every date here comes with its source and the day it was read;
the status is computed from today's UTC date (`IMAGE_WIDGET_TODAY=YYYY-MM-DD` overrides it, so anyone
can see what breaks next week) and never written down. A live `GET /v1/models` answer
(`image_widget.client.models`) overrides these rows per server.
"""

from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Literal

__all__ = [
    "LIFECYCLES",
    "TODAY_ENV",
    "Lifecycle",
    "ModelDeprecationWarning",
    "Status",
    "lifecycle_of",
    "today",
    "warn_once",
]

Status = Literal["current", "deprecated", "shut down"]
TODAY_ENV = "IMAGE_WIDGET_TODAY"
DEPRECATIONS_PAGE = "https://platform.openai.com/docs/deprecations"
_READ_ON = "2026-11-29"
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class ModelDeprecationWarning(FutureWarning):
    """The model still works but has an announced shutdown date; the message names it and the replacement.

    A FutureWarning (shown by default, unlike DeprecationWarning) because the person running the code is
    the one who must act, not a library author.
    """


@dataclass(frozen=True)
class Lifecycle:
    """One model's announced dates. `shutdown=None`: no shutdown announced."""

    shutdown: str | None = None
    deprecated: str | None = None
    """When the shutdown was announced (the deprecation notice)."""
    replacement: str | None = None
    source: str = ""
    read_on: str = ""
    """The day the source was read (or, for a server's answer, the day it was fetched)."""

    def status(self, on: date | None = None) -> Status:
        """current / deprecated (a shutdown is announced) / shut down (on or after the shutdown date)."""
        if self.shutdown is None:
            return "current"
        day = on or today()
        return "shut down" if day >= date.fromisoformat(self.shutdown) else "deprecated"

    def message(self, model: str, on: date | None = None) -> str:
        """What a person should read next to the model's name; '' for a current model."""
        status = self.status(on)
        if status == "current" or self.shutdown is None:
            return ""
        use = f"; use {self.replacement} instead" if self.replacement else ""
        if status == "shut down":
            return f"model {model!r} is retired (shut down on {self.shutdown}){use}"
        days = (date.fromisoformat(self.shutdown) - (on or today())).days
        when = "tomorrow" if days == 1 else f"in {days} days"
        return f"model {model} shuts down on {self.shutdown} ({when}){use}"


_REPLACED_DEC_2026 = Lifecycle(shutdown="2026-12-01", deprecated="2026-06-02",
                               replacement="gpt-image-2.6-sunburst or gpt-image-2.6-flare",
                               source=DEPRECATIONS_PAGE, read_on=_READ_ON)
_DALLE = Lifecycle(shutdown="2026-05-12", replacement="a GPT image model (e.g. gpt-image-2.6-flare)",
                   source=DEPRECATIONS_PAGE, read_on=_READ_ON)
_NONE_ANNOUNCED = Lifecycle(source=DEPRECATIONS_PAGE, read_on=_READ_ON)
# Mainline (text) models that drive a conversation through the Responses API (`image_widget.chat`): the
# installed SDK's `types/shared/chat_model.py` lists their announced shutdowns and points at the same page.
_CHAT_MODEL_NOTES = "openai SDK types/shared/chat_model.py (deprecated values), citing " + DEPRECATIONS_PAGE
_MAINLINE_DEC_2026 = Lifecycle(shutdown="2026-12-11", replacement="gpt-5.5", source=_CHAT_MODEL_NOTES,
                               read_on="2026-12-04")
_MAINLINE_JAN_2027 = replace(_MAINLINE_DEC_2026, shutdown="2027-01-14")
_MAINLINE_APR_2027 = replace(_MAINLINE_DEC_2026, shutdown="2027-04-01")

#: Model → its announced dates. A model missing here has none announced (and the live list may add some).
LIFECYCLES: dict[str, Lifecycle] = {
    "gpt-image-1-mini": _REPLACED_DEC_2026,
    "gpt-image-1.5": _REPLACED_DEC_2026,
    "gpt-image-1.5-2025-12-16": _REPLACED_DEC_2026,
    "chatgpt-image-latest": _REPLACED_DEC_2026,
    "gpt-image-1": Lifecycle(shutdown="2026-10-23", replacement="gpt-image-2.5-sunburst or gpt-image-2.5-flare",
                             source=DEPRECATIONS_PAGE, read_on=_READ_ON),
    "dall-e-2": _DALLE,
    "dall-e-3": _DALLE,
    **dict.fromkeys(("gpt-5", "gpt-5-mini", "gpt-5-nano", "o3"), _MAINLINE_DEC_2026),
    **dict.fromkeys(("gpt-4.1", "gpt-4.1-mini", "gpt-4o", "gpt-4o-mini"), _MAINLINE_JAN_2027),
    **dict.fromkeys(("gpt-5.4-nano", "gpt-5.1"), _MAINLINE_APR_2027),
}


def today() -> date:
    """Today's UTC date, or the `IMAGE_WIDGET_TODAY` override (YYYY-MM-DD)."""
    override = os.environ.get(TODAY_ENV, "").strip()
    if not override:
        return datetime.now(UTC).date()
    if not _DATE_RE.match(override):
        raise ValueError(f"{TODAY_ENV} must be a date like 2026-12-02, got {override!r}")
    return date.fromisoformat(override)


_server_lock = threading.Lock()
_SERVER: dict[str, dict[str, Lifecycle]] = {}
"""Per server (a backend's cache identity): model → lifecycle from its `GET /v1/models` answer."""


def set_server_lifecycles(server: str, rows: dict[str, Lifecycle]) -> None:
    """Record what a server said about its models (see `image_widget.client.models`)."""
    with _server_lock:
        _SERVER[server] = dict(rows)


def server_lifecycles(server: str) -> dict[str, Lifecycle] | None:
    with _server_lock:
        found = _SERVER.get(server)
        return dict(found) if found is not None else None


def clear_server_lifecycles() -> None:
    with _server_lock:
        _SERVER.clear()


def lifecycle_of(model: str, server: str | None = None) -> Lifecycle:
    """The dates that apply to `model` on `server`: the server's own answer wins over the table."""
    table = LIFECYCLES.get(model, _NONE_ANNOUNCED)
    if server is not None:
        with _server_lock:
            live = _SERVER.get(server, {}).get(model)
        if live is not None:
            return replace(live, replacement=live.replacement or table.replacement)
    return table


_warned_lock = threading.Lock()
_warned: set[str] = set()


def warn_once(model: str, server: str | None = None) -> None:
    """One `ModelDeprecationWarning` per model per session, pointing at the caller's own line."""
    lifecycle = lifecycle_of(model, server)
    if lifecycle.status() != "deprecated":
        return
    with _warned_lock:
        if model in _warned:
            return
        _warned.add(model)
    from image_widget.base.warn import warn_at_caller

    warn_at_caller(lifecycle.message(model), ModelDeprecationWarning)


def reset_warnings() -> None:
    """Forget which models were warned about (tests; a new 'session')."""
    with _warned_lock:
        _warned.clear()


def _check_dates() -> None:
    for name, row in LIFECYCLES.items():
        for value in (row.shutdown, row.deprecated, row.read_on):
            if value is not None and value != "" and not _DATE_RE.match(value):
                raise ValueError(f"lifecycle of {name}: {value!r} is not YYYY-MM-DD")


_check_dates()
