"""Which server answers: OpenAI, a custom OpenAI-compatible server, or the offline emulator.

The key lives only inside the client objects built here. `Backend` never shows it: not in `repr`,
not in `label`, not in `describe()` (which is what the widget puts in its state).
"""

from __future__ import annotations

import os
import sys
import threading
import weakref
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit, urlunsplit

from image_widget.base.emulators import announced
from image_widget.base.errors import scrub
from image_widget.base.runtime import blocking_ok

if TYPE_CHECKING:
    from openai import AsyncOpenAI, OpenAI

BackendKind = Literal["openai", "custom", "emulator"]
EMULATOR_NOTICE = "image_widget: no OPENAI_API_KEY set — using the offline emulator; images are synthetic."
EMULATOR_LABEL = "Offline emulator — images are synthetic"
_EMULATOR_KEY = "sk-emulator-offline"
_notice_lock = threading.Lock()
_CLIENTS: weakref.WeakKeyDictionary[Any, dict[tuple[Any, ...], AsyncOpenAI]] = weakref.WeakKeyDictionary()
_SYNC_CLIENTS: dict[tuple[Any, ...], OpenAI] = {}  # thread-safe clients, for loops that may block
_notice_shown = False


def safe_url(url: str) -> str:
    """A base URL without user:password@ or query string, fit to show a person."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path.rstrip("/"), "", ""))


@dataclass(frozen=True)
class Backend:
    """A resolved server plus how to build clients for it. Safe to print and to show."""

    kind: BackendKind
    label: str
    synthetic: bool
    base_url: str | None = None
    _api_key: str | None = field(default=None, repr=False, compare=False)
    _client: Any = field(default=None, repr=False, compare=False)

    @property
    def cache_identity(self) -> str:
        """What makes two backends' answers interchangeable for the cache (the emulator's port is not)."""
        return "emulator" if self.kind == "emulator" else (self.base_url or self.kind)

    def describe(self) -> dict[str, Any]:
        """What the widget may show: kind, label, synthetic — never the key."""
        return {"kind": self.kind, "label": self.label, "synthetic": self.synthetic}

    def async_client(self, *, max_retries: int | None, timeout: float | None) -> AsyncOpenAI | OpenAI:
        """A client with our money-protecting retry and timeout settings applied: async, or the sync one where
        the coroutine has its loop to itself (`runtime.blocking_ok`, e.g. `iw.generate` in a script), which
        is ~0.4 ms lighter per request than the async transport.

        A caller's own client is copied with `with_options`, so their object is left as it was. Clients we
        build are kept per event loop (sync ones per process) and settings: building one costs ~40 ms (TLS
        context) and a kept one reuses its connections.
        """
        options: dict[str, Any] = {}
        if max_retries is not None:
            options["max_retries"] = max_retries
        if timeout is not None:
            options["timeout"] = timeout
        if self._client is not None:
            return self._client.with_options(**options) if options else self._client  # type: ignore[no-any-return]
        key = (self.base_url, self._api_key, max_retries, timeout)
        if blocking_ok():
            from openai import OpenAI

            with _notice_lock:
                found = _SYNC_CLIENTS.get(key)
                if found is None:
                    found = _SYNC_CLIENTS[key] = OpenAI(api_key=self._api_key, base_url=self.base_url, **options)
            return found
        import asyncio

        from openai import AsyncOpenAI

        per_loop = _CLIENTS.setdefault(asyncio.get_running_loop(), {})
        client = per_loop.get(key)
        if client is None:
            client = per_loop[key] = AsyncOpenAI(api_key=self._api_key, base_url=self.base_url, **options)
        return client

    def key_for_fingerprint(self) -> str:
        """The key, only to be hashed into a short fingerprint (file ids belong to an account); never shown."""
        return str(self._api_key or getattr(self._client, "api_key", "") or "")

    @property
    def server_identity(self) -> str:
        """The server exactly (the emulator's port included): what its uploaded files belong to."""
        return str(self.base_url or getattr(self._client, "base_url", "") or self.kind)

    def scrub(self, text: str) -> str:
        """Remove the key from any text that may reach a person, a log or a saved file."""
        return scrub(text, [self._api_key])


def is_async_client(client: Any) -> bool:
    """Whether an SDK client (ours or a caller's) is an async one: its calls are awaited, a sync one's blocked on."""
    from openai.resources.images import AsyncImages

    return isinstance(getattr(client, "images", None), AsyncImages)


def own_loop_ok(client: Any) -> bool:
    """Whether a sync call may run on its caller's thread (`runtime.run_sync(alone=True)`): with our clients or a
    caller's sync one. A caller's async client stays on the sync bridge's loop: it is bound to the loop it was
    first used on."""
    return client is None or not is_async_client(client)


def _show_emulator_notice() -> None:
    global _notice_shown  # noqa: PLW0603 - a once-per-process notice
    with _notice_lock:
        if _notice_shown:
            return
        _notice_shown = True
    # In a notebook stderr is drawn as a pink box that reads like an error; the widget's badge says it too,
    # so there it is a plain line on stdout. A script keeps it on stderr, out of its own output.
    print(EMULATOR_NOTICE, file=sys.stdout if _in_kernel() else sys.stderr)


def _in_kernel() -> bool:
    """Whether this runs in a Jupyter kernel (an IPython shell with a kernel), not a script or a terminal."""
    ipython = sys.modules.get("IPython")
    get = getattr(ipython, "get_ipython", None) if ipython is not None else None
    shell = get() if callable(get) else None
    return getattr(shell, "kernel", None) is not None


def _standalone_label(url: str) -> str:
    return f"Offline emulator at {safe_url(url)} — images are synthetic"


def resolve_backend(client: Any = None, base_url: str | None = None, api_key: str | None = None) -> Backend:
    """Pick the server: a given client wins, then base_url, then OPENAI_API_KEY, else the emulator."""
    if client is not None:
        url = str(getattr(client, "base_url", "") or "")
        kind: BackendKind = "openai" if "api.openai.com" in url else "custom"
        label = "OpenAI" if kind == "openai" else f"Custom client ({type(client).__name__}, {safe_url(url)})"
        if announced(url):
            return Backend("custom", _standalone_label(url), True, url, None, client)
        return Backend(kind, label, False, url or None, None, client)
    key = api_key or os.environ.get("OPENAI_API_KEY") or None
    server = base_url or os.environ.get("OPENAI_BASE_URL") or None
    if server is not None:
        if announced(server):  # `python -m image_widget.emulator`: synthetic images, nothing billed
            return Backend("custom", _standalone_label(server), True, server, key or "sk-no-key-needed")
        kind = "openai" if "api.openai.com" in server else "custom"
        label = "OpenAI" if kind == "openai" else f"Custom server {safe_url(server)}"
        return Backend(kind, label, False, server, key or "sk-no-key-needed")
    if key is not None:
        return Backend("openai", "OpenAI", False, None, key)
    from image_widget.emulator import shared_emulator

    emulator = shared_emulator()
    _show_emulator_notice()
    return Backend("emulator", EMULATOR_LABEL, True, emulator.url, _EMULATOR_KEY)
