"""Input images named by reference instead of given as pixels: an http(s) URL or a Files API id (`file-…`).

OpenAI's description lets a JSON edit name its images this way (`ImageRefParam`: `image_url` | `file_id`),
so such an input is never uploaded by us: the server fetches it. The client still reads the picture once
(a URL with a plain GET, a file through the Files API's content), because everything that happens before
a paid request — format and size checks, the mask's size, `size="match"`, holding the unmasked pixels —
needs its pixels. Offline, the emulator can fetch only from this machine, so a URL on another host is
refused here, before anything is sent, with the same words the emulator would use.
"""

from __future__ import annotations

import asyncio
import os
import re
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from image_widget.emulator.hosts import is_loopback
from image_widget.images import ImageInputError

if TYPE_CHECKING:
    from image_widget.client.backend import Backend

FILE_ID = re.compile(r"^file-[A-Za-z0-9_-]{4,}$")
MAX_DOWNLOAD_BYTES = 50 * 1024 * 1024


@dataclass(frozen=True)
class Ref:
    """One reference as the API's `ImageRefParam` has it: exactly one of `image_url` or `file_id`."""

    image_url: str | None = None
    file_id: str | None = None

    def wire(self) -> dict[str, str]:
        return {"image_url": self.image_url} if self.image_url is not None else {"file_id": str(self.file_id)}


def as_ref(value: object) -> Ref | None:
    """The reference `value` names, or None for anything else (pixels, bytes, a local path)."""
    if not isinstance(value, str):
        return None
    if value.startswith(("https://", "http://")):
        return Ref(image_url=value)
    if FILE_ID.match(value) and not os.path.exists(value):  # a local file called file-x wins
        return Ref(file_id=value)
    return None


def has_refs(*inputs: object) -> bool:
    """Whether any input (or any item of a list of inputs) is a reference."""
    for value in inputs:
        items = value if isinstance(value, list | tuple) else [value]
        if any(as_ref(item) is not None for item in items):
            return True
    return False


def check_reachable(ref: Ref, param: str, backend: Backend) -> None:
    """Refuse, before anything is sent, a URL the server cannot fetch: offline, only this machine."""
    if ref.image_url is None or not backend.synthetic:
        return
    host = urllib.parse.urlsplit(ref.image_url).hostname or ""
    if not is_loopback(host):
        raise ImageInputError(f"{param}: the offline emulator can fetch images only from this machine (127.0.0.1, "
                              f"localhost, ::1), not from {host or ref.image_url!r}; pass the picture itself (a "
                              "path, bytes or a PIL image) or set OPENAI_API_KEY to use OpenAI")


async def _download(ref: Ref, param: str, client: Any) -> bytes:
    if ref.file_id is not None:
        try:
            await _maybe_await(client.files.retrieve(ref.file_id))
        except Exception as exc:  # noqa: BLE001 - gone, deleted or expired: one clear error before any edit
            raise ImageInputError(f"{param}: no file {ref.file_id!r} at this server (never uploaded, deleted or "
                                  f"expired: {type(exc).__name__}); upload it again or pass the picture itself") \
                from None
        try:
            answer = await _maybe_await(client.files.content(ref.file_id))
            data = answer.content if hasattr(answer, "content") else bytes(answer)
        except Exception as exc:  # noqa: BLE001
            raise ImageInputError(f"{param}: file {ref.file_id!r} exists but its bytes cannot be read back "
                                  f"({type(exc).__name__}); the checks before a paid edit need its pixels — "
                                  "pass the picture itself") from None
        return bytes(data)
    import httpx2

    url = str(ref.image_url)
    too_big = ImageInputError(f"{param}: the image at {url} is larger than 50 MB")
    chunks: list[bytes] = []
    try:
        async with httpx2.AsyncClient(timeout=30, follow_redirects=True) as http, http.stream("GET", url) as answer:
            answer.raise_for_status()
            declared = answer.headers.get("content-length")
            if declared is not None and declared.isdigit() and int(declared) > MAX_DOWNLOAD_BYTES:
                raise too_big  # said before a byte of it is read
            read = 0
            async for chunk in answer.aiter_bytes():
                read += len(chunk)
                if read > MAX_DOWNLOAD_BYTES:  # a server that does not say, or says less: stop at the limit
                    raise too_big
                chunks.append(chunk)
    except ImageInputError:
        raise
    except Exception as exc:  # noqa: BLE001 - any network failure is the input's problem, said plainly
        raise ImageInputError(f"{param}: the image at {url} could not be downloaded ({exc})") from None
    return b"".join(chunks)


async def _maybe_await(value: Any) -> Any:
    return await value if asyncio.iscoroutine(value) else value


READ_TIMEOUT_S = 60.0


async def resolve(inputs: Any, param: str, backend: Backend) -> tuple[Any, list[Ref | None]]:
    """(`inputs` with each reference replaced by its bytes, the reference of each item or None). References
    are read through a client of `backend` made on the running loop, never retried (a read is free, but a
    stuck one should say so)."""
    items: Sequence[Any] = inputs if isinstance(inputs, list | tuple) else [inputs]
    single = not isinstance(inputs, list | tuple)
    out: list[Any] = []
    refs: list[Ref | None] = []
    client: Any = None
    for index, item in enumerate(items):
        where = param if single else f"{param}[{index}]"
        ref = as_ref(item)
        if ref is not None:
            check_reachable(ref, where, backend)
            client = client or backend.async_client(max_retries=0, timeout=READ_TIMEOUT_S)
        out.append(item if ref is None else await _download(ref, where, client))
        refs.append(ref)
    return (out[0] if single else out), refs


def attach(request: Any, image_refs: list[Ref | None], downloaded: Any) -> None:
    """Name each sent image by the person's reference where the bytes sent are exactly the ones it names
    (not a crop, a canvas or a re-encoded copy); the rest goes by file id or data URL (`json_edit`)."""
    if not any(image_refs) or request.sources is not None:
        return
    items = downloaded if isinstance(downloaded, list) else [downloaded]
    sent = request.uploads("image")
    request.refs = {"image": [
        ref if ref is not None and i < len(sent) and isinstance(items[i], bytes) and sent[i][1] == items[i] else None
        for i, ref in enumerate(image_refs)]}
