"""Reading an images request into the params dict the JSON API would have received.

Generations come as JSON; edits and variations as multipart forms that the openai SDK flattened with
brackets (`image[]`, `svg[reasoning][effort]`) and whose numbers and booleans arrive as text. Both end
up as one nested dict, so validation and planning never care which wire format was used.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request

from image_widget.facts.capabilities import Endpoint

INT_FIELDS = frozenset({"n", "output_compression", "partial_images", "frame_count", "frame_duration_ms"})
BOOL_FIELDS = frozenset({"stream"})

_KEY_RE = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")


class ParseError(Exception):
    """The request body could not be read as the endpoint expects."""

    def __init__(self, message: str, param: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.param = param
        self.code = code


_JSON_TYPES = {bool: "a boolean", str: "a string", int: "an integer", float: "a number", list: "an array",
               dict: "an object", type(None): "null"}


def check_json_stream(body: dict[str, Any]) -> None:
    """A JSON body's `stream` must be a boolean (or null): the API refuses `"true"` with a 400 where a form field
    is text by nature (`_coerce`). OpenAPI: `stream: boolean, nullable` on CreateImageRequest, CreateImageEditRequest
    and CreateResponse; the wording and code are OpenAI's type errors."""
    value = body.get("stream")
    if value is not None and not isinstance(value, bool):
        got = _JSON_TYPES.get(type(value), "a value of another type")
        raise ParseError(f"Invalid type for 'stream': expected a boolean, but got {got} instead.", param="stream",
                         code="invalid_type")


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


def is_json(request: Request) -> bool:
    """An `application/json` body (generations always; edits by image reference)."""
    return request.headers.get("content-type", "").lower().startswith("application/json")


async def parse_params(request: Request, endpoint: Endpoint, *, json_edits: bool = True) -> dict[str, Any]:
    """The request's parameters; uploads become (filename, bytes, content_type) tuples. A JSON edit keeps
    its `images` / `mask` references here (`image_refs.resolve_json_edit` turns them into uploads)."""
    ctype = request.headers.get("content-type", "")
    if endpoint == "generate" or (endpoint == "edit" and json_edits and is_json(request)):
        raw = await request.body()
        try:
            body = json.loads(raw or b"null")
        except (ValueError, UnicodeDecodeError) as exc:
            raise ParseError("We could not parse the JSON body of your request. (HINT: This likely means you "
                             "aren't using your HTTP library correctly. The OpenAI API expects a JSON payload.)") \
                from exc
        if not isinstance(body, dict):
            raise ParseError("The request body must be a JSON object with the image parameters.")
        check_json_stream(body)
        return body
    if not ctype.lower().startswith("multipart/form-data"):
        expected = "multipart/form-data or application/json" if endpoint == "edit" and json_edits \
            else "multipart/form-data"
        raise ParseError(f"Invalid Content-Type header ({ctype or 'none'}), expected {expected}. "
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


def _is_upload(value: Any) -> bool:
    return isinstance(value, tuple) and len(value) == 3 and isinstance(value[1], bytes | bytearray)


def loggable(value: Any) -> Any:
    """Params for the log: files as {name, content_type, bytes, sha256}, never their bytes."""
    if _is_upload(value):
        name, data, ctype = value
        return {"name": name, "content_type": ctype, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    if isinstance(value, dict):
        return {k: loggable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [loggable(v) for v in value]
    return value


def file_bytes(value: Any) -> list[bytes]:
    """The bytes of every upload in a param (one file or a list of them), in order."""
    if _is_upload(value):
        return [bytes(value[1])]
    if isinstance(value, list):
        return [b for item in value for b in file_bytes(item)]
    return []
