"""Inputs uploaded once: a content-hash → file-id map per backend, kept in the store folder.

An edit sweep over the same four 8 MB photos sent every photo again for every cell (40 cells: 1.3 GB). With
the Files API (purpose `vision`) each photo is uploaded once and the edits name it by `file_id` (OpenAI's
JSON edit form). The map lives in `<store>/uploads/<backend>.json`; a backend is the server's URL plus a
short hash of the key (never the key), because a file id is only good with the account that uploaded it.
A file the server no longer has (deleted, expired) is forgotten and uploaded again, once, by the caller.
Servers that refuse JSON edits are remembered in `<store>/uploads/multipart-only.json`.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from image_widget.store.atomic import atomic_write

if TYPE_CHECKING:
    from image_widget.client.backend import Backend

UPLOADS_FOLDER = "uploads"
_LOCK = threading.Lock()
EXPIRY_MARGIN_S = 600
"""A file that expires within this long is uploaded again rather than risked."""


def backend_fingerprint(backend: Backend) -> str:
    """The server plus a hash of the key: file ids are per account. Never contains the key."""
    key_hash = hashlib.sha256(str(backend.key_for_fingerprint()).encode()).hexdigest()[:12]
    server = backend.server_identity
    return hashlib.sha256(f"{server}\n{key_hash}".encode()).hexdigest()[:20]


class FileIds:
    """sha256 of an input's bytes → {file_id, expires_at} for one backend, on disk."""

    def __init__(self, folder: Path, backend: Backend) -> None:
        self.path = folder / UPLOADS_FOLDER / f"{backend_fingerprint(backend)}.json"
        self._seen: dict[str, Any] | None = None
        """The map as read once for this request (every input of it looks up the same file)."""

    def _read(self) -> dict[str, Any]:
        try:
            value = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return value if isinstance(value, dict) else {}

    def get(self, digest: str, margin_s: float = EXPIRY_MARGIN_S) -> str | None:
        """The file id of these bytes, unless it expires within `margin_s` (a batch needs its whole window)."""
        if self._seen is None:
            self._seen = self._read()
        entry = self._seen.get(digest)
        if not isinstance(entry, dict):
            return None
        expires = entry.get("expires_at")
        if isinstance(expires, int | float) and expires - margin_s <= time.time():
            return None
        file_id = entry.get("file_id")
        return file_id if isinstance(file_id, str) else None

    def put(self, digest: str, file_id: str, expires_at: int | None) -> None:
        with _LOCK:
            table = self._read()  # fresh under the lock: another process may have added its own uploads
            table[digest] = {"file_id": file_id, "expires_at": expires_at}
            self.path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(self.path, json.dumps(table, indent=1).encode())
            self._seen = table

    def forget(self, file_ids: set[str]) -> None:
        """Drop entries whose file the server no longer has."""
        with _LOCK:
            table = {k: v for k, v in self._read().items()
                     if not (isinstance(v, dict) and v.get("file_id") in file_ids)}
            atomic_write(self.path, json.dumps(table, indent=1).encode())
            self._seen = table


def multipart_only(folder: Path, backend: Backend) -> bool:
    """Whether this server refused a JSON edit before (then edits go as multipart, as to it)."""
    return backend.server_identity in _servers(folder)


def remember_multipart_only(folder: Path, backend: Backend) -> None:
    with _LOCK:
        servers = sorted({*_servers(folder), backend.server_identity})
        path = folder / UPLOADS_FOLDER / "multipart-only.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, json.dumps(servers, indent=1).encode())


def _servers(folder: Path) -> list[str]:
    try:
        value = json.loads((folder / UPLOADS_FOLDER / "multipart-only.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return [str(v) for v in value] if isinstance(value, list) else []


async def still_there(client: Any, file_id: str) -> bool:
    """Whether the server still has `file_id` (`GET /v1/files/{id}`, free): a batch cannot upload again line by
    line as a direct edit does, so its inputs are checked before the batch is made."""
    import openai

    try:
        found = client.files.retrieve(file_id)
        await found if asyncio.iscoroutine(found) else None
    except openai.NotFoundError:
        return False
    return True


async def upload(client: Any, name: str, data: bytes, content_type: str) -> tuple[str, int | None]:
    """Upload an input image (purpose `vision`); its (file id, expires_at)."""
    created = client.files.create(file=(name, data, content_type), purpose="vision")
    made = await created if asyncio.iscoroutine(created) else created
    return str(made.id), getattr(made, "expires_at", None)
