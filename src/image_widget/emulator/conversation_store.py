"""Responses kept in the emulator's folder, so `previous_response_id` still works after a restart.

The Responses API stores each response (unless `store: false`) and continues a conversation from it;
`GET /v1/responses/{id}` reads it back and `DELETE` forgets it. One JSON file per response beside the
emulator's files and batches, written atomically.
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
from contextlib import suppress
from pathlib import Path
from typing import Any

from image_widget.store.atomic import atomic_write

__all__ = ["ResponseStore"]

_CHAIN_LIMIT = 1000
"""A conversation longer than this is not walked for its image (a loop in a damaged folder ends here)."""


class ResponseStore:
    """`<folder>/responses/<id>.json`: one stored Response each."""

    def __init__(self, folder: Path) -> None:
        self.dir = folder / "responses"
        self._lock = threading.Lock()

    def _path(self, response_id: str) -> Path | None:
        ok = response_id.startswith("resp_") and response_id[5:].isalnum()
        return self.dir / f"{response_id}.json" if ok else None

    def save(self, response: dict[str, Any]) -> None:
        path = self._path(str(response["id"]))
        assert path is not None
        with self._lock:
            self.dir.mkdir(parents=True, exist_ok=True)
            atomic_write(path, json.dumps(response).encode())

    def get(self, response_id: object) -> dict[str, Any] | None:
        path = self._path(response_id) if isinstance(response_id, str) else None
        if path is None:
            return None
        try:
            found = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return found if isinstance(found, dict) else None

    def delete(self, response_id: str) -> bool:
        path = self._path(response_id)
        if path is None or not path.is_file():
            return False
        with self._lock, suppress(OSError):
            path.unlink()
        return not path.exists()

    def last_image(self, response_id: str) -> bytes | None:
        """The newest image in the conversation that ends with `response_id` (walking back the chain)."""
        current = self.get(response_id)
        for _ in range(_CHAIN_LIMIT):
            if current is None:
                return None
            for item in reversed(current.get("output") or []):
                if item.get("type") == "image_generation_call" and item.get("result"):
                    with suppress(binascii.Error, ValueError):
                        return base64.b64decode(item["result"])
            current = self.get(current.get("previous_response_id"))
        return None

    def context_tokens(self, response_id: str | None) -> int:
        """The mainline tokens of the conversation so far (each turn reads the earlier ones again)."""
        found = self.get(response_id) if response_id else None
        usage = (found or {}).get("usage") or {}
        return int(usage.get("input_tokens") or 0) + int(usage.get("output_tokens") or 0)
