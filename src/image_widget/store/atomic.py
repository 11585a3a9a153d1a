"""Atomic file writes, made durable by one background fsync thread per process (`runtime.fsync_pool`).

`atomic_write` guarantees a file is either absent or complete under its final name (temp file in the same
folder, then `os.replace`); `sync_later` adds durability against power loss without the caller waiting for
the disk; `flush` waits for that when it matters (tests, benchmarks, shutdown).
"""

from __future__ import annotations

import os
import tempfile
from contextlib import suppress
from pathlib import Path

from image_widget.base import runtime


def _fsync(path: Path) -> None:
    """Flush a file, or a folder's entries (which makes a rename durable on POSIX); best effort, as
    some filesystems refuse it."""
    if os.name != "posix" and path.is_dir():
        return
    with suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _fsync_paths(*paths: Path) -> None:
    for path in paths:
        _fsync(path)
    if paths:
        _fsync(paths[0].parent)


def sync_later(*paths: Path) -> None:
    """fsync files and their folder on a background thread: durable within milliseconds, at no latency."""
    runtime.fsync_pool().submit(_fsync_paths, *paths)


def flush() -> None:
    """Wait until every saved file has been fsynced (tests, benchmarks, before shutdown)."""
    runtime.wait_for_fsync()


def atomic_write(path: Path, data: bytes) -> None:
    """Write via a temp file in the same folder + os.replace; the temp file never survives.

    A killed process cannot leave a half-written file under the final name. Durability against power
    loss (fsync) is done right after by `sync_later`, off the caller's path.
    """
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        with suppress(OSError):
            os.chmod(tmp, 0o644)  # mkstemp makes 0600; saved images are ordinary files
        os.replace(tmp, path)
    except BaseException:
        with suppress(OSError):
            os.unlink(tmp)
        raise
