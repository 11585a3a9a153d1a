"""Thumbnails for `results` and `history`, made off the kernel's thread (on `runtime.io_pool`).

A thumbnail must never hide a saved, paid-for image: one that fails is logged and left empty.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from image_widget.base import runtime
from image_widget.widget.payloads import HISTORY_THUMB_PX, RESULT_THUMB_PX, history_run

if TYPE_CHECKING:
    from image_widget.client.api import Result
    from image_widget.store import Run, StoredImage

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


def history_thumb(stored: StoredImage) -> bytes:
    """A stored image at the history size (b"" for SVG, or when the file is damaged)."""
    if stored.path.suffix.lower() == ".svg":
        return b""
    from image_widget.images import thumbnail_bytes

    try:
        return thumbnail_bytes(stored.data(), HISTORY_THUMB_PX)
    except Exception:  # noqa: BLE001 - a damaged file only loses its thumbnail
        return b""


def history_entries(runs: Sequence[Run]) -> list[dict[str, Any]]:
    """Runs read from the folder as `history` entries, their thumbnails made side by side on the io pool
    (call from a background thread, never from the pool itself)."""
    images = [stored for run in runs for stored in run.images]
    thumbs = iter(list(runtime.io_pool().map(history_thumb, images)))
    return [history_run([s.record for s in run.images], [next(thumbs) for _ in run.images]) for run in runs]
