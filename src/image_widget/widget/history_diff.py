"""History updates as diffs (issue 22, item 1): a new run sends that run, not the whole strip again.

The `history` trait is sent whole when the page asks for something new (a page, a search); a run made here or
saved by another process only changes a few entries in front, so it goes as one `history_diff` message —
runs added (with the position each takes), changed (a run that grew) and removed (one that fell off the end)
— with their thumbnails as buffers. The trait takes the new value without being sent again, so the next
whole send (a page, a search, a new view) is the same list the page has built.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from traitlets import Bunch

from image_widget.widget.serialization import WidgetHistory

__all__ = ["HistoryHost", "diff_runs", "put_history"]


class HistoryHost(Protocol):
    """The widget as this module needs it: the trait's value (read and quietly replaced), its observers
    (traitlets' `_notify_observers`, which ipywidgets does not hook, so nothing is sent) and `send`."""

    history: Any
    _trait_values: dict[str, Any]

    def send(self, content: Any, buffers: Any = None) -> None: ...

    def _notify_observers(self, event: Any) -> None: ...


def diff_runs(old: Sequence[dict[str, Any]], new: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """What turns the list `old` into `new` (both newest first): removed ids, then changed and added runs with
    the index each has in `new`, in increasing order (insert them in that order and the lists match)."""
    before = {str(run["run_id"]): run for run in old}
    after = {str(run["run_id"]) for run in new}
    removed = [run_id for run_id in before if run_id not in after]
    added, changed = [], []
    for index, run in enumerate(new):
        was = before.get(str(run["run_id"]))
        if was is None:
            added.append((index, run))
        elif was is not run and was != run:
            changed.append((index, run))
    return {"removed": removed, "added": added, "changed": changed}


def _wire(entries: list[tuple[int, dict[str, Any]]], buffers: list[bytes]) -> list[dict[str, Any]]:
    """Runs for the message: each thumbnail moved into `buffers`, named by its place there."""
    out = []
    for index, run in entries:
        items = []
        for item in run.get("items", []):
            items.append({"id": item["id"], "thumb": len(buffers)})
            buffers.append(bytes(item.get("thumb") or b""))
        out.append({"index": index, "run": {**{k: v for k, v in run.items() if k != "items"}, "items": items}})
    return out


def put_history(w: HistoryHost, new: Any) -> None:
    """Make `new` the `history` trait's value: as a diff when only its runs changed, else sent whole."""
    old = w.history
    if not (isinstance(old, WidgetHistory) and isinstance(new, WidgetHistory) and old.query == new.query):
        w.history = new
        return
    diff = diff_runs(old.shown, new.shown)
    w._trait_values["history"] = new  # the page builds the same list from the diff: no whole send
    # ...but what watches the value still hears of it (`history_state.more` turns true when a run falls off)
    w._notify_observers(Bunch(name="history", old=old, new=new, owner=w, type="change"))
    if not (diff["removed"] or diff["added"] or diff["changed"]):
        return
    buffers: list[bytes] = []
    message = {"type": "history_diff", "removed": diff["removed"], "added": _wire(diff["added"], buffers),
               "changed": _wire(diff["changed"], buffers)}
    w.send(message, buffers)
