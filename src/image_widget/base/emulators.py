"""Standalone emulators say they are one, so runs through them are never taken for billed runs.

`python -m image_widget.emulator --port 8123` serves other programs (and `base_url=` in this one). Without a
word from it, a `base_url` on this machine looked like any OpenAI-compatible server: its runs were recorded as
billed, taught the estimates of the real API, and showed as money spent. While it runs it leaves a marker in the
user's cache folder (platformdirs), named by its port, holding its pid; `announced(url)` reads it for a loopback
URL. A marker whose process is gone is ignored (and removed). Stdlib and platformdirs only: the request path asks
once per second per URL at most.
"""

from __future__ import annotations

import json
import os
import threading
import time
import urllib.parse
from contextlib import suppress
from pathlib import Path

from image_widget.base.processes import running

__all__ = ["announce", "announced", "marker_folder", "withdraw"]

_LOOPBACK = ("127.0.0.1", "localhost", "::1")
_RECHECK_S = 1.0
_seen: dict[str, tuple[bool, float]] = {}
_lock = threading.Lock()


def marker_folder() -> Path:
    """Where running emulators leave their markers (the user's cache folder, so no other user can write it)."""
    import platformdirs

    return Path(platformdirs.user_cache_dir("image_widget")) / "emulators"


def _port(url: str) -> int | None:
    parts = urllib.parse.urlsplit(url)
    if (parts.hostname or "") not in _LOOPBACK:
        return None
    try:
        return parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return None


def announce(url: str) -> Path | None:
    """Say that an emulator serves `url` (called by the standalone server once it listens); the marker's path."""
    port = _port(url)
    if port is None:
        return None
    folder = marker_folder()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{port}.json"
    path.write_text(json.dumps({"pid": os.getpid(), "url": url}), encoding="utf-8")
    return path


def withdraw(path: Path | None) -> None:
    """Remove a marker this process wrote (the server is stopping)."""
    if path is not None:
        with suppress(OSError):
            path.unlink()


def announced(url: str | None) -> bool:
    """Whether a running emulator of this package serves `url` (a loopback URL with a live marker)."""
    if not url:
        return False
    now = time.monotonic()
    with _lock:
        known = _seen.get(url)
        if known is not None and now - known[1] < _RECHECK_S:
            return known[0]
    found = _read(url)
    with _lock:
        _seen[url] = (found, now)
    return found


def _read(url: str) -> bool:
    port = _port(url)
    if port is None:
        return False
    path = marker_folder() / f"{port}.json"
    try:
        pid = int(json.loads(path.read_text(encoding="utf-8"))["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return False
    if running(pid) is not False:  # alive, or not askable here (the server removes its marker when it stops)
        return True
    with suppress(OSError):  # its server is gone (killed before it could remove it)
        path.unlink()
    return False
