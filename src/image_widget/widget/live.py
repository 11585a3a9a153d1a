"""One gallery, live: while a view of the widget is on screen, runs that other processes save into its
folder (another notebook, a script, a batch, the MCP server) join the front of the history strip.

No folder scan: once a second the index is asked what was indexed after the last row seen
(`History.changed_runs`), which costs the same on a folder of 10 images or 100,000. The page says when a
view is shown (`view` commands: on render, every `HEARTBEAT_S` while shown, and when it goes); the poll
thread runs only while some view said so recently, and stops for good when the widget is closed.

Silence while this kernel runs a cell is not a view gone (`presence.py`).

A run this kernel makes is put in front by the run itself (`serialization.with_run`); the poll skips it
when it is already shown whole. (Should a poll see it in the instant between its save and that, it shows
it first; the run then replaces it with the same entry.)
"""

from __future__ import annotations

import threading
from typing import Any, Protocol

from image_widget.widget.history_diff import put_history
from image_widget.widget.presence import ViewPoller
from image_widget.widget.serialization import WidgetHistory
from image_widget.widget.thumbs import history_entries


class GalleryHost(Protocol):
    """What the live gallery needs of its widget (`core.ImageWidget`): its history and the lock it writes under."""

    _lock: threading.RLock
    history: WidgetHistory | None
    _trait_values: dict[str, Any]

    def _notify_observers(self, event: Any) -> None: ...

    def send(self, content: Any, buffers: Any = None) -> None: ...


POLL_S = 1.0
"""How often the index is asked for new rows while a view is shown (images appear within about 2 s)."""
HEARTBEAT_S = 10.0
"""How often a shown view says so (js/views/live.ts sends `{type: "view", shown: true}` this often)."""
VIEW_TIMEOUT_S = 3 * HEARTBEAT_S
"""A view that has not said so for this long is taken as gone (a closed browser tab runs no cleanup)."""


class LiveGallery(ViewPoller):
    """The widget's poll thread and the views that keep it running."""

    thread_name = "image-widget-live"

    def __init__(self, widget: GalleryHost) -> None:
        super().__init__()
        self._w = widget
        self._last_row: int | None = None

    def poll_once(self) -> None:
        self.poll()

    def poll_interval_s(self) -> float:
        return POLL_S

    def view_timeout_s(self) -> float:
        return VIEW_TIMEOUT_S

    def poll(self) -> int:
        """Ask the index once for runs saved since the last poll and put the new ones in front; how many."""
        w = self._w
        history = w.history
        if not isinstance(history, WidgetHistory):
            return 0
        if self._last_row is None:  # the first poll: what was saved since the widget opened is new
            self._last_row = history.opened_row
        view = history.filter(prompt=history.query) if history.query else history
        runs, last = view.changed_runs(self._last_row, history.cap)
        shown = {str(run["run_id"]): {item["id"] for item in run["items"]} for run in history.shown}
        # A run this kernel made (or one already shown whole) is skipped; one that grew is shown again.
        fresh = [run for run in runs if shown.get(run.run_id) != {img.id for img in run.images}]
        entries = history_entries(fresh) if fresh else []
        with w._lock:
            current = w.history
            if not isinstance(current, WidgetHistory) or current.query != history.query:
                return 0  # a search changed what is shown meanwhile: the next poll asks again
            self._last_row = last
            if entries:
                put_history(w, current.with_new(entries, upto=last))  # a diff: the runs in front
            else:
                current.include(last)  # nothing to show, but later pages and searches may find these rows
        return len(entries)
