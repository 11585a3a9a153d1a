"""The emulator's Responses API: behaviours the `emu` branch's tests checked that the contracts tests
(tests/contracts/test_responses_api.py) do not — a stream cut before `response.completed` keeps nothing, a
`store: false` turn cannot be continued, refusals name the parameter the caller sent (`input[m].content[c]…`,
`tools[0].input_image_mask`, an unknown top-level field), a slow fault without streaming still answers, and
the two usages add up. Raw HTTP, answers checked against OpenAI's description (support.spec)."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest
from PIL import Image

from image_widget.emulator import Emulator
from image_widget.emulator.state import Fault
from support import spec, waiting
from support.images import mask_png, png
from support.raw_api import AUTH, IMAGE_TOOL, data_url, turn, upload

STREAM = ["response.created", "response.in_progress", "response.output_item.added",
          "response.image_generation_call.in_progress", "response.image_generation_call.generating",
          "response.image_generation_call.completed", "response.output_item.done", "response.completed"]
"""A streamed turn without partial images, event by event."""
UNREADABLE = "(an event whose data is not JSON)"


@pytest.fixture
def http(emulator: Emulator) -> Iterator[httpx2.Client]:
    with httpx2.Client(base_url=emulator.url, headers=AUTH, timeout=60) as client:
        yield client




def refused(answer: httpx2.Response, param: str, status: int = 400) -> dict[str, Any]:
    """The error of an `ErrorResponse` answer that names `param`."""
    assert answer.status_code == status, answer.text
    spec.check("ErrorResponse", answer.json())
    error: dict[str, Any] = answer.json()["error"]
    assert error["param"] == param, error
    return error


# ------------------------------------------------------------------------------ a stream cut short keeps nothing


def streamed(http: httpx2.Client, **body: Any) -> tuple[list[dict[str, Any]], bool]:
    """The events of a streamed turn as they came, and whether the connection broke before the stream's end."""
    text, broke = "", False
    json_body = {"model": "gpt-5.5", "input": "a red fox in snow", "tools": [IMAGE_TOOL], "stream": True, **body}
    try:
        with http.stream("POST", "/responses", json=json_body) as answer:
            for chunk in answer.iter_text():
                text += chunk
    except httpx2.TransportError:
        broke = True
    whole = text[:text.rfind("\n\n") + 2] if broke else text  # a half-sent event is not an event
    events = []
    for line in whole.splitlines():
        if line.startswith("data:"):
            try:
                events.append(json.loads(line[5:]))
            except ValueError:
                events.append({"type": UNREADABLE})
    return events, broke


@pytest.mark.parametrize(("kind", "after"), [
    ("drop", 3),  # before the image is made
    ("drop", STREAM.index("response.completed")),  # the image made, only the completed event lost
    ("error_event", STREAM.index("response.output_item.done")),
    ("malformed_event", STREAM.index("response.completed")),
])
def test_a_stream_cut_before_completed_cannot_be_read_back_or_continued(http: httpx2.Client, emulator: Emulator,
                                                                       kind: str, after: int) -> None:
    emulator.inject(Fault(kind=kind, after=after))  # type: ignore[arg-type]
    events, broke = streamed(http)
    assert broke == (kind == "drop")
    assert [e["type"] for e in events[:after]] == STREAM[:after]
    assert [e["type"] for e in events[after:]] == {"drop": [], "error_event": ["error"],
                                                   "malformed_event": [UNREADABLE]}[kind]
    response_id = events[0]["response"]["id"]
    error = refused(http.get(f"/responses/{response_id}"), None, 404)  # type: ignore[arg-type]
    assert response_id in error["message"]
    refused(turn(http, "make it night", previous_response_id=response_id), "previous_response_id")


def test_a_stream_cut_inside_its_completed_event_keeps_the_finished_response(http: httpx2.Client,
                                                                              emulator: Emulator) -> None:
    """`cut_last_event`: the server finished, the connection closed halfway through `response.completed` — the
    client cannot read it, but the response can be fetched (what a client's recovery relies on)."""
    emulator.inject(Fault(kind="cut_last_event"))
    events, broke = streamed(http)
    assert broke
    assert [e["type"] for e in events] == STREAM[:-1]
    got = http.get(f"/responses/{events[0]['response']['id']}")
    assert got.status_code == 200, got.text
    spec.check("Response", got.json())
    assert got.json()["status"] == "completed"


def test_a_stream_dropped_after_completed_is_kept(http: httpx2.Client, emulator: Emulator) -> None:
    """The boundary: the completed event reached the client before the connection broke."""
    emulator.inject(Fault(kind="drop", after=len(STREAM)))
    events, broke = streamed(http)
    assert broke
    assert [e["type"] for e in events] == STREAM
    got = http.get(f"/responses/{events[0]['response']['id']}")
    assert got.status_code == 200, got.text
    spec.check("Response", got.json())
    assert got.json() == events[-1]["response"]
    continued = turn(http, "make it night", previous_response_id=got.json()["id"])
    assert continued.status_code == 200, continued.text


def test_a_client_that_leaves_mid_stream_leaves_no_response(http: httpx2.Client, emulator: Emulator) -> None:
    """A real disconnect, not an injected fault: the client closes the stream after `response.created` while
    the server waits between partial images; the turn stops there and nothing is kept."""
    emulator.configure(partial_interval_s=0.5)
    json_body = {"model": "gpt-5.5", "input": "a red fox in snow", "tools": [{**IMAGE_TOOL, "partial_images": 3}],
                 "stream": True}
    with http.stream("POST", "/responses", json=json_body) as answer:
        first = next(line for line in answer.iter_lines() if line.startswith("data:"))
    response_id = json.loads(first[5:])["response"]["id"]
    def ended() -> bool:
        posted = [e for e in emulator.log if e.method == "POST" and e.path.endswith("/responses")]
        return posted[-1].finished is not None

    waiting.wait_until(ended, "the server to end the stream it was sending", 30)
    error = refused(http.get(f"/responses/{response_id}"), None, 404)  # type: ignore[arg-type]
    assert response_id in error["message"]
    refused(turn(http, "make it night", previous_response_id=response_id), "previous_response_id")


def test_a_turn_reads_back_exactly_as_it_was_answered(http: httpx2.Client) -> None:
    answered = turn(http)
    assert answered.status_code == 200, answered.text
    assert http.get(f"/responses/{answered.json()['id']}").json() == answered.json()


def test_an_unstored_turn_cannot_be_continued(http: httpx2.Client) -> None:
    unstored = turn(http, store=False)
    assert unstored.status_code == 200, unstored.text
    assert unstored.json()["store"] is False
    error = refused(turn(http, "make it night", previous_response_id=unstored.json()["id"]), "previous_response_id")
    assert unstored.json()["id"] in error["message"]


@pytest.mark.parametrize("response_id", ["resp_0123456789abcdef0123456789abcdef", "not-a-response-id"])
def test_reading_an_id_never_made_is_a_404_error_response(http: httpx2.Client, response_id: str) -> None:
    error = refused(http.get(f"/responses/{response_id}"), None, 404)  # type: ignore[arg-type]
    assert response_id in error["message"]
    deleted = http.delete(f"/responses/{response_id}")
    assert deleted.status_code == 404
    spec.check("Error", deleted.json())  # the description's 404 body for this operation


# ------------------------------------------------------------------------------ refusals name what was sent


def test_a_mask_of_another_size_names_input_image_mask(http: httpx2.Client) -> None:
    first = turn(http).json()
    mask = {"image_url": data_url(mask_png((512, 512), (0, 0, 99, 99)))}
    error = refused(turn(http, "give it a hat", previous_response_id=first["id"],
                         tools=[{**IMAGE_TOOL, "input_image_mask": mask}]), "tools[0].input_image_mask")
    assert "512x512" in error["message"]


@pytest.mark.parametrize(("part", "param"), [
    ({"type": "input_image", "image_url": "https://example.com/a.png"}, "input[1].content[2].image_url"),
    ({"type": "input_image", "file_id": "file-nope"}, "input[1].content[2].file_id"),
    ({"type": "input_image", "image_url": "not a url"}, "input[1].content[2].image_url"),
])
def test_a_bad_input_image_is_named_by_message_and_part(http: httpx2.Client, part: dict[str, Any], param: str) -> None:
    good = {"type": "input_image", "image_url": data_url(png((64, 64)))}
    messages = [{"role": "user", "content": [{"type": "input_text", "text": "a fox"}, good]},
                {"role": "user", "content": [{"type": "input_text", "text": "and this"}, good, part]}]
    refused(turn(http, messages), param)


def test_input_images_of_several_messages_are_all_read(http: httpx2.Client) -> None:
    file_id = upload(http, "vision", png((128, 128)))["id"]
    messages = [{"role": "user", "content": [{"type": "input_text", "text": "a fox"},
                                             {"type": "input_image", "image_url": data_url(png((128, 128)))}]},
                {"role": "user", "content": [{"type": "input_text", "text": "and this"},
                                             {"type": "input_image", "file_id": file_id}]}]
    answer = turn(http, messages)
    assert answer.status_code == 200, answer.text
    assert answer.json()["output"][0]["action"] == "edit"
    assert answer.json()["tool_usage"]["image_gen"]["input_tokens_details"]["image_tokens"] > 0


def test_an_unknown_parameter_is_refused_by_name(http: httpx2.Client) -> None:
    error = refused(turn(http, surprise=True), "surprise")
    assert error["code"] == "unknown_parameter"
    assert "surprise" in error["message"]
    documented = turn(http, temperature=0.5, top_p=0.9, max_output_tokens=500, include=[], truncation="disabled",
                      parallel_tool_calls=False, tool_choice={"type": "image_generation"})
    assert documented.status_code == 200, documented.text


# ------------------------------------------------------------------------------ faults and usage


def test_a_slow_fault_without_streaming_answers_normally(http: httpx2.Client, emulator: Emulator) -> None:
    fault = Fault(kind="slow", seconds=0.05)
    emulator.inject(fault)
    answer = turn(http)
    assert answer.status_code == 200, answer.text
    spec.check("Response", answer.json())
    assert answer.json()["status"] == "completed"
    assert emulator.log[-1].fault == fault
    assert emulator.pending_faults == []


def test_the_two_usages_add_up_and_follow_quality_and_inputs(http: httpx2.Client) -> None:
    low = turn(http).json()
    high = turn(http, tools=[{**IMAGE_TOOL, "quality": "high"}]).json()
    edit = turn(http, "make it night", previous_response_id=low["id"]).json()
    for body in (low, high, edit):
        spec.check("ResponseUsage", body["usage"])
        usage, gen = body["usage"], body["tool_usage"]["image_gen"]
        assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]
        assert gen["total_tokens"] == gen["input_tokens"] + gen["output_tokens"]
        assert gen["output_tokens"] > 0
    assert high["tool_usage"]["image_gen"]["output_tokens"] > low["tool_usage"]["image_gen"]["output_tokens"]
    assert low["tool_usage"]["image_gen"]["input_tokens_details"]["image_tokens"] == 0
    assert edit["tool_usage"]["image_gen"]["input_tokens_details"]["image_tokens"] > 0, "the edit reads the image"


@pytest.mark.parametrize("kind", ["truncated_b64", "empty_data", "wrong_size"])
def test_data_faults_are_carried_by_a_plain_answer(http: httpx2.Client, emulator: Emulator, kind: str) -> None:
    """As for images, the answer itself is broken (a cut base64 image, no image, half the size), not a 500."""
    emulator.inject(Fault(kind=kind))  # type: ignore[arg-type]
    answer = turn(http)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    spec.check("Response", body)
    (call,) = [item for item in body["output"] if item["type"] == "image_generation_call"]
    if kind == "empty_data":
        assert call["result"] is None
    elif kind == "truncated_b64":
        assert len(call["result"]) % 4 != 0
    else:
        assert call["size"] == "1024x1024"  # asked for and said; the image itself is half of it
        assert Image.open(io.BytesIO(base64.b64decode(call["result"]))).size == (512, 512)
