"""Raw HTTP against the emulator for the contract tests: the SDK's models would accept (and hide) fields
the API description does not have, so these read the bytes the server sent."""

from __future__ import annotations

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
