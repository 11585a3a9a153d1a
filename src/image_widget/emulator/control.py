"""The /_emulator control routes: the `Emulator` methods over HTTP, for a kernel in another process.

A notebook kernel or another program that did not start the emulator can still read the log, queue
faults, change the config and reset it. These calls are not logged, so they never show up among the
requests a test counts.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from image_widget.emulator.responses import error_response
from image_widget.emulator.state import Config, EmulatorState, Fault


def _config_json(config: Config) -> dict[str, Any]:
    return {"latency_s": config.latency_s, "partial_interval_s": config.partial_interval_s,
            "legacy": config.legacy, "seed": config.seed,
            "mask_leak": config.mask_leak, "models": dict(config.models),
            "batch_step_s": config.batch_step_s, "batch_line_s": config.batch_line_s}


def control_routes(state: EmulatorState) -> list[Route]:
    """Routes under /_emulator/ acting on `state`; legacy `url` images are downloaded from here too."""

    async def health(request: Request) -> Response:
        config = state.config
        return JSONResponse({"status": "ok", "legacy": config.legacy, "in_flight": state.in_flight,
                             "requests": len(state.log), "pending_faults": len(state.pending_faults),
                             "instance": state.instance})

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
