"""Images named by reference, as OpenAI's description has them for JSON edits (`EditImageBodyJsonParam`,
`ImageRefParam`) and the Responses API's `input_image`: a data URL, an http(s) URL or a Files API id.

Each reference becomes the same (filename, bytes, content type) upload a multipart edit carries, so the
rest of the emulator never cares how an image arrived. Offline, a URL can only be fetched from this
machine (loopback); any other host is refused with a 400 that says so. Every error names the field path
(`images[2].file_id`, `mask.image_url`).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import dataclasses
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import Any

from image_widget.base.formats import content_type
from image_widget.emulator.hosts import is_loopback
from image_widget.emulator.parsing import ParseError
from image_widget.facts.table import IMAGE_URL_MAX, JSON_EDIT_SIZES
from image_widget.facts.validation import Problem

MAX_REF_IMAGES = 16
FETCH_TIMEOUT_S = 10.0
MAX_FETCH_BYTES = 50 * 1024 * 1024
"""Inputs are < 50 MB each (the images guide); a bigger download is refused, not kept in memory."""

FileReader = Callable[[str], bytes | None]
"""A Files API id → the file's bytes (None: no such file, deleted or expired)."""

Upload = tuple[str, bytes, str]


def _data_url(url: str, where: str) -> bytes:
    head, sep, payload = url.partition(",")
    if not sep or not head.startswith("data:") or not head.endswith(";base64"):
        raise ParseError(f"Invalid '{where}': a data URL must look like data:image/png;base64,<data>.", param=where)
    try:
        return base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ParseError(f"Invalid '{where}': the data URL's base64 cannot be decoded ({exc}).", param=where) from exc


def _fetch(url: str, where: str) -> bytes:
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    if not is_loopback(host):
        raise ParseError(f"Invalid '{where}': the offline emulator can fetch images only from this machine "
                         f"(127.0.0.1, localhost, ::1), not from {host or url!r}. Pass the image as a data URL "
                         "or upload it to /v1/files and use its file_id.", param=where)
    try:
        with urllib.request.urlopen(url, timeout=FETCH_TIMEOUT_S) as answer:  # noqa: S310 - http(s), loopback only
            data: bytes = answer.read(MAX_FETCH_BYTES + 1)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise ParseError(f"Invalid '{where}': the image at {url} could not be downloaded ({exc}).",
                         param=where) from exc
    if len(data) > MAX_FETCH_BYTES:
        raise ParseError(f"Invalid '{where}': the image at {url} is larger than 50 MB.", param=where)
    return data


async def resolve_ref(ref: Any, where: str, files: FileReader) -> Upload:
    """One `ImageRefParam` as an upload; `where` is its field path for errors."""
    if not isinstance(ref, dict):
        raise ParseError(f"Invalid type for '{where}': expected an object with image_url or file_id.", param=where)
    unknown = sorted(set(ref) - {"image_url", "file_id"})
    if unknown:
        raise ParseError(f"Unrecognized parameter '{where}.{unknown[0]}': an image reference has image_url or "
                         "file_id.", param=f"{where}.{unknown[0]}")
    has_url, has_file = ref.get("image_url") is not None, ref.get("file_id") is not None
    if has_url == has_file:
        what = "both" if has_url else "neither"
        raise ParseError(f"Invalid '{where}': give exactly one of image_url or file_id (got {what}).", param=where)
    if has_file:
        file_id = ref["file_id"]
        data = files(file_id) if isinstance(file_id, str) else None
        if data is None:
            raise ParseError(f"Invalid '{where}.file_id': no such file {file_id!r} (it was never uploaded, was "
                             "deleted or has expired).", param=f"{where}.file_id")
        return (f"{file_id}.png", data, content_type(data))
    url = ref["image_url"]
    path = f"{where}.image_url"
    if not isinstance(url, str) or not url.startswith(("data:", "http://", "https://")):
        raise ParseError(f"Invalid '{path}': expected a fully qualified http(s) URL or a base64 data URL.", param=path)
    if len(url) > IMAGE_URL_MAX:
        raise ParseError(f"Invalid '{path}': string too long. Expected a string with maximum length {IMAGE_URL_MAX}, "
                         f"but got a string with length {len(url)} instead.", param=path)
    data = _data_url(url, path) if url.startswith("data:") else await asyncio.to_thread(_fetch, url, path)
    declared = url[5:].partition(";")[0] if url.startswith("data:") else ""
    return ("image.png", data, declared or content_type(data))  # a data URL says its own type


async def resolve_json_edit(body: dict[str, Any], files: FileReader) -> dict[str, Any]:
    """A JSON edit's params with `images` / `mask` turned into the uploads a multipart edit has."""
    params = {k: v for k, v in body.items() if k not in ("images", "mask")}
    size = body.get("size")
    if size is not None and size not in JSON_EDIT_SIZES:  # the description's enum; the multipart form takes WxH
        supported = ", ".join(f"'{s}'" for s in JSON_EDIT_SIZES)
        raise ParseError(f"Invalid value: {str(size)[:40]!r}. Supported values are: {supported}.", param="size")
    refs = body.get("images")
    if refs is None:
        raise ParseError("Missing required parameter: 'images'.", param="images")
    if not isinstance(refs, list) or not 1 <= len(refs) <= MAX_REF_IMAGES:
        count = len(refs) if isinstance(refs, list) else "not a list"
        raise ParseError(f"Invalid 'images': expected a list of 1 to {MAX_REF_IMAGES} image references, got "
                         f"{count}.", param="images")
    params["image"] = [await resolve_ref(ref, f"images[{i}]", files) for i, ref in enumerate(refs)]
    if body.get("mask") is not None:
        params["mask"] = await resolve_ref(body["mask"], "mask", files)
    return params


def loggable_refs(refs: Any) -> Any:
    """References for the request log: data URLs shortened to their size, never their bytes."""
    if isinstance(refs, dict):
        return {k: loggable_refs(v) for k, v in refs.items()}
    if isinstance(refs, list):
        return [loggable_refs(v) for v in refs]
    if isinstance(refs, str) and refs.startswith("data:"):
        return f"data URL ({len(refs):,} characters)"
    return refs


_MULTIPART_LABEL = re.compile(r"^(image)\[(\d+)\] \([^)]*\)|^(mask) \([^)]*\)")


def as_json_problem(problem: Problem) -> Problem:
    """A check written for the multipart form, said in the JSON form's words: `images[i]` (no file names)."""
    if problem.param not in ("image", "mask"):
        return problem
    match = _MULTIPART_LABEL.match(problem.message)
    where = (f"images[{match[2]}]" if match[1] else "mask") if match else \
        ("images" if problem.param == "image" else "mask")
    message = _MULTIPART_LABEL.sub(where, problem.message, count=1) if match else problem.message
    return dataclasses.replace(problem, param=where, message=message)
