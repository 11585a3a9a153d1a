"""The one path every request takes (what a request is: `client/wire.py`).

`run` is where `generate`, `edit`, `vary` (and the widget, sweeps, rerun) all end:
1. validate the whole request (nothing is sent if it fails);
2. answer from the store when `cache=True` and an identical request was made before;
3. call the SDK with an explicit timeout; only a 429 is sent again (`rate_limits`: anything else may bill);
4. write each returned image to disk before decoding it for the caller (`persist`); the estimate and the cache
   key are worked out there, beside the decode, unless a cache look-up or a class budget needs them first.
"""

from __future__ import annotations

import contextlib
import threading
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from image_widget.base.errors import APIRequestError
from image_widget.client import file_ids, json_edit, persist
from image_widget.client.backend import resolve_backend
from image_widget.client.models import ensure_live, unknown_model
from image_widget.client.rate_limits import SDK_RETRIES, Flight, waiting_out_rate_limits
from image_widget.client.sdk import CancelledWithImages, SDKCall, SDKResponse, StreamBroke
from image_widget.client.wire import Request
from image_widget.facts import capabilities
from image_widget.facts import cost as pricing
from image_widget.facts.lifecycle import warn_once
from image_widget.facts.prices import as_overrides
from image_widget.money import bounds, classroom, learned
from image_widget.store import Store, StoreError, cache_key, default_folder

if TYPE_CHECKING:

    from image_widget.client.backend import Backend
    from image_widget.client.options import RunOptions
    from image_widget.client.result import Result
    from image_widget.facts.prices import ModelPrice

def estimate_for(request: Request, prices: Mapping[str, ModelPrice] | None = None) -> pricing.Cost:
    """The price table's estimate of exactly this request (its size as sent, its input images as sent):
    what `run` records and what a budget (the MCP server's `--max-cost`) must check before sending it."""
    params = request.params
    return pricing.estimate(str(params.get("model", capabilities.DEFAULT_MODEL)), quality=params.get("quality"),
                            size=params.get("size"), n=int(params.get("n", 1)), endpoint=request.endpoint,
                            inputs=request.input_sizes(), input_fidelity=params.get("input_fidelity"),
                            prices=prices)


_STORES: OrderedDict[Path, Store] = OrderedDict()
_STORES_LOCK = threading.Lock()
_KEPT_STORES = 16


def resolve_store(store: Store | str | Path | None) -> Store:
    """The caller's `Store`, else this process's one for that folder: a store made per request opened its
    folder's index again each time (~0.5 ms of every request, issue 22). A few folders are kept."""
    if isinstance(store, Store):
        return store
    folder = default_folder(store)
    with _STORES_LOCK:
        found = _STORES.get(folder)
        if found is None:
            found = _STORES[folder] = Store(folder)
            while len(_STORES) > _KEPT_STORES:
                _STORES.popitem(last=False)
        _STORES.move_to_end(folder)
        return found


async def run(request: Request, options: RunOptions) -> Result:
    """Validate, answer from the cache or send, save: the request path (see the module's docstring)."""
    # Always name the model: a server's own default may be a retired model (DALL·E 2 at OpenAI).
    request.params.setdefault("model", capabilities.DEFAULT_MODEL)
    backend = resolve_backend(options.client, options.base_url, options.api_key)
    server = None if backend.synthetic else backend.cache_identity
    if server is not None:  # the server's own model dates (once per session; a GET, never billed)
        await ensure_live(backend)
    unknown = unknown_model(str(request.params["model"]), backend)
    if unknown is not None:
        raise capabilities.ValidationError([capabilities.Problem("model", unknown)])
    capabilities.check(request.endpoint, request.wire_params(), allow_retired=request.allow_retired, server=server)
    disk = resolve_store(options.store)
    model = str(request.params.get("model", capabilities.DEFAULT_MODEL))
    warn_once(model, server)
    overrides = as_overrides(options.prices)
    finish = {"finish": request.finish.cache_part()} if request.finish is not None else {}
    keyed = {**request.params, "backend": backend.cache_identity, **finish}
    hashes = request.file_hashes()

    def key_now() -> str:
        return cache_key(request.endpoint, keyed, hashes)

    def estimate_now() -> learned.Estimate:
        return learned.estimate(request, disk.folder, synthetic=backend.synthetic, prices=overrides)

    def cost_now() -> pricing.Cost:
        return estimate_now().cost()

    # Needed before sending only for a cache look-up or a class budget's hold; otherwise the first image's save
    # job works them out while this thread decodes (`persist.Saving.settled`, ~0.5 ms off the path, issue 22).
    key: str | Callable[[], str] = key_now
    estimate: pricing.Cost | Callable[[], pricing.Cost] = cost_now
    if options.cache:
        key = key_now()
        stored = disk.lookup(key)
        if stored is not None:
            return persist.cached_result(stored, backend, cost_now())
    try:  # a folder that cannot exist would lose every image this request pays for: fail before sending
        disk.folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(disk.folder, exc, "create the folder") from exc
    held = 0.0
    if classroom.budget_usd() is not None:
        early = estimate_now()
        estimate = early.cost()
        held = classroom.hold(*_upper(early, request, model, overrides))
    flight = Flight()
    saving = persist.Saving(request, disk, backend, model, key, estimate, overrides, on_saved=options.on_saved)
    try:
        sdk_client = backend.async_client(max_retries=SDK_RETRIES, timeout=options.timeout)
        response = await send(request, backend, disk, sdk_client, rate_limit_retries=int(options.max_retries or 0),
                              flight=flight)
        result = persist.save(saving, response)
    except StreamBroke as exc:
        with _settled_if_saving_fails(held, exc, saving):
            error, paid = persist.save_broken(saving, exc)
        classroom.release(held, error, paid=paid)
        raise error from None
    except CancelledWithImages as exc:  # still a cancellation, once what had arrived is on disk
        with _settled_if_saving_fails(held, exc, saving):
            paid = persist.keep_arrived(saving, exc.arrived)[1]
        classroom.release(held, exc, paid=paid)
        raise
    except BaseException as exc:  # nothing out: not billed; an answer that came: paid, even if it was not saved
        classroom.release_failed(held, exc if flight.out else None, exc, saving.owed(held))
        raise
    classroom.release(held, paid=result.cost.usd)
    return result


@contextlib.contextmanager
def _settled_if_saving_fails(held: float, broke: BaseException, saving: persist.Saving) -> Iterator[None]:
    """Saving what a broken or cancelled stream had delivered failed (a full disk): the hold is still given back
    and what arrived still counted, as if it had been saved."""
    try:
        yield
    except BaseException as failure:
        classroom.release_failed(held, broke, failure, saving.owed(held))
        raise


def _upper(estimate: learned.Estimate, request: Request, model: str,
           prices: Mapping[str, ModelPrice] | None) -> tuple[float | None, str]:
    """The most this request can cost, for the class budget: its estimate's top with its own inputs bounded."""
    try:
        top = bounds.bound(estimate.budget(), model, request.input_sizes(), prices=prices)
    except bounds.Unbounded as exc:
        return None, str(exc)
    return top.usd, top.text


async def send(request: Request, backend: Backend, disk: Store, client: Any, *,
               rate_limit_retries: int = 0, flight: Flight | None = None) -> SDKResponse:
    """Send as JSON where it helps (`json_edit`), else multipart. A server that refuses JSON edits gets the
    same edit as multipart and is remembered; a file it no longer has is uploaded again once. Each retry
    follows a 400 or a 429 (`rate_limits`), which are never billed, so nothing is paid twice."""

    def execute() -> Awaitable[SDKResponse]:
        return waiting_out_rate_limits(SDKCall(client, request, backend).execute, rate_limit_retries, flight)

    known = file_ids.FileIds(disk.folder, backend) if request.endpoint == "edit" else None
    if known is not None and json_edit.wants_json(request, disk.folder, backend, known):
        request.json_body = await json_edit.build(request, known, client)
    try:
        return await execute()
    except APIRequestError as exc:
        body = request.json_body
        if body is None:
            raise
        if json_edit.refused_json(exc):
            file_ids.remember_multipart_only(disk.folder, backend)
            request.json_body = None
        elif json_edit.gone_file(exc) and known is not None:
            known.forget(json_edit.file_ids_in(body))
            request.json_body = await json_edit.build(request, known, client)
        else:
            raise
    return await execute()
