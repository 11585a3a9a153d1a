"""`Store`: writes every image and its record to the folder before anyone sees it, and serves the cache.

See the package docstring for the folder layout. Finding what is already there is `FolderIndex`'s job;
this module only adds to it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
import uuid
from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from image_widget.base.formats import image_info, sniff_format
from image_widget.store.atomic import atomic_write, sync_later
from image_widget.store.index import FolderIndex
from image_widget.store.layout import (
    ENV_VAR,
    INPUTS_FOLDER,
    RAW_FOLDER,
    default_folder,
    extension,
    image_stem,
    is_image_id,
)
from image_widget.store.png_chunk import png_with_record
from image_widget.store.records import EPOCH, StoredImage, dumps, is_complete, now_iso, parse_time, stored_at
from image_widget.store.scan import Found, Stamp, folder_mtime

_FORMAT_RE = re.compile(r"^[a-z0-9]{1,10}$")
_HEX64_RE = re.compile(r"^[0-9a-f]{64}$")


class StoreError(OSError):
    """Saving failed (read-only folder, disk full, …). Nothing partial is left behind.

    `folder` is where it tried to write and `cause` the underlying OSError.
    """

    def __init__(self, folder: Path, cause: BaseException, action: str = "save the image") -> None:
        self.folder = folder
        self.cause = cause
        self.action = action
        reason = getattr(cause, "strerror", None) or str(cause) or type(cause).__name__
        super().__init__(
            f"could not {action} in {folder}: {reason} ({type(cause).__name__}). "
            f"Pass Store(folder=...) or set {ENV_VAR} to use another folder."
        )
        self.errno = getattr(cause, "errno", None)


def _normalise_format(fmt: str, data: bytes) -> str:
    """The format the bytes really are (so the file opens), else the one given."""
    given = fmt.lower().lstrip(".")
    given = "jpeg" if given == "jpg" else given
    real = sniff_format(data)
    chosen = real or given
    if not _FORMAT_RE.match(chosen):
        raise ValueError(f"format must be a short name such as 'png', got {fmt!r}")
    return chosen


@dataclass
class _Prepared:
    """One image of `Store.save_many`, checked and with its record's missing fields made, before any write."""

    data: bytes
    fmt: str
    record: dict[str, Any]
    """The caller's record: filled in once the image is on disk."""
    rec: dict[str, Any]
    filled: dict[str, Any]
    index: int
    created: datetime
    size: tuple[int | None, int | None]


def _prepare(data: bytes | bytearray, fmt: str, record: dict[str, Any]) -> _Prepared:
    """Check one image to save (ValueError names what is wrong) and make its record's missing fields."""
    data = bytes(data)
    if not data:
        raise ValueError("no image bytes to save")
    fmt_name = _normalise_format(fmt, data)
    index = record.get("index", 0)
    if isinstance(index, bool) or not isinstance(index, int) or index < 0:
        raise ValueError(f"record index must be a whole number ≥ 0, got {index!r}")
    filled: dict[str, Any] = {"index": index}
    if not record.get("run_id"):
        filled["run_id"] = uuid.uuid4().hex
    if not record.get("created"):
        filled["created"] = now_iso()
    rec = {**record, **filled}
    info = image_info(data)
    size: tuple[int | None, int | None] = info[0] if info else (None, None)
    return _Prepared(data, fmt_name, record, rec, filled, index, parse_time(rec["created"]) or datetime.now(UTC), size)


def _again(error: StoreError) -> StoreError:
    """The same failure as a new error (for another image of the run)."""
    again = StoreError(error.folder, error.cause, error.action)
    again.__cause__ = error.__cause__
    return again


_NOT_YET = Path()
"""`Store.save_many`'s place-holder for an outcome not known yet (every one is known before it returns)."""


def _remove(*paths: Path) -> None:
    """Delete what is there of `paths` (a failed save's leftovers), quietly."""
    for path in paths:
        with suppress(OSError):
            path.unlink()


class Store:
    """Images and their records in one folder, plus the folder's index (`FolderIndex`) for the cache.

    Each save adds its row to the index after writing the files, so `lookup` and `load` are one query;
    images other processes save are in the index as soon as they are on disk.
    """

    def __init__(self, folder: str | os.PathLike[str] | None = None) -> None:
        self.folder: Path = default_folder(folder)
        self._lock = threading.Lock()
        self._images = FolderIndex(self.folder)
        self._pending: set[str] = set()  # stems being written by this instance (the sidecar is not there yet)

    def __repr__(self) -> str:
        return f"Store({str(self.folder)!r})"

    # -- writing

    def save(self, data: bytes | bytearray, fmt: str, record: dict[str, Any]) -> Path:
        """Write the image and its record atomically; return the image path.

        Fills `id`, `path`, `format`, `width`, `height` (and `created`, `run_id`, `index` when missing)
        in `record` itself, after the files are safely on disk. Raises `StoreError` on any write
        failure, leaving nothing of this save behind.
        """
        (outcome,) = self.save_many([(data, fmt, record)])
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    def save_many(self, items: Sequence[tuple[bytes | bytearray, str, dict[str, Any]]],
                  then: Callable[[list[Path | Exception]], None] | None = None) -> list[Path | Exception]:
        """Save a run's images together: each as `save` would, but the index marks them all pending in one
        transaction and adds all their rows in one — two per run instead of two per image, which sat between
        a run's answer and its display (issue 22). Each image succeeds or fails on its own: its outcome is its
        path, or the error `save` would raise (ValueError, StoreError), with nothing of it left behind.

        `then` is given the outcomes as soon as every file is written, before the rows are added: the images
        are on disk (a view may show them), and a crash before the rows leaves pending marks the index
        resolves from the files. It runs on the saving thread and delays the rows: it should return soon. An
        exception from it is the caller's; the rows are added all the same."""
        outcomes: list[Path | Exception] = []
        ready: list[tuple[int, _Prepared]] = []
        for position, (data, fmt, record) in enumerate(items):
            try:
                ready.append((position, _prepare(data, fmt, record)))
            except ValueError as exc:
                outcomes.append(exc)
            else:
                outcomes.append(_NOT_YET)
        if not ready:
            return outcomes
        try:
            self._make_folder()
            paths, marked = self._images.begin_save(  # marked pending as they take their names: a crash is found
                lambda: self._reserve([(image_stem(item.created, item.rec["run_id"], item.index), extension(item.fmt))
                                       for _, item in ready]))
        except StoreError as exc:  # each image its own error (a future re-raising one grows its traceback)
            return [_again(exc) if outcome is _NOT_YET else outcome for outcome in outcomes]
        found: dict[str, Found | None] = {path.stem: None for path in paths}
        written_at: int | None = None
        try:
            for (position, item), path in zip(ready, paths, strict=True):
                outcome = self._write(item, path)
                if isinstance(outcome, Found):
                    found[path.stem] = outcome
                    item.record.update(item.filled)
                    outcomes[position] = path
                else:
                    outcomes[position] = outcome
            written_at = folder_mtime(self.folder)  # the folder as these saves left it: a change during `then` is not
            if then is not None:                     # theirs to explain (the index must look again)
                then(list(outcomes))
        finally:
            for path in paths:
                if found[path.stem] is None:  # failed, or never reached (interrupted): its placeholder goes
                    _remove(path)
            self._images.end_save(list(found.items()), marked, written_at)  # the rows, after the files
            with self._lock:
                self._pending.difference_update(found)
        return outcomes

    def _write(self, item: _Prepared, image_path: Path) -> Found | Exception:
        """The image (PNG: with its record in a chunk) and its sidecar, each atomically; what the index needs."""
        item.filled.update(id=image_path.stem, path=str(image_path), format=item.fmt, width=item.size[0],
                           height=item.size[1])
        rec = {**item.rec, **item.filled}
        sidecar = image_path.with_suffix(".json")
        try:
            text = dumps(rec)
            payload = (png_with_record(item.data, text) if item.fmt == "png" else None) or item.data
            atomic_write(image_path, payload)
            atomic_write(sidecar, dumps(rec, indent=1).encode("utf-8"))
            sync_later(image_path, sidecar)
            st = os.stat(sidecar)
            return Found(StoredImage(image_path.stem, image_path, json.loads(text)),
                         Stamp("sidecar", st.st_mtime_ns, st.st_size))
        except BaseException as exc:
            _remove(sidecar, image_path)
            if not isinstance(exc, Exception):
                raise  # (Ctrl-C) the images not written yet are given back by `save_many`
            if not isinstance(exc, OSError):
                return exc  # this image's own failure: the others of the run are still written
            error = StoreError(self.folder, exc)
            error.__cause__ = exc
            return error

    def _make_folder(self) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(self.folder, exc, "create the folder") from exc

    def _reserve(self, names: Sequence[tuple[str, str]]) -> list[Path]:
        """Claim a free name for each (stem, extension) with an exclusive create of the image file (an empty
        placeholder that `os.replace` later overwrites), so two saves never share a name across threads or
        processes. A stem is also checked against sidecars and this instance's in-flight saves, so an image
        of another format cannot take the same sidecar name. All or none: on failure the claimed go again."""
        claimed: list[Path] = []
        with self._lock:
            try:
                for base, ext in names:
                    claimed.append(self._claim(base, ext))
            except BaseException:
                _remove(*claimed)
                self._pending.difference_update(path.stem for path in claimed)
                raise
        return claimed

    def _claim(self, base: str, ext: str) -> Path:
        """One free name from `base` (`base`, `base_1`, …), its placeholder created; under `self._lock`."""
        for attempt in range(10_000):
            stem = base if attempt == 0 else f"{base}_{attempt}"
            path = self.folder / f"{stem}.{ext}"
            if stem in self._pending or path.with_suffix(".json").exists():
                continue
            try:
                os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))
            except FileExistsError:
                continue
            except OSError as exc:
                raise StoreError(self.folder, exc) from exc
            self._pending.add(stem)
            return path
        raise StoreError(self.folder, FileExistsError(f"no free name for {base}"))

    # -- inputs (kept by content hash so edits can be re-run)

    def save_input(self, data: bytes | bytearray) -> str:
        """Keep an input image or mask under `inputs/<sha256>.<ext>`; returns the sha256 (hex).

        Content-addressed, so the same photo used in a hundred edits is stored once.
        """
        return self._keep(data, INPUTS_FOLDER, "save an input image").stem

    def save_raw(self, data: bytes | bytearray) -> Path:
        """Keep the API's own image under `raw/<sha256>.<ext>` before a composite of it is saved; its path.

        A composited edit's record links it (`raw_path`): what was paid for stays on disk as it came.
        """
        return self._keep(data, RAW_FOLDER, "save the API's image")

    def _keep(self, data: bytes | bytearray, subfolder: str, action: str) -> Path:
        data = bytes(data)
        digest = hashlib.sha256(data).hexdigest()
        folder = self.folder / subfolder
        path = folder / f"{digest}.{extension(sniff_format(data) or 'bin')}"
        if not path.exists():
            try:
                folder.mkdir(parents=True, exist_ok=True)
                atomic_write(path, data)
            except OSError as exc:
                raise StoreError(self.folder, exc, action) from exc
            sync_later(path)
        return path

    def load_input(self, digest: str) -> bytes:
        """The bytes of an input kept by `save_input`; KeyError when it is not there."""
        if not _HEX64_RE.match(digest):
            raise KeyError(f"not an input hash: {digest!r}")
        for path in (self.folder / INPUTS_FOLDER).glob(f"{digest}.*"):
            return path.read_bytes()
        raise KeyError(f"input {digest[:12]}… is not in {self.folder / INPUTS_FOLDER}")

    # -- reading

    def _index(self) -> dict[str, StoredImage]:
        """Every image this store knows, by id (scans the folder on first use)."""
        return {stored.id: stored for stored in self._images.images()}

    def refresh(self) -> None:
        """Check the index against every sidecar on next use (for files edited in place; files added or
        removed by others are found anyway, by the folder's time)."""
        self._images.forget()

    def lookup(self, cache_key: str) -> list[StoredImage] | None:
        """The images (by index) of the most recent complete run saved with `cache_key`, or None.

        Runs whose files have since been deleted are passed over.
        """
        candidates = self._images.runs_with_key(cache_key)
        candidates.sort(key=lambda imgs: (imgs[0].created or EPOCH, imgs[0].id), reverse=True)
        for images in candidates:
            if is_complete({img.index for img in images}, images[0].record) and all(
                    img.path.is_file() for img in images):
                return images
        return None

    def load(self, image_id: str) -> StoredImage:
        """One stored image by id; raises KeyError if there is none."""
        if not is_image_id(image_id):
            raise KeyError(f"{image_id!r} is not an image id")
        found = self._images.get(image_id)
        if found is not None:
            return found
        sidecar = self.folder / f"{image_id}.json"  # saved by another process since the scan
        try:
            record = json.loads(sidecar.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            record = None
        if isinstance(record, dict):
            for image in self.folder.glob(f"{image_id}.*"):
                if image.suffix not in (".json", ".tmp") and image.stem == image_id:
                    stored = stored_at(image_id, image, record)
                    self._images.add(stored)
                    return stored
        raise KeyError(f"no image {image_id!r} in {self.folder}")

    def __contains__(self, image_id: object) -> bool:
        return image_id in self._images

    def __len__(self) -> int:
        return len(self._images)
