"""/v1/files: upload (purposes `batch`, `vision`, `user_data`, …, with `expires_after`), list, retrieve,
content and delete — what the Batch API and JSON edits (images by file id) read and write.

Each route is logged like an images request (endpoint "files"), so a test can prove that nothing was
uploaded. A `BatchFaults.drop_downloads` fault closes a content download half-way, as a network does.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from image_widget.emulator.batch_store import MAX_BATCH_FILE_BYTES, BatchDisk
from image_widget.emulator.responses import error_response
from image_widget.emulator.routes import LoggedApp, _authorized
from image_widget.emulator.state import DroppedConnection, EmulatorState, RequestLog

Handler = Callable[[Request], Awaitable[ASGIApp]]
PURPOSES = ("assistants", "batch", "fine-tune", "vision", "user_data")
"""`evals` is in the description's upload enum but not in `OpenAIFile.purpose`; the emulator serves no evals."""
MIN_EXPIRY_S, MAX_EXPIRY_S = 3600, 2_592_000
"""`expires_after[seconds]`: between an hour and 30 days (the description's `FileExpirationAfter`)."""


class Logged(LoggedApp):
    """A JSON route: checks the key, then answers with `handler` (logged like an images request)."""

    def __init__(self, state: EmulatorState, endpoint: str, handler: Handler) -> None:
        super().__init__(state, endpoint)
        self.handler = handler

    async def handle(self, request: Request, entry: RequestLog) -> ASGIApp:
        problem = _authorized(request, self.state.api_key)
        return error_response(401, problem, code="invalid_api_key") if problem else await self.handler(request)


class HalfDownload:
    """Send the headers of the whole file and half of its bytes, then drop the connection."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/octet-stream"),
                                (b"content-length", str(len(self.data)).encode())]})
        await send({"type": "http.response.body", "body": self.data[: len(self.data) // 2], "more_body": True})
        raise DroppedConnection("download dropped on purpose (BatchFaults.drop_downloads)")


def _missing(file_id: str) -> JSONResponse:
    return error_response(404, f"No such File object: {file_id}", param="id", code=None)


def _expires_after(anchor: object, seconds: object) -> int | None:
    """The lifetime asked for by `expires_after[anchor]` / `expires_after[seconds]` (None: the default)."""
    if anchor is None and seconds is None:
        return None
    if anchor != "created_at":
        raise ValueError(f"Invalid value for 'expires_after[anchor]': {anchor!r}; the only anchor is 'created_at'.")
    try:
        value = int(str(seconds))
    except ValueError:
        value = -1
    if not MIN_EXPIRY_S <= value <= MAX_EXPIRY_S:
        raise ValueError(f"Invalid value for 'expires_after[seconds]': {seconds!r}; expected an integer from "
                         f"{MIN_EXPIRY_S} (1 hour) to {MAX_EXPIRY_S} (30 days).")
    return value


def files_routes(state: EmulatorState, disk: BatchDisk) -> list[Route]:
    """The Files API routes over `disk`."""

    async def upload(request: Request) -> ASGIApp:
        try:
            form = await request.form(max_files=1, max_fields=8, max_part_size=MAX_BATCH_FILE_BYTES + 1)
            expiry = _expires_after(form.get("expires_after[anchor]"), form.get("expires_after[seconds]"))
        except ValueError as exc:
            return error_response(400, str(exc), param="expires_after", code="invalid_value")
        except Exception as exc:  # noqa: BLE001 - any unreadable body is the client's 400
            return error_response(400, f"Could not parse the multipart body: {exc}")
        try:
            upload = form.get("file")
            purpose = form.get("purpose")
            if not isinstance(upload, UploadFile):
                return error_response(400, "Missing required parameter: 'file'.", param="file",
                                      code="missing_required_parameter")
            if purpose not in PURPOSES:
                return error_response(400, f"Invalid value for 'purpose': {purpose!r}; expected one of "
                                           f"{', '.join(PURPOSES)}.", param="purpose", code="invalid_value")
            data = await upload.read()
            if purpose == "batch" and len(data) > MAX_BATCH_FILE_BYTES:
                return error_response(400, f"The file is {len(data):,} bytes; batch input files may be at most "
                                           f"{MAX_BATCH_FILE_BYTES:,} bytes (200 MB).", param="file",
                                      code="file_too_large")
            return JSONResponse(disk.add_file(data, upload.filename or "upload", str(purpose), expiry))
        finally:
            await form.close()

    async def retrieve(request: Request) -> ASGIApp:
        file_id = request.path_params["file_id"]
        meta = disk.file_meta(file_id)
        return _missing(file_id) if meta is None else JSONResponse(meta)

    async def content(request: Request) -> ASGIApp:
        file_id = request.path_params["file_id"]
        path = disk.file_path(file_id)
        if disk.file_meta(file_id) is None or not path.exists():
            return _missing(file_id)
        with disk.lock:
            drop = disk.faults.drop_downloads > 0
            if drop:
                disk.faults.drop_downloads -= 1
        if drop:
            return HalfDownload(path.read_bytes())
        return FileResponse(path, media_type="application/octet-stream")

    async def listing(request: Request) -> ASGIApp:
        query = request.query_params
        try:
            limit = int(query.get("limit", "10000"))
        except ValueError:
            limit = 0
        if not 1 <= limit <= 10_000:
            return error_response(400, f"Invalid value for 'limit': {query.get('limit')!r}; expected an integer "
                                       "from 1 to 10000.", param="limit", code="invalid_value")
        order = query.get("order", "desc")
        if order not in ("asc", "desc"):
            return error_response(400, f"Invalid value for 'order': {order!r}; expected 'asc' or 'desc'.",
                                  param="order", code="invalid_value")
        files = disk.list_files(query.get("purpose"))
        if order == "asc":
            files.reverse()
        after = query.get("after")
        if after is not None:
            ids = [f["id"] for f in files]
            files = files[ids.index(after) + 1:] if after in ids else []
        page = files[:limit]
        # first_id / last_id are required strings in ListFilesResponse: "" when the page is empty
        return JSONResponse({"object": "list", "data": page, "first_id": page[0]["id"] if page else "",
                             "last_id": page[-1]["id"] if page else "", "has_more": len(files) > limit})

    async def delete(request: Request) -> ASGIApp:
        file_id = request.path_params["file_id"]
        if not disk.delete_file(file_id):
            return _missing(file_id)
        return JSONResponse({"id": file_id, "object": "file", "deleted": True})

    return [
        Route("/v1/files", Logged(state, "files", listing), methods=["GET"]),
        Route("/v1/files/{file_id}", Logged(state, "files", delete), methods=["DELETE"]),
        Route("/v1/files", Logged(state, "files", upload), methods=["POST"]),
        Route("/v1/files/{file_id}", Logged(state, "files", retrieve), methods=["GET"]),
        Route("/v1/files/{file_id}/content", Logged(state, "files", content), methods=["GET"]),
    ]
