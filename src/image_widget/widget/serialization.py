"""The two traits whose Python value differs from what goes on the wire: `mask` and `history`.

Each value carries everything its serializer needs, so `to_json` is a function of the value alone and
a change is always a new value, which traitlets (and so ipywidgets) sends by itself:

* `mask` is a `MaskImage`: a PIL RGBA image (alpha 0 = edit) that keeps the exact PNG it came from.
* `history` is a `WidgetHistory`: a `store.History` that also holds the runs the page lists, with
  their small thumbnails. It is replaced, never changed in place.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol, cast

from PIL import Image as PILImage

from image_widget.store import History, StoredImage
from image_widget.store.records import parse_time
from image_widget.widget.payloads import HISTORY_RUNS, history_run, merge_history
from image_widget.widget.png_layer import PngLayer, PngLayerTrait, layer_to_json

if TYPE_CHECKING:
    from image_widget.widget.inputs import Inputs


class _MaskOwner(Protocol):
    """The widget a mask is set on (`core.ImageWidget`): its inputs give the size a mask is scaled to."""

    _inputs: Inputs

__all__ = ["MaskImage", "MaskTrait", "WidgetHistory", "edit_png", "history_to_json", "mask_to_json", "with_run"]


class MaskImage(PngLayer):
    """The painted mask in Python: an RGBA image, plus `png` (see `PngLayer`) and `has_edit` (any alpha-0
    pixel)."""

    has_edit: bool

    def describe(self) -> None:
        self.has_edit = self.getchannel("A").getextrema()[0] == 0


class MaskTrait(PngLayerTrait):
    """The painted mask: PNG bytes on the wire, a `MaskImage` (or None) in Python.

    Accepts what the browser writes (PNG bytes / memoryview; empty = no mask) and, from Python, a PIL
    image, an array (True/white = edit) or a path, fitted to the first input's size.
    """

    layer = MaskImage
    info_text = "PNG bytes (RGBA, alpha 0 = edit), a PIL image, an array, a path or None"

    def decode(self, obj: Any, value: Any) -> tuple[bytes, PILImage.Image]:
        from image_widget import images

        if isinstance(value, bytes | bytearray | memoryview):
            png = bytes(value)
        else:
            first = cast("_MaskOwner", obj)._inputs.first_size()
            size = first or images.load_image(value, param="mask").size
            png = images.prepare_mask(value, size)[1]
        return png, images.mask_from_png(png)


mask_to_json = layer_to_json
"""The PNG the mask was made from; empty bytes for no mask."""


def edit_png(value: MaskImage | None) -> bytes | None:
    """The mask PNG to send with an edit, or None when nothing is marked for editing."""
    return value.png if value is not None and value.has_edit else None


class WidgetHistory(History):
    """The `history` trait's value: everything saved in the folder (`store.History`) plus `shown`, the runs
    the page lists (newest first) with their small thumbnails — the pages loaded so far, never the folder.

    `query` is the search those runs match ("" = none), `more` says whether older ones match too, and
    `cap` how many runs `shown` keeps when new ones arrive in front (a page per page loaded). Replaced
    rather than changed in place (every `with_…` returns a new value), so assigning it is what sends it:
    no hand-made `send_state("history")`.
    """

    def __init__(self, folder: str | os.PathLike[str] | None = None) -> None:
        super().__init__(folder)
        self.shown: tuple[dict[str, Any], ...] = ()
        self.query = ""
        self.more = False
        self.cap = HISTORY_RUNS
        self.opened_row = self.last_row_id  # the live gallery shows what was indexed after this row

    def with_loaded(self, runs: Sequence[dict[str, Any]], more: bool | None = None) -> WidgetHistory:
        """A page of runs read back from disk behind the ones already shown (`more`: older ones exist)."""
        new = copy.copy(self)
        new.shown = tuple(merge_history(self.shown, runs, limit=None))
        new.cap = max(HISTORY_RUNS, len(new.shown))
        if more is not None:
            new.more = more
        return new

    def with_search(self, query: str, runs: Sequence[dict[str, Any]], more: bool) -> WidgetHistory:
        """The first page of the runs whose prompt contains `query` ("" = the newest runs) instead of `shown`."""
        new = copy.copy(self)
        new.query, new.shown, new.more, new.cap = query, tuple(runs), more, HISTORY_RUNS
        return new

    def with_new(self, runs: Sequence[dict[str, Any]], upto: int = 0) -> WidgetHistory:
        """Runs saved since (`runs`, matching `query`) among those shown, newest first — a run another
        process saved a while ago takes its place by time, and one older than every run shown goes
        behind them, a page away —; the snapshot grows to `upto`."""
        new = copy.copy(self)
        new.include(upto)
        merged = sorted(merge_history(runs, self.shown, limit=None), key=_newest_first)  # stable: ties keep order
        new.shown = tuple(merged[:self.cap])
        new.more = self.more or len(merged) > self.cap  # what fell off the end is one page away
        return new

    def matches(self, images: Sequence[StoredImage]) -> bool:
        """Whether a run belongs in `shown` under the current search (asked of the index, as the search was)."""
        if not self.query:
            return True
        found = self.filter(prompt=self.query)
        return any(img in found for img in images)


def _newest_first(run: dict[str, Any]) -> tuple[bool, float]:
    created = parse_time(run.get("created"))
    return created is None, -created.timestamp() if created is not None else 0.0


def with_run(history: History, images: Sequence[StoredImage], run: dict[str, Any]) -> History:
    """A new `history` value with a run this kernel just made (`run`: its `history_run` entry) in front
    (when it matches the search shown).

    A shallow copy is enough: `History` never mutates its lists, it rebinds them.
    """
    new = copy.copy(history)
    new.add_run(images)
    if isinstance(new, WidgetHistory) and new.matches(images):
        new = new.with_new([run])
    return new


def history_to_json(value: History | None, _widget: Any) -> list[dict[str, Any]]:
    """The runs the page lists. A plain `History` (assigned by hand) is listed without thumbnails."""
    if value is None:
        return []
    if isinstance(value, WidgetHistory):
        return list(value.shown)
    return [history_run([s.record for s in run.images], [b""] * len(run.images))
            for run in value.runs(limit=HISTORY_RUNS)]
