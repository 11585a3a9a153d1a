"""The emulator's Files and Batches kept on disk, so a batch outlives the process that submitted it.

At OpenAI a batch submitted before a kernel restart is still there after it; the offline emulator runs
inside the kernel, so it keeps its files and batches in a folder beside the store (`folder_beside`) and
picks unfinished batches up again when it starts. Layout:

    files/<file-id>.json   the File object          files/<file-id>.bin   its bytes
    batches/<batch-id>.json  the Batch object (+ `_seq`, an internal ordering key, never served)
    batches/<batch-id>.out.jsonl / .err.jsonl   output and error lines written so far (the truth on resume)
"""

from __future__ import annotations

import json
import secrets
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from image_widget.store.atomic import atomic_write

ACTIVE = ("validating", "in_progress", "finalizing", "cancelling")
TERMINAL = ("completed", "failed", "expired", "cancelled")
MAX_BATCH_FILE_BYTES = 200 * 1024 * 1024
"""The Batch API's limit on one input file (and its 50,000 requests: `MAX_BATCH_LINES`)."""
MAX_BATCH_LINES = 50_000
BATCH_FILE_LIFETIME_S = 30 * 24 * 3600
"""Files with purpose `batch` expire 30 days after upload unless told otherwise; others never (the
description's `FileExpirationAfter`)."""


def folder_beside(store_folder: Path) -> Path:
    """Where the offline emulator keeps its files and batches for the store at `store_folder`."""
    return store_folder.with_name(f"{store_folder.name}-emulator")


@dataclass
class BatchFaults:
    """What the batch runner does wrong on purpose (`Emulator.batch_faults`); cleared by `reset()`.

    `fail_lines`: 0-based input lines answered with a 500 in the error file. `expire_after`: the batch
    expires after that many lines (the rest go to the error file as `batch_expired`). `hold_after`: no
    line past that many is processed until `release_batches()` — a deterministic point to cancel at.
    `drop_downloads`: the next that many file downloads close the connection half-way. `invalid_lines`:
    0-based input lines validation rejects (as it would a line that is not JSON), failing the batch.
    """

    fail_lines: frozenset[int] = frozenset()
    invalid_lines: frozenset[int] = frozenset()
    expire_after: int | None = None
    hold_after: int | None = None
    drop_downloads: int = 0


class BatchDisk:
    """Files and batches in one folder; every write is atomic and every access holds one lock."""

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder if folder is not None else Path(tempfile.mkdtemp(prefix="image-widget-emulator-"))
        self.files = self.folder / "files"
        self.batch_dir = self.folder / "batches"
        self.lock = threading.RLock()
        self.faults = BatchFaults()
        self._seq = 0
        self.clock_skew_s = 0.0
        """Added to the wall clock (tests move time forward to expire files)."""

    def now(self) -> int:
        return int(time.time() + self.clock_skew_s)

    def _ready(self) -> None:
        self.files.mkdir(parents=True, exist_ok=True)
        self.batch_dir.mkdir(parents=True, exist_ok=True)

    # -- files

    def add_file(self, data: bytes, filename: str, purpose: str, expires_after_s: int | None = None) -> dict[str, Any]:
        """Keep an uploaded (or produced) file; returns its File object."""
        meta = self._meta(len(data), filename, purpose, expires_after_s)
        with self.lock:
            self._ready()
            atomic_write(self.files / f"{meta['id']}.bin", data)
            atomic_write(self.files / f"{meta['id']}.json", json.dumps(meta).encode())
        return meta

    def add_file_from(self, source: Path, filename: str, purpose: str,
                      expires_after_s: int | None = None) -> dict[str, Any]:
        """A produced file (output or errors) from lines already on disk, without reading it into memory."""
        meta = self._meta(source.stat().st_size if source.exists() else 0, filename, purpose, expires_after_s)
        with self.lock:
            self._ready()
            target = self.files / f"{meta['id']}.bin"
            if source.exists():
                source.replace(target)
            else:
                target.write_bytes(b"")
            atomic_write(self.files / f"{meta['id']}.json", json.dumps(meta).encode())
        return meta

    def _meta(self, size: int, filename: str, purpose: str, expires_after_s: int | None) -> dict[str, Any]:
        now = self.now()
        lifetime = expires_after_s if expires_after_s is not None else (
            BATCH_FILE_LIFETIME_S if purpose == "batch" else None)
        return {"id": f"file-{secrets.token_hex(12)}", "object": "file", "bytes": size, "created_at": now,
                "filename": filename, "purpose": purpose, "status": "processed",
                "expires_at": now + lifetime if lifetime is not None else None, "status_details": None}

    def file_meta(self, file_id: str) -> dict[str, Any] | None:
        """The File object, or None when it never existed, was deleted or has expired."""
        meta = _read_json(self.files / f"{_safe(file_id)}.json")
        if meta is None or (meta.get("expires_at") is not None and meta["expires_at"] <= self.now()):
            return None
        return meta

    def file_path(self, file_id: str) -> Path:
        return self.files / f"{_safe(file_id)}.bin"

    def file_bytes(self, file_id: str) -> bytes | None:
        """A live file's bytes (None: no such file, deleted or expired) — an image named by file id."""
        if self.file_meta(file_id) is None:
            return None
        try:
            return self.file_path(file_id).read_bytes()
        except OSError:
            return None

    def list_files(self, purpose: str | None = None) -> list[dict[str, Any]]:
        """Every live file (optionally of one purpose), newest first."""
        with self.lock:
            if not self.files.exists():
                return []
            found = [self.file_meta(p.stem) for p in self.files.glob("file-*.json")]
        live = [m for m in found if m is not None and (purpose is None or m["purpose"] == purpose)]
        return sorted(live, key=lambda m: (m["created_at"], m["id"]), reverse=True)

    def delete_file(self, file_id: str) -> bool:
        """Forget a file; False when there was none."""
        with self.lock:
            if self.file_meta(file_id) is None:
                return False
            for suffix in (".json", ".bin"):
                with suppress(OSError):
                    (self.files / f"{_safe(file_id)}{suffix}").unlink()
        return True

    # -- batches

    def new_batch(self, fields: dict[str, Any]) -> dict[str, Any]:
        """Create and save a batch in `validating`."""
        now = self.now()
        batch: dict[str, Any] = {
            "id": f"batch_{secrets.token_hex(16)}", "object": "batch", "status": "validating",
            "created_at": now, "expires_at": now + 24 * 3600, "in_progress_at": None, "finalizing_at": None,
            "completed_at": None, "failed_at": None, "expired_at": None, "cancelling_at": None,
            "cancelled_at": None, "output_file_id": None, "error_file_id": None, "errors": None,
            "request_counts": {"total": 0, "completed": 0, "failed": 0}, **fields,
        }
        with self.lock:
            self._ready()
            self._seq = max([self._seq, *(int(b.get("_seq", 0)) for b in self._all())]) + 1
            batch["_seq"] = self._seq
            self.save(batch)
        return batch

    def save(self, batch: dict[str, Any]) -> None:
        with self.lock:
            self._ready()
            atomic_write(self.batch_dir / f"{batch['id']}.json", json.dumps(batch).encode())

    def batch(self, batch_id: str) -> dict[str, Any] | None:
        with self.lock:
            return _read_json(self.batch_dir / f"{_safe(batch_id)}.json")

    def _all(self) -> Iterator[dict[str, Any]]:
        for path in self.batch_dir.glob("batch_*.json"):
            found = _read_json(path)
            if found is not None:
                yield found

    def batches(self) -> list[dict[str, Any]]:
        """Every batch, newest first (as the API lists them)."""
        with self.lock:
            if not self.batch_dir.exists():
                return []
            return sorted(self._all(), key=lambda b: (b["created_at"], b.get("_seq", 0)), reverse=True)

    def progress_path(self, batch_id: str, kind: str) -> Path:
        """Lines written so far: kind "out" (successes) or "err" (failures)."""
        return self.batch_dir / f"{_safe(batch_id)}.{kind}.jsonl"

    def clear(self) -> None:
        """Forget every file and batch (the emulator's `reset()` for an emulator of its own folder)."""
        with self.lock:
            for folder in (self.files, self.batch_dir):
                for path in folder.glob("*") if folder.exists() else []:
                    with suppress(OSError):
                        path.unlink()
            self.faults = BatchFaults()
            self.clock_skew_s = 0.0


def public(batch: dict[str, Any]) -> dict[str, Any]:
    """The Batch object as the API shows it (internal keys start with `_`)."""
    return {k: v for k, v in batch.items() if not k.startswith("_")}


def _safe(name: str) -> str:
    """An id fit for a file name; anything else cannot exist, so it maps to a name that never does."""
    return name if name.replace("-", "").replace("_", "").isalnum() else "missing"


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None
