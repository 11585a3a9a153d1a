"""A conversation turn's answer as the Responses API shapes it: the `Response` object and its stream events.

Shapes follow OpenAI's description (`Response`, `ImageGenToolCall`, `ResponseUsage`, `ResponseStreamEvent`:
created, in_progress, output_item.added, image_generation_call.in_progress / generating / partial_image /
completed, output_item.done, completed — each with a rising `sequence_number`) plus what the installed SDK
documents beyond it (`ImageGenerationCall.action/size/quality/…/revised_prompt` and `Response.tool_usage`
in `openai/types/responses/response.py`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import time
from base64 import b64encode
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from starlette.types import Receive, Scope, Send

from image_widget.emulator.responses import DROPPING, send_events
from image_widget.emulator.state import DroppedConnection, Fault

__all__ = ["Turn", "TurnStream", "new_id"]


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(16)}"


@dataclass
class Turn:
    """One answered turn: the request's echo fields, the image and what it cost in tokens."""

    body: Mapping[str, Any]
    tool: dict[str, Any]
    action: str
    revised_prompt: str
    size: str
    quality: str | None
    background: str
    output_format: str
    usage: dict[str, Any]
    image_usage: dict[str, Any]
    id: str = field(default_factory=lambda: new_id("resp"))
    item_id: str = field(default_factory=lambda: new_id("ig"))
    created_at: int = field(default_factory=lambda: int(time.time()))

    def item(self, result: str | None, status: str) -> dict[str, Any]:
        """The `image_generation_call` output item."""
        return {"type": "image_generation_call", "id": self.item_id, "status": status, "result": result,
                "action": self.action, "background": self.background, "output_format": self.output_format,
                "quality": self.quality, "size": self.size, "revised_prompt": self.revised_prompt}

    def response(self, result: str | None, status: str = "completed") -> dict[str, Any]:
        """The `Response` object (in progress: no output, no usage yet)."""
        body = self.body
        done = status == "completed"
        return {
            "id": self.id, "object": "response", "created_at": self.created_at, "status": status,
            "completed_at": int(time.time()) if done else None, "error": None, "incomplete_details": None,
            "instructions": body.get("instructions"), "max_output_tokens": body.get("max_output_tokens"),
            "model": body.get("model"), "output": [self.item(result, "completed")] if done else [],
            "parallel_tool_calls": bool(body.get("parallel_tool_calls", True)),
            "previous_response_id": body.get("previous_response_id"), "reasoning": {"effort": None, "summary": None},
            "store": body.get("store", True) is not False, "temperature": body.get("temperature", 1.0),
            "text": {"format": {"type": "text"}}, "tool_choice": body.get("tool_choice", "auto"),
            "tools": [self.tool], "top_p": body.get("top_p", 1.0), "truncation": "disabled",
            "usage": self.usage if done else None, "user": None, "metadata": body.get("metadata") or {},
            "tool_usage": {"image_gen": self.image_usage, "web_search": {"num_requests": 0}} if done else None,
        }


def _sse(payload: Mapping[str, Any]) -> bytes:
    return f"event: {payload['type']}\ndata: {json.dumps(payload, separators=(',', ':'))}\n\n".encode()


class TurnStream:
    """The turn as server-sent events; a fault breaks it where `fault.after` says, as the images stream does.

    `finish` renders the final image; `keep` stores the response, and only once `response.completed` has
    been sent. A stream that is not run in the background ends with its connection: one cut before
    `response.completed` (the client leaving, or a drop, an error event, a broken event) stops the turn and
    leaves no response to read back with
    `GET /v1/responses/{id}` or to continue with `previous_response_id` — the real service answers both
    "not found" (its `background` option exists so that a response outlives a dropped stream). One cut inside
    `response.completed` (`cut_last_event`: the server had finished) leaves the response kept.
    """

    def __init__(self, turn: Turn, partials: Callable[[int], Awaitable[bytes]],
                 finish: Callable[[], Awaitable[str | None]], keep: Callable[[dict[str, Any]], None], count: int,
                 fault: Fault | None, interval_s: float) -> None:
        self.turn, self.partials, self.finish, self.keep, self.count = turn, partials, finish, keep, count
        self.fault, self.interval_s = fault, interval_s
        self.completed: dict[str, Any] | None = None
        """The response as `response.completed` carries it (and as it is kept)."""
        self.gone = False
        """The client has closed the connection (uvicorn then drops our writes without a word)."""

    async def events(self) -> AsyncGenerator[dict[str, Any], None]:
        turn, where = self.turn, {"output_index": 0, "item_id": self.turn.item_id}
        yield {"type": "response.created", "response": turn.response(None, "in_progress")}
        yield {"type": "response.in_progress", "response": turn.response(None, "in_progress")}
        yield {"type": "response.output_item.added", "output_index": 0, "item": turn.item(None, "in_progress")}
        yield {"type": "response.image_generation_call.in_progress", **where}
        yield {"type": "response.image_generation_call.generating", **where}
        for index in range(self.count):
            await asyncio.sleep(self.interval_s)
            data = await self.partials(index)
            yield {"type": "response.image_generation_call.partial_image", **where, "partial_image_index": index,
                   "partial_image_b64": b64encode(data).decode("ascii"), "size": turn.size,
                   "quality": turn.quality, "background": turn.background, "output_format": turn.output_format}
        result = await self.finish()
        yield {"type": "response.image_generation_call.completed", **where}
        yield {"type": "response.output_item.done", "output_index": 0, "item": turn.item(result, "completed")}
        self.completed = turn.response(result)
        yield {"type": "response.completed", "response": self.completed}

    def _fault_event(self, sequence: int) -> dict[str, Any]:
        fault = self.fault
        assert fault is not None
        return {"type": "error", "code": fault.code or "server_error", "param": fault.param,
                "message": fault.message or "The server had an error while processing your request "
                                            "(injected by the emulator).", "sequence_number": sequence}

    async def _chunks(self) -> AsyncGenerator[bytes, None]:
        sequence = 0
        async with contextlib.aclosing(self.events()) as events:
            async for event in events:
                if self.gone:
                    return  # the client left before this event: the turn stops here and nothing is kept
                yield _sse({**event, "sequence_number": sequence})
                sequence += 1
        assert self.completed is not None
        self.keep(self.completed)  # reached only when the consumer asks past `response.completed`: it was sent

    async def _watch(self, receive: Receive) -> None:
        """Notice the client closing the connection (the request's body was read before the stream began)."""
        while (await receive())["type"] != "http.disconnect":
            pass
        self.gone = True

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        watcher = asyncio.create_task(self._watch(receive))
        try:
            await self._stream(send)
        finally:
            watcher.cancel()

    async def _stream(self, send: Send) -> None:
        fault = self.fault
        if await send_events(send, self._chunks(), fault):
            assert fault is not None
            if fault.kind in DROPPING:  # cut before `response.completed` or inside it: see the class docstring
                raise DroppedConnection(f"stream dropped on purpose (Fault kind={fault.kind!r})")
            chunk = _sse(self._fault_event(fault.after)) if fault.kind == "error_event" else \
                b'event: response.output_item.done\ndata: {"type": "response.output_item.done", "item": {"re\n\n'
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})
