"""The history strip's pages: the newest runs when the widget opens, the next page on `history_more`, the
first page of a search on `history_search` — each one index query, its thumbnails made off the kernel's
thread. The kernel holds the pages the page has asked for, never the folder.

`history_state` (`{query, more, loading}`) tells the page what it shows and whether asking for more can
bring anything; `history` (a `WidgetHistory`) holds the runs themselves.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any, Protocol

from image_widget.base import runtime
from image_widget.widget.payloads import HISTORY_RUNS
from image_widget.widget.serialization import WidgetHistory
from image_widget.widget.thumbs import history_entries

if TYPE_CHECKING:
    from collections.abc import Callable


class PagesHost(Protocol):
    """What the history pages need of their widget (`core.ImageWidget`): the history, its page state, the lock."""

    _lock: threading.RLock
    history: WidgetHistory | None
    history_state: dict[str, Any]

    def observe(self, handler: Callable[..., Any], names: Any = ..., type: str = ...) -> None: ...

log = logging.getLogger(__name__)

MAX_QUERY = 500
"""Longest search text taken (a prompt is at most 32,000 characters; nobody types that into a search box)."""


class HistoryPages:
    """Loads pages of runs into the widget's `history`; one load at a time, a newer search wins."""

    def __init__(self, widget: PagesHost) -> None:
        self._w = widget
        self._lock = threading.Lock()
        self._epoch = 0  # bumped by every search: a page loaded for an older one is dropped
        self._loading = False
        self._query = ""
        self.ready = threading.Event()  # the first page is in (or failed)

    def state(self) -> dict[str, Any]:
        """The `history_state` trait: the search the strip shows, whether older runs match, a load under way."""
        history = self._w.history
        more = isinstance(history, WidgetHistory) and history.more
        return {"query": self._query, "more": bool(more), "loading": self._loading}

    def _publish(self) -> None:
        with self._w._lock:
            self._w.history_state = self.state()

    def start(self) -> None:
        """The newest page, in the background (the widget appears without waiting for it); from now on
        every new `history` value (a page, a run, the live gallery) refreshes `history_state`."""
        self._w.observe(lambda _change: self._publish(), names="history")
        with self._lock:
            self._loading = True
        runtime.spawn(lambda: self._load(0, "", None, first=True), "image-widget-history")

    def more(self) -> bool:
        """The page after the last run shown (same search); False when there is none or one is loading."""
        history = self._w.history
        with self._lock:
            if self._loading or not isinstance(history, WidgetHistory) or not history.more or not history.shown:
                return False
            self._loading = True
            epoch, query, after = self._epoch, history.query, str(history.shown[-1]["run_id"])
        self._publish()
        runtime.spawn(lambda: self._load(epoch, query, after), "image-widget-history")
        return True

    def search(self, query: str) -> None:
        """The first page of runs whose prompt contains `query` ("" = back to the newest runs)."""
        query = query.strip()[:MAX_QUERY]
        with self._lock:
            self._epoch += 1
            self._loading, self._query, epoch = True, query, self._epoch
        self._publish()
        runtime.spawn(lambda: self._load(epoch, query, None, search=True), "image-widget-history")

    def _load(self, epoch: int, query: str, after: str | None, *, search: bool = False, first: bool = False) -> None:
        """Background thread: one page from the index, with thumbnails, into `history` (if still wanted)."""
        w = self._w
        try:
            history = w.history
            if not isinstance(history, WidgetHistory):
                return
            view = history.filter(prompt=query) if query else history
            try:
                runs = view.runs(HISTORY_RUNS + 1, after=after)
            except ValueError:  # the last run shown is gone from the folder: nothing to follow on from
                runs = []
            entries = history_entries(runs[:HISTORY_RUNS])
            more = len(runs) > HISTORY_RUNS
            with w._lock:
                current = w.history
                if epoch != self._epoch or not isinstance(current, WidgetHistory):
                    return
                if search:
                    w.history = current.with_search(query, entries, more)
                else:
                    w.history = current.with_loaded(entries, more)
        except Exception:
            log.exception("image_widget: loading a page of the history failed")
        finally:
            with self._lock:
                if epoch == self._epoch:
                    self._loading = False
            self._publish()
            if first:
                self.ready.set()
