"""The folder scan and the in-memory index built from it: the one place that reads the folder as a whole.

`Store` (cache lookups, load by id) and `History` (reload) both sit on `FolderIndex`, whose interface is
small on purpose — list the images, add one, look one up (by id or by cache key), forget — so that a
persistent index (SQLite) can replace the scan behind it without touching either.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

from image_widget.store.layout import OUR_NAME_RE, is_scratch
from image_widget.store.png_chunk import read_png_record
from image_widget.store.records import StoredImage, stored_at


@dataclass
class Scan:
    """What one read of the folder found, and what it had to pass over (never an exception)."""

    images: list[StoredImage] = field(default_factory=list)
    skipped: int = 0
    recovered: int = 0
    problems: list[str] = field(default_factory=list)


def _scan(folder: Path) -> Scan:
    """Read every sidecar in `folder`; skip (and count) damaged ones, never raise."""
    scan = Scan()
    try:
        entries = list(os.scandir(folder))
    except (FileNotFoundError, NotADirectoryError):
        return scan
    except OSError as exc:
        scan.problems.append(f"cannot list {folder}: {exc}")
        return scan
    sidecars: dict[str, os.DirEntry[str]] = {}
    images: dict[str, os.DirEntry[str]] = {}
    for entry in entries:
        name = entry.name
        if is_scratch(name):
            continue  # temp files of an interrupted save, hidden files
        stem, ext = name.rsplit(".", 1)
        (sidecars if ext == "json" else images)[stem] = entry
    for stem in sorted(sidecars):
        entry = sidecars[stem]
        try:
            record = json.loads(Path(entry.path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            scan.skipped += 1
            scan.problems.append(f"{entry.name}: unreadable sidecar ({type(exc).__name__})")
            continue
        image = images.get(stem)
        if not isinstance(record, dict):
            scan.skipped += 1
            scan.problems.append(f"{entry.name}: not a record")
        elif image is None or not _nonempty(image):
            scan.skipped += 1
            scan.problems.append(f"{entry.name}: its image is missing")
        else:
            scan.images.append(stored_at(stem, Path(image.path), record))
    for stem, image in images.items():
        if stem in sidecars or not OUR_NAME_RE.match(stem) or not image.name.endswith(".png"):
            continue
        try:  # an image whose sidecar was never written (process killed): the PNG chunk has the record
            recovered = read_png_record(Path(image.path).read_bytes())
        except OSError:
            recovered = None
        if recovered is not None:
            scan.recovered += 1
            scan.images.append(stored_at(stem, Path(image.path), recovered))
    return scan


def _nonempty(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_file() and entry.stat().st_size > 0
    except OSError:
        return False


def _read_folder(folder: Path) -> Scan:
    """Scan through the name `image_widget.store._scan`, which tests patch to count or forbid folder reads."""
    from image_widget import store  # the package has finished importing by the time anything scans

    return store._scan(folder)


class FolderIndex:
    """The records (never image bytes) of every image in one folder, by id and by cache key.

    Built by one scan on first use, then kept up to date by `add`, so look-ups cost a dict access.
    Thread-safe. Files other processes write later are not seen until `forget()` (or an `add`).
    `skipped`, `recovered` and `problems` describe the last scan.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.skipped = 0
        self.recovered = 0
        self.problems: list[str] = []
        self._lock = threading.RLock()
        self._by_id: dict[str, StoredImage] | None = None
        self._by_key: dict[str, dict[str, dict[int, str]]] = {}  # cache_key → run_id → index → id

    def _loaded(self) -> dict[str, StoredImage]:
        with self._lock:
            if self._by_id is None:
                scan = _read_folder(self.folder)
                self._by_id, self._by_key = {}, {}
                for stored in scan.images:
                    self._insert(stored)
                self.skipped, self.recovered, self.problems = scan.skipped, scan.recovered, scan.problems
            return self._by_id

    def _insert(self, stored: StoredImage) -> None:
        assert self._by_id is not None
        self._by_id[stored.id] = stored
        key = stored.record.get("cache_key")
        if isinstance(key, str) and key:
            self._by_key.setdefault(key, {}).setdefault(stored.run_id, {})[stored.index] = stored.id

    def images(self) -> list[StoredImage]:
        """Every image: sidecars in name order, then PNGs recovered from their chunk, then later adds."""
        with self._lock:
            return list(self._loaded().values())

    def get(self, image_id: str) -> StoredImage | None:
        with self._lock:
            return self._loaded().get(image_id)

    def add(self, stored: StoredImage) -> None:
        """Index an image just written or found; before the first scan there is nothing to update (the
        scan will find the file)."""
        with self._lock:
            if self._by_id is not None:
                self._insert(stored)

    def runs_with_key(self, cache_key: str) -> list[list[StoredImage]]:
        """The runs saved with `cache_key`, each as its images ordered by index (complete or not)."""
        with self._lock:
            by_id = self._loaded()
            runs = self._by_key.get(cache_key, {})
            return [[by_id[i] for _, i in sorted(by_index.items())] for by_index in runs.values()]

    def forget(self) -> None:
        """Drop everything; the next use scans the folder again."""
        with self._lock:
            self._by_id, self._by_key = None, {}

    def __contains__(self, image_id: object) -> bool:
        with self._lock:
            return isinstance(image_id, str) and image_id in self._loaded()

    def __len__(self) -> int:
        with self._lock:
            return len(self._loaded())
