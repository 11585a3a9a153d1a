"""Every answer the emulator gives validates against OpenAI's published description (tests/contracts/):
images (plain and each stream event), files, batches, models and the error bodies of each endpoint.

Raw HTTP, not the SDK: the SDK's models would accept (and hide) fields the description does not have.
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest

from image_widget.emulator import Emulator
from support import spec
from support.images import mask_png, png
from support.raw_api import AUTH, sse_events, upload


@pytest.fixture
def http(emulator: Emulator) -> Iterator[httpx2.Client]:
    with httpx2.Client(base_url=emulator.url, headers=AUTH, timeout=30) as client:
        yield client


# ------------------------------------------------------------------------------------------------ images

def test_generation_answer_is_an_images_response(http: httpx2.Client) -> None:
    answer = http.post("/images/generations", json={"prompt": "a fox", "model": "gpt-image-2", "n": 2,
                                                    "size": "1024x1024", "quality": "low"})
    assert answer.status_code == 200
    spec.check("ImagesResponse", answer.json())


@pytest.mark.parametrize("endpoint", ["generations", "edits"])
def test_every_stream_event_validates(http: httpx2.Client, endpoint: str) -> None:
    body = {"prompt": "a fox", "model": "gpt-image-2", "stream": "true", "partial_images": "2", "size": "1024x1024"}
    if endpoint == "generations":
        answer = http.post("/images/generations", json={**body, "stream": True, "partial_images": 2})
        kinds = {"image_generation.partial_image": "ImageGenPartialImageEvent",
                 "image_generation.completed": "ImageGenCompletedEvent"}
    else:
        answer = http.post("/images/edits", data=body, files={"image": ("a.png", png((64, 64)), "image/png")})
        kinds = {"image_edit.partial_image": "ImageEditPartialImageEvent",
                 "image_edit.completed": "ImageEditCompletedEvent"}
    assert answer.status_code == 200, answer.text
    events = sse_events(answer.text)
    assert {e["type"] for e in events} == set(kinds), "partials and the completed event"
    for event in events:
        spec.check(kinds[event["type"]], event)
        spec.check("ImageGenStreamEvent" if endpoint == "generations" else "ImageEditStreamEvent", event)


def test_multipart_edit_with_mask_answer_is_an_images_response(http: httpx2.Client) -> None:
    mask = mask_png((64, 64), (8, 8, 40, 40))
    answer = http.post("/images/edits", data={"prompt": "a door", "model": "gpt-image-2"},
                       files=[("image[]", ("a.png", png((64, 64)), "image/png")),
                              ("mask", ("m.png", mask, "image/png"))])
    assert answer.status_code == 200, answer.text
    spec.check("ImagesResponse", answer.json())


# ------------------------------------------------------------------------------------------------ errors

ERROR_CASES = [
    ("POST", "/images/generations", {"json": {"model": "gpt-image-2"}}, 400),                      # no prompt
    ("POST", "/images/generations", {"json": {"prompt": "a", "model": "gpt-image-2", "n": 11}}, 400),
    ("POST", "/images/generations", {"json": {"prompt": "a", "model": "gpt-image-2", "size": "13x13"}}, 400),
    ("POST", "/images/edits", {"data": {"prompt": "a"}}, 400),                                       # no image
    ("GET", "/files/file-doesnotexist", {}, 404),
    ("GET", "/batches/batch_doesnotexist", {}, 404),
    ("GET", "/models/no-such-model", {}, 404),
    ("GET", "/nowhere", {}, 404),
]


@pytest.mark.parametrize(("method", "path", "kwargs", "status"), ERROR_CASES,
                         ids=[f"{m} {p} {s}" for m, p, _, s in ERROR_CASES])
def test_errors_are_error_responses(http: httpx2.Client, method: str, path: str, kwargs: dict[str, Any],
                                    status: int) -> None:
    answer = http.request(method, path, **kwargs)
    assert answer.status_code == status, answer.text
    spec.check("ErrorResponse", answer.json())


def test_a_wrong_key_gets_an_error_response() -> None:
    with Emulator(api_key="sk-right") as server, \
            httpx2.Client(base_url=server.url, headers={"Authorization": "Bearer sk-wrong"}) as client:
        answer = client.post("/images/generations", json={"prompt": "a", "model": "gpt-image-2"})
    assert answer.status_code == 401
    spec.check("ErrorResponse", answer.json())
    assert "sk-wrong" not in answer.text


# ------------------------------------------------------------------------------------------------ files

@pytest.mark.parametrize("purpose", ["batch", "vision", "user_data"])
def test_file_answers(http: httpx2.Client, purpose: str) -> None:
    data = b'{"custom_id": "a", "method": "POST", "url": "/v1/images/generations", "body": {}}\n' \
        if purpose == "batch" else png((32, 32))
    name = "in.jsonl" if purpose == "batch" else "photo.png"
    created = http.post("/files", data={"purpose": purpose}, files={"file": (name, data, "application/octet-stream")})
    assert created.status_code == 200, created.text
    spec.check("OpenAIFile", created.json())
    file_id = created.json()["id"]
    got = http.get(f"/files/{file_id}")
    spec.check("OpenAIFile", got.json())
    listed = http.get("/files")
    spec.check("ListFilesResponse", listed.json())
    assert file_id in [f["id"] for f in listed.json()["data"]]
    assert http.get(f"/files/{file_id}/content").content == data
    deleted = http.delete(f"/files/{file_id}")
    spec.check("DeleteFileResponse", deleted.json())
    assert http.get(f"/files/{file_id}").status_code == 404


# ------------------------------------------------------------------------------------------------ batches and models

def test_batch_answers(http: httpx2.Client, emulator: Emulator) -> None:
    line = {"custom_id": "c1", "method": "POST", "url": "/v1/images/generations",
            "body": {"prompt": "a fox", "model": "gpt-image-2", "size": "1024x1024", "quality": "low"}}
    file_id = upload(http, "batch", (json.dumps(line) + "\n").encode(), "in.jsonl")["id"]
    body = {"input_file_id": file_id, "endpoint": "/v1/images/generations", "completion_window": "24h",
            "metadata": {"run": "x"}}
    spec.check("CreateBatchRequest", body)
    created = http.post("/batches", json=body)
    assert created.status_code == 200, created.text
    spec.check("Batch", created.json())
    batch_id = created.json()["id"]
    deadline = time.monotonic() + 30
    while (http.get(f"/batches/{batch_id}").json()["status"] not in ("completed", "failed")
           and time.monotonic() < deadline):
        time.sleep(0.05)
    done = http.get(f"/batches/{batch_id}").json()
    spec.check("Batch", done)
    assert done["status"] == "completed"
    spec.check("ListBatchesResponse", http.get("/batches").json())
    cancelled = http.post(f"/batches/{batch_id}/cancel")
    assert cancelled.status_code in (200, 400)
    spec.check("Batch" if cancelled.status_code == 200 else "ErrorResponse", cancelled.json())


def test_model_answers(http: httpx2.Client) -> None:
    listed = http.get("/models").json()
    spec.check("ListModelsResponse", listed)
    for model in listed["data"]:
        spec.check("Model", http.get(f"/models/{model['id']}").json())


def test_image_bytes_decode(http: httpx2.Client) -> None:
    """Not only shaped right: the base64 is a real image of the size answered."""
    import base64

    from PIL import Image

    body = http.post("/images/generations", json={"prompt": "a fox", "model": "gpt-image-2",
                                                  "size": "1536x1024"}).json()
    image = Image.open(io.BytesIO(base64.b64decode(body["data"][0]["b64_json"])))
    assert f"{image.width}x{image.height}" == body["size"]
