"""The emulator's Starlette app: an OpenAI-compatible Images API under /v1, plus /_emulator controls.

Requests are checked with `capabilities.validate` (the same rules the client uses), answered with
synthetic images from `render`, and shaped exactly like the real API's JSON and server-sent events so
the openai SDK parses them with `_strict_response_validation=True`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import math
import re
import secrets
import time
from base64 import b64encode
from collections.abc import AsyncGenerator, Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from PIL import Image
from starlette.applications import Starlette
from starlette.datastructures import MutableHeaders, UploadFile
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from image_widget.capabilities import (
    DEFAULT_MODEL,
    STANDARD_SIZES,
    Endpoint,
    Problem,
    caps_for,
    custom_size_problem,
    image_info,
    parse_size,
    validate,
)
from image_widget.emulator import render
from image_widget.emulator.server import Config, EmulatorState, Fault, RequestLog

REQUEST_ID_KEY = "image_widget.request_id"
INT_FIELDS = frozenset({"n", "output_compression", "partial_images", "frame_count", "frame_duration_ms"})
BOOL_FIELDS = frozenset({"stream"})
FILE_FIELDS = frozenset({"image", "mask", "markup"})
VARIATION_DEFAULT_MODEL = "dall-e-2"
"""The legacy variations endpoint defaulted to DALL·E 2, the only model it ever served."""

#: Output image tokens for a 1024x1024 image by quality (GPT Image 1's published table); other sizes scale
#: with the pixel count. Deterministic and plausible, not a price list.
_OUTPUT_TOKENS = {"low": 272, "medium": 1056, "high": 4160, "xhigh": 6240, "max": 8320,
                  "standard": 1056, "hd": 4160}
_HIGH_FIDELITY_TOKENS = 4160
_MISSING_KEY = ("You didn't provide an API key. You need to provide your API key in an Authorization header "
                "using Bearer auth (i.e. Authorization: Bearer YOUR_KEY). You can obtain an API key from "
                "https://platform.openai.com/account/api-keys.")
_WRONG_KEY = ("Incorrect API key provided. You can find your API key at "
              "https://platform.openai.com/account/api-keys.")
_MODERATION = ("Your request was rejected by the safety system. Your request may contain content that is not "
               "allowed by our safety system. (injected by the emulator)")
_RETIRED_VARIATIONS = ("The image variations endpoint (/v1/images/variations) has been retired together with "
                       "DALL·E 2. Use the image edits endpoint (/v1/images/edits) with a GPT image model and a "
                       "prompt to make variations of an image.")


class DroppedConnection(Exception):
    """Raised on purpose (Fault(kind="drop")) so uvicorn closes the connection without finishing."""


class ParseError(Exception):
    """The request body could not be read as the endpoint expects."""

    def __init__(self, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.param = param


# ---------------------------------------------------------------------------------------------- errors


def error_response(status: int, message: str, *, type: str = "invalid_request_error",
                   param: str | None = None, code: str | None = None,
                   headers: Mapping[str, str] | None = None) -> JSONResponse:
    """The OpenAI error body: {"error": {"message", "type", "param", "code"}}."""
    body = {"error": {"message": message, "type": type, "param": param, "code": code}}
    return JSONResponse(body, status_code=status, headers=dict(headers or {}))


def _fault_defaults(fault: Fault, model: str) -> tuple[str, str, str | None]:
    """(message, type, code) a real server would send for this status."""
    status = fault.status or 500
    if fault.code == "moderation_blocked":
        return _MODERATION, "image_generation_user_error", "moderation_blocked"
    retry = f" Please try again in {fault.retry_after:g}s." if fault.retry_after is not None else ""
    table: dict[int, tuple[str, str, str | None]] = {
        400: ("Invalid request (injected by the emulator).", "invalid_request_error", None),
        401: (_WRONG_KEY, "invalid_request_error", "invalid_api_key"),
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


def _problem_code(problem: Problem) -> str:
    if "is not a parameter of" in problem.message:
        return "unknown_parameter"
    if "is required" in problem.message or "needs at least one" in problem.message:
        return "missing_required_parameter"
    return "invalid_value"


# ---------------------------------------------------------------------------------------------- parsing

_KEY_RE = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")


def _key_parts(key: str) -> list[str]:
    """`svg[reasoning][effort]` → ["svg", "reasoning", "effort"]; `image[]` → ["image", ""]."""
    match = _KEY_RE.match(key)
    if not match:
        return [key]
    return [match.group(1), *re.findall(r"\[([^\[\]]*)\]", match.group(2))]


def _assign(params: dict[str, Any], key: str, value: Any) -> None:
    """Put one multipart field into nested params the way the SDK flattened it (brackets format)."""
    parts = _key_parts(key)
    is_list = len(parts) > 1 and parts[-1] == ""
    if is_list:
        parts = parts[:-1]
    target = params
    for part in parts[:-1]:
        child = target.get(part)
        if not isinstance(child, dict):
            child = {}
            target[part] = child
        target = child
    last = parts[-1]
    if last not in target:
        target[last] = [value] if is_list else value
    else:
        existing = target[last]
        target[last] = [*existing, value] if isinstance(existing, list) else [existing, value]


def _coerce(params: dict[str, Any]) -> None:
    """Form fields arrive as text: turn numbers and booleans back into what the JSON API would get."""
    for key in INT_FIELDS & params.keys():
        value = params[key]
        if isinstance(value, str) and re.fullmatch(r"[+-]?\d{1,9}", value.strip()):
            params[key] = int(value)
    for key in BOOL_FIELDS & params.keys():
        value = params[key]
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            params[key] = value.strip().lower() == "true"


async def parse_params(request: Request, endpoint: Endpoint) -> dict[str, Any]:
    """The request's parameters; uploads become (filename, bytes, content_type) tuples."""
    ctype = request.headers.get("content-type", "")
    if endpoint == "generate":
        raw = await request.body()
        try:
            body = json.loads(raw or b"null")
        except (ValueError, UnicodeDecodeError) as exc:
            raise ParseError("We could not parse the JSON body of your request. (HINT: This likely means you "
                             "aren't using your HTTP library correctly. The OpenAI API expects a JSON payload.)") \
                from exc
        if not isinstance(body, dict):
            raise ParseError("The request body must be a JSON object with the image parameters.")
        return body
    if not ctype.lower().startswith("multipart/form-data"):
        raise ParseError(f"Invalid Content-Type header ({ctype or 'none'}), expected multipart/form-data. "
                         "(HINT: If you're using curl, you can pass -F 'image=@file.png'.)")
    try:
        form = await request.form(max_files=64, max_fields=256, max_part_size=1024 * 1024)
    except HTTPException as exc:
        raise ParseError(f"Could not parse the multipart body: {exc.detail}") from exc
    except Exception as exc:
        raise ParseError(f"Could not parse the multipart body: {exc}") from exc
    params: dict[str, Any] = {}
    try:
        for key, value in form.multi_items():
            if isinstance(value, UploadFile):
                data = await value.read()
                item: Any = (value.filename or "", data, value.content_type or "")
            else:
                item = value
            _assign(params, key, item)
    finally:
        await form.close()
    _coerce(params)
    return params


def loggable(value: Any) -> Any:
    """Params for the log: files as {name, content_type, bytes, sha256}, never their bytes."""
    if isinstance(value, tuple) and len(value) == 3 and isinstance(value[1], bytes | bytearray):
        name, data, ctype = value
        return {"name": name, "content_type": ctype, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    if isinstance(value, dict):
        return {k: loggable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [loggable(v) for v in value]
    return value


def _files(value: Any) -> list[bytes]:
    if isinstance(value, tuple) and len(value) == 3 and isinstance(value[1], bytes | bytearray):
        return [bytes(value[1])]
    if isinstance(value, list):
        return [b for item in value for b in _files(item)]
    return []


# ---------------------------------------------------------------------------------------------- planning


@dataclass(frozen=True)
class Plan:
    """What to send back for one valid request."""

    kind: render.Kind
    specs: list[render.Spec]
    inputs: render.Inputs | None
    size: str
    quality: str | None
    background: str
    output_format: str
    usage_total: dict[str, Any]
    usage_each: dict[str, Any]
    legacy_style: bool
    safety_identifier: str | None
    partial_images: int


def _fits(caps_size_rule: Any, fixed: tuple[str, ...], w: int, h: int) -> bool:
    return f"{w}x{h}" in fixed or (caps_size_rule.custom and not custom_size_problem(w, h, caps_size_rule))


def _resolve_size(endpoint: Endpoint, params: Mapping[str, Any], model: str, first: bytes | None) -> str:
    """`auto` → 1024x1024; for edits the first image's own size when the model takes it, else the
    standard size closest to its shape."""
    size = params.get("size")
    if isinstance(size, str) and parse_size(size):
        return size
    if endpoint == "edit" and first is not None:
        info = image_info(first)
        if info is not None:
            (w, h), _ = info
            rule = caps_for(model).sizes
            if _fits(rule, rule.fixed, w, h):
                return f"{w}x{h}"
            ratio = w / h
            return STANDARD_SIZES[1] if ratio > 1.2 else STANDARD_SIZES[2] if ratio < 1 / 1.2 else STANDARD_SIZES[0]
    return "1024x1024"


def _image_tokens(data: bytes) -> int:
    """Input image tokens: 65 + 129 per 512-px tile after fitting into 2048² and a 512-px short side."""
    info = image_info(data)
    if info is None:
        return 0
    (width, height), _ = info
    scale = min(1.0, 2048 / max(width, height))
    w, h = width * scale, height * scale
    scale = min(1.0, 512 / min(w, h))
    return 65 + 129 * math.ceil(w * scale / 512) * math.ceil(h * scale / 512)


def _usage(params: Mapping[str, Any], images: list[bytes], quality: str, size: tuple[int, int], n: int,
           ) -> tuple[dict[str, Any], dict[str, Any]]:
    """(usage for the whole response, usage for one image in a stream event)."""
    prompt = params.get("prompt")
    text = max(1, math.ceil(len(prompt) / 4)) if isinstance(prompt, str) else 0
    image = sum(_image_tokens(data) for data in images)
    if images and params.get("input_fidelity") == "high":
        image += _HIGH_FIDELITY_TOKENS
    per_image = max(1, round(_OUTPUT_TOKENS.get(quality, 1056) * size[0] * size[1] / 1024 ** 2))
    details_in = {"text_tokens": text, "image_tokens": image}
    total = {
        "input_tokens": text + image,
        "input_tokens_details": details_in,
        "output_tokens": per_image * n,
        "output_tokens_details": {"image_tokens": per_image * n, "text_tokens": 0},
        "total_tokens": text + image + per_image * n,
    }
    each = {"input_tokens": text + image, "input_tokens_details": dict(details_in),
            "output_tokens": per_image, "total_tokens": text + image + per_image}
    return total, each


def plan_request(endpoint: Endpoint, params: Mapping[str, Any], config: Config, fault: Fault | None) -> Plan:
    """Resolve `auto` values and defaults into what the response reports and render draws."""
    default_model = VARIATION_DEFAULT_MODEL if endpoint == "variation" else DEFAULT_MODEL
    model = params.get("model") or default_model
    caps = caps_for(model)
    images = _files(params.get("image"))
    mask = _files(params.get("mask"))
    markup = _files(params.get("markup"))
    size = _resolve_size(endpoint, params, model, images[0] if images else None)
    wh = parse_size(size) or (1024, 1024)
    quality = params.get("quality")
    quality = "medium" if quality in (None, "auto") else str(quality)
    fmt = str(params.get("output_format") or "png")
    transparent = params.get("background") == "transparent"
    n = params.get("n") or 1
    render_size = (max(16, wh[0] // 2), max(16, wh[1] // 2)) if fault and fault.kind == "wrong_size" else wh
    prompt = params.get("prompt") if isinstance(params.get("prompt"), str) else ""
    base = render.Spec(
        prompt=str(prompt), index=0, size=render_size, seed=config.seed, fmt=fmt, transparent=transparent,
        compression=params.get("output_compression"),
        frame_count=params.get("frame_count") or 9, frame_duration_ms=params.get("frame_duration_ms") or 200,
    )
    inputs = render.Inputs(tuple(images), mask[0] if mask else None, markup[0] if markup else None) \
        if images else None
    usage_total, usage_each = _usage(params, images, quality, wh, int(n))
    safety = params.get("safety_identifier") or params.get("user") or None
    return Plan(
        kind=endpoint,
        specs=[replace(base, index=i) for i in range(int(n))],
        inputs=inputs,
        size=size,
        quality=quality,
        background="transparent" if transparent else "opaque",
        output_format=fmt,
        usage_total=usage_total,
        usage_each=usage_each,
        legacy_style=caps.legacy_params and caps.known,
        safety_identifier=str(safety) if safety else None,
        partial_images=int(params.get("partial_images") or 0),
    )


#: Largest image the emulator draws (twice 4K); only unknown models (the permissive profile) can ask for more.
MAX_RENDER_PIXELS = 2 * 3840 * 2160


def _extra_problems(endpoint: Endpoint, params: Mapping[str, Any]) -> list[Problem]:
    """A check `capabilities.validate` does not make: a size cap that keeps the emulator from drawing
    gigapixel images for unknown models."""
    problems: list[Problem] = []
    wh = parse_size(str(params.get("size", "")))
    if wh is not None and wh[0] * wh[1] > MAX_RENDER_PIXELS:
        problems.append(Problem("size", f"size={params['size']!r} is larger than the emulator draws "
                                        f"({MAX_RENDER_PIXELS:,} pixels at most)"))
    return problems


async def _pause(state: EmulatorState, seconds: float) -> None:
    """The simulated model time; cut short by `reset()`, so a request a test abandoned (cancelled or
    timed out on the client) does not stay in flight into the next test."""
    generation = state.generation
    end = time.monotonic() + seconds
    while (left := end - time.monotonic()) > 0 and state.generation == generation:
        await asyncio.sleep(min(left, 0.05))


def _b64(data: bytes, fault: Fault | None) -> str:
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
        data = [{"b64_json": _b64(img, fault)} for img in images]
    body: dict[str, Any] = {"created": int(time.time()), "data": data}
    if not plan.legacy_style:
        body.update(background=plan.background, output_format=plan.output_format, quality=plan.quality,
                    size=plan.size, usage=plan.usage_total)
    if plan.safety_identifier:
        body["safety_identifier"] = plan.safety_identifier
    return body


# ---------------------------------------------------------------------------------------------- responses


class DropResponse:
    """Send the status line and headers, then close the connection without a body."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", b"4096")]})
        raise DroppedConnection("connection dropped on purpose (Fault kind='drop')")


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
        plan, kind = self.plan, self.plan.kind
        for spec in plan.specs:
            for i in range(plan.partial_images):
                await asyncio.sleep(self.interval_s)
                data = await asyncio.to_thread(render.render_partial, kind, spec, plan.inputs, i,
                                               plan.partial_images)
                yield _sse(f"{self.prefix}.partial_image",
                           {"type": f"{self.prefix}.partial_image", "b64_json": _b64(data, None),
                            "partial_image_index": i, **self._common()})
            if self.fault is not None and self.fault.kind == "empty_data":
                continue
            await asyncio.sleep(self.interval_s)
            final = await asyncio.to_thread(render.render, kind, spec, plan.inputs)
            payload: dict[str, Any] = {"type": f"{self.prefix}.completed", "b64_json": _b64(final, self.fault),
                                       **self._common(), "usage": plan.usage_each}
            if plan.safety_identifier:
                payload["safety_identifier"] = plan.safety_identifier
            yield _sse(f"{self.prefix}.completed", payload)

    def _fault_event(self) -> bytes:
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
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"text/event-stream; charset=utf-8"),
                                (b"cache-control", b"no-cache")]})
        fault = self.fault
        breaks = fault is not None and fault.kind in ("drop", "error_event", "malformed_event")
        sent = 0
        async with contextlib.aclosing(self.events()) as events:
            async for chunk in events:
                if breaks and sent == fault.after:  # type: ignore[union-attr]
                    break
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
                sent += 1
        if breaks:
            assert fault is not None
            if fault.kind == "drop":
                raise DroppedConnection("stream dropped on purpose (Fault kind='drop')")
            await send({"type": "http.response.body", "body": self._fault_event(), "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})


# ---------------------------------------------------------------------------------------------- endpoints


def _authorized(request: Request, api_key: str | None) -> str | None:
    """None when the bearer token is acceptable, else the error message (which never repeats the key)."""
    header = request.headers.get("authorization", "")
    match = re.fullmatch(r"Bearer\s+(\S+)\s*", header)
    if not match:
        return _MISSING_KEY
    if api_key is not None and not hmac.compare_digest(match.group(1).encode(), api_key.encode()):
        return _WRONG_KEY
    return None


class ImagesEndpoint:
    """One images endpoint as a raw ASGI app, so it can log status codes and drop connections."""

    def __init__(self, state: EmulatorState, endpoint: Endpoint) -> None:
        self.state = state
        self.endpoint = endpoint

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        request_id = scope.get(REQUEST_ID_KEY) or _new_request_id()
        entry = self.state.begin(request_id, request.method, request.url.path, self.endpoint)

        async def logged_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.state.update(entry, status=message["status"])
            await send(message)

        try:
            response = await self.handle(request, entry)
            await response(scope, receive, logged_send)
        except DroppedConnection:
            self.state.update(entry, status=None)
            raise
        finally:
            self.state.finish(entry)

    async def handle(self, request: Request, entry: RequestLog) -> ASGIApp:
        state, endpoint = self.state, self.endpoint
        config = state.config
        parse_error: ParseError | None = None
        try:
            params = await parse_params(request, endpoint)
        except ParseError as exc:
            params, parse_error = {}, exc
        state.update(entry, params=loggable(params))
        auth_problem = _authorized(request, state.api_key)
        if auth_problem:
            return error_response(401, auth_problem, code="invalid_api_key")
        if parse_error is not None:
            return error_response(400, str(parse_error), param=parse_error.param, code="invalid_request")
        if endpoint == "variation" and not config.legacy:
            return error_response(404, _RETIRED_VARIATIONS, code="endpoint_retired")
        if endpoint == "variation" and "model" not in params:
            params["model"] = VARIATION_DEFAULT_MODEL

        fault = state.next_fault()
        if fault is not None:
            state.update(entry, fault=fault)
        delay = config.latency_s + (fault.seconds if fault else 0.0)
        if delay > 0:
            await _pause(state, delay)
        model = str(params.get("model") or DEFAULT_MODEL)
        stream = params.get("stream") is True
        if fault is not None:
            if fault.kind == "status":
                return fault_response(fault, model)
            if fault.kind == "drop" and not stream:
                return DropResponse()
            if fault.kind == "error_event" and not stream:
                return fault_response(Fault(status=500, message=fault.message, code=fault.code), model)

        problems = validate(endpoint, params, allow_retired=config.legacy) + _extra_problems(endpoint, params)
        if problems:
            return error_response(400, "; ".join(p.message for p in problems), param=problems[0].param,
                                  code=_problem_code(problems[0]))
        plan = plan_request(endpoint, params, config, fault)
        try:
            if plan.inputs is not None:  # decode errors surface here as a 400, not a 500
                await asyncio.to_thread(render.canvas, plan.kind, plan.specs[0], plan.inputs)
            if stream:
                return EventStream(plan, fault, config.partial_interval_s)
            images = await asyncio.to_thread(render.render_all, plan.kind, plan.specs, plan.inputs)
        except (OSError, ValueError, Image.DecompressionBombError) as exc:
            return error_response(400, f"An input image could not be read: {exc}", param="image",
                                  code="invalid_image")
        url_for = None
        if plan.legacy_style and params.get("response_format") == "url":
            base = str(request.base_url).rstrip("/")

            def url_for(data: bytes) -> str:
                return f"{base}/_emulator/files/{state.keep_file(data, plan.output_format)}"

        body = response_body(plan, images, fault, url_for)
        if fault is not None and fault.kind == "malformed_event":
            text = json.dumps(body)
            return Response(text[: len(text) // 2], media_type="application/json")
        return JSONResponse(body)


class UnknownPath:
    """Any other /v1 path: the API's JSON 404, logged like an images request."""

    def __init__(self, state: EmulatorState) -> None:
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        entry = self.state.begin(scope.get(REQUEST_ID_KEY) or _new_request_id(), request.method,
                                 request.url.path, None)
        try:
            self.state.update(entry, status=404)
            response = error_response(404, f"Invalid URL ({request.method} {request.url.path})")
            await response(scope, receive, send)
        finally:
            self.state.finish(entry)


# ---------------------------------------------------------------------------------------------- control


def _control_routes(state: EmulatorState) -> list[Route]:
    async def health(request: Request) -> Response:
        config = state.config
        return JSONResponse({"status": "ok", "legacy": config.legacy, "in_flight": state.in_flight,
                             "requests": len(state.log), "pending_faults": len(state.pending_faults)})

    async def get_log(request: Request) -> Response:
        return JSONResponse([entry.to_dict() for entry in state.log])

    async def delete_log(request: Request) -> Response:
        return JSONResponse({"cleared": state.clear_log()})

    async def get_faults(request: Request) -> Response:
        return JSONResponse([fault.to_dict() for fault in state.pending_faults])

    async def post_faults(request: Request) -> Response:
        try:
            body = await request.json()
            items = body if isinstance(body, list) else [body]
            faults = [Fault.from_dict(item) for item in items]
        except (ValueError, TypeError) as exc:
            return error_response(400, f"bad fault list: {exc}", param="faults")
        state.inject(*faults)
        return JSONResponse({"queued": len(faults), "pending": len(state.pending_faults)})

    async def get_config(request: Request) -> Response:
        return JSONResponse(_config_json(state.config))

    async def post_config(request: Request) -> Response:
        try:
            body = await request.json()
            if not isinstance(body, dict):
                raise ValueError("expected a JSON object like {\"latency_s\": 0.5}")
            config = state.configure(**body)
        except (ValueError, TypeError) as exc:
            return error_response(400, f"bad config: {exc}", param="config")
        return JSONResponse(_config_json(config))

    async def get_file(request: Request) -> Response:
        name = request.path_params["name"]
        data = state.file(name)
        if data is None:
            return error_response(404, f"No such file: {name} (legacy image URLs expire after "
                                       f"{state.MAX_FILES} newer ones)")
        return Response(data, media_type=f"image/{name.rsplit('.', 1)[-1]}")

    async def reset(request: Request) -> Response:
        state.reset()
        return JSONResponse({"status": "reset", **_config_json(state.config)})

    return [
        Route("/_emulator/health", health, methods=["GET"]),
        Route("/_emulator/log", get_log, methods=["GET"]),
        Route("/_emulator/log", delete_log, methods=["DELETE"]),
        Route("/_emulator/faults", get_faults, methods=["GET"]),
        Route("/_emulator/faults", post_faults, methods=["POST"]),
        Route("/_emulator/config", get_config, methods=["GET"]),
        Route("/_emulator/config", post_config, methods=["POST"]),
        Route("/_emulator/reset", reset, methods=["POST"]),
        Route("/_emulator/files/{name}", get_file, methods=["GET"]),
    ]


def _config_json(config: Config) -> dict[str, Any]:
    return {"latency_s": config.latency_s, "partial_interval_s": config.partial_interval_s,
            "legacy": config.legacy, "seed": config.seed}


# ---------------------------------------------------------------------------------------------- app


def _new_request_id() -> str:
    return f"req_{secrets.token_hex(16)}"


class RequestIdMiddleware:
    """Give every response an `x-request-id: req_<hex>` header, as the real API does."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _new_request_id()
        scope[REQUEST_ID_KEY] = request_id

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if "x-request-id" not in headers:
                    headers["x-request-id"] = request_id
            await send(message)

        await self.app(scope, receive, send_with_id)


_ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]


def create_app(state: EmulatorState) -> Starlette:
    """The ASGI app serving `state` (one per Emulator)."""
    routes = [
        Route("/v1/images/generations", ImagesEndpoint(state, "generate"), methods=["POST"]),
        Route("/v1/images/edits", ImagesEndpoint(state, "edit"), methods=["POST"]),
        Route("/v1/images/variations", ImagesEndpoint(state, "variation"), methods=["POST"]),
        *_control_routes(state),
        Route("/v1/{rest:path}", UnknownPath(state), methods=_ALL_METHODS),
    ]
    return Starlette(routes=routes, middleware=[Middleware(RequestIdMiddleware)])

