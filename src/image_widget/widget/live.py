"""One gallery, live: while a view of the widget is on screen, runs that other processes save into its
folder (another notebook, a script, a batch, the MCP server) join the front of the history strip.

No folder scan: once a second the index is asked what was indexed after the last row seen
(`History.changed_runs`), which costs the same on a folder of 10 images or 100,000. The page says when a
view is shown (`view` commands: on render, every `HEARTBEAT_S` while shown, and when it goes); the poll
thread runs only while some view said so recently, and stops for good when the widget is closed.

A kernel running a cell handles no comm message until the cell ends, so a view's heartbeats wait in its
queue: silence while a cell runs (a long sweep or batch in this kernel) is not a view gone. IPython's
`pre_run_cell` / `post_run_cell` events say when cells run (`CellClock`); only idle time counts.

A run this kernel makes is put in front by the run itself (`serialization.with_run`); the poll skips it
when it is already shown whole. (Should a poll see it in the instant between its save and that, it shows
it first; the run then replaces it with the same entry.)
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING, Any

from image_widget import runtime
from image_widget.widget.serialization import WidgetHistory
from image_widget.widget.thumbs import history_entries

if TYPE_CHECKING:
    from image_widget.widget.core import ImageWidget

log = logging.getLogger(__name__)

POLL_S = 1.0
"""How often the index is asked for new rows while a view is shown (images appear within about 2 s)."""
HEARTBEAT_S = 10.0
"""How often a shown view says so (js/views/live.ts sends `{type: "view", shown: true}` this often)."""
VIEW_TIMEOUT_S = 3 * HEARTBEAT_S
"""A view that has not said so for this long is taken as gone (a closed browser tab runs no cleanup)."""


class CellClock:
    """Whether this kernel is running a cell now and when it last finished one (IPython's events; outside
    IPython nothing runs cells, and views time out by the wall clock alone)."""

    def __init__(self) -> None:
        self.running = False
        self.idle_since = 0.0
        self._hooked = False

    def hook(self) -> None:
        """Listen to IPython's cell events, once per process (a no-op outside IPython)."""
        if self._hooked:
            return
        self._hooked = True
        shell = _shell()
        if shell is not None:
            shell.events.register("pre_run_cell", self._started)
            shell.events.register("post_run_cell", self._ended)

    def _started(self, *_args: object) -> None:
        self.running = True

    def _ended(self, *_args: object) -> None:
        self.running, self.idle_since = False, time.monotonic()

    def silent_for(self, seen: float) -> float:
        """Seconds a view seen at `seen` has been silent while the kernel could have heard it."""
        return 0.0 if self.running else time.monotonic() - max(seen, self.idle_since)


def _shell() -> Any:
    import sys

    ipython = sys.modules.get("IPython")  # imported by every IPython kernel; never imported here
    return ipython.get_ipython() if ipython is not None else None


CELLS = CellClock()


class LiveGallery:
    """The widget's poll thread and the views that keep it running."""

    def __init__(self, widget: ImageWidget) -> None:
        self._w = widget
        self._lock = threading.Lock()
        self._views: dict[str, float] = {}  # view id → when it last said it is shown (monotonic)
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._closed = False
        self._last_row: int | None = None
        CELLS.hook()

    @property
    def polling(self) -> bool:
        """Whether the poll thread is running."""
        thread = self._thread
        return thread is not None and thread.is_alive()

    def view(self, view_id: str, shown: bool) -> None:
        """A view said it is shown (or that it went away): start the poll thread if it is not running."""
        with self._lock:
            if shown:
                self._views[view_id] = time.monotonic()
            else:
                self._views.pop(view_id, None)
            if self._closed or not self._shown() or (self._thread is not None and self._thread.is_alive()):
                return
            self._thread = runtime.spawn(self._run, "image-widget-live")

    def close(self) -> None:
        """Stop polling for good (the widget is closed)."""
        with self._lock:
            self._closed = True
            self._views.clear()
        self._wake.set()

    def _shown(self) -> bool:
        for view_id, seen in list(self._views.items()):
            if CELLS.silent_for(seen) > VIEW_TIMEOUT_S:
                del self._views[view_id]
        return bool(self._views)

    def _run(self) -> None:
        failing = False
        while True:
            with self._lock:
                if self._closed or not self._shown():
                    self._thread = None
                    return
            try:
                self.poll()
                failing = False
            except Exception:  # a bad poll must not end the gallery: the next one tries again
                if not failing:  # said once, not every second, until a poll works again
                    log.exception("image_widget: polling the folder for new images failed")
                failing = True
            self._wake.wait(POLL_S)

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
                w.history = current.with_new(entries, upto=last)
            else:
                current.include(last)  # nothing to show, but later pages and searches may find these rows
        return len(entries)
