"""The emulator's Starlette app: the OpenAI-compatible Images API under /v1, plus /_emulator controls.

Only the wiring lives here (routes and the request-id middleware); `server` imports this module when
an Emulator starts, which is when starlette and Pillow get loaded.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.datastructures import MutableHeaders
from starlette.middleware import Middleware
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from image_widget.emulator.batch_routes import batch_routes
from image_widget.emulator.batch_runner import BatchRunner
from image_widget.emulator.control import control_routes
from image_widget.emulator.conversation_routes import conversation_routes
from image_widget.emulator.conversation_store import ResponseStore
from image_widget.emulator.files_routes import files_routes
from image_widget.emulator.model_routes import model_routes
from image_widget.emulator.routes import REQUEST_ID_KEY, ImagesEndpoint, UnknownPath, new_request_id
from image_widget.emulator.state import EmulatorState

_ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]


class RequestIdMiddleware:
    """Give every response an `x-request-id: req_<hex>` header, as the real API does."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = new_request_id()
        scope[REQUEST_ID_KEY] = request_id

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if "x-request-id" not in headers:
                    headers["x-request-id"] = request_id
            await send(message)

        await self.app(scope, receive, send_with_id)


def create_app(state: EmulatorState, runner: BatchRunner) -> Starlette:
    """The ASGI app serving `state` and the batches `runner` runs (one of each per Emulator)."""
    routes = [
        *files_routes(state, runner.disk),
        *batch_routes(state, runner),
        Route("/v1/images/generations", ImagesEndpoint(state, "generate"), methods=["POST"]),
        Route("/v1/images/edits", ImagesEndpoint(state, "edit", runner.disk.file_bytes), methods=["POST"]),
        Route("/v1/images/variations", ImagesEndpoint(state, "variation"), methods=["POST"]),
        *model_routes(state),
        *conversation_routes(state, ResponseStore(runner.disk.folder), runner.disk.file_bytes),
        *control_routes(state),
        Route("/v1/{rest:path}", UnknownPath(state), methods=_ALL_METHODS),
    ]
    return Starlette(routes=routes, middleware=[Middleware(RequestIdMiddleware)])
