"""Edits in OpenAI's JSON form (`EditImageBodyJsonParam`): images and mask by `file_id`, URL or data URL.

The SDK's `images.edit` sends multipart only, while OpenAI's API description (`POST /images/edits`,
`application/json`; see tests/contracts/openapi-images.json) also takes JSON with image references. It is
sent with the SDK's own `client.post(..., cast_to=ImagesResponse)`, which keeps its errors, headers and
(switched-off) retries. JSON is used when an input already is a reference (a URL or file id the person
gave), when every input already has a live file id at this server, or when the inputs will be reused (a
sweep, a batch): then each is uploaded once (`file_ids`). Otherwise — for a custom size (the JSON form's
`size` lists only auto and the three standard sizes), and for servers that answered a JSON edit with a
content-type refusal once — the edit goes as multipart, as before.
"""

from __future__ import annotations

import asyncio
import base64
from typing import TYPE_CHECKING, Any

from image_widget import images
from image_widget.base.errors import APIRequestError
from image_widget.client import file_ids
from image_widget.facts.table import IMAGE_URL_MAX, JSON_EDIT_SIZES  # a larger input goes by file id

if TYPE_CHECKING:
    from pathlib import Path

    from image_widget.client.backend import Backend
    from image_widget.client.wire import Request
    from image_widget.facts.capabilities import FileTuple

JSON_FIELDS = ("model", "prompt", "n", "quality", "input_fidelity", "size", "user", "output_format",
               "output_compression", "moderation", "background", "partial_images")
"""The non-image fields of `EditImageBodyJsonParam`; a request with any other field goes as multipart."""


def _data_url(item: FileTuple) -> dict[str, str]:
    return {"image_url": f"data:{item[2] or 'image/png'};base64,{base64.b64encode(item[1]).decode()}"}


def wants_json(request: Request, folder: Path, backend: Backend, known: file_ids.FileIds) -> bool:
    """Whether this edit goes as JSON (see the module docstring)."""
    if request.endpoint != "edit" or file_ids.multipart_only(folder, backend):
        return False
    extra = set(request.params) - set(JSON_FIELDS) - {"stream"}
    if extra or request.uploads("markup"):
        return False  # markup and newer SDK-only fields exist only in the multipart form
    if str(request.params.get("size", "auto")) not in JSON_EDIT_SIZES:
        return False  # a custom size: the JSON form's `size` is an enum (a reference was read already: sent as bytes)
    user_refs = any(ref is not None for ref in (request.refs or {}).get("image", []))
    every_known = all(known.get(images.sha256(item[1])) for item in request.uploads("image"))
    return user_refs or request.reuse or every_known


async def _ref_for(item: FileTuple, given: Any, upload: bool, known: file_ids.FileIds, client: Any) -> dict[str, str]:
    """The reference for one input: the person's own, a known file id, a fresh upload, or a data URL."""
    if given is not None:
        return dict(given.wire())
    digest = images.sha256(item[1])
    file_id = known.get(digest)
    if file_id is None and (upload or _data_url_length(item) > IMAGE_URL_MAX):
        file_id = await _upload_once(item, digest, known, client)  # too big for a URL: named by file id
    return {"file_id": file_id} if file_id is not None else _data_url(item)


def _data_url_length(item: FileTuple) -> int:
    return len(f"data:{item[2] or 'image/png'};base64,") + 4 * -(-len(item[1]) // 3)


_UPLOADING: dict[tuple[asyncio.AbstractEventLoop, str, str], asyncio.Future[str]] = {}
"""Uploads in flight, so the cells of a sweep that start together upload a shared input once. By loop: a
future can be awaited only on its own loop, and scripts' threads each run their own (`runtime.run_sync`)."""


async def _upload_once(item: FileTuple, digest: str, known: file_ids.FileIds, client: Any) -> str:
    key = (asyncio.get_running_loop(), str(known.path), digest)
    pending = _UPLOADING.get(key)
    if pending is not None:
        return await asyncio.shield(pending)
    future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    _UPLOADING[key] = future
    try:
        file_id, expires = await file_ids.upload(client, item[0] or "image.png", item[1], item[2] or "image/png")
        known.put(digest, file_id, expires)
        future.set_result(file_id)
        return file_id
    except BaseException as exc:
        future.set_exception(exc)
        future.exception()  # retrieved here: each waiter re-raises it itself
        raise
    finally:
        _UPLOADING.pop(key, None)


async def build(request: Request, known: file_ids.FileIds, client: Any) -> dict[str, Any]:
    """The JSON body of `request` (uploading reused inputs once)."""
    given = (request.refs or {}).get("image", [])
    refs = [await _ref_for(item, given[i] if i < len(given) else None, request.reuse, known, client)
            for i, item in enumerate(request.uploads("image"))]
    body: dict[str, Any] = {k: v for k, v in request.params.items() if k in JSON_FIELDS}
    body["images"] = refs
    masks = request.uploads("mask")
    if masks:
        body["mask"] = await _ref_for(masks[0], None, request.reuse, known, client)
    if request.stream:
        body["stream"] = True
    return body


def refused_json(exc: APIRequestError) -> bool:
    """A server without JSON edits: it answered the JSON body with a content-type refusal."""
    text = exc.detail.lower()
    return exc.status in (400, 415) and ("content-type" in text or "multipart" in text)


def gone_file(exc: APIRequestError) -> bool:
    """The server no longer has a file we named by id (deleted or expired)."""
    return exc.status in (400, 404) and str(exc.param or "").endswith("file_id")


def file_ids_in(body: dict[str, Any]) -> set[str]:
    refs = [*body.get("images", []), *([body["mask"]] if body.get("mask") else [])]
    return {r["file_id"] for r in refs if "file_id" in r}
