"""The model list: our table merged with what the server itself says (`GET /v1/models`), once per session.

A real server (a key, a client or a base_url) is asked once, with a short timeout; any failure falls
back to the table silently (a model list is a nicety, never a reason not to work). What the server
says wins: its `shutdown_date` overrides the table's, and image models it lists that the table lacks
are offered with the permissive profile, marked as such. The offline emulator is the table itself.
"""

from __future__ import annotations

import asyncio
import difflib
import logging
import threading
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from image_widget.client.backend import Backend, resolve_backend
from image_widget.facts import capabilities
from image_widget.facts.cost import price_citation
from image_widget.facts.lifecycle import Lifecycle, Status, server_lifecycles, set_server_lifecycles
from image_widget.facts.prices import price_for

__all__ = ["LIVE_TIMEOUT_S", "ModelInfo", "ensure_live", "models"]

log = logging.getLogger(__name__)
LIVE_TIMEOUT_S = 3.0
_SERVER_SOURCE = "the server's GET /v1/models"


@dataclass(frozen=True)
class ModelInfo:
    """One row of `iw.models()`."""

    id: str
    status: Status
    shutdown_date: str | None
    replacement: str | None
    source: str
    """Where the dates come from: the deprecations page (with the day it was read) or the server."""
    known: bool = True
    """False for a model only the server lists: the permissive profile applies (basic checks only)."""
    price_source: str | None = None
    """Where its price comes from (OpenAI's page, or a third party's figure labelled so) and the day it was
    read; None when no price is known (estimates then learn from runs)."""
    price_read_on: str | None = None

    def __repr__(self) -> str:
        verb = "shut down on" if self.status == "shut down" else "shuts down"
        when = f", {verb} {self.shutdown_date}" if self.shutdown_date else ""
        extra = "" if self.known else ", not in our table"
        price = f", price read {self.price_read_on}" if self.price_read_on else ", no price known"
        return f"ModelInfo({self.id!r}, {self.status}{when}{extra}{price})"


def is_image_model(model_id: str) -> bool:
    """Image models among everything a server lists (chat, audio, embeddings …)."""
    return model_id in capabilities.MODELS or "image" in model_id or model_id.startswith("dall-e")


_lock = threading.Lock()
_asked: dict[str, threading.Event] = {}
"""Servers already asked this session; the event is set once the answer (or the failure) is in."""


def _server_rows(listed: list[Any]) -> dict[str, Lifecycle]:
    rows: dict[str, Lifecycle] = {}
    fetched_on = datetime.now(UTC).date().isoformat()
    for item in listed:
        model_id = str(getattr(item, "id", "") or "")
        if not model_id or not is_image_model(model_id):
            continue
        shutdown = getattr(item, "shutdown_date", None)
        if shutdown is not None and not isinstance(shutdown, str):
            shutdown = None
        extra = getattr(item, "model_extra", None) or {}
        has_field = "shutdown_date" in getattr(item, "model_fields_set", set()) or "shutdown_date" in extra
        table = capabilities.MODELS.get(model_id)
        if not has_field and table is not None:  # the server said nothing about dates: keep the table's
            rows[model_id] = table.lifecycle
            continue
        rows[model_id] = Lifecycle(shutdown=_day(shutdown), source=_SERVER_SOURCE, read_on=fetched_on)
    return rows


def _day(value: str | None) -> str | None:
    """A server's date (YYYY-MM-DD, possibly with a time) as YYYY-MM-DD; None when unreadable."""
    if not value:
        return None
    try:
        return date.fromisoformat(value[:10]).isoformat()
    except ValueError:
        return None


async def ensure_live(backend: Backend, *, timeout: float = LIVE_TIMEOUT_S) -> None:
    """Ask `backend`'s server for its models once per session; later calls return at once."""
    if backend.synthetic:
        return
    server = backend.cache_identity
    with _lock:
        done = _asked.get(server)
        first = done is None
        if done is None:
            done = _asked[server] = threading.Event()
    if not first:  # asked already, or being asked by another task: a second GET would only repeat it
        if not done.is_set():
            await asyncio.to_thread(done.wait, timeout)
        return
    try:
        client = backend.async_client(max_retries=0, timeout=timeout)
        listed = await asyncio.wait_for(_collect(client.models.list()), timeout)
        set_server_lifecycles(server, _server_rows(listed))
    except Exception as exc:  # noqa: BLE001 - any failure: the table stands (a list is not worth an error)
        log.debug("image_widget: GET /v1/models failed (%s); using the table", type(exc).__name__)
    finally:
        done.set()


async def _collect(page: Any) -> list[Any]:
    if hasattr(page, "__aiter__"):
        return [item async for item in page]
    resolved = await page if asyncio.iscoroutine(page) else page  # a sync client's page
    return list(getattr(resolved, "data", resolved))


def forget_live() -> None:
    """Ask every server again on next use (tests; a long session that wants fresh dates)."""
    from image_widget.facts.lifecycle import clear_server_lifecycles

    with _lock:
        _asked.clear()
    clear_server_lifecycles()


def model_rows(server: str | None) -> list[ModelInfo]:
    """The table merged with `server`'s answer (when it was read): table order, then server-only models."""
    live = server_lifecycles(server) if server is not None else None
    names = list(capabilities.MODELS)
    names += sorted(name for name in (live or {}) if name not in capabilities.MODELS)
    rows: list[ModelInfo] = []
    for name in names:
        caps = capabilities.caps_for(name, server)
        life = caps.lifecycle
        source = life.source if life.source == _SERVER_SOURCE else f"{life.source} (read {life.read_on})"
        if live is not None and name in live and live[name].source == _SERVER_SOURCE:
            source = f"{_SERVER_SOURCE} (read {live[name].read_on})"
        price = price_for(name)
        rows.append(ModelInfo(name, caps.status, life.shutdown, caps.replacement, source, caps.known,
                              price_citation(price) if price is not None else None,
                              price.read_on or None if price is not None else None))
    return rows


def models(*, client: Any = None, base_url: str | None = None, api_key: str | None = None,
           refresh: bool = False) -> list[ModelInfo]:
    """Every model we know of, with its status today, shutdown date, replacement and the source of the dates.

    With a real server (a key, a client or a base_url) its `GET /v1/models` is read first (once per
    session; `refresh=True` asks again).
    """
    from image_widget.base.runtime import run_sync

    backend = resolve_backend(client, base_url, api_key)
    if backend.synthetic:
        return model_rows(None)
    if refresh:
        with _lock:
            _asked.pop(backend.cache_identity, None)
    run_sync(ensure_live(backend))
    return model_rows(backend.cache_identity)


def unknown_model(model: str, backend: Backend) -> str | None:
    """Why `model` would be refused by OpenAI (and the emulator) as `model_not_found`, with the closest known
    name; None when the table or the server's own list has it. A custom server keeps its own names."""
    if backend.kind == "custom" or model in capabilities.MODELS:
        return None
    listed = server_lifecycles(backend.cache_identity) or {}
    if model in listed:
        return None
    current = capabilities.current_models()
    close = difflib.get_close_matches(model, [*current, *listed], n=1, cutoff=0.6) or \
        difflib.get_close_matches(model, list(capabilities.MODELS), n=1, cutoff=0.6)
    hint = f" — did you mean {close[0]}?" if close else f"; current models: {', '.join(current[:6])}"
    return (f"unknown model {model!r}{hint} (the server answers a name it does not know with model_not_found; "
            "nothing was sent)")
