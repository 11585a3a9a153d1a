"""Standalone emulators say they are one, so runs through them are never taken for billed runs.

`python -m image_widget.emulator --port 8123` serves other programs (and `base_url=` in this one). Without a
word from it, a `base_url` on this machine looked like any OpenAI-compatible server: its runs were recorded as
billed, taught the estimates of the real API, and showed as money spent. While it runs it leaves a marker in the
user's cache folder (platformdirs; `IMAGE_WIDGET_EMULATOR_MARKERS` elsewhere), named by its port, holding its pid
and its instance id. `announced(url)` trusts a loopback URL's marker only if the server there answers
`/_emulator/health` with that instance (a marker left by a killed server, its port now used by another server,
never makes that server's runs look free); a marker whose process is gone is removed. Asked at most once a
second per URL (a failed health check: once every 30 s).
"""

from __future__ import annotations

import json
import os
import threading
import time
import urllib.parse
import urllib.request
from contextlib import suppress
from pathlib import Path

from image_widget.base.processes import running

__all__ = ["ENV_MARKERS", "announce", "announced", "marker_folder", "withdraw"]

ENV_MARKERS = "IMAGE_WIDGET_EMULATOR_MARKERS"
_LOOPBACK = ("127.0.0.1", "localhost", "::1")
_ALL_INTERFACES = ("0.0.0.0", "::")  # noqa: S104 - names of a server's bind address, not a bind here
_RECHECK_S = 1.0
_RECHECK_FAILED_S = 30.0
_HEALTH_TIMEOUT_S = 1.0
_seen: dict[str, tuple[bool, float, float]] = {}
_lock = threading.Lock()


def marker_folder() -> Path:
    """Where running emulators leave their markers (the user's cache folder, so no other user can write it)."""
    chosen = os.environ.get(ENV_MARKERS)
    if chosen:
        return Path(chosen)
    import platformdirs

    return Path(platformdirs.user_cache_dir("image_widget")) / "emulators"


def _port(url: str, hosts: tuple[str, ...] = _LOOPBACK) -> int | None:
    parts = urllib.parse.urlsplit(url)
    if (parts.hostname or "") not in hosts:
        return None
    try:
        return parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return None


def announce(url: str, instance: str) -> Path | None:
    """Say that the emulator `instance` serves `url` (the standalone server, once it listens); the marker's path.
    A server on all interfaces is announced too: this machine reaches it on loopback."""
    port = _port(url, _LOOPBACK + _ALL_INTERFACES)
    if port is None:
        return None
    folder = marker_folder()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{port}.json"
    path.write_text(json.dumps({"pid": os.getpid(), "url": url, "instance": instance}), encoding="utf-8")
    return path


def withdraw(path: Path | None) -> None:
    """Remove a marker this process wrote (the server is stopping)."""
    if path is not None:
        with suppress(OSError):
            path.unlink()


def announced(url: str | None) -> bool:
    """Whether a running emulator of this package serves `url` (a loopback URL, a live marker, the same server)."""
    if not url:
        return False
    now = time.monotonic()
    with _lock:
        known = _seen.get(url)
        if known is not None and now - known[1] < known[2]:
            return known[0]
    found, wait_s = _read(url)
    with _lock:
        _seen[url] = (found, time.monotonic(), wait_s)
    return found


def _read(url: str) -> tuple[bool, float]:
    """(announced, how long that answer holds)."""
    port = _port(url)
    if port is None:
        return False, _RECHECK_FAILED_S
    path = marker_folder() / f"{port}.json"
    try:
        marker = json.loads(path.read_text(encoding="utf-8"))
        pid, instance = int(marker["pid"]), str(marker["instance"])
    except (OSError, ValueError, KeyError, TypeError):
        return False, _RECHECK_S
    if running(pid) is False:
        with suppress(OSError):  # its server is gone (killed before it could remove it)
            path.unlink()
        return False, _RECHECK_S
    if _answers(url, instance):
        return True, _RECHECK_S
    return False, _RECHECK_FAILED_S  # a marker another server's port: do not ask it on every request


def _answers(url: str, instance: str) -> bool:
    """Whether the server at `url` is the emulator `instance` (its health answer names it)."""
    parts = urllib.parse.urlsplit(url)
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: never through a proxy
    try:
        with opener.open(f"{parts.scheme}://{parts.netloc}/_emulator/health", timeout=_HEALTH_TIMEOUT_S) as answer:
            return bool(json.loads(answer.read()).get("instance") == instance)
    except (OSError, ValueError, AttributeError):
        return False
