"""Raw HTTP against the emulator for the contract tests: the SDK's models would accept (and hide) fields
the API description does not have, so these read the bytes the server sent."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx2

from support.images import png

AUTH = {"Authorization": "Bearer sk-test"}


def sse_events(text: str) -> list[dict[str, Any]]:
    """The JSON `data:` payloads of an event stream (without the closing [DONE])."""
    return [json.loads(line[5:]) for line in text.splitlines()
            if line.startswith("data:") and line[5:].strip() not in ("", "[DONE]")]


def upload(http: httpx2.Client, purpose: str = "vision", data: bytes | None = None,
           name: str = "photo.png") -> dict[str, Any]:
    """POST /files; the File object (asserts the upload worked)."""
    answer = http.post("/files", data={"purpose": purpose},
                       files={"file": (name, data or png((64, 64)), "image/png")})
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


IMAGE_TOOL = {"type": "image_generation", "model": "gpt-image-2", "size": "1024x1024", "quality": "low"}
"""The Responses API's image tool as the contract tests send it (the cheapest size and quality)."""


def turn(http: httpx2.Client, text: Any = "a red fox in snow", **body: Any) -> httpx2.Response:
    """POST /responses: one conversation turn with the image tool (`body` adds or replaces fields)."""
    return http.post("/responses", json={"model": "gpt-5.5", "input": text, "tools": [IMAGE_TOOL], **body})


def data_url(data: bytes) -> str:
    """PNG bytes as a `data:` URL, the form an image goes by value in a JSON body."""
    return "data:image/png;base64," + base64.b64encode(data).decode()
