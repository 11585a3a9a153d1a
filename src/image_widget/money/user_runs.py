"""What runs used, kept per user so a new folder starts informed (opt-out).

One small JSON file in the user's data directory (platformdirs): per model, call, quality, size, format and
kind (emulator or billed), the tokens of the latest runs. `IMAGE_WIDGET_LEARN_ACROSS_FOLDERS=0` (or
`user=False` to `estimate`) turns it off; `IMAGE_WIDGET_USER_DIR` moves it (the tests point it at a temp dir).
"""

from __future__ import annotations

import atexit
import functools
import json
import os
import threading
import time
from collections.abc import Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ENV_OFF = "IMAGE_WIDGET_LEARN_ACROSS_FOLDERS"
ENV_DIR = "IMAGE_WIDGET_USER_DIR"
KEEP = 50
"""Runs kept per key (the latest)."""
_lock = threading.Lock()


def enabled(user: bool | None = None) -> bool:
    """On unless `user=False` or the environment variable says 0/false/no/off."""
    if user is not None:
        return user
    return os.environ.get(ENV_OFF, "1").strip().lower() not in ("0", "false", "no", "off")


def path() -> Path:
    """The file: `$IMAGE_WIDGET_USER_DIR/learned.json`, else in the platform's user data directory."""
    return _path_for(os.environ.get(ENV_DIR) or None)


@functools.lru_cache(maxsize=8)
def _path_for(where: str | None) -> Path:
    """Cached: platformdirs takes ~0.2 ms, and every request's estimate asks."""
    if where:
        return Path(where) / "learned.json"
    from platformdirs import user_data_dir

    return Path(user_data_dir("image_widget", appauthor=False)) / "learned.json"


def _key(model: str, call: str, quality: str, size: str, fmt: str, synthetic: bool) -> str:
    return "|".join(("emulator" if synthetic else "billed", model, call, quality, size, fmt))


_Data = dict[str, list[list[float]]]
_parsed: dict[Path, tuple[tuple[int, int, int], _Data]] = {}
"""The file as last read or written by this process, by its (inode, mtime, size): parsed again only when another
process changed it (every write replaces the file, so a new inode). Every request's estimate reads it, and the
parse grows with the kinds of runs kept."""


def _read(where: Path | None = None) -> _Data:
    """The file's contents (read-only: `_write_queued` copies before changing them)."""
    target = where or path()
    try:
        stat = target.stat()
        signature = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
        known = _parsed.get(target)
        if known is not None and known[0] == signature:
            return known[1]
        data = json.loads(target.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    data = data if isinstance(data, dict) else {}
    _parsed[target] = (signature, data)
    return data


@dataclass(frozen=True)
class Sample:
    """What one run used: input tokens (text, image) for the request, output tokens per image, its size."""

    text_in: int
    image_in: int
    out_each: float
    width: int
    height: int


def sample_of(record: Mapping[str, Any], count: object, width: object, height: object) -> Sample | None:
    """The usage of one run's record as a Sample, None when it reported no usable usage."""
    usage = record.get("usage")
    if not isinstance(usage, Mapping) or not isinstance(count, int) or count < 1:
        return None
    out, details = usage.get("output_tokens"), usage.get("input_tokens_details") or {}
    text_in, image_in = details.get("text_tokens"), details.get("image_tokens")
    if not isinstance(out, int) or not isinstance(width, int) or not isinstance(height, int):
        return None
    if not isinstance(text_in, int) or not isinstance(image_in, int):
        total = usage.get("input_tokens")
        text_in, image_in = (total, 0) if isinstance(total, int) else (0, 0)
    return Sample(text_in, image_in, out / count, width, height)


def load(model: str, call: str, quality: str, size: str, fmt: str, *, synthetic: bool,
         user: bool | None = None) -> list[Sample]:
    """The kept runs of this kind of request (empty when turned off or none)."""
    if not enabled(user):
        return []
    settle()
    rows = _read().get(_key(model, call, quality, size, fmt, synthetic), [])
    return [Sample(int(r[0]), int(r[1]), float(r[2]), int(r[3]), int(r[4])) for r in rows
            if isinstance(r, list) and len(r) == 5]


WRITE_EVERY_S = 1.0
"""The file is rewritten at most this often: runs in between wait in memory (rewriting it took ~0.5 ms of CPU
a run, under the GIL, while the next request was decoding). `load`, and the end of the process, write them."""
_queued: list[tuple[Path, str, list[float]]] = []
_last_write = float("-inf")
_pending: Future[None] | None = None
"""The write last handed to the pool: `settle` takes it over, so it never lands later, out of turn."""


def remember(record: Mapping[str, Any]) -> None:
    """Keep what one finished run used (called once per run, with its first image's record), off the request's
    path: the row is queued and the file rewritten on `runtime.io_pool` at most every `WRITE_EVERY_S`; `load`
    writes what is queued first, so this process always reads its own runs."""
    global _last_write, _pending  # noqa: PLW0603 - the module's one write clock and its one write in flight
    if not enabled():
        return
    entry = _entry_of(record)
    if entry is None:
        return
    from image_widget.base import runtime

    with _lock:
        _queued.append((path(), *entry))
        if time.monotonic() - _last_write < WRITE_EVERY_S:
            return
        _last_write = time.monotonic()
        _pending = runtime.io_pool().submit(_write_queued)
    _register_exit_write()


def settle() -> None:
    """Write every queued run now. A pool write not yet started is cancelled (this one writes its rows), one
    under way is waited for: else it could land after this, taking runs queued since (a second write)."""
    pending = _pending
    if pending is not None and not pending.cancel():
        pending.result()
    _write_queued()


@functools.cache
def _register_exit_write() -> None:
    atexit.register(settle)


def _entry_of(record: Mapping[str, Any]) -> tuple[str, list[float]] | None:
    sample = sample_of(record, record.get("count"), record.get("width"), record.get("height"))
    params = record.get("params") or {}
    if sample is None or not isinstance(params, Mapping) or record.get("from_batch"):
        return None
    synthetic = bool((record.get("backend") or {}).get("synthetic"))
    key = _key(str(record.get("model")), str(record.get("call") or "generate"), str(params.get("quality") or "auto"),
               str(params.get("size") or "auto"), str(params.get("output_format") or "png"), synthetic)
    return key, [sample.text_in, sample.image_in, sample.out_each, sample.width, sample.height]


def _write_queued() -> None:
    """Merge the queued runs into the file (re-read first: another process may have written since)."""
    with _lock:
        rows, _queued[:] = list(_queued), []
        for target in dict.fromkeys(where for where, _, _ in rows):
            try:
                data = dict(_read(target))
                for _, key, row in (r for r in rows if r[0] == target):
                    data[key] = [*data.get(key, []), row][-KEEP:]
                target.parent.mkdir(parents=True, exist_ok=True)
                tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
                tmp.write_text(json.dumps(data), encoding="utf-8")
                stat = tmp.stat()
                os.replace(tmp, target)
                _parsed[target] = ((stat.st_ino, stat.st_mtime_ns, stat.st_size), data)
            except OSError:
                continue  # a read-only home must never stop a run: the folder's own records still teach
