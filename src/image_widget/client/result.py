"""`Result`: what a request produced. Its own module so the public functions and `persist` share it."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from image_widget.client.reproduce import reproduce_code
from image_widget.facts import cost as pricing

if TYPE_CHECKING:
    from PIL.Image import Image

    from image_widget.client.backend import Backend


class SavedImage(NamedTuple):
    """One image of a run as soon as it is on disk, before it is decoded: what a run's `on_saved` is given."""

    record: dict[str, Any]
    """Its record, as saved (`id`, `path`, `width`, `height`, `format` filled)."""
    data: bytes
    """The bytes it was saved from (the finished image of a lined-up edit)."""
    mime: str


@dataclass
class Result:
    """What a request produced: PIL images, their records and where they are on disk."""

    images: list[Image]
    records: list[dict[str, Any]]
    paths: list[Path]
    run_id: str
    cached: bool
    cost: pricing.Cost
    estimate: pricing.Cost
    backend: Backend
    request_id: str | None = None
    partials: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def record(self) -> dict[str, Any]:
        """The run's shared fields (the first image's record)."""
        return self.records[0] if self.records else {}

    @property
    def code(self) -> str:
        """The Python call that recreates this result."""
        return reproduce_code(self.record)

    def __repr__(self) -> str:
        where = self.paths[0].parent if self.paths else "nowhere"
        return (f"Result({len(self.images)} image(s), model={self.record.get('model')!r}, "
                f"cost={self.cost.text}, cached={self.cached}, folder={str(where)!r})")

    def _repr_html_(self) -> str:
        return f"<pre>{html.escape(repr(self))}</pre>"
