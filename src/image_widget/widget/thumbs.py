"""Thumbnails for `results` and `history`, made off the kernel's thread.

A thumbnail must never hide a saved, paid-for image: one that fails is logged and left empty.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from image_widget import runtime
from image_widget.widget.payloads import HISTORY_RUNS, HISTORY_THUMB_PX, RESULT_THUMB_PX, history_run
from image_widget.widget.serialization import WidgetHistory

if TYPE_CHECKING:
    from image_widget.client.api import Result
    from image_widget.store import History
    from image_widget.widget.core import ImageWidget

log = logging.getLogger(__name__)

def result_thumbs(result: Result) -> list[tuple[bytes, bytes]]:
    """`(result thumb, history thumb)` for each image of a run, in parallel (Pillow frees the GIL)."""
    from image_widget.images import thumbnail_bytes

    pil = list(result.images) if len(result.images) == len(result.paths) else None

    def both_thumbs(i: int) -> tuple[bytes, bytes]:
        path = result.paths[i]
        source: Any = pil[i] if pil is not None else None
        if source is None and path.suffix.lower() != ".svg":
            source = path.read_bytes()
        if source is None:
            return b"", b""
        try:
            thumb = thumbnail_bytes(source, RESULT_THUMB_PX)
            return thumb, thumbnail_bytes(thumb, HISTORY_THUMB_PX)  # from the small one: cheap
        except Exception:  # a thumbnail must never hide a saved, paid-for image
            log.exception("image_widget: thumbnail of %s failed", path)
            return b"", b""

    return list(runtime.io_pool().map(both_thumbs, range(len(result.paths))))


def history_runs(history: History | None) -> list[dict[str, Any]]:
    """The last runs saved in the folder as `history` entries, so a restarted kernel shows its history."""
    from image_widget.images import thumbnail_bytes

    runs = history.runs(limit=HISTORY_RUNS) if history is not None else []
    loaded: list[dict[str, Any]] = []
    for run in runs:
        thumbs: list[bytes] = []
        for stored in run.images:
            try:
                thumbs.append(b"" if stored.path.suffix.lower() == ".svg"
                              else thumbnail_bytes(stored.data(), HISTORY_THUMB_PX))
            except Exception:  # noqa: BLE001 - a damaged file only loses its thumbnail
                thumbs.append(b"")
        loaded.append(history_run([s.record for s in run.images], thumbs))
    return loaded



def load_history(widget: ImageWidget) -> None:
    """Background thread: show the runs already on disk, so a restarted kernel shows its history.

    Runs this kernel made meanwhile stay in front; `_history_ready` is set when done, even on failure.
    """
    try:
        loaded = history_runs(widget.history)
        if loaded:
            with widget._lock:
                if isinstance(widget.history, WidgetHistory):
                    widget.history = widget.history.with_loaded(loaded)
    except Exception:
        log.exception("image_widget: loading the history thumbnails failed")
    finally:
        widget._history_ready.set()
