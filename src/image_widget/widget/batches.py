"""The widget's `batches` trait: the folder's pending batch sweeps, kept current only while it is shown.

The trait is read from the folder when the widget opens and whenever `announce()` says a batch sweep was
submitted in this process. The page's batches view (js/views/batches.ts) says when it shows some
(`batches_view` messages: when its list becomes non-empty, every `HEARTBEAT_S`, and `shown: false` when it
empties or goes). While some view shows them, one thread asks the server about each pending batch every
`POLL_S`; a batch that ended has its images saved into the folder then (where the history finds them)
and leaves the list. Nothing polls while no view shows a pending batch. The poll never uploads or creates
(money): a sweep whose submit failed is listed as "not submitted", with how to resume or discard it.
"""

from __future__ import annotations

import logging
import threading
import weakref
from typing import TYPE_CHECKING, Any, Protocol

from image_widget.base import runtime
from image_widget.store.layout import default_folder
from image_widget.widget.presence import ViewPoller

if TYPE_CHECKING:
    from pathlib import Path

    from image_widget.sweeps.batch import BatchSweep
    from image_widget.widget.connection import Connection

log = logging.getLogger(__name__)
HEARTBEAT_S = 5.0
"""How often a shown view says so (js/views/batches.ts sends this often)."""
POLL_S = 2.0
"""How often pending batches are asked about while a view is shown."""
ENDED = ("completed", "expired", "cancelled", "failed", "discarded")


def pending(handles: list[BatchSweep]) -> list[dict[str, Any]]:
    """The trait's value: plain summaries of the batches not yet ended and saved (never a key); one not
    submitted says how to resume or drop it (`i` is its place in `iw.batches()`, which lists these same
    handles in this order)."""
    items: list[dict[str, Any]] = []
    for i, handle in enumerate(handles):
        if handle.last_status().state in ENDED:
            continue
        item = handle.summary()
        if handle.unsubmitted and not handle.intent.discarded:
            folder = handle.store.folder
            where = "" if folder == default_folder() else repr(str(folder))
            item["hint"] = f"not sent: iw.batches({where})[{i}].submit() sends it, .discard() drops it"
        items.append(item)
    return items


_LIVE: weakref.WeakSet[BatchPoller] = weakref.WeakSet()


def announce() -> None:
    """A batch sweep was just submitted: every open widget of this process re-reads its folder."""
    for poller in list(_LIVE):
        runtime.spawn(lambda p=poller: p.refresh(ask_server=False), "image-widget-batches-list")  # type: ignore[misc]


class BatchesHost(Protocol):
    """What the batch poller needs of its widget (`core.ImageWidget`): its folder, connection and `batches` trait."""

    _lock: threading.RLock
    _connection: Connection
    batches: list[dict[str, Any]]

    @property
    def folder(self) -> Path: ...


class BatchPoller(ViewPoller):
    """Owns the `batches` trait of one widget."""

    thread_name = "image-widget-batches"

    def __init__(self, widget: BatchesHost) -> None:
        super().__init__()
        _LIVE.add(self)
        self._widget = weakref.ref(widget)

    def poll_once(self) -> None:
        self.refresh(ask_server=True)

    def poll_interval_s(self) -> float:
        return POLL_S

    def view_timeout_s(self) -> float:
        return 2 * HEARTBEAT_S

    def handles(self) -> list[BatchSweep]:
        from image_widget.sweeps.batch import batches

        w = self._widget()
        if w is None:
            return []
        kwargs = w._connection.request_kwargs()
        return batches(w.folder, client=kwargs["client"], base_url=kwargs["base_url"], api_key=kwargs["api_key"])

    def refresh(self, *, ask_server: bool) -> None:
        """Set the trait from the folder; with `ask_server`, each pending batch is asked first (and what
        ended is saved)."""
        w = self._widget()
        if w is None:
            return
        handles = self.handles()
        for handle in handles:
            if ask_server and handle.last_status().state not in ENDED:
                try:
                    handle.status()
                except Exception:
                    log.warning("image_widget: could not ask about batch %s", handle.run_id, exc_info=True)
        with w._lock:
            w.batches = pending(handles)

    def on_msg(self, _widget: Any, content: Any, _buffers: Any) -> None:
        """The widget's second `on_msg` callback: only `batches_view` messages are ours."""
        if isinstance(content, dict) and content.get("type") == "batches_view":
            self.view(str(content.get("view_id") or ""), content.get("shown") is True)

    def close(self) -> None:
        super().close()
        _LIVE.discard(self)
