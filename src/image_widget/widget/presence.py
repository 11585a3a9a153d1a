"""Views that say they are on screen, and one poll thread that runs only while some view did recently.

The page's views send `{shown: true}` on render and every few seconds while shown, and `{shown: false}`
when they go. A kernel running a cell handles no comm message until the cell ends, so a view's heartbeats
wait in its queue: silence while a cell runs (a long sweep or batch in this kernel) is not a view gone.
IPython's `pre_run_cell` / `post_run_cell` events say when cells run (`CellClock`); only idle time counts.
The live gallery (`live.py`) and the pending batches (`batches.py`) poll this way.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from image_widget.base import runtime

log = logging.getLogger(__name__)


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


class ViewPoller:
    """One poll thread that runs while some view said recently that it is shown, and stops for good at
    `close()`. Subclasses say what one poll does and how often (read on each use, so tests can shorten it)."""

    thread_name = "image-widget-poll"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._views: dict[str, float] = {}  # view id → when it last said it is shown (monotonic)
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._closed = False
        CELLS.hook()

    def poll_once(self) -> None:
        raise NotImplementedError

    def poll_interval_s(self) -> float:
        raise NotImplementedError

    def view_timeout_s(self) -> float:
        """How long a silent view counts as shown (a closed browser tab runs no cleanup)."""
        raise NotImplementedError

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
            self._thread = runtime.spawn(self._run, self.thread_name)

    def close(self) -> None:
        """Stop polling for good (the widget is closed)."""
        with self._lock:
            self._closed = True
            self._views.clear()
        self._wake.set()

    def _shown(self) -> bool:
        timeout = self.view_timeout_s()
        for view_id, seen in list(self._views.items()):
            if CELLS.silent_for(seen) > timeout:
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
                self.poll_once()
                failing = False
            except Exception:  # a bad poll must not end the polling: the next one tries again
                if not failing:  # said once, not every time, until a poll works again
                    log.exception("image_widget: %s failed", self.thread_name)
                failing = True
            self._wake.wait(self.poll_interval_s())
