"""What a request is, and the one path every request takes.

`run` is where `generate`, `edit`, `vary` (and the widget, sweeps, rerun) all end:
1. validate the whole request (nothing is sent if it fails);
2. answer from the store when `cache=True` and an identical request was made before;
3. call the SDK with few retries and an explicit timeout (retries are not idempotent: they may bill);
4. write each returned image to disk before decoding it for the caller (`persist`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from image_widget import capabilities, classroom, images, learned
from image_widget import cost as pricing
from image_widget.capabilities import Endpoint, FileTuple, caps_for
from image_widget.client import persist
from image_widget.client.backend import resolve_backend
from image_widget.client.sdk import SDKCall
from image_widget.errors import BrokenStreamError
from image_widget.lifecycle import warn_once
from image_widget.model_list import ensure_live
from image_widget.prices import as_overrides
from image_widget.records import Call
from image_widget.store import Store, StoreError, cache_key

if TYPE_CHECKING:
    from PIL.Image import Image

    from image_widget.client.finish import Finish
    from image_widget.client.options import RunOptions
    from image_widget.client.result import Result
    from image_widget.prices import ModelPrice

PartialCallback = Callable[[int, "Image"], Any]


@dataclass
class Request:
    """One request as the API will see it: endpoint, fields, upload files, and how to report progress."""

    endpoint: Endpoint
    params: dict[str, Any]
    files: dict[str, Any]
    on_partial: PartialCallback | None
    allow_retired: bool = False
    note: str | None = None
    call: Call | None = None
    """Which public call made it (generate / edit / vary / expand); a variation can go through the edit endpoint."""
    finish: Finish | None = None
    """How each returned image is brought back to the input and its unmasked pixels held (`client/finish.py`)."""
    sources: dict[str, list[FileTuple]] | None = None
    """The person's own inputs when what is sent differs (a detail crop, an expand canvas): these are kept
    and recorded, so the record reproduces the call that was made, not its crop."""

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

    def uploads(self, key: str) -> list[FileTuple]:
        """The upload tuples under `key` (one or a list in `files`), as a list."""
        value = self.files.get(key)
        return value if isinstance(value, list) else [value] if value else []

    def input_sizes(self) -> list[tuple[int, int]]:
        """Width × height of each input image, for the estimate of what they cost as tokens."""
        return [image_size(item) for item in self.uploads("image")]

    def kept(self, key: str) -> list[FileTuple]:
        """The inputs under `key` as the person gave them (`sources`), else as sent."""
        if self.sources is not None:
            return list(self.sources.get(key, []))
        return self.uploads(key)

    def file_hashes(self) -> list[str]:
        return [f"{key}:{images.sha256(item[1])}" for key in ("image", "mask", "markup")
                for item in self.kept(key)]


def request_params(**values: Any) -> dict[str, Any]:
    """Drop unset options, so the API applies its own defaults and the record shows what was asked."""
    return {k: v for k, v in values.items() if v is not None}


def image_size(upload: FileTuple) -> tuple[int, int]:
    info = capabilities.image_info(upload[1])
    if info is None:  # prepare_images has already decoded it, so this cannot happen for valid input
        raise images.ImageInputError("image[0] could not be read")
    return info[0]


def edit_request(image: images.ImageInput | Sequence[images.ImageInput], prompt: str,
                 mask: images.MaskInput | None, markup: images.ImageInput | None, input_fidelity: str | None,
                 model: str | None, on_partial: PartialCallback | None, options: dict[str, Any]) -> Request:
    """Normalise the inputs (and the mask to the first image's size) into an edit request."""
    caps = caps_for(model or capabilities.DEFAULT_MODEL)
    files: dict[str, Any] = {"image": images.prepare_images(
        image, max_images=caps.max_input_images, max_bytes=caps.input_image_max_bytes,
        allowed=caps.input_formats)}
    first_size = image_size(files["image"][0])
    if mask is not None:
        files["mask"] = images.prepare_mask(mask, first_size, max_bytes=caps.mask_max_bytes)
    if markup is not None:
        files["markup"] = images.to_upload(markup, param="markup", allowed=("png",))
    params = request_params(prompt=prompt, model=model, input_fidelity=input_fidelity, **options)
    return Request("edit", params, files, on_partial)


def estimate_for(request: Request, prices: Mapping[str, ModelPrice] | None = None) -> pricing.Cost:
    """The price table's estimate of exactly this request (its size as sent, its input images as sent):
    what `run` records and what a budget (the MCP server's `--max-cost`) must check before sending it."""
    params = request.params
    return pricing.estimate(str(params.get("model", capabilities.DEFAULT_MODEL)), quality=params.get("quality"),
                            size=params.get("size"), n=int(params.get("n", 1)), endpoint=request.endpoint,
                            inputs=request.input_sizes(), input_fidelity=params.get("input_fidelity"),
                            prices=prices)


def resolve_store(store: Store | str | Path | None) -> Store:
    return store if isinstance(store, Store) else Store(store)


async def run(request: Request, options: RunOptions) -> Result:
    """Validate, answer from the cache or send, save: the request path (see the module's docstring)."""
    # Always name the model: a server's own default may be a retired model (DALL·E 2 at OpenAI).
    request.params.setdefault("model", capabilities.DEFAULT_MODEL)
    backend = resolve_backend(options.client, options.base_url, options.api_key)
    server = None if backend.synthetic else backend.cache_identity
    if server is not None:  # the server's own model dates (once per session; a GET, never billed)
        await ensure_live(backend)
    capabilities.check(request.endpoint, request.wire_params(), allow_retired=request.allow_retired, server=server)
    disk = resolve_store(options.store)
    model = str(request.params.get("model", capabilities.DEFAULT_MODEL))
    warn_once(model, server)
    overrides = as_overrides(options.prices)
    learned_estimate = learned.estimate(request, disk.folder, synthetic=backend.synthetic, prices=overrides)
    estimate = learned_estimate.cost()
    finish = {"finish": request.finish.cache_part()} if request.finish is not None else {}
    key = cache_key(request.endpoint, {**request.params, "backend": backend.cache_identity, **finish},
                    request.file_hashes())
    if options.cache:
        stored = disk.lookup(key)
        if stored is not None:
            return persist.cached_result(stored, backend, estimate)
    classroom.check(learned_estimate.high, learned_estimate.text)
    try:  # a folder that cannot exist would lose every image this request pays for: fail before sending
        disk.folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(disk.folder, exc, "create the folder") from exc
    sdk_client = backend.async_client(max_retries=options.max_retries, timeout=options.timeout)
    saving = persist.Saving(request, disk, backend, model, key, estimate, overrides)
    try:
        response = await SDKCall(sdk_client, request, backend).execute()
    except BrokenStreamError as exc:
        raise persist.save_broken(saving, exc) from None
    result = persist.save(saving, response)
    classroom.charge(result.cost.usd)
    return result
