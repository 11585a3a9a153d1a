"""`History` and `Run`: what a folder holds, grouped by request and newest first, for people to browse.

A view over the folder's index: opening one reads no sidecar (when the index is current), and `len`,
slices, `page`, `filter` and `sort` are queries, so a folder of 100,000 images costs what a page of them
does. A `History` is a snapshot, as it always was: images saved later (by this process or another) join
it on `reload()` or `add_run`, and `changes_since` lists them for whoever polls.
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, overload

from image_widget.store.index import FolderIndex
from image_widget.store.layout import default_folder
from image_widget.store.query import NEWEST, Where, narrow, order_by
from image_widget.store.records import StoredImage, is_complete
from image_widget.store.schema import RECORD, image_from_row

if TYPE_CHECKING:
    from pathlib import Path

    import pandas as pd

__all__ = ["History", "Run"]
_CHUNK = 500
_RUN_ROWS = 16  # rows read per run asked for: a run has at most 10 images (n ≤ 10)


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


@dataclass
class _Snapshot:
    """The highest row a History shows, shared by the views `filter` makes from it."""

    upto: int = 0
    generation: str = ""


class History:
    """Everything saved in a folder, reloaded from disk (for example after a kernel restart).

    Iterating, `entries` and slices give images newest run first, each run's images by index (or in the
    `sort` given to `filter`). Damaged sidecars and sidecars whose image is missing are left out and
    counted in `skipped` (reasons in `problems`); PNGs whose sidecar was never written are recovered
    from their text chunk (`recovered`). Times are UTC; naive datetimes given to `filter` are UTC.
    """

    __hash__ = object.__hash__  # equal to a list of the same images, but hashed by identity

    def __init__(self, folder: str | os.PathLike[str] | None = None) -> None:
        self.folder: Path = default_folder(folder)
        self._index = FolderIndex(self.folder)
        self._where = Where()
        self._sort = "newest"
        self._snap = _Snapshot()
        self._snapshot()

    def _snapshot(self) -> None:
        (upto,), = self._index.rows("SELECT COALESCE(MAX(row), 0) FROM images", fresh=True)
        self._snap.upto, self._snap.generation = int(upto), self._index.generation

    def reload(self) -> History:
        """Check the index against every file in the folder (reading the sidecars that changed) and show
        everything it now holds."""
        self._index.forget()
        self._snapshot()
        return self

    def add_run(self, images: Sequence[StoredImage]) -> None:
        """Show a run this process just saved, without checking the folder (its rows are already in)."""
        ids = [img.id for img in images]
        if not ids:
            return
        marks = ",".join("?" * len(ids))
        have = {i for (i,) in self._index.rows(f"SELECT id FROM images WHERE id IN ({marks})", ids)}  # noqa: S608
        for img in images:
            if img.id not in have:  # e.g. the index could not be written when it was saved
                self._index.add(img)
        (top,), = self._index.rows(f"SELECT COALESCE(MAX(row), 0) FROM images WHERE id IN ({marks})", ids)  # noqa: S608
        self._snap.upto = max(self._snap.upto, int(top))

    # -- queries

    def _rows(self, columns: str, tail: str = "", params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        for _ in range(2):
            (top,), = self._index.rows("SELECT COALESCE(MAX(row), 0) FROM images")
            # rows after the snapshot are left out; when there are none, saying so would only slow counts
            where = self._where if top <= self._snap.upto else self._where.and_("row <= ?", self._snap.upto)
            rows = self._index.rows(f"SELECT {columns} FROM images WHERE {where.sql()} {tail}",  # noqa: S608
                                    (*where.params, *params))
            if self._index.generation == self._snap.generation:
                break
            self._snapshot()  # rebuilt from the files meanwhile: its rows are numbered anew
        return rows

    def _images(self, limit: int = -1, offset: int = 0) -> list[StoredImage]:
        rows = self._rows(f"file, {RECORD}", f"ORDER BY {order_by(self._sort)} LIMIT ? OFFSET ?", (limit, offset))
        return [image_from_row(self.folder, file, text) for file, text in rows]

    def filter(self, prompt: str | None = None, model: str | None = None,  # noqa: PLR0913 - one keyword per filter
               since: datetime | date | None = None, until: datetime | date | None = None, *,
               search: str | None = None, min_cost: float | None = None, max_cost: float | None = None,
               size: str | tuple[int, int] | None = None, orientation: str | None = None,
               call: str | None = None, batch: str | None = None, thread: str | None = None,
               response_id: str | None = None, sort: str | None = None) -> History:
        """The images (a History: len, slices, `page`, `runs`, `to_pandas`) whose prompt contains `prompt`
        (case-insensitive), with every word of `search` anywhere in it, made by `model`, created in
        [since, until] (inclusive; a date covers its whole UTC day), costing between `min_cost` and
        `max_cost` USD (this image's share), of pixel `size` ("1024x1536") or `orientation` ("landscape",
        "portrait", "square"), by `call` (generate / edit / vary / expand / refine), in `batch`, in the
        conversation `thread`, the turn answered as Responses API `response_id`; ordered by `sort`
        ("newest", "oldest", "cheapest", "prompt", "turn" — the default for a thread, which then reads as
        its turns in order). Images with no known time or cost are left out when a bound on it is given.
        Filters add up: `history.filter(model=m).filter(prompt=p)` has both."""
        view = object.__new__(History)
        view.folder, view._index, view._snap = self.folder, self._index, self._snap
        view._where = narrow(self._where, self._index.fts, prompt=prompt, search=search, model=model, since=since,
                             until=until, min_cost=min_cost, max_cost=max_cost, size=size,
                             orientation=orientation, call=call, batch=batch, thread=thread,
                             response_id=response_id)
        if sort is None and thread is not None:
            sort = "turn"
        if sort is not None:
            order_by(sort)  # refuses an unknown order now, not at the first query
        view._sort = self._sort if sort is None else sort
        return view

    def page(self, number: int, size: int = 50) -> list[StoredImage]:
        """Page `number` (from 0) of `size` images: `page(0)` is `history[:size]`."""
        if number < 0 or size < 1:
            raise ValueError(f"page number must be ≥ 0 and size ≥ 1, got {number} and {size}")
        return self._images(size, number * size)

    def runs(self, limit: int | None = None, *, after: str | None = None) -> list[Run]:
        """Images grouped by request (run_id), newest first; `limit` stops after that many runs. `after` (a
        run id) starts with the run that follows it, so pages follow on from each other even while new
        runs arrive in front: `history.runs(30, after=page[-1].run_id)`."""
        view = self if after is None else self._narrowed(*self._after(after))
        runs: list[Run] = []
        key, offset = None, 0
        images: list[StoredImage] = []
        chunk = _CHUNK if limit is None else min(_CHUNK, 2 * limit + 16)  # a page reads about a page of rows
        while limit is None or len(runs) < limit:
            rows = view._rows(f"run_key, file, {RECORD}", f"ORDER BY {NEWEST} LIMIT ? OFFSET ?", (chunk, offset))
            for run_key, file, text in rows:
                if run_key != key and images:
                    runs.append(Run(str(key), images))
                    images = []
                key = run_key
                images.append(image_from_row(self.folder, file, text))
            offset += chunk
            if len(rows) < chunk:
                if images:
                    runs.append(Run(str(key), images))
                break
        return runs[:limit]

    def _after(self, run_id: str) -> tuple[str, tuple[Any, ...]]:
        """The rows of the runs after `run_id` in the newest-first order (runs with no time come last)."""
        found = self._index.rows("SELECT run_created_us, run_first FROM images WHERE run_key = ? LIMIT 1", (run_id,))
        if not found:
            raise ValueError(f"after: no run {run_id!r} in {self.folder}")
        (created, first), = found
        if created is None:
            return "run_created_us IS NULL AND run_first < ?", (first,)
        return ("run_created_us < ? OR (run_created_us = ? AND run_first < ?) OR run_created_us IS NULL",
                (created, created, first))

    def _narrowed(self, clause: str, params: Sequence[Any]) -> History:
        view = copy.copy(self)
        view._where = self._where.and_(clause, *params)
        return view

    def changed_runs(self, row_id: int, limit: int) -> tuple[list[Run], int]:
        """(the newest `limit` runs of this view with an image indexed after row `row_id`, each whole — also
        its images indexed before —, the row to ask from next time): what a live gallery polls for. Like
        `changes_since` it sees every process's saves, also those after this snapshot."""
        last = self._newest_row()  # first, and bounding the query: a row saved meanwhile waits for the next poll
        where = self._where.and_("run_key IN (SELECT run_key FROM images WHERE row > ? AND row <= ?)",
                                 int(row_id), last)
        rows = self._index.rows(f"SELECT run_key, file, {RECORD} FROM images WHERE {where.sql()} "  # noqa: S608
                                f"ORDER BY {NEWEST} LIMIT ?", (*where.params, max(limit, 0) * _RUN_ROWS))
        grouped: dict[str, list[StoredImage]] = {}
        for run_key, file, text in rows:
            if run_key in grouped or len(grouped) < limit:
                grouped.setdefault(run_key, []).append(image_from_row(self.folder, file, text))
        return [Run(key, images) for key, images in grouped.items()], max(int(last), int(row_id))

    def _newest_row(self) -> int:
        (last,), = self._index.rows("SELECT COALESCE(MAX(row), 0) FROM images", fresh=True)
        return int(last)

    def include(self, row_id: int) -> None:
        """Show the rows up to `row_id` too (a poller has just listed them, see `changed_runs`)."""
        self._snap.upto = max(self._snap.upto, int(row_id))

    def changes_since(self, row_id: int) -> tuple[list[StoredImage], int]:
        """(images indexed after row `row_id` that match this view, the row to ask from next time), from
        whichever process saved them. Start from `last_row_id`. After the index is rebuilt every image
        counts as new again (row numbers only grow), so a poller should key what it shows by id."""
        last = self._newest_row()  # first, and bounding the query: a row saved meanwhile waits for the next poll
        where = self._where.and_("row > ? AND row <= ?", int(row_id), last)
        rows = self._index.rows(f"SELECT file, {RECORD} FROM images WHERE {where.sql()} ORDER BY row",  # noqa: S608
                                where.params)
        return [image_from_row(self.folder, file, text) for file, text in rows], max(int(last), int(row_id))

    @property
    def last_row_id(self) -> int:
        """The newest row this snapshot shows (a starting point for `changes_since`)."""
        return self._snap.upto

    @property
    def entries(self) -> list[StoredImage]:
        """Every image of this view as a list (reads them all: on a big folder, slice or `page` instead)."""
        return list(self)

    @property
    def skipped(self) -> int:
        (value,), = self._index.rows("SELECT COALESCE((SELECT value FROM meta WHERE key = 'skipped'), 0)")
        return int(value)

    @property
    def recovered(self) -> int:
        (value,), = self._index.rows("SELECT COUNT(*) FROM images WHERE source = 'png'")
        return int(value)

    @property
    def problems(self) -> list[str]:
        return self._index.problems()

    def to_pandas(self) -> pd.DataFrame:
        """One row per image of this view: id, run_id, index, created (UTC), call, model, prompt, width,
        height, cost_usd, batch_id, path, params, and for conversation turns thread, turn, response_id and
        previous_response_id (pandas is imported only here)."""
        try:
            import pandas as pd
        except ImportError as exc:
            raise ImportError("History.to_pandas() needs pandas: pip install pandas") from exc
        names = ["id", "run_id", "index", "created", "call", "model", "prompt", "width", "height", "cost_usd",
                 "batch_id", "path", "params", "thread", "turn", "response_id", "previous_response_id"]
        turn_ids = ", ".join(f"CASE WHEN thread IS NULL THEN NULL ELSE json_extract({RECORD}, '$.{key}') END"
                             for key in ("response_id", "previous_response_id"))
        rows = self._rows("id, run_id, idx, created_us, call, model, prompt, width, height, cost, batch_id, file, "
                          f"params, thread, turn, {turn_ids}", f"ORDER BY {order_by(self._sort)}")
        frame = pd.DataFrame.from_records(rows, columns=names)
        frame["created"] = pd.to_datetime(frame["created"], unit="us", utc=True)
        frame["path"] = [str(self.folder / file) for file in frame["path"]]
        frame["params"] = [json.loads(p) if p else None for p in frame["params"]]
        return frame

    # -- a sequence of StoredImage

    def __len__(self) -> int:
        (count,), = self._rows("COUNT(*)")
        return int(count)

    def __iter__(self) -> Iterator[StoredImage]:
        offset = 0
        while True:
            chunk = self._images(_CHUNK, offset)
            yield from chunk
            if len(chunk) < _CHUNK:
                return
            offset += _CHUNK

    def __contains__(self, item: object) -> bool:
        return isinstance(item, StoredImage) and bool(self._rows("1", "AND id = ? LIMIT 1", (item.id,)))

    @overload
    def __getitem__(self, item: int) -> StoredImage: ...
    @overload
    def __getitem__(self, item: slice) -> list[StoredImage]: ...
    def __getitem__(self, item: int | slice) -> StoredImage | list[StoredImage]:
        if isinstance(item, slice):
            start, stop, step = item.start or 0, item.stop, item.step or 1
            if step == 1 and start >= 0 and (stop is None or stop >= 0):
                return self._images(-1 if stop is None else max(stop - start, 0), start)
            start, stop, step = item.indices(len(self))
            if step > 0:
                return self._images(max(stop - start, 0), start)[::step]
            return self[stop + 1:start + 1][::-1][::-step]  # a reversed slice: read forwards, then reverse
        index = item + len(self) if item < 0 else item
        found = self._images(1, index) if index >= 0 else []
        if not found:
            raise IndexError("History index out of range")
        return found[0]

    def __eq__(self, other: object) -> bool:
        """Equal to a list (or tuple) of the same images in the same order, as `filter` used to return."""
        if isinstance(other, list | tuple):
            return self.entries == list(other)
        return NotImplemented

    def __repr__(self) -> str:
        (images, runs), = self._rows("COUNT(*), COUNT(DISTINCT run_key)")
        skipped = self.skipped
        extra = f", {skipped} skipped" if skipped else ""
        return f"History({str(self.folder)!r}: {images} image(s) in {runs} run(s){extra})"
