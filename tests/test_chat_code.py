"""A conversation turn's `.code` and `iw.rerun` against the emulator: what they send is what the turn sent.

`.code` replays every earlier turn with its own options, image and mask (they are kept in the next turns'
`chain`); its last line continues the very response the turn continued (a branch by response id, in the
turn's folder). `iw.rerun(turn)` cannot send a turn (the Images calls sit below `iw.Chat`): it refuses before
anything is sent and names the call that sends it again from that response, one request. Records written
before `chain` kept more than the prompts still make code that runs.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

import image_widget as iw
from image_widget.emulator import Emulator
from support.chats import KEY, chat_kw, turns_sent
from support.images import mask_png, png


def shape(entry: Any) -> dict[str, Any]:
    """What a sent turn asked for, without its ids: models, tool options, prompt, the images and mask sent."""
    body = entry.params
    tool = dict(body["tools"][0])
    mask = tool.pop("input_image_mask", None)
    content = body["input"]
    parts = [{"type": "input_text", "text": content}] if isinstance(content, str) else content[0]["content"]
    return {"model": body["model"], "tool": tool, "prompt": [p["text"] for p in parts if p["type"] == "input_text"],
            "images": [p["image_url"] for p in parts if p["type"] == "input_image"],
            "mask": mask and mask["image_url"], "continues": "previous_response_id" in body}


def three_turns(emulator: Emulator, tmp_path: Path) -> list[iw.Result]:
    """Turn 1 with the chat's options; turn 2 with an image and a mask; turn 3 with options of its own."""
    chat = iw.Chat(**chat_kw(emulator, tmp_path))
    first = chat.send("a red fox in snow")
    second = chat.send("put it on this background", image=png((1024, 1024), (200, 10, 10)),
                       mask=mask_png((1024, 1024), (300, 0, 700, 300)))
    third = chat.send("make it night", size="1536x1024", quality="high")
    return [first, second, third]


def run_code(code: str, emulator: Emulator, monkeypatch: pytest.MonkeyPatch, where: Path) -> dict[str, Any]:
    """Execute printed code as a person would paste it: a fresh folder, the key and server from the environment."""
    where.mkdir(parents=True, exist_ok=True)
    monkeypatch.chdir(where)
    monkeypatch.setenv("OPENAI_BASE_URL", emulator.url)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("IMAGE_WIDGET_DIR", str(where / "replayed"))
    scope: dict[str, Any] = {"iw": iw}
    exec(code, scope)
    return scope


def test_code_of_a_turn_replays_each_earlier_turn_as_it_was_sent(emulator: Emulator, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    turns = three_turns(emulator, tmp_path)
    chain = turns[2].record["chain"]
    assert [e["prompt"] for e in chain] == ["a red fox in snow", "put it on this background"]
    assert chain[0]["options"] == {"size": "1024x1024", "quality": "low"}
    assert "image" not in chain[0]
    assert "mask" not in chain[0]
    assert chain[1]["image"]
    assert chain[1]["mask"] == turns[1].record["mask_hash"]
    original = [shape(e) for e in turns_sent(emulator)]

    code = turns[2].code
    assert "size='1536x1024', quality='high'" in code
    run_code(code, emulator, monkeypatch, tmp_path / "elsewhere")

    replayed = turns_sent(emulator)[3:]
    assert [shape(e) for e in replayed] == original  # each turn's options, image and mask, in order
    ids = [e.params.get("previous_response_id") for e in replayed]
    assert ids[0] is None
    assert all(ids[1:])


def test_the_last_line_sends_the_turn_again_from_the_response_it_continued(
        emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    turns = three_turns(emulator, tmp_path)
    hint = turns[1].code.splitlines()[-1]
    assert hint.startswith("# result = iw.Chat(folder=")
    assert f".branch({turns[0].record['response_id']!r})" in hint
    sent = len(turns_sent(emulator))

    scope = run_code(hint.removeprefix("# "), emulator, monkeypatch, tmp_path / "elsewhere")

    again = turns_sent(emulator)[sent:]
    assert len(again) == 1
    assert again[0].params["previous_response_id"] == turns[0].record["response_id"]  # not the thread's latest
    assert shape(again[0]) == shape(turns_sent(emulator)[1])
    assert scope["result"].record["thread_parent"]["response_id"] == turns[0].record["response_id"]
    assert scope["result"].paths[0].parent == tmp_path / "out"  # the turn's folder, named in the hint


def test_an_older_record_with_a_chain_of_prompts_still_makes_code_that_runs(
        emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    chat = iw.Chat(**chat_kw(emulator, tmp_path))
    chat.send("a red fox in snow")
    record = {**chat.send("make it night").record, "chain": ["a red fox in snow"]}  # as records were written

    code = iw.reproduce_code(record)
    lines = code.splitlines()
    assert lines[0] == "chat = iw.Chat(model='gpt-5.5', image_model='gpt-image-2', size='1024x1024', quality='low')"
    assert "an older record" in lines[1]
    assert lines[2:4] == ["chat.send('a red fox in snow')", "result = chat.send('make it night')"]
    run_code(code, emulator, monkeypatch, tmp_path / "elsewhere")
    assert [shape(e) for e in turns_sent(emulator)[2:]] == [shape(e) for e in turns_sent(emulator)[:2]]

    later = chat.branch(record).send("add a lantern").record  # a chat goes on from an older record
    assert later["chain"][0] == "a red fox in snow"
    assert later["chain"][1]["prompt"] == "make it night"
    assert "chat.send('make it night')" in iw.reproduce_code(later)


def refused_rerun(record: dict[str, Any], emulator: Emulator) -> str:
    """`iw.rerun(record)` of a turn: refused before anything is sent, with the call that sends it again."""
    before = len(emulator.log)
    with pytest.raises(iw.ValidationError, match=r"conversation turn|call 'refine'") as caught:
        iw.rerun(record, base_url=emulator.url, api_key=KEY)
    assert len(emulator.log) == before  # nothing sent, nothing billed
    message = str(caught.value)
    assert record["id"] in message
    return message


def suggested_call(message: str) -> str:
    """The call the refusal names (after "(one request…): ", before " — ")."""
    found = re.search(r"\(one request[^)]*\): (.+?) — ", message)
    assert found, message
    return found[1]


def test_rerun_of_a_later_turn_names_the_call_that_sends_it_again_from_its_response(
        emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    turns = three_turns(emulator, tmp_path)
    message = refused_rerun(turns[1].record, emulator)
    call = suggested_call(message)
    assert f".branch({turns[0].record['response_id']!r})" in call
    sent = len(turns_sent(emulator))
    before = len(emulator.log)

    scope = run_code(f"result = {call}", emulator, monkeypatch, tmp_path / "elsewhere")

    assert len(emulator.log) == before + 1  # money is real: one request
    again = turns_sent(emulator)[sent]
    assert again.params["previous_response_id"] == turns[0].record["response_id"]
    assert shape(again) == shape(turns_sent(emulator)[1])  # the same image and mask, the same options
    assert scope["result"].record["turn"] == 2


def test_rerun_of_a_first_turn_names_a_new_chat_and_takes_an_id(emulator: Emulator, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    first = iw.Chat(**chat_kw(emulator, tmp_path)).send("a red fox in snow")
    before = len(emulator.log)
    with pytest.raises(iw.ValidationError, match=first.record["id"]) as caught:
        iw.rerun(first.record["id"], store=tmp_path / "out", base_url=emulator.url, api_key=KEY)
    assert len(emulator.log) == before
    call = suggested_call(str(caught.value))
    assert ".branch(" not in call

    run_code(f"result = {call}", emulator, monkeypatch, tmp_path / "elsewhere")

    assert len(emulator.log) == before + 1
    assert shape(turns_sent(emulator)[-1]) == shape(turns_sent(emulator)[0])
