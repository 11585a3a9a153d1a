"""Every request body the client builds validates against OpenAI's description: generations (plain,
streamed, swept), each line of a batch input file and the batch create call — captured on the wire from the
real SDK, not rebuilt by hand."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx2
import openai
import pytest

import image_widget as iw
from image_widget.emulator import Emulator
from support import spec


class Wire:
    """The JSON bodies the SDK sent, by path."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, Any]] = []

    async def hook(self, request: httpx2.Request) -> None:
        body = await request.aread()
        if request.headers.get("content-type", "").startswith("application/json") and body:
            self.sent.append((request.url.path, json.loads(body)))

    def bodies(self, suffix: str) -> list[Any]:
        return [body for path, body in self.sent if path.endswith(suffix)]


@pytest.fixture
async def wire_client(emulator: Emulator) -> AsyncIterator[tuple[openai.AsyncOpenAI, Wire]]:
    wire = Wire()
    http = httpx2.AsyncClient(event_hooks={"request": [wire.hook]})
    client = openai.AsyncOpenAI(base_url=emulator.url, api_key="sk-test", max_retries=0, http_client=http)
    yield client, wire
    await client.close()


async def test_generation_bodies(wire_client: tuple[openai.AsyncOpenAI, Wire], tmp_path: Any) -> None:
    client, wire = wire_client
    await iw.agenerate("a fox", model="gpt-image-2", size="1536x1024", quality="low", n=2, client=client,
                       store=tmp_path)
    await iw.agenerate("a fox", model="gpt-image-2", partial_images=2, output_format="webp", output_compression=50,
                       background="opaque", moderation="low", client=client, store=tmp_path)
    bodies = wire.bodies("/images/generations")
    assert len(bodies) == 2
    for body in bodies:
        spec.check("CreateImageRequest", body)
    assert bodies[1]["stream"] is True


def test_batch_lines_and_create_bodies(emulator: Emulator, tmp_path: Any) -> None:
    wire = Wire()
    client = openai.AsyncOpenAI(base_url=emulator.url, api_key="sk-test", max_retries=0,
                                http_client=httpx2.AsyncClient(event_hooks={"request": [wire.hook]}))
    sweep = iw.sweep("a {animal}", animal=["fox", "owl"], quality=["low", "high"], model="gpt-image-2",
                     batch=True, client=client, store=tmp_path / "out")
    creates = wire.bodies("/batches")
    assert creates, "a batch was created"
    for body in creates:
        spec.check("CreateBatchRequest", body)
    disk = emulator.batches_runner.disk
    lines = [json.loads(line) for body in creates
             for line in (disk.file_bytes(body["input_file_id"]) or b"").decode().splitlines() if line]
    assert len(lines) == 4
    for line in lines:
        assert line["url"] == body["endpoint"]
        spec.check("CreateImageRequest", line["body"])
    del sweep


def test_batch_edit_lines_are_json_edits(emulator: Emulator, tmp_path: Any) -> None:
    from support.images import mask_png, png

    wire = Wire()
    client = openai.AsyncOpenAI(base_url=emulator.url, api_key="sk-test", max_retries=0,
                                http_client=httpx2.AsyncClient(event_hooks={"request": [wire.hook]}))
    iw.sweep("a {thing}", thing=["door", "cat"], model="gpt-image-2", image=png((96, 64)),
             mask=mask_png((96, 64), (10, 10, 40, 40)), batch=True, client=client, store=tmp_path / "out")
    (create,) = wire.bodies("/batches")
    spec.check("CreateBatchRequest", create)
    assert create["endpoint"] == "/v1/images/edits"
    data = emulator.batches_runner.disk.file_bytes(create["input_file_id"]) or b""
    lines = [json.loads(line) for line in data.decode().splitlines() if line]
    assert len(lines) == 2
    for line in lines:
        spec.check("EditImageBodyJsonParam", line["body"])
        assert all(ref["file_id"].startswith("file-") for ref in [*line["body"]["images"], line["body"]["mask"]])
