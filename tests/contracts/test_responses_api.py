"""The emulator's Responses API (issue 20, item 3) against OpenAI's description: every answer and every
stream event validates (`Response`, the `ResponseStreamEvent` family, `ErrorResponse`), in the documented
order with a rising `sequence_number`; the conversation is kept in the emulator's folder (an emulator
restarted on it still continues it); GET and DELETE; inputs by data URL, loopback URL and file id; the
checks a turn gets; the same faults as for images. Raw HTTP here, the SDK in test_sdk_responses below."""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import openai
import pytest
from PIL import Image

from image_widget.emulator import Emulator
from image_widget.emulator.state import Fault
from support import spec
from support.images import mask_png, png
from support.raw_api import AUTH, IMAGE_TOOL, data_url, sse_events, turn, upload

EVENTS = {
    "response.created": "ResponseCreatedEvent",
    "response.in_progress": "ResponseInProgressEvent",
    "response.output_item.added": "ResponseOutputItemAddedEvent",
    "response.image_generation_call.in_progress": "ResponseImageGenCallInProgressEvent",
    "response.image_generation_call.generating": "ResponseImageGenCallGeneratingEvent",
    "response.image_generation_call.partial_image": "ResponseImageGenCallPartialImageEvent",
    "response.image_generation_call.completed": "ResponseImageGenCallCompletedEvent",
    "response.output_item.done": "ResponseOutputItemDoneEvent",
    "response.completed": "ResponseCompletedEvent",
    "error": "ResponseErrorEvent",
}


@pytest.fixture
def http(emulator: Emulator) -> Iterator[httpx2.Client]:
    with httpx2.Client(base_url=emulator.url, headers=AUTH, timeout=60) as client:
        yield client



def image_of(response: dict[str, Any]) -> Image.Image:
    (item,) = [i for i in response["output"] if i["type"] == "image_generation_call"]
    return Image.open(io.BytesIO(base64.b64decode(item["result"])))



def test_a_turn_and_the_next_validate_as_responses(http: httpx2.Client) -> None:
    first = turn(http)
    assert first.status_code == 200, first.text
    spec.check("Response", first.json())
    body = first.json()
    assert body["status"] == "completed"
    assert body["usage"]["input_tokens"] > 0
    assert body["tool_usage"]["image_gen"]["output_tokens"] > 0
    assert image_of(body).size == (1024, 1024)
    second = turn(http, "make it night", previous_response_id=body["id"])
    assert second.status_code == 200, second.text
    spec.check("Response", second.json())
    assert second.json()["previous_response_id"] == body["id"]
    (item,) = second.json()["output"]
    assert item["action"] == "edit", "a conversation with an image edits it"
    assert image_of(second.json()).tobytes() != image_of(body).tobytes()
    assert second.json()["usage"]["input_tokens"] > body["usage"]["input_tokens"], "the thread is read again"


def test_every_stream_event_validates_in_order(http: httpx2.Client) -> None:
    answer = turn(http, stream=True, tools=[{**IMAGE_TOOL, "partial_images": 2}])
    assert answer.status_code == 200, answer.text
    events = sse_events(answer.text)
    kinds = [e["type"] for e in events]
    assert kinds == ["response.created", "response.in_progress", "response.output_item.added",
                     "response.image_generation_call.in_progress", "response.image_generation_call.generating",
                     *["response.image_generation_call.partial_image"] * 2,
                     "response.image_generation_call.completed", "response.output_item.done", "response.completed"]
    assert [e["sequence_number"] for e in events] == list(range(len(events)))
    for event in events:
        spec.check(EVENTS[event["type"]], event)
        spec.check("ResponseStreamEvent", event)
    spec.check("Response", events[-1]["response"])


def test_an_error_event_mid_stream_validates(http: httpx2.Client, emulator: Emulator) -> None:
    emulator.inject(Fault(kind="error_event", after=3))
    events = sse_events(turn(http, stream=True).text)
    assert events[-1]["type"] == "error"
    assert len(events) == 4
    spec.check("ResponseErrorEvent", events[-1])


@pytest.mark.parametrize(("body", "param", "status"), [
    ({"previous_response_id": "resp_0123456789abcdef0123456789abcdef"}, "previous_response_id", 400),
    ({"tools": []}, "tools", 400),
    ({"model": ""}, "model", 400),
    ({"input": ""}, "input", 400),
    ({"tools": [{**IMAGE_TOOL, "size": "13x13"}]}, "tools[0].size", 400),
    ({"tools": [{**IMAGE_TOOL, "model": "gpt-imagine-9"}]}, "tools[0].model", 404),
    ({"tools": [{**IMAGE_TOOL, "input_image_mask": {"image_url": data_url(mask_png((64, 64), (0, 0, 9, 9)))}}]},
     "tools[0].input_image_mask", 400),
    ({"tools": [{**IMAGE_TOOL, "partial_images": 4}]}, "tools[0].partial_images", 400),
])
def test_a_bad_turn_is_an_error_response_naming_the_param(http: httpx2.Client, body: dict[str, Any], param: str,
                                                          status: int) -> None:
    answer = turn(http, **body)
    assert answer.status_code == status, answer.text
    spec.check("ErrorResponse", answer.json())
    assert answer.json()["error"]["param"] == param


def test_a_mask_of_another_size_than_the_image_is_refused(http: httpx2.Client) -> None:
    first = turn(http).json()
    mask = {"image_url": data_url(mask_png((512, 512), (0, 0, 99, 99)))}
    answer = turn(http, "give it a hat", previous_response_id=first["id"],
                  tools=[{**IMAGE_TOOL, "input_image_mask": mask}])
    assert answer.status_code == 400
    assert "512x512" in answer.json()["error"]["message"]
    assert "1024x1024" in answer.json()["error"]["message"]
    ok = {"image_url": data_url(mask_png((1024, 1024), (0, 0, 99, 99)))}
    assert turn(http, "give it a hat", previous_response_id=first["id"],
                tools=[{**IMAGE_TOOL, "input_image_mask": ok}]).status_code == 200


@pytest.mark.parametrize("how", ["data URL", "file id", "loopback URL"])
def test_input_images_by_data_url_file_id_or_loopback_url(http: httpx2.Client, emulator: Emulator, how: str) -> None:
    picture = png((256, 256))
    if how == "data URL":
        part = {"type": "input_image", "image_url": data_url(picture)}
    elif how == "file id":
        part = {"type": "input_image", "file_id": upload(http, "vision", picture)["id"]}
    else:  # the emulator's own file server stands in for an image on the web (loopback, offline)
        part = {"type": "input_image",
                "image_url": f"{emulator.origin}/_emulator/files/{emulator.state.keep_file(picture, 'png')}"}
    message = [{"role": "user", "content": [{"type": "input_text", "text": "make it blue"}, part]}]
    answer = turn(http, message)  # type: ignore[arg-type]
    assert answer.status_code == 200, answer.text
    assert answer.json()["output"][0]["action"] == "edit"


def test_get_and_delete_a_stored_response(http: httpx2.Client) -> None:
    made = turn(http).json()
    got = http.get(f"/responses/{made['id']}")
    assert got.status_code == 200
    spec.check("Response", got.json())
    assert got.json()["id"] == made["id"]
    deleted = http.delete(f"/responses/{made['id']}")
    assert deleted.json() == {"id": made["id"], "object": "response", "deleted": True}
    assert http.get(f"/responses/{made['id']}").status_code == 404
    spec.check("ErrorResponse", http.get(f"/responses/{made['id']}").json())
    again = http.delete(f"/responses/{made['id']}")
    assert again.status_code == 404
    spec.check("Error", again.json())  # what the description documents for this 404
    assert turn(http, "make it night", previous_response_id=made["id"]).status_code == 400
    unstored = turn(http, store=False).json()
    assert http.get(f"/responses/{unstored['id']}").status_code == 404


def test_the_conversation_survives_an_emulator_restart(tmp_path: Path) -> None:
    folder = tmp_path / "emulator"
    with Emulator(batch_folder=folder) as first, httpx2.Client(base_url=first.url, headers=AUTH, timeout=60) as http:
        made = turn(http).json()
    with Emulator(batch_folder=folder) as second, httpx2.Client(base_url=second.url, headers=AUTH, timeout=60) as http:
        assert http.get(f"/responses/{made['id']}").status_code == 200
        answer = turn(http, "make it night", previous_response_id=made["id"])
        assert answer.status_code == 200, answer.text
        assert answer.json()["output"][0]["action"] == "edit"


@pytest.mark.parametrize("status", [429, 500])
def test_status_faults_answer_as_for_images(http: httpx2.Client, emulator: Emulator, status: int) -> None:
    emulator.inject(Fault(status=status))
    answer = turn(http)
    assert answer.status_code == status
    spec.check("ErrorResponse", answer.json())


def test_a_dropped_stream_keeps_nothing_to_read_back(emulator: Emulator) -> None:
    """The connection breaks after `response.created`: a stream not run in the background ends with its
    connection, so the id it told is "not found" afterwards, as on the real service (the widget's courtesy
    lookup then reports the failure instead of a recovered image)."""
    client = openai.OpenAI(base_url=emulator.url, api_key="sk-test", max_retries=0)
    emulator.inject(Fault(kind="drop", after=2))
    seen: list[str] = []

    def read() -> None:
        for event in client.responses.create(model="gpt-5.5", input="a fox", tools=[IMAGE_TOOL], stream=True):  # type: ignore[list-item]
            seen.append(event.response.id if event.type == "response.created" else event.type)

    with pytest.raises(openai.APIError):
        read()
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(seen[0])


def test_the_sdk_reads_turns_and_streams(emulator: Emulator) -> None:
    client = openai.OpenAI(base_url=emulator.url, api_key="sk-test", max_retries=0, _strict_response_validation=True)
    first = client.responses.create(model="gpt-5.5", input="a fox", tools=[IMAGE_TOOL])  # type: ignore[list-item]
    second = client.responses.create(model="gpt-5.5", input="make it night", tools=[IMAGE_TOOL],  # type: ignore[list-item]
                                     previous_response_id=first.id)
    assert second.previous_response_id == first.id
    partials = [e.partial_image_index for e in client.responses.create(
        model="gpt-5.5", input="a fox", tools=[{**IMAGE_TOOL, "partial_images": 1}], stream=True)  # type: ignore[list-item]
        if e.type == "response.image_generation_call.partial_image"]
    assert partials == [0]
    with pytest.raises(openai.BadRequestError) as caught:
        client.responses.create(model="gpt-5.5", input="x", tools=[IMAGE_TOOL],  # type: ignore[list-item]
                                previous_response_id="resp_00000000000000000000000000000000")
    assert caught.value.param == "previous_response_id"
