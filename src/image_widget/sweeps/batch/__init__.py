"""Sweeps on the OpenAI Batch API: half the price, up to 50,000 requests a file, results within 24 hours.

    s = iw.sweep("a {animal} in {style}", animal=[...], style=[...], batch=True, max_cost=40.0)
    s.status(); s.wait(); s.grid(); s.cancel(); iw.batches()

`plan` writes the input files, `intent` the durable record written before anything is sent, `submit`
gets each file to the server exactly once, `collect` saves what comes back, `handle` is what users hold.
"""

from __future__ import annotations

import sys
from typing import Any

from image_widget.base.errors import APIRequestError
from image_widget.client.backend import resolve_backend
from image_widget.client.request import resolve_store
from image_widget.sweeps.batch.handle import BatchStatus, BatchSweep, batches
from image_widget.sweeps.batch.plan import Limits
from image_widget.sweeps.batch.submit import plan_run


def batch_sweep(template: str, *, max_cost: float | None = None, limits: Limits | None = None, again: bool = False,
                **kwargs: Any) -> BatchSweep:
    """Plan, check the budget at the batch price, write the intent, then upload and create the batches.

    The same sweep asked again of the same server (a notebook cell run twice) returns the earlier run, with a
    warning, and pays nothing; a part it had not sent yet is sent now. `again=True` makes a new batch.

    Returns once they are created (not finished); nothing is uploaded when a check fails. When the
    upload or create fails, the intent stays (nothing submits it on its own) and the error says how to
    resume (`iw.batches()[i].submit()`) or drop (`.discard()`) it. Run options
    (client, base_url, api_key, store, prices) are taken as for `sweep`; `cache`, `max_retries`,
    `timeout`, `concurrency` and `progress` have no meaning for a batch and are ignored; `on_saved` is refused (a
    batch's images are saved when its results are collected, not during this call).
    """
    if kwargs.get("on_saved") is not None:
        raise TypeError("on_saved is not available with batch=True: a batch's images are saved when its results "
                        "are collected (BatchSweep.collect), not during this call")
    client, base_url, api_key = kwargs.pop("client", None), kwargs.pop("base_url", None), kwargs.pop("api_key", None)
    store = resolve_store(kwargs.pop("store", None))
    for ignored in ("cache", "max_retries", "timeout", "concurrency", "progress"):
        kwargs.pop(ignored, None)
    backend = resolve_backend(client, base_url, api_key)
    intent = plan_run(template, store.folder, backend, max_cost=max_cost, limits=limits, again=again, **kwargs)
    handle = BatchSweep(intent, client=client, base_url=base_url, api_key=api_key, store=store)
    try:
        handle.submit()
    except Exception as exc:
        _say_intent_remains(exc, handle)
        raise
    finally:  # submitted, or left "not submitted": open widgets list it either way
        widgets = sys.modules.get("image_widget.widget.batches")  # only when a widget was made in this process
        if widgets is not None:
            widgets.announce()
    return handle


def _say_intent_remains(exc: Exception, handle: BatchSweep) -> None:
    """A failed submit keeps its intent and nothing submits it on its own: the error says how to go on."""
    if not handle.unsubmitted:
        return
    note = handle.not_submitted()
    exc.args = (f"{exc.args[0] if exc.args else exc} — {note}", *exc.args[1:])
    if isinstance(exc, APIRequestError):
        exc.hint = f"{exc.hint} — {note}" if exc.hint else note


__all__ = ["BatchStatus", "BatchSweep", "Limits", "batch_sweep", "batches"]
