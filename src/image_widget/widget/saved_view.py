"""What a saved notebook shows of the widget when its live state is gone (issue 23, item 9).

A reopened or shared notebook has no widget model to draw, and JupyterLab's widget renderer then reads
"Error displaying widget: model not found" with no fallback. So next to the widget the kernel publishes a
small static output (one `display_id`, updated after each run): the last results as a strip of thumbnails
and a line saying to re-run the cell. While the widget is live its view hides its own cell's saved view
(js/views/saved-view.ts, only that one: a saved view elsewhere on the page, whose widget is gone, stays);
in a reopened notebook no widget draws, so it shows.
"""

from __future__ import annotations

import base64
import html
import logging
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from image_widget.base.formats import content_type
from image_widget.widget.payloads import RESULT_THUMB_PX

log = logging.getLogger(__name__)

THUMB_PX = RESULT_THUMB_PX
"""The result strip's own size, so a run's result thumbnails are reused as they are."""
MAX_SHOWN = 4
"""At most this many thumbnails (JPEG, ~10 KB each): the saved notebook stays small."""
RERUN = "This is a saved picture of the widget's last results: re-run this cell to get the live widget back."
NOTHING_YET = "The image widget was here: re-run this cell to get it back."


def saved_view_html(paths: Sequence[Path], prompt: str = "") -> str:
    """The static output: up to `MAX_SHOWN` results as JPEG thumbnails, the prompt, and the line to re-run."""
    return _html([_thumb(p) for p in list(paths)[:MAX_SHOWN]], prompt)


def _html(thumbs: Sequence[bytes], prompt: str) -> str:
    tiles = [f"data:{content_type(t)};base64,{base64.b64encode(t).decode('ascii')}" for t in thumbs[:MAX_SHOWN] if t]
    images = "".join(f'<img alt="{html.escape(prompt or "result")}" src="{t}" '
                     f'style="max-width:{THUMB_PX}px;max-height:{THUMB_PX}px;margin:0 4px 4px 0">' for t in tiles)
    words = RERUN if tiles else NOTHING_YET
    caption = f"<div><em>{html.escape(prompt, quote=False)}</em></div>" if tiles and prompt else ""
    return f'<div class="iw-saved-view">{images}{caption}<div>{html.escape(words, quote=False)}</div></div>'


def _thumb(path: Path) -> bytes:
    """The image's thumbnail (the widget's own `thumbnail_bytes`: JPEG, PNG when transparent); b"" if unreadable."""
    try:
        from image_widget.images import thumbnail_bytes

        return thumbnail_bytes(path.read_bytes(), THUMB_PX)
    except Exception:  # noqa: BLE001 - a picture that cannot be read is left out; the line still says what to do
        return b""


class SavedView:
    """The published static output of one widget: shown with it, updated after each run."""

    def __init__(self) -> None:
        self.display_id = f"iw-saved-{uuid.uuid4().hex}"
        self.shown = False

    def show(self, paths: Sequence[Path], prompt: str = "") -> None:
        """Publish it next to the widget (from `_ipython_display_`, in the cell that displays the widget)."""
        publish({"text/html": saved_view_html(paths, prompt)}, self.display_id)
        self.shown = True

    def update(self, thumbs: Sequence[bytes], prompt: str = "") -> None:
        """After a run: the saved notebook will show these results, from the run's own result thumbnails (read
        again from disk, four 1024² images cost ~20 ms of decoding per run). Never stops a run if it cannot."""
        if not self.shown:
            return
        try:
            publish({"text/html": _html(thumbs, prompt)}, self.display_id, update=True)
        except Exception:
            log.exception("image_widget: the saved view could not be updated")


def publish(bundle: dict[str, Any], display_id: str | None = None, *, update: bool = False,
            metadata: dict[str, Any] | None = None) -> None:
    """A raw mimebundle to the notebook (IPython's display, which is untyped: one place calls it)."""
    from IPython.display import display

    extra: dict[str, Any] = {"display_id": display_id} if display_id else {}
    if update:
        extra["update"] = True
    display(bundle, raw=True, metadata=metadata or {}, **extra)  # type: ignore[no-untyped-call]
