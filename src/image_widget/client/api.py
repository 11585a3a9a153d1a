"""The public calls: `generate`, `edit`, `vary`, `rerun` (each with an async twin) and `astream`.

Each builds a `Request`, takes its run options (`RunOptions`: client, base_url, api_key, store, cache,
max_retries, timeout, prices) out of its keyword arguments once, and hands both to `request.run`,
the one request path. The sync versions run their coroutine on the sync bridge (`runtime.run_sync`), as the
only work of their loop (`alone=True`: in a script the SDK's sync client then serves it).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from image_widget import images
from image_widget.base.records import VARIATION_PROMPT, finish_options, record_call
from image_widget.base.runtime import run_sync
from image_widget.client import refs
from image_widget.client.backend import own_loop_ok, resolve_backend
from image_widget.client.edits import Holding, expand_request, lined_up_edit
from image_widget.client.options import RunOptions
from image_widget.client.reproduce import resend_code
from image_widget.client.request import (
    resolve_store,
    run,
)
from image_widget.client.result import Result
from image_widget.client.wire import PartialCallback, Request, edit_request, request_params
from image_widget.facts import capabilities
from image_widget.facts.capabilities import caps_for
from image_widget.store import Store, StoredImage

if TYPE_CHECKING:
    from PIL.Image import Image

__all__ = ["Partial", "Result", "aedit", "aexpand", "agenerate", "arerun", "astream", "avary", "edit", "expand",
           "generate", "rerun", "vary"]

VARIATION_NOTE = (
    "variation made through the edit endpoint: the variations endpoint served only DALL·E 2, "
    "which was retired on 2026-05-12"
)


def generate(prompt: str, **options: Any) -> Result:
    """Generate images from a prompt. See `agenerate` for the options."""
    return run_sync(agenerate(prompt, **options), alone=own_loop_ok(options.get("client")))


def edit(image: images.ImageInput | Sequence[images.ImageInput], prompt: str, **options: Any) -> Result:
    """Edit one or more images (the mask applies to the first). See `aedit` for the options."""
    return run_sync(aedit(image, prompt, **options), alone=own_loop_ok(options.get("client")))


def expand(image: images.ImageInput | Sequence[images.ImageInput], prompt: str, **options: Any) -> Result:
    """Outpaint: extend the picture by pixels per side or to an aspect. See `aexpand` for the options."""
    return run_sync(aexpand(image, prompt, **options), alone=own_loop_ok(options.get("client")))


def vary(image: images.ImageInput, prompt: str | None = None, **options: Any) -> Result:
    """Variations of an image. See `avary`."""
    return run_sync(avary(image, prompt, **options), alone=own_loop_ok(options.get("client")))


async def agenerate(  # noqa: PLR0913 - public keyword options mirror the API
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
    **options: Any,
) -> Result:
    """Generate images.

    `partial_images` (0–3) streams previews to `on_partial(index, image)`. The run options — client,
    base_url, api_key, store, cache=False, max_retries=1, timeout=300.0, prices, on_saved — are described on
    `RunOptions`: `cache=True` returns the stored result of an identical earlier request without a
    network call; `max_retries` (default 1) counts only 429s waited out and sent again: the API has no
    idempotency key, so nothing that may have reached the server (a 5xx, a timeout) is sent twice. Other
    keywords pass further API fields (complexity, frame_count, svg, safety_identifier, …); unknown ones are
    refused.
    """
    run_options = RunOptions.pop_from(options)
    params = request_params(prompt=prompt, model=model, size=size, quality=quality, n=n, background=background,
                            output_format=output_format, output_compression=output_compression,
                            moderation=moderation, partial_images=partial_images, **options)
    return await run(Request("generate", params, {}, on_partial), run_options)


async def aedit(  # noqa: PLR0913 - public keyword options mirror the API
    image: images.ImageInput | Sequence[images.ImageInput],
    prompt: str,
    *,
    mask: images.MaskInput | None = None,
    markup: images.ImageInput | None = None,
    input_fidelity: str | None = None,
    model: str | None = None,
    on_partial: PartialCallback | None = None,
    keep_unmasked: bool = True,
    feather: int = 8,
    detail: bool = False,
    resize_mask: str = "scale",
    **options: Any,
) -> Result:
    """Edit images. `mask`: RGBA (alpha 0 = edit) or a greyscale/bool array (True/white = edit),
    resized to the first image. Other options (run options included) as in `agenerate`, moderation excepted.

    With a mask the result lines up with the first image and keeps its unmasked pixels: `size` defaults to
    "match" (the allowed size closest to the image's aspect), each result is brought back to the image's
    exact size and composited onto it outside the mask, fading over `feather` px (0 = hard edge), so every
    pixel farther from the mask is the original's. `keep_unmasked=False` keeps the API's image as it is
    (resized back). `detail=True` edits a padded crop around the mask at the model's resolution and pastes
    it back. The API's own image is kept too (the record's `raw_path`). A mask of another size is scaled
    when its shape matches the image's and refused before anything is sent when it does not, unless
    `resize_mask` says how to fit it: "crop" (its middle), "pad" (keep around it) or "stretch".

    An image or mask may also be an https URL or a Files API id (`"file-…"`): it is sent by reference in
    OpenAI's JSON edit form, never uploaded by us. `reuse_inputs=True` (what sweeps pass) uploads each input
    once and names it by file id in this and later edits.
    """
    run_options = RunOptions.pop_from(options)
    reuse = bool(options.pop("reuse_inputs", False))
    fields = {**options, "input_fidelity": input_fidelity}
    image_refs: list[refs.Ref | None] = []
    if refs.has_refs(image, mask):
        backend = resolve_backend(run_options.client, run_options.base_url, run_options.api_key)
        image, image_refs = await refs.resolve(image, "image", backend)
        if mask is not None:
            mask, _ = await refs.resolve(mask, "mask", backend)
    request = lined_up_edit(image, prompt, mask, markup, model, on_partial, fields,
                            Holding(keep_unmasked, feather, detail, resize_mask))
    refs.attach(request, image_refs, image)
    request.reuse = reuse
    return await run(request, run_options)


async def aexpand(  # noqa: PLR0913 - public keyword options mirror the API
    image: images.ImageInput | Sequence[images.ImageInput],
    prompt: str,
    *,
    left: int = 0,
    right: int = 0,
    top: int = 0,
    bottom: int = 0,
    aspect: str | None = None,
    anchor: str = "center",
    feather: int = 8,
    model: str | None = None,
    on_partial: PartialCallback | None = None,
    **options: Any,
) -> Result:
    """Outpaint: the picture on a larger canvas, the new area made by the model, the original kept.

    Give pixels per side (`left=256, right=256`) or an `aspect` ("16:9") with an `anchor` (where the
    image stays: "center", "left", "right", "top", "bottom" or a corner such as "top-left"). The new
    area is sent transparent and masked, with a `feather`-wide band into the original so the seam
    blends; the result is composited so the rest of the original is unchanged. `size` defaults to
    "match" (for the new canvas). Other options as in `aedit`.
    """
    run_options = RunOptions.pop_from(options)
    where = {"left": left, "right": right, "top": top, "bottom": bottom, "aspect": aspect, "anchor": anchor}
    request = expand_request(image, prompt, where, feather, model, on_partial, options)
    return await run(request, run_options)


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
    run_options = RunOptions.pop_from(options)
    if "variation" in caps.endpoints and (caps.usable or legacy) and caps.known:
        upload = images.to_upload(image, param="image", max_bytes=caps.input_image_max_bytes,
                                  allowed=caps.input_formats)
        params = request_params(model=name, **options)
        request = Request("variation", params, {"image": upload}, None, allow_retired=legacy, call="vary")
        return await run(request, run_options)
    on_partial = options.pop("on_partial", None)
    request = edit_request(image, prompt or VARIATION_PROMPT, None, None, None, name, on_partial, options)
    request.note = VARIATION_NOTE  # in the saved record too, for a person reading it
    request.call = "vary"  # what reproduce and rerun read: the record says which call made it
    result = await run(request, run_options)
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

    async def produce() -> None:
        try:
            if image is None:
                queue.put_nowait(await agenerate(prompt, on_partial=on_partial, **options))
            else:
                queue.put_nowait(await aedit(image, prompt, on_partial=on_partial, **options))
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, who re-raises it
            queue.put_nowait(exc)

    task = asyncio.ensure_future(produce())
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


def rerun(record: Mapping[str, Any] | StoredImage | str, *, store: Store | str | Path | None = None,
          **overrides: Any) -> Result:
    """Run a saved request again (same endpoint, prompt, options and inputs); `overrides` change options."""
    return run_sync(arerun(record, store=store, **overrides), alone=own_loop_ok(overrides.get("client")))


async def arerun(record: Mapping[str, Any] | StoredImage | str, *, store: Store | str | Path | None = None,
                 **overrides: Any) -> Result:
    """Async twin of `rerun`. A string is an image id looked up in `store`. A conversation turn (`iw.Chat`) is
    refused before anything is sent, with the `Chat(...).branch(...).send(...)` call that sends it again."""
    if isinstance(record, str):
        record = resolve_store(store).load(record)
    if isinstance(record, StoredImage):
        record = record.record
    call = record_call(record)
    if call == "refine":
        raise _turn_refused(record)
    disk = resolve_store(store if store is not None else Path(str(record["path"])).parent)
    params = {**record.get("params", {}), **overrides}
    prompt = params.pop("prompt", None)
    files: dict[str, list[bytes]] = {}
    for entry in record.get("input_hashes") or []:
        role, digest = str(entry).split(":", 1)
        files.setdefault(role, []).append(disk.load_input(digest))
    if call == "generate":
        return await agenerate(str(prompt), store=disk, **params)
    if call == "vary":
        legacy = record.get("endpoint") == "variation"
        return await avary(files["image"][0], None if legacy else prompt, store=disk, legacy=legacy, **params)
    lined_up = finish_options(record)
    if call == "expand":
        return await aexpand(files["image"], str(prompt), store=disk, **{**lined_up, **params})
    mask, markup = (files.get(k, [None])[0] for k in ("mask", "markup"))
    return await aedit(files["image"], str(prompt), mask=mask, markup=markup, store=disk, **{**lined_up, **params})


def _turn_refused(record: Mapping[str, Any]) -> capabilities.ValidationError:
    """A conversation turn goes through `iw.Chat`, which sits above these calls: the error names the one call
    that sends it again as it was sent (one request), instead of a bare KeyError."""
    how = ("from the response it continued (one request, a new branch)" if record.get("previous_response_id")
           else "as a new conversation (one request)")
    return capabilities.ValidationError([capabilities.Problem(
        "record", f"record {record.get('id')} is turn {record.get('turn')} of conversation {record.get('thread')} "
                  "(call 'refine'): iw.rerun sends Images API calls, not conversation turns. Send it again "
                  f"{how}: {resend_code(record, absolute=True)} — add base_url=/api_key= to Chat if you gave them "
                  "to rerun; or replay the whole conversation with its .code")])
