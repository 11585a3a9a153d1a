"""`POST /v1/responses` with the image_generation tool, and `GET` / `DELETE /v1/responses/{id}`.

A turn is checked in the order the real API checks (auth, body, previous response, tool, image options),
then faults apply as for images (429, 500, slow answers, a dropped stream; a cut base64 image, no image or
half the size in the answer itself, streamed or not), then the image is drawn: an
edit of the conversation's last image (or the turn's own input images) when there is one, else a new
image. The mask is guidance, as it is for `/v1/images/edits`. Answers: `conversation_events`.
"""

from __future__ import annotations

import asyncio
import math
from typing import Any

from PIL import Image
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import ASGIApp

from image_widget.emulator import render
from image_widget.emulator.conversation_events import Turn, TurnStream
from image_widget.emulator.conversation_store import ResponseStore
from image_widget.emulator.image_refs import FileReader, loggable_refs, resolve_ref
from image_widget.emulator.model_routes import is_shut_down, is_unknown, shut_down_message, unknown_model_message
from image_widget.emulator.parsing import ParseError, check_json_stream
from image_widget.emulator.plan import extra_problems, plan_request
from image_widget.emulator.responses import (
    DROPPING,
    DropResponse,
    error_response,
    fault_response,
    image_b64,
    problem_code,
)
from image_widget.emulator.routes import LoggedApp, _authorized, _pause
from image_widget.emulator.state import EmulatorState, Fault, RequestLog
from image_widget.facts.capabilities import DEFAULT_MODEL, validate

__all__ = ["conversation_routes"]

_TOOL = "tools[0]"
_BODY_FIELDS = frozenset({
    "background", "background_options", "context_management", "conversation", "include", "input", "instructions",
    "max_output_tokens", "max_tool_calls", "metadata", "model", "moderation", "parallel_tool_calls",
    "previous_response_id", "prompt", "prompt_cache_key", "prompt_cache_options", "prompt_cache_retention",
    "reasoning", "safety_identifier", "service_tier", "store", "stream", "stream_options", "temperature", "text",
    "tool_choice", "tools", "top_logprobs", "top_p", "truncation", "user", "access_programs", "image"})
"""`CreateResponse`'s fields in OpenAI's description, and those the installed SDK's `response_create_params.py`
adds; the real service refuses any other ("Unknown parameter")."""
_TOOL_OPTIONS = ("size", "quality", "background", "output_format", "output_compression", "moderation",
                 "input_fidelity")


class _Refused(Exception):
    def __init__(self, message: str, param: str | None, code: str | None = "invalid_value", status: int = 400) -> None:
        super().__init__(message)
        self.param, self.code, self.status = param, code, status


class ResponsesEndpoint(LoggedApp):
    """`POST /v1/responses`: one conversation turn that makes or edits an image."""

    def __init__(self, state: EmulatorState, store: ResponseStore, files: FileReader) -> None:
        super().__init__(state, "responses")
        self.store, self.files = store, files

    async def handle(self, request: Request, entry: RequestLog) -> ASGIApp:
        state = self.state
        try:
            body = await request.json()
        except ValueError:
            body = None
        state.update(entry, params=loggable_refs(body) if isinstance(body, dict) else {})
        auth_problem = _authorized(request, state.api_key)
        if auth_problem:
            return error_response(401, auth_problem, code="invalid_api_key")
        try:
            if not isinstance(body, dict):
                raise _Refused("We could not parse the JSON body of your request.", None, None)
            check_json_stream(body)
            turn, kind, params, stream = await self._read(body)
        except _Refused as exc:
            return error_response(exc.status, str(exc), param=exc.param, code=exc.code)
        except ParseError as exc:
            return error_response(400, str(exc), param=exc.param, code=exc.code or "invalid_value")
        fault = state.next_fault()
        if fault is not None:
            state.update(entry, fault=fault)
        delay = state.config.latency_s + (fault.seconds if fault else 0.0)
        if delay > 0:
            await _pause(state, delay)
        if fault is not None and (fault.kind == "status" or (not stream and fault.kind not in _ANSWERED_FAULTS)):
            status_fault = fault if fault.kind == "status" else Fault(status=500, message=fault.message)
            return fault_response(status_fault, str(body.get("model")))
        return await self._answer(turn, kind, params, fault, stream)

    async def _read(self, body: dict[str, Any]) -> tuple[Turn, str, dict[str, Any], bool]:
        """Check the turn; (the answer to fill, generate/edit, the image request's params, streamed?)."""
        unknown = sorted(set(body) - _BODY_FIELDS)
        if unknown:
            raise _Refused(f"Unknown parameter: '{unknown[0]}'.", unknown[0], "unknown_parameter")
        model = body.get("model")
        if not isinstance(model, str) or not model.strip():
            raise _Refused("Missing required parameter: 'model'.", "model", "missing_required_parameter")
        previous = body.get("previous_response_id")
        if previous is not None and self.store.get(previous) is None:
            raise _Refused(f"Previous response with id '{previous}' not found.", "previous_response_id",
                           "previous_response_not_found")
        tool = _image_tool(body.get("tools"))
        prompt, refs = _input(body.get("input"))
        images = [await resolve_ref(ref, where, self.files) for where, ref in refs]
        if not images and previous is not None:
            last = self.store.last_image(previous)
            if last is not None:
                images = [("previous.png", last, "image/png")]
        mask_ref = tool.get("input_image_mask")
        mask = await resolve_ref(mask_ref, f"{_TOOL}.input_image_mask", self.files) if mask_ref is not None else None
        action = str(tool.get("action") or "auto")
        if action not in ("generate", "edit", "auto"):
            raise _Refused(f"Invalid value for '{_TOOL}.action': {action!r}; use generate, edit or auto.",
                           f"{_TOOL}.action")
        if mask is not None and not images:
            raise _Refused("The image generation tool's input_image_mask needs an image to edit: none was given "
                           "and the conversation has no image yet.", f"{_TOOL}.input_image_mask")
        if action == "edit" and not images:
            raise _Refused("action 'edit' needs an image: none was given and the conversation has none.",
                           f"{_TOOL}.action")
        kind = "edit" if images and action != "generate" else "generate"
        image_model = str(tool.get("model") or DEFAULT_MODEL)
        self._check_model(image_model)
        params: dict[str, Any] = {"prompt": prompt, "model": image_model,
                                  **{k: tool[k] for k in _TOOL_OPTIONS if tool.get(k) is not None}}
        if kind == "edit":
            params["image"] = images
            params.pop("moderation", None)
            if mask is not None:
                params["mask"] = mask
        else:
            params.pop("input_fidelity", None)
        problems = validate(kind, params) + extra_problems(kind, params)  # type: ignore[arg-type]
        if problems:
            first = problems[0]
            name = "input_image_mask" if first.param == "mask" else first.param  # the tool's name for the mask
            where = f"{_TOOL}.{name}" if name in (*_TOOL_OPTIONS, "input_image_mask", "model") else first.param
            raise _Refused("; ".join(p.message for p in problems), where, problem_code(first))
        partial = tool.get("partial_images") or 0
        if not isinstance(partial, int) or isinstance(partial, bool) or not 0 <= partial <= 3:
            raise _Refused(f"Invalid '{_TOOL}.partial_images': expected 0 to 3, got {partial!r}.",
                           f"{_TOOL}.partial_images")
        turn = self._turn(body, tool, kind, params, prompt, previous)
        return turn, kind, {**params, "partial_images": partial}, body.get("stream") is True

    def _check_model(self, image_model: str) -> None:
        if is_unknown(self.state, image_model):
            raise _Refused(unknown_model_message(image_model), f"{_TOOL}.model", "model_not_found", 404)
        gone = is_shut_down(self.state, image_model)
        if gone is not None:
            raise _Refused(shut_down_message(image_model, gone), f"{_TOOL}.model",
                           "model_not_found", 404)

    def _turn(self, body: dict[str, Any], tool: dict[str, Any], kind: str, params: dict[str, Any], prompt: str,
              previous: str | None) -> Turn:
        plan = plan_request(kind, params, self.state.config, None)  # type: ignore[arg-type]
        text_in = 200 + math.ceil(len(prompt) / 4) + self.store.context_tokens(previous)
        text_out = 40 + math.ceil(len(prompt) / 4)
        usage = {"input_tokens": text_in, "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
                 "output_tokens": text_out, "output_tokens_details": {"reasoning_tokens": 0},
                 "total_tokens": text_in + text_out}
        return Turn(body, tool, kind, f"{prompt.strip()} (as the image tool was asked)", plan.size, plan.quality,
                    plan.background, plan.output_format, usage, plan.usage_total)

    async def _answer(self, turn: Turn, kind: str, params: dict[str, Any], fault: Fault | None,
                      stream: bool) -> ASGIApp:
        plan = plan_request(kind, params, self.state.config, fault)  # type: ignore[arg-type]
        spec = plan.specs[0]
        done: list[str] = []

        async def finish() -> str | None:
            if fault is not None and fault.kind == "empty_data":
                return None  # the model answered without the image (its call has no result)
            if not done:
                data = await asyncio.to_thread(render.render, plan.kind, spec, plan.inputs)
                done.append(image_b64(data, fault))  # cut in the middle for a `truncated_b64` fault
            return done[0]

        def keep(response: dict[str, Any]) -> None:
            if turn.body.get("store", True) is not False:
                self.store.save(response)

        async def partial(index: int) -> bytes:
            return await asyncio.to_thread(render.render_partial, plan.kind, spec, plan.inputs, index,
                                           plan.partial_images)

        try:
            if plan.inputs is not None:  # an unreadable input is the caller's 400, not our 500
                await asyncio.to_thread(render.canvas, plan.kind, spec, plan.inputs)
            if stream:
                interval = self.state.config.partial_interval_s
                return TurnStream(turn, partial, finish, keep, plan.partial_images, fault, interval)
            answer = turn.response(await finish())
            keep(answer)
        except (OSError, ValueError, Image.DecompressionBombError) as exc:
            return error_response(400, f"An input image could not be read: {exc}", param="input", code="invalid_image")
        if fault is not None and fault.kind in DROPPING:
            return DropResponse()  # the work was done (and kept): only the answer is lost
        return JSONResponse(answer)  # the very response kept: GET /v1/responses/{id} answers the same


_ANSWERED_FAULTS = ("drop", "cut_last_event", "slow", "truncated_b64", "empty_data", "wrong_size")
"""Faults a plain (not streamed) turn carries in its answer itself; the other stream faults become a 500."""


def _image_tool(tools: Any) -> dict[str, Any]:
    if not isinstance(tools, list) or not tools:
        raise _Refused("This emulator answers /v1/responses only with the image_generation tool: add "
                       "tools=[{'type': 'image_generation'}].", "tools", "missing_required_parameter")
    for tool in tools:
        if isinstance(tool, dict) and tool.get("type") == "image_generation":
            return tool
    raise _Refused("tools has no {'type': 'image_generation'} tool.", "tools")


def _input(value: Any) -> tuple[str, list[tuple[str, dict[str, Any]]]]:
    """The turn's text and its input images (each with its path, `input[m].content[c]`, and its image
    reference) from a string or a list of messages."""
    if isinstance(value, str) and value.strip():
        return value, []
    if not isinstance(value, list) or not value:
        raise _Refused("Missing required parameter: 'input' (a string, or a list of messages).", "input",
                       "missing_required_parameter")
    texts: list[str] = []
    refs: list[tuple[str, dict[str, Any]]] = []
    for m, message in enumerate(value):
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, str):
            texts.append(content)
            continue
        for c, part in enumerate(content if isinstance(content, list) else []):
            kind = part.get("type") if isinstance(part, dict) else None
            if kind == "input_text":
                texts.append(str(part.get("text", "")))
            elif kind == "input_image":
                refs.append((f"input[{m}].content[{c}]",
                             {k: part[k] for k in ("image_url", "file_id") if part.get(k) is not None}))
    text = "\n".join(t for t in texts if t.strip())
    if not text:
        raise _Refused("The input has no text: say what to draw or change.", "input")
    return text, refs


class StoredResponse(LoggedApp):
    """`GET` (the stored Response) and `DELETE` (forget it) of `/v1/responses/{response_id}`."""

    def __init__(self, state: EmulatorState, store: ResponseStore) -> None:
        super().__init__(state, "responses")
        self.store = store

    async def handle(self, request: Request, entry: RequestLog) -> ASGIApp:
        auth_problem = _authorized(request, self.state.api_key)
        if auth_problem:
            return error_response(401, auth_problem, code="invalid_api_key")
        response_id = str(request.path_params["response_id"])
        missing = f"Response with id '{response_id}' not found."
        if request.method == "DELETE":
            if not self.store.delete(response_id):  # OpenAI's description: a 404 here is an `Error` object
                return JSONResponse({"code": "not_found", "message": missing, "param": None,
                                     "type": "invalid_request_error"}, status_code=404)
            return JSONResponse({"id": response_id, "object": "response", "deleted": True})
        found = self.store.get(response_id)
        if found is None:
            return error_response(404, missing, param=None, code="not_found")
        return JSONResponse(found)


def conversation_routes(state: EmulatorState, store: ResponseStore, files: FileReader) -> list[Route]:
    return [
        Route("/v1/responses", ResponsesEndpoint(state, store, files), methods=["POST"]),
        Route("/v1/responses/{response_id}", StoredResponse(state, store), methods=["GET", "DELETE"]),
    ]
