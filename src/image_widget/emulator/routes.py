"""The /v1 endpoints: one request from arrival to answer, in the order the real API checks things.

Each endpoint is a raw ASGI app rather than a Starlette handler so that it can log the status it sent
and drop the connection on purpose. The order of checks (auth, body, retired endpoint, fault, params)
is what clients see, so it is kept in one place: `ImagesEndpoint.handle`.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import re
import secrets
import time
from collections.abc import Callable

from PIL import Image
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from image_widget.emulator import render
from image_widget.emulator.image_refs import FileReader, as_json_problem, loggable_refs, resolve_json_edit
from image_widget.emulator.model_routes import is_shut_down, is_unknown, shut_down_message, unknown_model_message
from image_widget.emulator.parsing import ParseError, is_json, loggable, parse_params
from image_widget.emulator.plan import VARIATION_DEFAULT_MODEL, extra_problems, plan_request
from image_widget.emulator.responses import (
    DROPPING,
    WRONG_KEY,
    DropResponse,
    EventStream,
    error_response,
    fault_response,
    problem_code,
    response_body,
)
from image_widget.emulator.state import DroppedConnection, EmulatorState, Fault, RequestLog
from image_widget.facts.capabilities import DEFAULT_MODEL, Endpoint, validate

REQUEST_ID_KEY = "image_widget.request_id"
"""Where `app.RequestIdMiddleware` leaves the request id in the ASGI scope, so the log uses the same one."""

_MISSING_KEY = ("You didn't provide an API key. You need to provide your API key in an Authorization header "
                "using Bearer auth (i.e. Authorization: Bearer YOUR_KEY). You can obtain an API key from "
                "https://platform.openai.com/account/api-keys.")
_RETIRED_VARIATIONS = ("The image variations endpoint (/v1/images/variations) has been retired together with "
                       "DALL·E 2. Use the image edits endpoint (/v1/images/edits) with a GPT image model and a "
                       "prompt to make variations of an image.")


def new_request_id() -> str:
    """An id shaped like the real API's `x-request-id`."""
    return f"req_{secrets.token_hex(16)}"


def _request_id(scope: Scope) -> str:
    return str(scope.get(REQUEST_ID_KEY) or new_request_id())


def _authorized(request: Request, api_key: str | None) -> str | None:
    """None when the bearer token is acceptable, else the error message (which never repeats the key)."""
    header = request.headers.get("authorization", "")
    match = re.fullmatch(r"Bearer\s+(\S+)\s*", header)
    if not match:
        return _MISSING_KEY
    if api_key is not None and not hmac.compare_digest(match.group(1).encode(), api_key.encode()):
        return WRONG_KEY
    return None


async def _pause(state: EmulatorState, seconds: float) -> None:
    """The simulated model time; cut short by `reset()`, so a request a test abandoned (cancelled or
    timed out on the client) does not stay in flight into the next test."""
    generation = state.generation
    end = time.monotonic() + seconds
    while (left := end - time.monotonic()) > 0 and state.generation == generation:
        await asyncio.sleep(min(left, 0.05))


class LoggedApp:
    """A route as a raw ASGI app: logs the request and the status it sent (None when the connection was
    dropped on purpose). Subclasses answer in `handle`; images, files and batches all log this way."""

    def __init__(self, state: EmulatorState, endpoint: str) -> None:
        self.state = state
        self.endpoint = endpoint

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        entry = self.state.begin(_request_id(scope), request.method, request.url.path, self.endpoint)

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
        raise NotImplementedError


class ImagesEndpoint(LoggedApp):
    """One images endpoint, so it can log status codes and drop connections."""

    def __init__(self, state: EmulatorState, endpoint: Endpoint, files: FileReader | None = None) -> None:
        super().__init__(state, endpoint)
        self.endpoint: Endpoint = endpoint
        self.files: FileReader = files or (lambda _file_id: None)

    async def handle(self, request: Request, entry: RequestLog) -> ASGIApp:
        """The response for one request (the caller sends it and logs the status)."""
        state, endpoint = self.state, self.endpoint
        config = state.config
        parse_error: ParseError | None = None
        try:
            params = await parse_params(request, endpoint, json_edits=config.json_edits)
        except ParseError as exc:
            params, parse_error = {}, exc
        state.update(entry, params=loggable(params))
        auth_problem = _authorized(request, state.api_key)
        if auth_problem:
            return error_response(401, auth_problem, code="invalid_api_key")
        json_edit = parse_error is None and endpoint == "edit" and config.json_edits and is_json(request)
        if json_edit:
            refs = {k: params[k] for k in ("images", "mask") if k in params}
            try:
                params = await resolve_json_edit(params, self.files)
            except ParseError as exc:
                parse_error = exc
            else:  # the log shows how each image was named (data URLs shortened) and what it held
                state.update(entry, params={**loggable(params), "refs": loggable_refs(refs)})
        if parse_error is not None:
            return error_response(400, str(parse_error), param=parse_error.param,
                                  code=parse_error.code or "invalid_request")
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
            if fault.kind in DROPPING and not stream:
                return DropResponse()
            if fault.kind == "error_event" and not stream:
                return fault_response(Fault(status=500, message=fault.message, code=fault.code), model)

        if is_unknown(state, model):
            return error_response(404, unknown_model_message(model), param=None, code="model_not_found")
        gone = is_shut_down(state, str(params.get("model") or ""))
        if gone is not None:
            return error_response(404, shut_down_message(str(params.get('model')), gone),
                                  param="model", code="model_not_found")
        problems = validate(endpoint, params, allow_retired=config.legacy) + extra_problems(endpoint, params)
        if json_edit:  # the checks are the multipart form's: say them in the JSON form's field names
            problems = [as_json_problem(p) for p in problems]
        if problems:
            return error_response(400, "; ".join(p.message for p in problems), param=problems[0].param,
                                  code=problem_code(problems[0]))
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
        url_for: Callable[[bytes], str] | None = None
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
        entry = self.state.begin(_request_id(scope), request.method, request.url.path, None)
        try:
            self.state.update(entry, status=404)
            response = error_response(404, f"Invalid URL ({request.method} {request.url.path})")
            await response(scope, receive, send)
        finally:
            self.state.finish(entry)
