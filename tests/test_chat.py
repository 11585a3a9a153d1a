"""Refine by conversation (issue 20): `iw.Chat` against the emulator's Responses API, through the real SDK.

Three turns continue each other by `previous_response_id`; a branch starts a new thread from an earlier
turn; a new process resumes the right response; everything a person can get wrong is refused before a
request is sent; a failure that may have reached the server is never sent again.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

import image_widget as iw
from image_widget.client import rate_limits
from image_widget.emulator import Emulator
from image_widget.emulator.state import Fault
from image_widget.images import ImageInputError, ImageInputWarning
from support.chats import KEY, chat_kw, turns_sent
from support.clock import record_sleeps
from support.images import mask_png, png


def test_three_turns_continue_each_other_and_are_stored_like_images(emulator: Emulator, tmp_path: Path) -> None:
    chat = iw.Chat(**chat_kw(emulator, tmp_path))
    first = chat.send("a red fox in snow")
    second = chat.send("make it night")
    third = chat.send("add a lantern")

    records = [r.record for r in (first, second, third)]
    assert [r["turn"] for r in records] == [1, 2, 3]
    assert len({r["thread"] for r in records}) == 1
    assert records[0]["previous_response_id"] is None
    assert records[1]["previous_response_id"] == records[0]["response_id"]
    assert records[2]["previous_response_id"] == records[1]["response_id"]
    assert [r["call"] for r in records] == ["refine"] * 3
    assert [e["prompt"] for e in records[2]["chain"]] == ["a red fox in snow", "make it night"]
    assert records[1]["action"] in ("edit", "generate")
    assert records[0]["mainline_model"] == chat.model
    assert isinstance(third.images[0], Image.Image)
    assert third.paths[0].is_file()
    bodies = [e.params for e in turns_sent(emulator)]
    assert [b.get("previous_response_id") for b in bodies] == [None, records[0]["response_id"],
                                                                records[1]["response_id"]]

    history = iw.History(tmp_path / "out")
    thread = history.filter(thread=chat.thread)
    assert [s.record["prompt"] for s in thread] == ["a red fox in snow", "make it night", "add a lantern"]
    assert len(history.filter(call="refine", search="lantern")) == 1
    assert "chat.send('make it night')" in third.code
    assert "add a lantern" in third.code
    assert records[1]["response_id"] in third.code


def test_a_branch_continues_from_an_earlier_turn_in_a_new_thread(emulator: Emulator, tmp_path: Path) -> None:
    chat = iw.Chat(**chat_kw(emulator, tmp_path))
    first = chat.send("a red fox in snow")
    chat.send("make it night")
    autumn = chat.branch(first)
    result = autumn.send("make it autumn")

    record = result.record
    assert autumn.thread != chat.thread
    assert record["previous_response_id"] == first.record["response_id"]
    assert record["turn"] == 2
    assert record["thread_parent"] == {"thread": chat.thread, "turn": 1, "response_id": first.record["response_id"]}
    assert [e["prompt"] for e in record["chain"]] == ["a red fox in snow"]
    assert chat.turn == 2  # the original chat is left as it was
    again = autumn.send("add falling leaves").record
    assert again["thread_parent"] is None
    assert again["turn"] == 3
    assert [s.record["turn"] for s in autumn.turns()] == [2, 3]


def test_a_branch_by_response_id_finds_that_turn_in_the_store(emulator: Emulator, tmp_path: Path) -> None:
    chat = iw.Chat(**chat_kw(emulator, tmp_path))
    first = chat.send("a red fox in snow")
    second = chat.send("make it night")
    iw.generate("a plain image beside the thread", base_url=emulator.url, api_key=KEY, store=tmp_path / "out")
    wanted = first.record["response_id"]

    found = iw.History(tmp_path / "out").filter(response_id=wanted)
    assert [s.record["turn"] for s in found] == [1]
    twin = chat.branch(wanted)
    assert twin.response_id == wanted
    assert twin.send("make it autumn").record["previous_response_id"] == wanted
    assert len(iw.History(tmp_path / "out").filter(response_id=second.record["response_id"])) == 1
    frame = iw.History(tmp_path / "out").filter(sort="oldest").to_pandas()  # an export keeps the thread's shape
    turns = frame[frame["call"] == "refine"]
    assert list(turns["turn"]) == [1, 2, 2]
    assert list(turns["previous_response_id"])[1:] == [wanted, wanted]
    assert turns["response_id"].iloc[0] == wanted
    assert frame[frame["call"] == "generate"]["thread"].isna().all()


def test_resume_in_a_new_process_continues_the_right_response(emulator: Emulator, tmp_path: Path) -> None:
    chat = iw.Chat(**chat_kw(emulator, tmp_path))
    chat.send("a red fox in snow")
    last = chat.send("make it night").record
    other = iw.Chat(**chat_kw(emulator, tmp_path))
    other.send("a lighthouse")  # the newest thread now; resume(thread=) must find the fox
    script = (
        "import json, sys, image_widget as iw\n"
        f"chat = iw.Chat.resume({str(tmp_path / 'out')!r}, thread={chat.thread!r}, base_url={emulator.url!r}, "
        f"api_key={KEY!r})\n"
        "r = chat.send('add a lantern')\n"
        "seen = {k: r.record[k] for k in ('previous_response_id', 'thread', 'turn')}\n"
        "seen['options'] = {k: r.record['params'].get(k) for k in ('size', 'quality')}\n"
        "print(json.dumps(seen))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True)
    resumed = json.loads(out.stdout.strip().splitlines()[-1])
    assert resumed == {"previous_response_id": last["response_id"], "thread": chat.thread, "turn": 3,
                       "options": {"size": "1024x1024", "quality": "low"}}  # the thread's options, not the API's


def test_resume_takes_options_given_again_over_the_threads(emulator: Emulator, tmp_path: Path) -> None:
    iw.Chat(**chat_kw(emulator, tmp_path)).send("a red fox in snow")
    resumed = iw.Chat.resume(tmp_path / "out", base_url=emulator.url, api_key=KEY, quality="high")
    assert resumed.options == {"size": "1024x1024", "quality": "high"}


@pytest.mark.parametrize(("call", "param"), [
    (lambda chat, tmp: chat.send("   "), "prompt"),
    (lambda chat, tmp: chat.send("make it blue", mask=mask_png((64, 64), (0, 0, 32, 32))), "mask"),
    (lambda chat, tmp: chat.send("make it blue", n=2), "n"),
    (lambda chat, tmp: chat.send("make it blue", size="13x13"), "size"),
    (lambda chat, tmp: chat.send("x", image=png((256, 256)), mask=mask_png((300, 100), (0, 0, 10, 10))), "mask"),
    (lambda chat, tmp: chat.branch("resp_0123456789abcdef"), "response_id"),
    (lambda chat, tmp: iw.Chat.resume(tmp / "out", thread="thr_nothere"), "thread"),
    (lambda chat, tmp: chat.send("make it blue", action="edit"), "action"),  # nothing to edit yet
])
def test_bad_input_is_refused_before_anything_is_sent(emulator: Emulator, tmp_path: Path, call: Any,
                                                      param: str) -> None:
    chat = iw.Chat(**chat_kw(emulator, tmp_path))
    with pytest.raises((iw.ValidationError, ValueError)) as caught:
        call(chat, tmp_path)
    assert param in str(caught.value)
    assert turns_sent(emulator) == []


def test_a_mask_on_the_current_turn_goes_as_input_image_mask(emulator: Emulator, tmp_path: Path) -> None:
    chat = iw.Chat(**chat_kw(emulator, tmp_path))
    chat.send("a red fox in snow")
    result = chat.send("give it a hat", mask=mask_png((1024, 1024), (300, 0, 700, 300)))
    tool = turns_sent(emulator)[-1].params["tools"][0]
    assert "input_image_mask" in str(tool)
    assert result.record["action"] == "edit"
    assert any(h.startswith("mask:") for h in result.record["input_hashes"])
    with pytest.raises(ValueError, match="mask is 512x300 but the image is 1024x1024"):
        chat.send("and a scarf", mask=mask_png((512, 300), (0, 0, 10, 10)))
    assert len(turns_sent(emulator)) == 2


def test_a_mask_of_another_shape_fits_as_resize_mask_says(emulator: Emulator, tmp_path: Path) -> None:
    """The mask error offers resize_mask='crop' | 'pad' | 'stretch'; a turn takes it as iw.edit does."""
    chat = iw.Chat(**chat_kw(emulator, tmp_path))
    chat.send("a red fox in snow")
    wide = mask_png((300, 100), (120, 20, 180, 80))  # marked in its middle, which crop keeps
    with pytest.raises(ImageInputError, match=r"resize_mask='crop'"):
        chat.send("give it a hat", mask=wide)
    with pytest.warns(ImageInputWarning, match=r"crop|middle"):
        result = chat.send("give it a hat", mask=wide, resize_mask="crop")
    assert result.record["mask_hash"]
    sent = turns_sent(emulator)[-1].params
    assert "input_image_mask" in sent["tools"][0]
    assert "resize_mask" not in json.dumps(sent)  # ours to use, not the API's


def test_streamed_turn_shows_previews(emulator: Emulator, tmp_path: Path) -> None:
    seen: list[int] = []
    chat = iw.Chat(**chat_kw(emulator, tmp_path), partial_images=2)
    result = chat.send("a red fox in snow", on_partial=lambda index, image: seen.append(index))
    assert seen == [0, 1]
    assert result.partials == 2
    assert result.record["response_id"].startswith("resp_")


def test_a_turn_is_priced_before_and_after_with_both_models(emulator: Emulator, tmp_path: Path) -> None:
    chat = iw.Chat(**chat_kw(emulator, tmp_path))
    result = chat.send("a red fox in snow")
    assert result.estimate.usd is not None
    assert result.estimate.usd > 0
    assert chat.model in result.estimate.text
    assert "apidog.com" in result.estimate.text
    assert result.cost.usd is not None
    assert result.cost.usd > 0
    record = result.record
    assert record["mainline_usage"]["input_tokens"] > 0
    assert record["usage"]["output_tokens"] > 0  # the image tool's tokens
    assert record["run_cost_usd"] == pytest.approx(result.cost.usd)


def test_later_turns_are_estimated_from_turns_that_read_an_image(emulator: Emulator, tmp_path: Path) -> None:
    """Turn 2 on reads the image it changes and the whole thread again: its estimate must not be taught by
    turn 1 (no input image), and the mainline part counts the instructions and tool sent with every turn."""
    chat = iw.Chat(**chat_kw(emulator, tmp_path))
    chat.send("a red fox in snow")
    chat.send("make it night")
    iw.Chat(**chat_kw(emulator, tmp_path)).send("a lighthouse")  # another first turn, to teach the wrong kind
    third = chat.send("add a lantern")
    assert third.estimate.usd is not None
    assert third.cost.usd is not None
    assert third.estimate.usd == pytest.approx(third.cost.usd, rel=0.1)
    assert "apidog.com" in third.cost.note  # the mainline part of what it cost says where its price is from


def test_a_server_error_is_not_sent_again(emulator: Emulator, tmp_path: Path) -> None:
    chat = iw.Chat(**chat_kw(emulator, tmp_path), max_retries=3)
    emulator.inject(Fault(status=500))
    with pytest.raises(iw.APIRequestError, match="not sent again"):
        chat.send("a red fox in snow")
    assert len(turns_sent(emulator)) == 1
    assert chat.turn == 0
    assert chat.response_id is None


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize(("kind", "said"), [("truncated_b64", "corrupt"), ("empty_data", "has no image")])
def test_a_broken_image_in_the_answer_is_said_and_not_sent_again(emulator: Emulator, tmp_path: Path, kind: str,
                                                                   said: str, stream: bool) -> None:
    """The emulator's data faults reach a turn too (they were used up and the turn succeeded), streamed or not."""
    chat = iw.Chat(**chat_kw(emulator, tmp_path), max_retries=3)
    emulator.inject(Fault(kind=kind))  # type: ignore[arg-type]
    with pytest.raises(iw.APIRequestError, match=said):
        chat.send("a red fox in snow", **({"partial_images": 1} if stream else {}))
    assert len(turns_sent(emulator)) == 1
    assert chat.turn == 0
    assert chat.send("a red fox in snow").record["turn"] == 1  # the fault was one answer, not the server


def test_a_rate_limit_is_waited_out_and_sent_again(emulator: Emulator, tmp_path: Path) -> None:
    chat = iw.Chat(**chat_kw(emulator, tmp_path), max_retries=2)
    emulator.inject(Fault(status=429, retry_after=0.01))
    result = chat.send("a red fox in snow")
    assert len(turns_sent(emulator)) == 2
    assert result.record["turn"] == 1


def test_a_rate_limit_waits_as_long_as_the_server_asks(emulator: Emulator, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """`retry-after-ms` (OpenAI's header) decides the wait, not our own backoff; the wait itself is recorded,
    not slept."""
    asked = record_sleeps(monkeypatch, rate_limits)
    chat = iw.Chat(**chat_kw(emulator, tmp_path), max_retries=2)
    emulator.inject(Fault(status=429, retry_after_ms=1500))
    chat.send("a red fox in snow")
    assert asked == [1.5]
    assert len(turns_sent(emulator)) == 2


def test_an_unknown_previous_response_is_the_servers_free_400(emulator: Emulator, tmp_path: Path) -> None:
    chat = iw.Chat(**chat_kw(emulator, tmp_path))
    chat.send("a red fox in snow")
    chat.response_id = "resp_doesnotexist"
    with pytest.raises(iw.APIRequestError) as caught:
        chat.send("make it night")
    assert caught.value.param == "previous_response_id"
    assert "not sent again" not in str(caught.value)
    assert "has no response resp_doesnotexist" in str(caught.value)
    assert "nothing was billed" in str(caught.value)
    assert "image=chat.last_path" in str(caught.value)  # the way on


def test_defaults_are_current_models(emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    chat = iw.Chat(**chat_kw(emulator, tmp_path))
    assert (chat.model, chat.image_model) == ("gpt-5.5", "gpt-image-2")
    monkeypatch.setenv("IMAGE_WIDGET_TODAY", "2026-12-12")
    assert iw.Chat(**chat_kw(emulator, tmp_path), model="gpt-5").model == "gpt-5"
    with pytest.raises(iw.ValidationError, match=r"gpt-5.*shut down on 2026-12-11"):
        iw.Chat(**chat_kw(emulator, tmp_path), model="gpt-5").send("a fox")
    assert turns_sent(emulator) == []


def test_a_turn_whose_stream_broke_inside_its_last_event_is_fetched_not_sent_again(
        emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The server finished the turn, the connection closed inside `response.completed`: the finished response is
    read back (GET), saved and paid once — never sent again. This branch had no test (an earlier session's note)."""
    from image_widget.chat.session import RECOVERED_NOTE
    from image_widget.money import classroom

    monkeypatch.setenv(classroom.ENV_VAR, "1")
    classroom.reset()
    emulator.inject(Fault(kind="cut_last_event"))
    chat = iw.Chat(**chat_kw(emulator, tmp_path))
    result = chat.send("a fox in the snow", partial_images=1)
    assert RECOVERED_NOTE in result.notes
    assert len(turns_sent(emulator)) == 1
    assert [e.method for e in emulator.log if "/responses/" in e.path] == ["GET"]
    assert len(result.images) == 1
    assert result.paths[0].exists()
    assert result.cost.usd is not None
    assert classroom.spent() == pytest.approx(result.cost.usd)
    follow = chat.send("now at night")  # the thread goes on from the fetched response
    assert len(follow.images) == 1
