"""The one request path: validate, check the cache, call the openai SDK, save every image, return PIL.

`generate`, `edit` and `vary` (and their async twins) all end in `_run`, which:
1. turns inputs into upload tuples and validates the whole request (nothing is sent if it fails);
2. answers from the store when `cache=True` and an identical request was made before;
3. calls the SDK with few retries and an explicit timeout (retries are not idempotent: they may bill);
4. writes each returned image to disk before decoding it for the caller.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import concurrent.futures
import json
import time
import uuid
import warnings
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from image_widget import capabilities, images, runtime
from image_widget import cost as pricing
from image_widget.backend import Backend, resolve_backend
from image_widget.capabilities import Endpoint, FileTuple, caps_for
from image_widget.lifecycle import warn_once
from image_widget.model_list import ensure_live
from image_widget.prices import ModelPrice, as_overrides
from image_widget.records import VARIATION_PROMPT, Call, record_call
from image_widget.reproduce import reproduce_code
from image_widget.runtime import SYNC_LOOP as _SYNC_LOOP  # noqa: F401 - its old name, for callers
from image_widget.runtime import run_sync as run_sync  # noqa: PLC0414 - re-exported: callers use api.run_sync
from image_widget.store import Store, StoredImage, StoreError, cache_key

if TYPE_CHECKING:
    from PIL.Image import Image

PartialCallback = Callable[[int, "Image"], Any]
DEFAULT_TIMEOUT_S = 300.0
DEFAULT_MAX_RETRIES = 1
VARIATION_NOTE = (
    "variation made through the edit endpoint: the variations endpoint served only DALL·E 2, "
    "which was retired on 2026-05-12"
)


class APIRequestError(RuntimeError):
    """The API (or the connection to it) failed. The message says what happened and what to do next."""

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None,
                 param: str | None = None, request_id: str | None = None, hint: str = "",
                 retry_may_bill: bool = False, kind: str = "api_error") -> None:
        self.status = status
        self.code = code
        self.param = param
        self.request_id = request_id
        self.hint = hint
        self.retry_may_bill = retry_may_bill
        self.kind = kind
        self.detail = message
        self.saved: list[Path] = []
        """Images of this request that arrived and were saved before it failed (a stream that broke)."""
        self._arrived: _Response | None = None
        text = message + (f" — {hint}" if hint else "")
        if request_id:
            text += f" (request id {request_id})"
        super().__init__(text)


@dataclass
class Result:
    """What a request produced: PIL images, their records and where they are on disk."""

    images: list[Image]
    records: list[dict[str, Any]]
    paths: list[Path]
    run_id: str
    cached: bool
    cost: pricing.Cost
    estimate: pricing.Cost
    backend: Backend
    request_id: str | None = None
    partials: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def record(self) -> dict[str, Any]:
        """The run's shared fields (the first image's record)."""
        return self.records[0] if self.records else {}

    @property
    def code(self) -> str:
        """The Python call that recreates this result."""
        return reproduce_code(self.record)

    def __repr__(self) -> str:
        where = self.paths[0].parent if self.paths else "nowhere"
        return (f"Result({len(self.images)} image(s), model={self.record.get('model')!r}, "
                f"cost={self.cost.text}, cached={self.cached}, folder={str(where)!r})")

    def _repr_html_(self) -> str:
        return f"<pre>{_escape(repr(self))}</pre>"


def _escape(text: str) -> str:
    import html

    return html.escape(text)


# --------------------------------------------------------------------------------------------- public


def generate(prompt: str, **options: Any) -> Result:
    """Generate images from a prompt. See `agenerate` for the options."""
    return run_sync(agenerate(prompt, **options))


def edit(image: images.ImageInput | Sequence[images.ImageInput], prompt: str, **options: Any) -> Result:
    """Edit one or more images (the mask applies to the first). See `aedit` for the options."""
    return run_sync(aedit(image, prompt, **options))


def vary(image: images.ImageInput, prompt: str | None = None, **options: Any) -> Result:
    """Variations of an image. See `avary`."""
    return run_sync(avary(image, prompt, **options))


async def agenerate(
    prompt: str,
    *,
    model: str | None = None,
    size: str | None = None,
    quality: str | None = None,
    n: int | None = None,
    background: str | None = None,
    output_format: str | None = None,
    output_compression: int | None = None,
    moderation: str | None = None,
    partial_images: int | None = None,
    on_partial: PartialCallback | None = None,
    client: Any = None,
    base_url: str | None = None,
    api_key: str | None = None,
    store: Store | str | Path | None = None,
    cache: bool = False,
    max_retries: int | None = DEFAULT_MAX_RETRIES,
    timeout: float | None = DEFAULT_TIMEOUT_S,
    prices: Mapping[str, Any] | None = None,
    **extra: Any,
) -> Result:
    """Generate images.

    `partial_images` (0–3) streams previews to `on_partial(index, image)`. `cache=True` returns the
    stored result of an identical earlier request without a network call. `max_retries` defaults to 1
    because the API has no idempotency key: every retry of a generation may be billed. `extra` passes
    further API fields (complexity, frame_count, svg, safety_identifier, …); unknown ones are refused.
    `prices` gives prices for models ({model: {"image_output": 30.0, …}}; see `set_price`).
    """
    params = _params(prompt=prompt, model=model, size=size, quality=quality, n=n, background=background,
                     output_format=output_format, output_compression=output_compression,
                     moderation=moderation, partial_images=partial_images, **extra)
    request = _Request("generate", params, {}, on_partial)
    return await _run(request, client, base_url, api_key, store, cache, max_retries, timeout, prices)


async def aedit(
    image: images.ImageInput | Sequence[images.ImageInput],
    prompt: str,
    *,
    mask: images.MaskInput | None = None,
    markup: images.ImageInput | None = None,
    input_fidelity: str | None = None,
    model: str | None = None,
    on_partial: PartialCallback | None = None,
    client: Any = None,
    base_url: str | None = None,
    api_key: str | None = None,
    store: Store | str | Path | None = None,
    cache: bool = False,
    max_retries: int | None = DEFAULT_MAX_RETRIES,
    timeout: float | None = DEFAULT_TIMEOUT_S,
    prices: Mapping[str, Any] | None = None,
    **options: Any,
) -> Result:
    """Edit images. `mask`: RGBA (alpha 0 = edit) or a greyscale/bool array (True/white = edit),
    resized to the first image. Other options as in `agenerate` (moderation excepted)."""
    request = _edit_request(image, prompt, mask, markup, input_fidelity, model, on_partial, options)
    return await _run(request, client, base_url, api_key, store, cache, max_retries, timeout, prices)


def _edit_request(image: images.ImageInput | Sequence[images.ImageInput], prompt: str,
                  mask: images.MaskInput | None, markup: images.ImageInput | None, input_fidelity: str | None,
                  model: str | None, on_partial: PartialCallback | None, options: dict[str, Any]) -> _Request:
    """Normalise the inputs (and the mask to the first image's size) into an edit request."""
    caps = caps_for(model or capabilities.DEFAULT_MODEL)
    files: dict[str, Any] = {"image": images.prepare_images(
        image, max_images=caps.max_input_images, max_bytes=caps.input_image_max_bytes,
        allowed=caps.input_formats)}
    first_size = _image_size(files["image"][0])
    if mask is not None:
        files["mask"] = images.prepare_mask(mask, first_size, max_bytes=caps.mask_max_bytes)
    if markup is not None:
        files["markup"] = images.to_upload(markup, param="markup", allowed=("png",))
    params = _params(prompt=prompt, model=model, input_fidelity=input_fidelity, **options)
    return _Request("edit", params, files, on_partial)


async def avary(
    image: images.ImageInput,
    prompt: str | None = None,
    *,
    model: str | None = None,
    legacy: bool = False,
    **options: Any,
) -> Result:
    """Variations of one image.

    GPT image models have no variations endpoint, so this goes through edit with a variation prompt
    (and says so in the record's `note`). A model whose table row has the variation endpoint (DALL·E 2
    on a legacy OpenAI-compatible server, with `legacy=True`) uses the real endpoint.
    """
    name = model or capabilities.DEFAULT_MODEL
    caps = caps_for(name)
    if "variation" in caps.endpoints and (caps.usable or legacy) and caps.known:
        run_opts = {k: options.pop(k) for k in _RUN_KEYS if k in options}
        upload = images.to_upload(image, param="image", max_bytes=caps.input_image_max_bytes,
                                  allowed=caps.input_formats)
        params = _params(model=name, **options)
        request = _Request("variation", params, {"image": upload}, None, allow_retired=legacy, call="vary")
        return await _run(request, **_run_args(run_opts))
    run_opts = {k: options.pop(k) for k in _RUN_KEYS if k in options}
    on_partial = options.pop("on_partial", None)
    request = _edit_request(image, prompt or VARIATION_PROMPT, None, None, None, name, on_partial, options)
    request.note = VARIATION_NOTE  # in the saved record too, for a person reading it
    request.call = "vary"  # what reproduce and rerun read: the record says which call made it
    result = await _run(request, **_run_args(run_opts))
    result.notes.append(VARIATION_NOTE)
    return result


@dataclass(frozen=True)
class Partial:
    """A streamed preview: which one (0-based) and the image."""

    index: int
    image: Image


async def astream(prompt: str, **options: Any) -> AsyncIterator[Partial | Result]:
    """`agenerate` as an async iterator: each partial preview as it arrives, then the final `Result`.

        async for item in iw.astream("a fox", partial_images=2):
            display(item.image if isinstance(item, iw.Partial) else item.images[0])

    `partial_images` defaults to 2 here; `image=` (one or a list) makes it an edit instead.
    """
    queue: asyncio.Queue[Partial | Result | BaseException] = asyncio.Queue()
    options.setdefault("partial_images", 2)
    image = options.pop("image", None)

    def on_partial(index: int, preview: Image) -> None:
        queue.put_nowait(Partial(index, preview))

    async def run() -> None:
        try:
            if image is None:
                queue.put_nowait(await agenerate(prompt, on_partial=on_partial, **options))
            else:
                queue.put_nowait(await aedit(image, prompt, on_partial=on_partial, **options))
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, who re-raises it
            queue.put_nowait(exc)

    task = asyncio.ensure_future(run())
    try:
        while True:
            item = await queue.get()
            if isinstance(item, BaseException):
                raise item
            yield item
            if isinstance(item, Result):
                return
    finally:
        task.cancel()


_RUN_KEYS = ("client", "base_url", "api_key", "store", "cache", "max_retries", "timeout", "prices")


def _run_args(opts: dict[str, Any]) -> dict[str, Any]:
    return {
        "client": opts.get("client"), "base_url": opts.get("base_url"), "api_key": opts.get("api_key"),
        "store": opts.get("store"), "cache": opts.get("cache", False),
        "max_retries": opts.get("max_retries", DEFAULT_MAX_RETRIES),
        "timeout": opts.get("timeout", DEFAULT_TIMEOUT_S), "prices": opts.get("prices"),
    }


def rerun(record: Mapping[str, Any] | StoredImage | str, *, store: Store | str | Path | None = None,
          **overrides: Any) -> Result:
    """Run a saved request again (same endpoint, prompt, options and inputs); `overrides` change options."""
    return run_sync(arerun(record, store=store, **overrides))


async def arerun(record: Mapping[str, Any] | StoredImage | str, *, store: Store | str | Path | None = None,
                 **overrides: Any) -> Result:
    """Async twin of `rerun`. A string is an image id looked up in `store`."""
    if isinstance(record, str):
        record = _resolve_store(store).load(record)
    if isinstance(record, StoredImage):
        record = record.record
    disk = _resolve_store(store if store is not None else Path(str(record["path"])).parent)
    params = {**record.get("params", {}), **overrides}
    prompt = params.pop("prompt", None)
    files: dict[str, list[bytes]] = {}
    for entry in record.get("input_hashes") or []:
        role, digest = str(entry).split(":", 1)
        files.setdefault(role, []).append(disk.load_input(digest))
    call = record_call(record)
    if call == "generate":
        return await agenerate(str(prompt), store=disk, **params)
    if call == "vary":
        legacy = record.get("endpoint") == "variation"
        return await avary(files["image"][0], None if legacy else prompt, store=disk, legacy=legacy, **params)
    mask, markup = (files.get(k, [None])[0] for k in ("mask", "markup"))
    return await aedit(files["image"], str(prompt), mask=mask, markup=markup, store=disk, **params)


# --------------------------------------------------------------------------------------------- internals


@dataclass
class _Request:
    endpoint: Endpoint
    params: dict[str, Any]
    files: dict[str, Any]
    on_partial: PartialCallback | None
    allow_retired: bool = False
    note: str | None = None
    call: Call | None = None
    """Which public call made it (generate / edit / vary); a variation can go through the edit endpoint."""

    @property
    def stream(self) -> bool:
        return self.params.get("partial_images") is not None

    def wire_params(self) -> dict[str, Any]:
        """The request as the SDK will send it (files included) — what validation must see."""
        wire = {**self.params, **self.files}
        if self.stream:
            wire["stream"] = True
        return wire

    @property
    def call_name(self) -> Call:
        return self.call or ("vary" if self.endpoint == "variation" else self.endpoint)

    def input_sizes(self) -> list[tuple[int, int]]:
        """Width × height of each input image, for the estimate of what they cost as tokens."""
        value = self.files.get("image")
        uploads = value if isinstance(value, list) else [value] if value else []
        return [_image_size(item) for item in uploads]

    def file_hashes(self) -> list[str]:
        hashes: list[str] = []
        for key in ("image", "mask", "markup"):
            value = self.files.get(key)
            for item in value if isinstance(value, list) else [value] if value else []:
                hashes.append(f"{key}:{images.sha256(item[1])}")
        return hashes


def _params(**values: Any) -> dict[str, Any]:
    """Drop unset options, so the API applies its own defaults and the record shows what was asked."""
    return {k: v for k, v in values.items() if v is not None}


def _image_size(upload: FileTuple) -> tuple[int, int]:
    info = capabilities.image_info(upload[1])
    if info is None:  # prepare_images has already decoded it, so this cannot happen for valid input
        raise images.ImageInputError("image[0] could not be read")
    return info[0]


def _resolve_store(store: Store | str | Path | None) -> Store:
    return store if isinstance(store, Store) else Store(store)


async def _run(request: _Request, client: Any, base_url: str | None, api_key: str | None,
               store: Store | str | Path | None, cache: bool, max_retries: int | None,
               timeout: float | None, prices: Mapping[str, Any] | None = None) -> Result:
    # Always name the model: a server's own default may be a retired model (DALL·E 2 at OpenAI).
    request.params.setdefault("model", capabilities.DEFAULT_MODEL)
    backend = resolve_backend(client, base_url, api_key)
    server = None if backend.synthetic else backend.cache_identity
    if server is not None:  # the server's own model dates (once per session; a GET, never billed)
        await ensure_live(backend)
    capabilities.check(request.endpoint, request.wire_params(), allow_retired=request.allow_retired, server=server)
    disk = _resolve_store(store)
    model = str(request.params.get("model", capabilities.DEFAULT_MODEL))
    warn_once(model, server)
    overrides = as_overrides(prices)
    n = int(request.params.get("n", 1))
    estimate = pricing.estimate(model, quality=request.params.get("quality"), size=request.params.get("size"),
                                n=n, endpoint=request.endpoint, inputs=request.input_sizes(),
                                input_fidelity=request.params.get("input_fidelity"), prices=overrides)
    key = cache_key(request.endpoint, {**request.params, "backend": backend.cache_identity},
                    request.file_hashes())
    if cache:
        stored = disk.lookup(key)
        if stored is not None:
            return _cached_result(stored, backend, estimate)
    try:  # a folder that cannot exist would lose every image this request pays for: fail before sending
        disk.folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(disk.folder, exc, "create the folder") from exc
    sdk_client = backend.async_client(max_retries=max_retries, timeout=timeout)
    started = time.monotonic()
    run_id = uuid.uuid4().hex
    try:
        response = await _SDKCall(sdk_client, request, backend).execute()
    except APIRequestError as exc:
        if exc._arrived is None:
            raise
        raise _broken_stream(exc, exc._arrived, request, disk, backend, run_id, key, estimate,
                             time.monotonic() - started, model, overrides) from None
    elapsed = time.monotonic() - started
    return _finish(request, response, disk, backend, run_id, key, estimate, elapsed, model, overrides)


@dataclass
class _Response:
    """The parts of an SDK response we keep, the same for plain and streamed calls."""

    b64_images: list[str]
    usage: dict[str, Any] | None
    request_id: str | None
    meta: dict[str, Any]
    revised_prompts: list[str | None]
    partials: int = 0


class _SDKCall:
    """One call through the SDK, sync or async client alike, streamed or not, with errors translated."""

    def __init__(self, client: Any, request: _Request, backend: Backend) -> None:
        self.client = client
        self.request = request
        self.backend = backend
        from openai.resources.images import AsyncImages

        self.is_async = isinstance(client.images, AsyncImages)

    async def execute(self) -> _Response:
        method = {"generate": "generate", "edit": "edit", "variation": "create_variation"}
        fn = getattr(self.client.images, method[self.request.endpoint])
        kwargs = self.request.wire_params()
        try:
            if self.request.stream:
                return await self._streamed(fn, kwargs)
            raw = await self._call(fn, kwargs)
            return _from_images_response(raw)
        except (APIRequestError, asyncio.CancelledError):
            raise
        except Exception as exc:  # noqa: BLE001 - every SDK failure becomes one readable error type
            raise translate_error(exc, self.backend) from None

    async def _call(self, fn: Callable[..., Any], kwargs: dict[str, Any]) -> Any:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # create_variation is marked deprecated
            if self.is_async:
                return await fn(**kwargs)
            return await asyncio.to_thread(fn, **kwargs)

    async def _streamed(self, fn: Callable[..., Any], kwargs: dict[str, Any]) -> _Response:
        stream = await self._call(fn, kwargs)
        response = _Response([], None, stream.response.headers.get("x-request-id"), {}, [])
        try:
            if self.is_async:
                async with stream:
                    async for event in stream:
                        self._event(event, response)
            else:
                await asyncio.to_thread(self._drain_sync, stream, response)
        except Exception as exc:  # noqa: BLE001 - broke mid-stream: `_run` keeps the images that completed
            error = exc if isinstance(exc, APIRequestError) else translate_error(exc, self.backend)
            error._arrived = response
            raise error from None
        if not response.b64_images:
            raise APIRequestError("the stream ended without a final image", kind="stream",
                                  request_id=response.request_id, retry_may_bill=True,
                                  hint="try again; partial previews were not saved as results")
        return response

    def _drain_sync(self, stream: Any, response: _Response) -> None:
        with stream:
            for event in stream:
                self._event(event, response)

    def _event(self, event: Any, response: _Response) -> None:
        kind = str(getattr(event, "type", ""))
        if kind.endswith("partial_image"):
            response.partials += 1
            if self.request.on_partial is not None:
                preview = images.decode_image(base64.b64decode(event.b64_json))
                self.request.on_partial(int(event.partial_image_index), preview)
        elif kind.endswith("completed"):
            response.b64_images.append(event.b64_json)
            response.revised_prompts.append(None)
            usage = getattr(event, "usage", None)
            if usage is not None:
                response.usage = _add_usage(response.usage, usage.model_dump())
            response.meta = {k: getattr(event, k, None) for k in ("size", "quality", "background",
                                                                    "output_format")}


def _add_usage(total: dict[str, Any] | None, more: dict[str, Any]) -> dict[str, Any]:
    if total is None:
        return more
    merged: dict[str, Any] = {}
    for key in set(total) | set(more):
        a, b = total.get(key), more.get(key)
        if isinstance(a, dict) or isinstance(b, dict):
            merged[key] = _add_usage(a or {}, b or {})
        elif isinstance(a, int | float) or isinstance(b, int | float):
            merged[key] = (a or 0) + (b or 0)
        else:
            merged[key] = a if a is not None else b
    return merged


def _from_images_response(raw: Any) -> _Response:
    data = list(raw.data or [])
    if not data:
        raise APIRequestError("the API answered with no images (empty data)", kind="empty",
                              request_id=getattr(raw, "_request_id", None), retry_may_bill=True,
                              hint="try again; nothing was returned to save")
    b64: list[str] = []
    for index, item in enumerate(data):
        if item.b64_json is None:
            raise APIRequestError(f"image {index} came back as a URL, not base64 data", kind="format",
                                  hint="GPT image models always return base64; check the server")
        b64.append(item.b64_json)
    usage = raw.usage.model_dump() if raw.usage is not None else None
    meta = {k: getattr(raw, k, None) for k in ("size", "quality", "background", "output_format")}
    return _Response(b64, usage, getattr(raw, "_request_id", None), meta,
                     [item.revised_prompt for item in data])


_STREAM_BROKE_HINT = ("the connection was open and the server was answering when it broke off; try again "
                      "(a retry may be billed), or turn partial previews off")


def _broken_stream(exc: APIRequestError, arrived: _Response, request: _Request, disk: Store, backend: Backend,
                   run_id: str, key: str, estimate: pricing.Cost, elapsed: float, model: str,
                   prices: Mapping[str, ModelPrice]) -> APIRequestError:
    """A stream that broke after some images completed: save those (they are paid for), then say so.

    Their records keep the asked-for count, so the run stays incomplete and is never served from the cache.
    """
    wanted = int(request.params.get("n", 1))
    got = len(arrived.b64_images)
    saved = _finish(request, arrived, disk, backend, run_id, key, estimate, elapsed, model, prices,
                    count=wanted).paths if got else []
    where = f"{len(saved)} saved in {disk.folder}" if saved else "nothing was saved"
    error = APIRequestError(f"the stream broke after {got} of {wanted} image(s), {where}: {exc.detail}",
                            status=exc.status, code=exc.code, param=exc.param,
                            request_id=exc.request_id or arrived.request_id, retry_may_bill=True, kind=exc.kind,
                            hint=_STREAM_BROKE_HINT if exc.kind == "APIConnectionError" else exc.hint)
    error.saved = saved
    return error


def _finish(request: _Request, response: _Response, disk: Store, backend: Backend, run_id: str, key: str,
            estimate: pricing.Cost, elapsed: float, model: str, prices: Mapping[str, ModelPrice],
            count: int | None = None) -> Result:
    """Save every readable image and decode it, in parallel; return only once all are on disk.

    A corrupt image is reported after the others are safely saved.
    """
    fmt = str(response.meta.get("output_format") or request.params.get("output_format") or "png")
    n = len(response.b64_images)
    actual = pricing.actual(model, response.usage, quality=response.meta.get("quality") or
                            request.params.get("quality"), size=response.meta.get("size") or
                            request.params.get("size"), n=n, prices=prices)
    shared = {
        "run_id": run_id, "count": count or n, "created": datetime.now(UTC).isoformat(timespec="microseconds"),
        "call": request.call_name, "endpoint": request.endpoint, "model": model,
        "price_source": pricing.price_source(model, prices), "prompt": request.params.get("prompt"),
        "params": _jsonable(request.params), "input_hashes": request.file_hashes(),
        "mask_hash": images.sha256(request.files["mask"][1]) if "mask" in request.files else None,
        "usage": response.usage, "cost_estimate_usd": _per_image(estimate.usd, n),
        "cost_usd": _per_image(actual.usd, n), "run_cost_usd": actual.usd,
        "request_id": response.request_id, "elapsed_s": round(elapsed, 3), "backend": backend.describe(),
        "cache_key": key, "response": _jsonable(response.meta), "partials": response.partials,
    }
    for key_name in ("image", "mask", "markup"):  # kept by hash so the edit can be re-run later
        value = request.files.get(key_name)
        for item in value if isinstance(value, list) else [value] if value else []:
            disk.save_input(item[1])
    asked = capabilities.parse_size(str(request.params.get("size", "")))
    problems: list[str] = []
    jobs: list[tuple[dict[str, Any], concurrent.futures.Future[Path], concurrent.futures.Future[Image] | None]] = []
    for index, b64 in enumerate(response.b64_images):
        try:
            data = base64.b64decode(b64, validate=True)
        except (binascii.Error, ValueError) as exc:
            problems.append(f"image {index}: {exc}")
            continue
        info = capabilities.image_info(data) if fmt != "svg" else None
        if fmt != "svg" and info is None:
            problems.append(f"image {index}: not a readable {fmt} image")
            continue
        record = {**shared, "index": index, "note": request.note,
                  "revised_prompt": response.revised_prompts[index] if index < len(response.revised_prompts)
                  else None}
        if info is not None and asked and info[0] != asked:
            size_note = f"asked for {asked[0]}x{asked[1]}, got {info[0][0]}x{info[0][1]}"
            record["note"] = f"{request.note}; {size_note}" if request.note else size_note
        saving = runtime.io_pool().submit(disk.save, data, fmt, record)
        decoding = runtime.io_pool().submit(images.decode_image, data) if fmt != "svg" else None
        jobs.append((record, saving, decoding))
    saved: list[StoredImage] = []
    decoded_images: list[Image] = []
    failure: BaseException | None = None
    for record, saving, decoding in jobs:  # wait for every save, even after a failure: nothing half-done
        try:
            saved.append(StoredImage(id="", path=saving.result(), record=record))
            if decoding is not None:
                decoded_images.append(decoding.result())
        except images.ImageInputError as exc:
            problems.append(f"image {record['index']}: {exc}")
        except BaseException as exc:  # noqa: BLE001 - re-raised below once all saves have finished
            failure = failure or exc
    if failure is not None:
        raise failure
    if problems:
        raise APIRequestError(
            f"{len(problems)} of {n} returned images were corrupt ({'; '.join(problems)}); "
            f"{len(saved)} were saved in {disk.folder}", kind="corrupt", request_id=response.request_id,
            retry_may_bill=True, hint="try again; the images that did arrive are on disk")
    return _result_from(saved, backend, estimate, actual, run_id, False, response.request_id,
                        response.partials, decoded_images)


def _per_image(usd: float | None, n: int) -> float | None:
    """Records are per image, so they carry the image's share (summing records gives the run's cost)."""
    return None if usd is None else round(usd / max(n, 1), 6)


def _jsonable(value: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(value, default=str))  # type: ignore[no-any-return]


def _result_from(saved: list[StoredImage], backend: Backend, estimate: pricing.Cost, actual: pricing.Cost,
                 run_id: str, cached: bool, request_id: str | None, partials: int = 0,
                 decoded: list[Image] | None = None) -> Result:
    records = [s.record for s in saved]
    paths = [Path(s.record["path"]) if s.record.get("path") else s.path for s in saved]
    pil = decoded if decoded is not None else [images.decode_image(p.read_bytes()) for p in paths
                                               if p.suffix != ".svg"]
    return Result(pil, records, paths, run_id, cached, actual, estimate, backend, request_id, partials)


def _cached_result(stored: list[StoredImage], backend: Backend, estimate: pricing.Cost) -> Result:
    run_id = str(stored[0].record.get("run_id", ""))
    free = pricing.Cost(0.0, "$0.000 (cached)")
    return _result_from(stored, backend, estimate, free, run_id, True,
                        stored[0].record.get("request_id"))


# --------------------------------------------------------------------------------------------- errors

_HINTS: dict[str, str] = {
    "moderation_blocked": "the request was blocked by moderation; rephrase the prompt",
    "BadRequestError": "fix the parameter named in the message",
    "AuthenticationError": "check OPENAI_API_KEY (or the api_key you passed)",
    "PermissionDeniedError": "your organisation may need verification: "
                             "platform.openai.com/settings/organization/general",
    "NotFoundError": "check the model name and the base_url",
    "ConflictError": "try again in a moment",
    "UnprocessableEntityError": "fix the request parameters",
    "RateLimitError": "rate limited; wait a little and try again (a retry may be billed)",
    "InternalServerError": "the server failed; try again (a retry may be billed)",
    "APITimeoutError": "the request timed out; try a smaller size or lower quality, or raise timeout= "
                       "(a retry may be billed)",
    "APIConnectionError": "could not reach the server; check the network and base_url "
                          "(a retry may be billed)",
    "APIError": "the server reported an error mid-stream; try again (a retry may be billed)",
    "JSONDecodeError": "the server sent a malformed event; try again (a retry may be billed)",
}
_MAY_BILL = {"RateLimitError", "InternalServerError", "APITimeoutError", "APIConnectionError", "APIError",
             "JSONDecodeError"}


def translate_error(exc: BaseException, backend: Backend) -> APIRequestError:
    """Turn an SDK (or transport) exception into an `APIRequestError` with a next step and no key."""
    name = type(exc).__name__
    status = getattr(exc, "status_code", None)
    code = getattr(exc, "code", None)
    param = getattr(exc, "param", None)
    request_id = getattr(exc, "request_id", None)
    message = getattr(exc, "message", None) or str(exc) or name
    hint = _HINTS.get(str(code), "") or _HINTS.get(name, "")
    if not hint and status is not None:
        hint = "the server failed; try again (a retry may be billed)" if status >= 500 else ""
    kind = str(code) if code else name
    return APIRequestError(backend.scrub(f"{name}: {message}"), status=status, code=str(code) if code else None,
                           param=param, request_id=request_id, hint=hint,
                           retry_may_bill=name in _MAY_BILL or (status or 0) >= 500, kind=kind)
