"""/v1/batches: create (with metadata), retrieve, list (newest first, metadata included), cancel.

The checks are the API's: a known images endpoint, `completion_window="24h"`, an input file uploaded
with purpose `batch`, metadata of at most 16 string pairs (keys ≤ 64, values ≤ 512 characters).
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import ASGIApp

from image_widget.emulator.batch_runner import ENDPOINT_KINDS, BatchRunner
from image_widget.emulator.batch_store import TERMINAL, public
from image_widget.emulator.files_routes import Logged
from image_widget.emulator.responses import error_response
from image_widget.emulator.state import EmulatorState

_ALL_ENDPOINTS = ("/v1/responses", "/v1/chat/completions", "/v1/embeddings", "/v1/completions", "/v1/moderations",
                  "/v1/images/generations", "/v1/images/edits", "/v1/videos")


def _metadata_problem(metadata: Any) -> str | None:
    if metadata is None:
        return None
    if not isinstance(metadata, dict) or len(metadata) > 16:
        return "metadata must be an object of at most 16 key-value pairs."
    for key, value in metadata.items():
        if not isinstance(value, str) or len(key) > 64 or len(value) > 512:
            return f"metadata[{key!r}] must be a string; keys up to 64 characters, values up to 512."
    return None


def _create_problem(body: dict[str, Any], runner: BatchRunner) -> tuple[str, str] | None:
    """(param, message) of the first thing wrong with a create request."""
    endpoint = body.get("endpoint")
    if endpoint not in _ALL_ENDPOINTS:
        return "endpoint", f"Invalid value for 'endpoint': {endpoint!r}; expected one of {', '.join(_ALL_ENDPOINTS)}."
    if endpoint not in ENDPOINT_KINDS:
        return "endpoint", f"The emulator runs image batches only ({', '.join(ENDPOINT_KINDS)}), not {endpoint}."
    if body.get("completion_window") != "24h":
        return "completion_window", "Invalid value for 'completion_window': only '24h' is supported."
    problem = _metadata_problem(body.get("metadata"))
    if problem:
        return "metadata", problem
    expiry = body.get("output_expires_after")
    if expiry is not None:  # BatchFileExpirationAfter: anchor created_at, 3600 to 2592000 seconds
        seconds = expiry.get("seconds") if isinstance(expiry, dict) else None
        if not isinstance(expiry, dict) or expiry.get("anchor") != "created_at":
            return ("output_expires_after.anchor",
                    "Invalid value for 'output_expires_after.anchor': expected 'created_at'.")
        if not isinstance(seconds, int) or isinstance(seconds, bool) or not 3600 <= seconds <= 2592000:
            return ("output_expires_after.seconds", "Invalid 'output_expires_after.seconds': expected an integer from "
                    f"3600 (1 hour) to 2592000 (30 days), got {seconds!r}.")
    file_id = body.get("input_file_id")
    meta = runner.disk.file_meta(str(file_id)) if isinstance(file_id, str) else None
    if meta is None:
        return "input_file_id", f"No such File object: {file_id}"
    if meta["purpose"] != "batch":
        return "input_file_id", f"The input file {file_id} was uploaded with purpose {meta['purpose']!r}, not 'batch'."
    return None


def batch_routes(state: EmulatorState, runner: BatchRunner) -> list[Route]:
    """The Batches API routes; `runner` does the work."""
    disk = runner.disk

    async def create(request: Request) -> ASGIApp:
        try:
            body = json.loads(await request.body() or b"null")
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return error_response(400, "The request body must be a JSON object.")
        problem = _create_problem(body, runner)
        if problem:
            return error_response(400, problem[1], param=problem[0], code="invalid_value")
        expiry = body.get("output_expires_after") or {}
        batch = disk.new_batch({"endpoint": body["endpoint"], "input_file_id": body["input_file_id"],
                                "completion_window": "24h", "metadata": body.get("metadata"),
                                "_output_expires_after_s": expiry.get("seconds")})
        runner.wake()
        return JSONResponse(public(batch))

    async def retrieve(request: Request) -> ASGIApp:
        batch_id = request.path_params["batch_id"]
        batch = disk.batch(batch_id)
        if batch is None:
            return error_response(404, f"No batch found with id '{batch_id}'.", param="batch_id")
        return JSONResponse(public(batch))

    async def listing(request: Request) -> ASGIApp:
        try:
            limit = int(request.query_params.get("limit", "20"))
        except ValueError:
            limit = 0
        if not 1 <= limit <= 100:
            return error_response(400, "limit must be a whole number from 1 to 100.", param="limit")
        batches = disk.batches()
        after = request.query_params.get("after")
        if after:
            ids = [b["id"] for b in batches]
            batches = batches[ids.index(after) + 1:] if after in ids else []
        page = [public(b) for b in batches[:limit]]
        return JSONResponse({"object": "list", "data": page, "first_id": page[0]["id"] if page else None,
                             "last_id": page[-1]["id"] if page else None, "has_more": len(batches) > limit})

    async def cancel(request: Request) -> ASGIApp:
        batch_id = request.path_params["batch_id"]
        batch = runner.cancel(batch_id)
        if batch is None:
            return error_response(404, f"No batch found with id '{batch_id}'.", param="batch_id")
        if batch["status"] in TERMINAL:
            return error_response(400, f"Cannot cancel a batch with status '{batch['status']}'.",
                                  code="invalid_value")
        return JSONResponse(public(batch))

    async def faults(request: Request) -> JSONResponse:
        """POST /_emulator/batch_faults {fail_lines, invalid_lines, expire_after, hold_after, drop_downloads}:
        `Emulator.batch_faults` for a kernel in another process (not logged, like every control call)."""
        try:
            body = await request.json()
            if not isinstance(body, dict):
                raise TypeError("expected a JSON object")
            for key in ("fail_lines", "invalid_lines"):
                if key in body:
                    body[key] = frozenset(int(i) for i in body[key])
            with disk.lock:
                disk.faults = replace(disk.faults, **body)
        except (ValueError, TypeError) as exc:
            return error_response(400, f"bad batch faults: {exc}", param="faults")
        runner.wake()
        return JSONResponse({"status": "ok"})

    async def release(request: Request) -> JSONResponse:
        runner.release()
        return JSONResponse({"status": "released"})

    return [
        Route("/_emulator/batch_faults", faults, methods=["POST"]),
        Route("/_emulator/batch_release", release, methods=["POST"]),
        Route("/v1/batches", Logged(state, "batches", create), methods=["POST"]),
        Route("/v1/batches", Logged(state, "batches", listing), methods=["GET"]),
        Route("/v1/batches/{batch_id}", Logged(state, "batches", retrieve), methods=["GET"]),
        Route("/v1/batches/{batch_id}/cancel", Logged(state, "batches", cancel), methods=["POST"]),
    ]
