"""Putting answers on the wire exactly as the real API shapes them, faults included.

Error JSON, `ImagesResponse` bodies and server-sent events must match the API closely enough that the
openai SDK parses them with `_strict_response_validation=True`; the faults (`state.Fault`) break them in
the ways real servers and networks do, so clients can be tested against those breaks.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from base64 import b64encode
from collections.abc import AsyncGenerator, Callable, Mapping
from typing import Any

from starlette.responses import JSONResponse
from starlette.types import Receive, Scope, Send

from image_widget.emulator import render
from image_widget.emulator.plan import Plan
from image_widget.emulator.state import DroppedConnection, Fault
from image_widget.facts.capabilities import Problem

WRONG_KEY = ("Incorrect API key provided. You can find your API key at "
             "https://platform.openai.com/account/api-keys.")
_MODERATION = ("Your request was rejected by the safety system. Your request may contain content that is not "
               "allowed by our safety system. (injected by the emulator)")


# ---------------------------------------------------------------------------------------------- errors


def error_response(status: int, message: str, *, type: str = "invalid_request_error",
                   param: str | None = None, code: str | None = None,
                   headers: Mapping[str, str] | None = None) -> JSONResponse:
    """The OpenAI error body: {"error": {"message", "type", "param", "code"}}."""
    body = {"error": {"message": message, "type": type, "param": param, "code": code}}
    return JSONResponse(body, status_code=status, headers=dict(headers or {}))


def problem_code(problem: Problem) -> str:
    """The API's error code for a failed validation, so clients can branch on it as on the real one."""
    if "is not a parameter of" in problem.message:
        return "unknown_parameter"
    if "is required" in problem.message or "needs at least one" in problem.message:
        return "missing_required_parameter"
    return "invalid_value"


def _fault_defaults(fault: Fault, model: str) -> tuple[str, str, str | None]:
    """(message, type, code) a real server would send for this status."""
    status = fault.status or 500
    if fault.code == "moderation_blocked":
        return _MODERATION, "image_generation_user_error", "moderation_blocked"
    retry = f" Please try again in {fault.retry_after:g}s." if fault.retry_after is not None else ""
    table: dict[int, tuple[str, str, str | None]] = {
        400: ("Invalid request (injected by the emulator).", "invalid_request_error", None),
        401: (WRONG_KEY, "invalid_request_error", "invalid_api_key"),
        403: (f"Your organization must be verified to use the model `{model}`. Please go to: "
              "https://platform.openai.com/settings/organization/general and click on Verify Organization. "
              "If you just verified, it can take up to 15 minutes for access to propagate.",
              "invalid_request_error", None),
        404: (f"The model `{model}` does not exist or you do not have access to it.",
              "invalid_request_error", "model_not_found"),
        409: ("The request conflicted with another request (injected by the emulator).",
              "invalid_request_error", None),
        429: (f"Rate limit reached for {model} in organization org-emulator on images per minute (IPM): "
              f"Limit 5, Used 5, Requested 1.{retry}", "requests", "rate_limit_exceeded"),
        500: ("The server had an error while processing your request. Sorry about that!", "server_error", None),
        502: ("Bad gateway.", "server_error", None),
        503: ("The server is overloaded or not ready yet.", "server_error", None),
    }
    if status in table:
        return table[status]
    if status >= 500:
        return f"Server error {status} (injected by the emulator).", "server_error", None
    return f"Request failed with status {status} (injected by the emulator).", "invalid_request_error", None


def fault_response(fault: Fault, model: str) -> JSONResponse:
    """The HTTP error a status fault stands for, with the retry headers the SDK's retry logic reads."""
    message, type_, code = _fault_defaults(fault, model)
    headers: dict[str, str] = {}
    if fault.retry_after is not None:
        headers["retry-after"] = f"{fault.retry_after:g}"
    if fault.retry_after_ms is not None:
        headers["retry-after-ms"] = str(fault.retry_after_ms)
    if fault.should_retry is not None:
        headers["x-should-retry"] = "true" if fault.should_retry else "false"
    return error_response(fault.status or 500, fault.message or message, type=fault.type or type_,
                          param=fault.param, code=fault.code or code, headers=headers)


class DropResponse:
    """Send the status line and headers, then close the connection without a body."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", b"4096")]})
        raise DroppedConnection("connection dropped on purpose (Fault kind='drop')")


# ---------------------------------------------------------------------------------------------- bodies


def image_b64(data: bytes, fault: Fault | None) -> str:
    """Base64 of an image; cut mid-way (and not at a 4-character boundary) for a `truncated_b64` fault."""
    text = b64encode(data).decode("ascii")
    if fault is not None and fault.kind == "truncated_b64":
        cut = max(1, len(text) // 2)
        return text[: cut if cut % 4 else cut - 1]
    return text


def response_body(plan: Plan, images: list[bytes], fault: Fault | None,
                  url_for: Callable[[bytes], str] | None = None) -> dict[str, Any]:
    """An `ImagesResponse` JSON object (`url_for` serves legacy `response_format="url"` requests)."""
    if fault and fault.kind == "empty_data":
        data: list[dict[str, str]] = []
    elif url_for is not None:
        data = [{"url": url_for(img)} for img in images]
    else:
        data = [{"b64_json": image_b64(img, fault)} for img in images]
    body: dict[str, Any] = {"created": int(time.time()), "data": data}
    if not plan.legacy_style:
        body.update(background=plan.background, output_format=plan.output_format, quality=plan.quality,
                    size=plan.size, usage=plan.usage_total)
    if plan.safety_identifier:
        body["safety_identifier"] = plan.safety_identifier
    return body


# ---------------------------------------------------------------------------------------------- streams


def _sse(event: str, payload: Mapping[str, Any]) -> bytes:
    return f"event: {event}\ndata: {json.dumps(payload, separators=(',', ':'))}\n\n".encode()


class EventStream:
    """Server-sent events: partial previews spaced in time, then one completed event per image."""

    def __init__(self, plan: Plan, fault: Fault | None, interval_s: float) -> None:
        self.plan = plan
        self.fault = fault
        self.interval_s = interval_s
        self.prefix = "image_generation" if plan.kind == "generate" else "image_edit"

    def _common(self) -> dict[str, Any]:
        return {"background": self.plan.background, "created_at": int(time.time()),
                "output_format": self.plan.output_format, "quality": self.plan.quality, "size": self.plan.size}

    async def events(self) -> AsyncGenerator[bytes, None]:
        """Each event as it becomes due; rendering runs in a worker thread so other requests go on."""
        plan, kind = self.plan, self.plan.kind
        for spec in plan.specs:
            for i in range(plan.partial_images):
                await asyncio.sleep(self.interval_s)
                data = await asyncio.to_thread(render.render_partial, kind, spec, plan.inputs, i,
                                               plan.partial_images)
                yield _sse(f"{self.prefix}.partial_image",
                           {"type": f"{self.prefix}.partial_image", "b64_json": image_b64(data, None),
                            "partial_image_index": i, **self._common()})
            if self.fault is not None and self.fault.kind == "empty_data":
                continue
            await asyncio.sleep(self.interval_s)
            final = await asyncio.to_thread(render.render, kind, spec, plan.inputs)
            payload: dict[str, Any] = {"type": f"{self.prefix}.completed", "b64_json": image_b64(final, self.fault),
                                       **self._common(), "usage": plan.usage_each}
            if plan.safety_identifier:
                payload["safety_identifier"] = plan.safety_identifier
            yield _sse(f"{self.prefix}.completed", payload)

    def _fault_event(self) -> bytes:
        """The event that replaces the rest of the stream: an API error event, or a cut-off one."""
        fault = self.fault
        assert fault is not None
        if fault.kind == "error_event":
            error = {"type": fault.type or "image_generation_server_error",
                     "code": fault.code or "image_generation_failed",
                     "message": fault.message or "Image generation failed (injected by the emulator).",
                     "param": fault.param}
            return _sse("error", {"type": "error", "error": error})
        name = f"{self.prefix}.partial_image"
        return f'event: {name}\ndata: {{"type": "{name}", "b64_json": "iVBORw0KGgo\n\n'.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if await send_events(send, self.events(), self.fault):
            assert self.fault is not None
            if self.fault.kind in DROPPING:
                raise DroppedConnection(f"stream dropped on purpose (Fault kind={self.fault.kind!r})")
            await send({"type": "http.response.body", "body": self._fault_event(), "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})


DROPPING = ("drop", "cut_last_event")
"""Stream faults that end with the connection closed."""


async def send_events(send: Send, chunks: AsyncGenerator[bytes, None], fault: Fault | None) -> bool:
    """Start an event stream and send `chunks` until a breaking fault's `after` count; True when a breaking
    fault ends it (the caller then drops the connection or sends the fault's last event), else False.
    `cut_last_event` sends every chunk, the last one only halfway (the generator has run to its end)."""
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/event-stream; charset=utf-8"), (b"cache-control", b"no-cache")]})
    breaks = fault is not None and fault.kind in ("drop", "error_event", "malformed_event")
    cut = fault is not None and fault.kind == "cut_last_event"
    sent, held = 0, b""
    async with contextlib.aclosing(chunks) as events:
        async for event in events:
            if breaks and sent == fault.after:  # type: ignore[union-attr]
                return True
            chunk = event
            if cut:  # one chunk behind: the last is known only once the generator has ended
                chunk, held = held, event
                if not chunk:
                    continue
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
            sent += 1
    if cut and held:
        await send({"type": "http.response.body", "body": held[: len(held) // 2], "more_body": True})
    return breaks or cut  # the stream ended first: the fault still ends it
