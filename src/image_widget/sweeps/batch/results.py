"""A batch sweep's saved images as an ordinary `Sweep`, so grid / to_pandas / records work the same."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from image_widget import images as imaging
from image_widget.client.result import Result
from image_widget.facts import cost as pricing
from image_widget.store import StoredImage
from image_widget.sweeps.batch.plan import cell_at, custom_id
from image_widget.sweeps.cells import Sweep

if TYPE_CHECKING:
    from image_widget.client.backend import Backend
    from image_widget.sweeps.batch.intent import Intent


class _Status(Protocol):
    @property
    def state(self) -> str: ...


class SavedBatch(Protocol):
    """What `as_sweep` reads of a batch sweep (`batch.handle.BatchSweep`, which calls it)."""

    intent: Intent

    @property
    def estimate(self) -> pricing.Cost: ...

    def images(self) -> list[StoredImage]: ...

    def last_status(self) -> _Status: ...

    def backend(self) -> Backend: ...


def as_sweep(handle: SavedBatch, *, decode: bool = True) -> Sweep:
    """One cell per request: its saved images (decoded when `decode`), or the reason it has none."""
    intent = handle.intent
    by_line: dict[str, list[StoredImage]] = {}
    for stored in handle.images():
        by_line.setdefault(str(stored.record.get("custom_id")), []).append(stored)
    errors = intent.errors()
    state = handle.last_status().state
    cells = []
    backend = handle.backend()
    for index in range(intent.cells):
        cell = cell_at(intent.template, intent.lists, intent.fields, index)
        line = custom_id(index)
        saved = by_line.get(line)
        if saved:
            records = [s.record for s in saved]
            paths = [Path(s.record.get("path") or s.path) for s in saved]
            pictures = [imaging.decode_image(p.read_bytes()) for p in paths if p.suffix != ".svg"] if decode else []
            cost = pricing.Cost(records[0].get("run_cost_usd"), "Batch API price")
            cell.result = Result(pictures, records, paths, str(records[0].get("run_id")), False, cost,
                                 cost, backend, records[0].get("request_id"))
        else:
            cell.error = errors.get(line) or f"no image yet (batch {state})"
        cells.append(cell)
    return Sweep(intent.template, intent.lists, cells, handle.estimate)
