"""The openai SDK adapter: one call, sync or async client alike, streamed or not, with errors translated.

Whatever the SDK returns becomes an `SDKResponse` (the same for plain and streamed calls); whatever it
raises becomes an `errors.APIRequestError`. A stream that breaks after it began raises `StreamBroke` (a
`BrokenStreamError`) carrying what arrived whole, so the request path can save it (it is paid for).
"""

from __future__ import annotations

import asyncio
import base64
import functools
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from image_widget import images
from image_widget.base import runtime
from image_widget.base.errors import (
    APIRequestError,
    BrokenStreamError,
    ConnectionFailedError,
    EmptyResponseError,
    IncompleteStreamError,
    ResponseFormatError,
    translate_error,
)
from image_widget.client.backend import is_async_client
from image_widget.client.wire import guarded_partial

if TYPE_CHECKING:
    from image_widget.client.backend import Backend
    from image_widget.client.wire import Request

_METHODS = {"generate": "generate", "edit": "edit", "variation": "create_variation"}
_META_KEYS = ("size", "quality", "background", "output_format")


@dataclass
class SDKResponse:
    """The parts of an SDK response we keep, the same for plain and streamed calls."""

    b64_images: list[str]
    usage: dict[str, Any] | None
    request_id: str | None
    meta: dict[str, Any]
    revised_prompts: list[str | None]
    partials: int = 0


class StreamBroke(BrokenStreamError):
    """A broken stream inside the request path, with what had arrived whole (`arrived`) for it to save."""

    def __init__(self, cause: APIRequestError, arrived: SDKResponse) -> None:
        # A dropped connection gets the broken-stream hint (the server was answering); anything else keeps its own.
        hint = None if isinstance(cause, ConnectionFailedError) else cause.hint
        super().__init__(cause.detail, status=cause.status, code=cause.code, param=cause.param,
                         request_id=cause.request_id, hint=hint, origin=cause.origin or cause.kind)
        self.arrived = arrived


class CancelledWithImages(asyncio.CancelledError):
    """A streamed request cancelled (the widget's Cancel, a task cancelled) after some images had completed:
    still a cancellation for everything above, carrying those images so they are saved first."""

    def __init__(self, arrived: SDKResponse, *, interrupted: bool = False) -> None:
        super().__init__("cancelled after some images had arrived")
        self.arrived = arrived
        self.interrupted = interrupted
        """Ctrl-C while a blocking stream was read (`runtime.run_sync` raises it as the KeyboardInterrupt)."""


class SDKCall:
    """One call through the SDK for `request`, on the caller's client (sync or async) or ours."""

    def __init__(self, client: Any, request: Request, backend: Backend) -> None:
        self.client = client
        self.request = request
        self.backend = backend
        self.on_partial = guarded_partial(request.on_partial)
        self.is_async = is_async_client(client)

    async def execute(self) -> SDKResponse:
        kwargs = self.request.wire_params()
        if self.request.json_body is not None:
            fn, kwargs = self._post("/images/edits", self.request.json_body, "edit")
        elif self.request.endpoint == "generate":
            fn, kwargs = self._post("/images/generations", kwargs, "generate")
        else:
            fn = getattr(self.client.images, _METHODS[self.request.endpoint])
        try:
            if self.request.stream:
                return await self._streamed(fn, kwargs)
            raw = await self._call(fn, kwargs)
            return _from_images_response(raw)
        except (APIRequestError, asyncio.CancelledError):
            raise
        except Exception as exc:  # noqa: BLE001 - every SDK failure becomes one readable error type
            raise translate_error(exc, self.backend) from None

    def _post(self, path: str, body: dict[str, Any], kind: str) -> tuple[Callable[..., Any], dict[str, Any]]:
        """JSON edits (images by reference) have no other way: the SDK's `images.edit` sends multipart only
        (tests/contracts/openapi-images.json, `POST /images/edits`). A generation goes this way too (`json_post`)."""
        from openai.types import ImageEditStreamEvent, ImageGenStreamEvent, ImagesResponse

        event = ImageEditStreamEvent if kind == "edit" else ImageGenStreamEvent
        return json_post(self.client, path, cast_to=ImagesResponse, event=event, stream=bool(body.get("stream"))), \
            {"body": body}

    async def _call(self, fn: Callable[..., Any], kwargs: dict[str, Any]) -> Any:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # create_variation is marked deprecated
            if self.is_async:
                return await fn(**kwargs)
            return await runtime.call_blocking(fn, **kwargs)

    async def _streamed(self, fn: Callable[..., Any], kwargs: dict[str, Any]) -> SDKResponse:
        stream = await self._call(fn, kwargs)
        response = SDKResponse([], None, stream.response.headers.get("x-request-id"), {}, [])
        try:
            if self.is_async:
                async with stream:
                    async for event in stream:
                        self._event(event, response)
            else:
                await runtime.call_blocking(self._drain_sync, stream, response)
        except (asyncio.CancelledError, KeyboardInterrupt) as stop:
            if response.b64_images:  # paid for and here: the request path saves them, then the cancel goes on
                raise CancelledWithImages(response, interrupted=isinstance(stop, KeyboardInterrupt)) from None
            raise
        except Exception as exc:  # noqa: BLE001 - broke mid-stream: the request path keeps what completed
            error = exc if isinstance(exc, APIRequestError) else translate_error(exc, self.backend)
            raise StreamBroke(error, response) from None
        if not response.b64_images:
            raise IncompleteStreamError("the stream ended without a final image", request_id=response.request_id)
        return response

    def _drain_sync(self, stream: Any, response: SDKResponse) -> None:
        with stream:
            for event in stream:
                self._event(event, response)

    def _event(self, event: Any, response: SDKResponse) -> None:
        kind = str(getattr(event, "type", ""))
        if kind.endswith("partial_image"):
            response.partials += 1
            if self.on_partial is not None:
                preview = images.decode_image(base64.b64decode(event.b64_json))
                if self.request.finish is not None:  # previews line up with the input like the result
                    preview = self.request.finish.preview(preview)
                self.on_partial(int(event.partial_image_index), preview)
        elif kind.endswith("completed"):
            response.b64_images.append(event.b64_json)
            response.revised_prompts.append(None)
            usage = getattr(event, "usage", None)
            if usage is not None:
                response.usage = _add_usage(response.usage, usage.model_dump())
            response.meta = {k: getattr(event, k, None) for k in _META_KEYS}


def json_post(client: Any, path: str, *, cast_to: type, event: Any, stream: bool) -> Callable[..., Any]:
    """`path` with a JSON body (`body=`) through the SDK's generic `post`, sent as it is: `images.generate` and
    `responses.create` first run their body through the SDK's generic parameter transform, which leaves a body of
    plain JSON values as it was and cost ~0.1 / ~0.4 ms of every request (issues 20, 22). The contract tests
    check these bodies against OpenAI's description."""
    from openai import AsyncStream, Stream

    options: dict[str, Any] = {"cast_to": cast_to, "stream": stream, "options": {"security": {"bearer_auth": True}}}
    if stream:
        options["stream_cls"] = (AsyncStream if is_async_client(client) else Stream)[event]
    return functools.partial(client.post, path, **options)


def _add_usage(total: dict[str, Any] | None, more: dict[str, Any]) -> dict[str, Any]:
    """Usage summed over a stream's completed images (nested token counts included)."""
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


def _from_images_response(raw: Any) -> SDKResponse:
    data = list(raw.data or [])
    if not data:
        raise EmptyResponseError("the API answered with no images (empty data)",
                                 request_id=getattr(raw, "_request_id", None))
    b64: list[str] = []
    for index, item in enumerate(data):
        if item.b64_json is None:
            raise ResponseFormatError(f"image {index} came back as a URL, not base64 data")
        b64.append(item.b64_json)
    usage = raw.usage.model_dump() if raw.usage is not None else None
    meta = {k: getattr(raw, k, None) for k in _META_KEYS}
    return SDKResponse(b64, usage, getattr(raw, "_request_id", None), meta,
                       [item.revised_prompt for item in data])
