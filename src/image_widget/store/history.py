"""`History` and `Run`: what a folder holds, grouped by request and newest first, for people to browse.

A snapshot over `FolderIndex`: read once (and on `reload`), then extended in memory by `add_run`, so the
widget never re-reads a folder that grows by one run per click.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any, overload

from image_widget.store.index import FolderIndex
from image_widget.store.layout import default_folder
from image_widget.store.records import EPOCH, StoredImage, is_complete


@dataclass(frozen=True)
class Run:
    """The images of one request, ordered by index."""

    run_id: str
    images: list[StoredImage]

    @property
    def created(self) -> datetime | None:
        times = [t for t in (img.created for img in self.images) if t is not None]
        return min(times) if times else None

    @property
    def record(self) -> dict[str, Any]:
        return self.images[0].record if self.images else {}

    @property
    def complete(self) -> bool:
        return is_complete({img.index for img in self.images}, self.record)

    def __len__(self) -> int:
        return len(self.images)

    def __iter__(self) -> Iterator[StoredImage]:
        return iter(self.images)

    def __repr__(self) -> str:
        return f"Run({self.run_id!r}, {len(self.images)} image(s), complete={self.complete})"


def _bound(value: datetime | date | None, *, end: bool) -> datetime | None:
    """since/until as aware UTC datetimes; a date means its whole day (until is inclusive)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    start = datetime.combine(value, time.min, tzinfo=UTC)
    return start + timedelta(days=1) - timedelta(microseconds=1) if end else start


class History:
    """Everything saved in a folder, reloaded from disk (for example after a kernel restart).

    `entries` are newest run first, each run's images by index. Damaged sidecars and sidecars whose
    image is missing are ignored and counted in `skipped` (reasons in `problems`); PNGs whose sidecar
    was never written are recovered from their text chunk (`recovered`). Times are UTC; naive
    datetimes given to `filter` are taken as UTC.
    """

    def __init__(self, folder: str | os.PathLike[str] | None = None) -> None:
        self.folder: Path = default_folder(folder)
        self.entries: list[StoredImage] = []
        self.skipped = 0
        self.recovered = 0
        self.problems: list[str] = []
        self._runs: list[Run] = []
        self.reload()

    def reload(self) -> History:
        """Read the folder again."""
        index = FolderIndex(self.folder)
        groups: dict[str, list[StoredImage]] = {}
        for stored in index.images():
            groups.setdefault(stored.run_id or stored.id, []).append(stored)
        runs = [Run(run_id, sorted(images, key=lambda s: (s.index, s.id))) for run_id, images in groups.items()]
        runs.sort(key=lambda r: (r.created or EPOCH, r.images[0].id), reverse=True)
        self._runs = runs
        self.entries = [img for run in runs for img in run.images]
        self.skipped, self.recovered, self.problems = index.skipped, index.recovered, index.problems
        return self

    def add_run(self, images: Sequence[StoredImage]) -> None:
        """Put a run just saved by this process in front, without reading the folder again (a reload
        costs one sidecar read per image ever saved there)."""
        if not images:
            return
        run = Run(images[0].run_id or images[0].id, sorted(images, key=lambda s: (s.index, s.id)))
        self._runs = [run, *(r for r in self._runs if r.run_id != run.run_id)]
        self.entries = [img for r in self._runs for img in r.images]

    def runs(self) -> list[Run]:
        """Images grouped by request (run_id), newest first."""
        return list(self._runs)

    def filter(self, prompt: str | None = None, model: str | None = None,
               since: datetime | date | None = None, until: datetime | date | None = None) -> list[StoredImage]:
        """Entries whose prompt contains `prompt` (case-insensitive), made by `model`, created in
        [since, until] (inclusive; a date covers its whole UTC day). Images with no readable time
        are left out when a time bound is given."""
        needle = prompt.casefold() if prompt else None
        wanted_model = model.casefold() if model else None
        start, end = _bound(since, end=False), _bound(until, end=True)
        found: list[StoredImage] = []
        for img in self.entries:
            if needle is not None and needle not in img.prompt.casefold():
                continue
            if wanted_model is not None and img.model.casefold() != wanted_model:
                continue
            if start is not None or end is not None:
                created = img.created
                if created is None or (start and created < start) or (end and created > end):
                    continue
            found.append(img)
        return found

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self) -> Iterator[StoredImage]:
        return iter(self.entries)

    @overload
    def __getitem__(self, item: int) -> StoredImage: ...
    @overload
    def __getitem__(self, item: slice) -> list[StoredImage]: ...
    def __getitem__(self, item: int | slice) -> StoredImage | list[StoredImage]:
        return self.entries[item]

    def __repr__(self) -> str:
        extra = f", {self.skipped} skipped" if self.skipped else ""
        return f"History({str(self.folder)!r}: {len(self.entries)} image(s) in {len(self._runs)} run(s){extra})"
