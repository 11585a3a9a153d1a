"""Sending one turn through the SDK (`POST /v1/responses`), plain or streamed, and reading the answer.

The Responses API has no idempotency key, so a turn is never re-sent blindly: the SDK's own retries are
off, a 429 (refused before any work, never billed) is waited out and sent again, and anything that may
have reached the server (a 5xx, a timeout, a dropped connection) is reported as it is, with the response id
when the stream had told us one. A stream that broke after `response.created` is looked up once with
`GET /v1/responses/{id}`: if the server finished it, its image is kept, and nothing is paid twice.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from image_widget import images
from image_widget.base import runtime
from image_widget.base.errors import (
    APIRequestError,
    IncompleteStreamError,
    StreamEventError,
    translate_error,
)
from image_widget.client.rate_limits import Flight, waiting_out_rate_limits
from image_widget.client.sdk import SDKResponse, json_post
from image_widget.client.wire import guarded_partial

__all__ = ["NOT_RESENT", "Answer", "send_turn"]

NOT_RESENT = ("it was not sent again: the Responses API has no idempotency key, so a second send could pay "
              "twice; send the turn again yourself if you accept that")


@dataclass
class Answer:
    """What a turn's answer said: the image and its facts, the response ids and both usages."""

    response_id: str
    b64_image: str
    request_id: str | None
    usage: dict[str, Any] | None
    """The mainline model's tokens (`Response.usage`)."""
    image_usage: dict[str, Any] | None
    """The image tool's tokens (`Response.tool_usage.image_gen`, SDK types/responses/response.py)."""
    action: str | None = None
    revised_prompt: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    partials: int = 0
    recovered: bool = False
    """The stream broke and the finished response was fetched with GET instead (not paid again)."""

    def as_sdk_response(self) -> SDKResponse:
        """The shape the saving step reads (one image; its usage is the image tool's)."""
        return SDKResponse([self.b64_image], self.image_usage, self.request_id, dict(self.meta),
                           [self.revised_prompt], self.partials)


async def send_turn(client: Any, body: dict[str, Any], backend: Any, *, retries: int,
                    on_partial: Callable[[int, Any], Any] | None, flight: Flight | None = None) -> Answer:
    """Send `body`; wait out 429s up to `retries` times; never re-send anything else. `flight` says whether an
    attempt may be at the server (the class budget's question after a cancel)."""
    return await waiting_out_rate_limits(lambda: _once(client, body, backend, on_partial), retries, flight)


async def _once(client: Any, body: dict[str, Any], backend: Any,
                on_partial: Callable[[int, Any], Any] | None) -> Answer:
    reading = _Reading(on_partial)
    try:
        raw = await _call(_create(client, bool(body.get("stream"))), body=body)
        if not body.get("stream"):
            return _from_response(raw, getattr(raw, "_request_id", None))
        reading.request_id = raw.response.headers.get("x-request-id")
        await _drain(raw, reading)
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # noqa: BLE001 - every SDK failure becomes one readable error type
        error = exc if isinstance(exc, APIRequestError) else translate_error(exc, backend)
        return _answer_or_raise(await _what_happened(client, error, reading))
    if reading.answer is None:
        error = IncompleteStreamError("the stream ended without a completed response", request_id=reading.request_id)
        return _answer_or_raise(await _what_happened(client, error, reading))
    return reading.answer


def _answer_or_raise(found: Answer | APIRequestError) -> Answer:
    if isinstance(found, APIRequestError):
        raise found
    return found


def _create(client: Any, stream: bool) -> Callable[..., Any]:
    """`POST /v1/responses` with the body as it is (`json_post`)."""
    from openai.types.responses import Response, ResponseStreamEvent

    return json_post(client, "/responses", cast_to=Response, event=ResponseStreamEvent, stream=stream)


async def _call(fn: Callable[..., Any], **kwargs: Any) -> Any:
    if asyncio.iscoroutinefunction(fn):
        return await fn(**kwargs)
    return await runtime.call_blocking(fn, **kwargs)


async def _drain(stream: Any, reading: _Reading) -> None:
    if hasattr(stream, "__aiter__"):
        async with stream:
            async for event in stream:
                reading.event(event)
        return

    def drain_sync() -> None:
        with stream:
            for event in stream:
                reading.event(event)

    await runtime.call_blocking(drain_sync)


class _Reading:
    """The state of one streamed answer as its events arrive."""

    def __init__(self, on_partial: Callable[[int, Any], Any] | None) -> None:
        self.on_partial = guarded_partial(on_partial)
        self.response_id: str | None = None
        self.request_id: str | None = None
        self.partials = 0
        self.answer: Answer | None = None

    def event(self, event: Any) -> None:
        kind = str(getattr(event, "type", ""))
        if kind in ("response.created", "response.in_progress") and self.response_id is None:
            self.response_id = event.response.id
        elif kind == "response.image_generation_call.partial_image":
            self.partials += 1
            if self.on_partial is not None:
                preview = images.decode_image(base64.b64decode(event.partial_image_b64))
                self.on_partial(int(event.partial_image_index), preview)
        elif kind == "response.completed":
            self.answer = _from_response(event.response, self.request_id, self.partials)
        elif kind == "response.failed":
            error = getattr(event.response, "error", None)
            raise StreamEventError(f"the response failed: {getattr(error, 'message', None) or 'no reason given'}",
                                   code=getattr(error, "code", None), request_id=self.request_id)
        elif kind == "error":
            raise StreamEventError(f"the server reported an error mid-stream: {event.message}",
                                   code=event.code, param=event.param, request_id=self.request_id)


def _from_response(raw: Any, request_id: str | None, partials: int = 0) -> Answer:
    """The image and facts of a finished `Response` (its `image_generation_call` output item)."""
    calls = [item for item in (raw.output or []) if getattr(item, "type", None) == "image_generation_call"]
    done = [item for item in calls if getattr(item, "result", None)]
    if not done:
        raise IncompleteStreamError(f"response {raw.id} has no image (status {raw.status}); the model did not call "
                                    "the image tool", request_id=request_id)
    item = done[-1]
    tool_usage = getattr(raw, "tool_usage", None)
    image_gen = getattr(tool_usage, "image_gen", None)
    meta = {k: getattr(item, k, None) for k in ("size", "quality", "background", "output_format")}
    return Answer(raw.id, item.result, request_id, raw.usage.model_dump() if raw.usage is not None else None,
                  image_gen.model_dump(exclude_none=True) if image_gen is not None else None,
                  getattr(item, "action", None), getattr(item, "revised_prompt", None), meta, partials)


async def _what_happened(client: Any, exc: APIRequestError, reading: _Reading) -> Answer | APIRequestError:
    """The finished answer when the server has it (a stream that broke after `response.created`), else the
    failure said plainly: whether it may have been billed, and that it was not sent again."""
    if exc.status is not None and exc.status < 500 and exc.status != 408:
        return exc  # refused before any work: nothing was billed, the message says what to fix
    if reading.response_id is not None:
        try:
            raw = await _call(client.responses.retrieve, response_id=reading.response_id)
            if getattr(raw, "status", None) == "completed":
                answer = _from_response(raw, reading.request_id, reading.partials)
                answer.recovered = True
                return answer
        except Exception:  # noqa: BLE001, S110 - the lookup is a courtesy; the original failure is reported
            pass
        where = f"the server had started response {reading.response_id}; "
    else:
        where = "the request may have reached the server and be billed; "
    kind = type(exc)
    return kind(f"{exc.detail}; {where}{NOT_RESENT}", status=exc.status, code=exc.code, param=exc.param,
                request_id=exc.request_id or reading.request_id, hint="", retry_may_bill=True, origin=exc.origin)

