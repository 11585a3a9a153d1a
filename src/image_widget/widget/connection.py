"""Where the widget's requests go, and the secrets to keep out of everything it shows.

The client, key and base_url live only here, in one private object of the widget: never in a trait, a
message or a repr. Every text the page is sent from an exception goes through `scrub`.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from image_widget.base.errors import scrub
from image_widget.client.backend import Backend, resolve_backend, safe_url
from image_widget.client.reproduce import CodeExpr

log = logging.getLogger(__name__)


class Connection:
    """The connection arguments given to `ImageWidget`, the backend they resolve to, and run options."""

    def __init__(self, client: Any, base_url: str | None, api_key: str | None, run_options: dict[str, Any]) -> None:
        self._client = client
        self._base_url = base_url
        self._api_key = api_key
        self.run_options = run_options
        self.backend: Backend = resolve_backend(client, base_url, api_key)

    @property
    def synthetic(self) -> bool:
        """True for the offline emulator: images are synthetic and nothing is billed."""
        return self.backend.synthetic

    @property
    def server(self) -> str | None:
        """The server's identity for its own model list and dates; None for the emulator."""
        return None if self.backend.synthetic else self.backend.cache_identity

    def read_server_models(self) -> None:
        """Ask the server for its model list and dates once (`client.models.ensure_live`); never raises."""
        from image_widget.base.runtime import run_sync
        from image_widget.client.models import ensure_live

        try:
            run_sync(ensure_live(self.backend))
        except Exception:  # ensure_live already falls back silently; this is belt and braces
            log.debug("image_widget: the model list could not be read", exc_info=True)

    def request_kwargs(self) -> dict[str, Any]:
        """The keyword arguments every `api` call of the widget gets (besides the request's own)."""
        return {**self.run_options, "client": self._client, "base_url": self._base_url, "api_key": self._api_key}

    def code_context(self) -> tuple[dict[str, Any], list[str]]:
        """What copied code needs to reach the same kind of server: keyword arguments and comment lines.

        Never a key (a key is never written into code): a custom server is named by its `base_url`
        without credentials or query, and the comments say where the key comes from instead.
        """
        backend = self.backend
        if backend.kind == "emulator":  # the same kind of server even where a key is set: never billed
            return {"base_url": CodeExpr("iw.Emulator.shared().url")}, [
                "Made with the offline emulator (synthetic images, nothing billed); it runs there again.",
                "Leave out base_url=... to send it to OpenAI instead (billed; the key comes from OPENAI_API_KEY)."]
        if self._client is not None:
            name = type(self._client).__name__
            if backend.kind == "custom" and backend.base_url:
                return {"base_url": safe_url(backend.base_url)}, [
                    f"Made with your own client ({name}): pass client=<that client> instead of base_url to use",
                    "it again. As written, the key (if the server needs one) comes from OPENAI_API_KEY."]
            return {}, [f"Made with your own client ({name}): pass client=<that client> to use it again.",
                        "As written this goes to OpenAI (billed); the key comes from OPENAI_API_KEY."]
        if backend.kind == "custom" and backend.base_url:
            return {"base_url": safe_url(backend.base_url)}, [
                "The server that made this image; the key (if it needs one) comes from OPENAI_API_KEY."]
        return {}, ["Runs on OpenAI and is billed; the key comes from OPENAI_API_KEY."]

    def secrets(self) -> list[str]:
        """Every key this widget could have used, including one the environment supplied."""
        found = [self._api_key, os.environ.get("OPENAI_API_KEY"),
                 getattr(self._client, "api_key", None) if self._client is not None else None,
                 self.backend._api_key]
        return [s for s in found if isinstance(s, str)]

    def scrub(self, text: str) -> str:
        """`text` with every secret (and anything shaped like a key) removed."""
        return scrub(text, self.secrets())

    def __repr__(self) -> str:
        return f"Connection({self.backend.label!r})"
