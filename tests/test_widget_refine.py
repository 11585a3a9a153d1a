"""The widget's refine box, kernel side (issue 20, item 5): turns continue the conversation shown, a click
on an earlier turn makes the next one branch, a mask painted on the turn goes as `input_image_mask`, one
turn runs at a time, and a new widget on the folder shows the strip again (read from the store)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from image_widget import ImageWidget
from image_widget.emulator import Emulator
from image_widget.widget.jobs import JobBusyError
from support import waiting
from support.images import mask_png

KEY = "sk-test"


@pytest.fixture
def widget(emulator: Emulator, tmp_path: Path) -> Iterator[ImageWidget]:
    w = ImageWidget(base_url=emulator.url, api_key=KEY, folder=tmp_path / "out", size="1024x1024", quality="low")
    sent: list[dict[str, Any]] = []
    w.comm.send = lambda data=None, metadata=None, buffers=None: sent.append(data or {})  # type: ignore[method-assign]
    w.sent = sent  # type: ignore[attr-defined]
    yield w
    w.close()


def turns_sent(emulator: Emulator) -> list[Any]:
    return [e for e in emulator.log if e.method == "POST" and e.path.rstrip("/").endswith("/responses")]


def strip(w: ImageWidget) -> list[tuple[int, str]]:
    return [(t["turn"], t["prompt"]) for t in w.conversation["turns"]]


def test_turns_continue_and_a_click_on_an_earlier_turn_branches(widget: ImageWidget, emulator: Emulator) -> None:
    first = widget.refine("a red fox in snow")
    second = widget.refine("make it night")
    assert strip(widget) == [(1, "a red fox in snow"), (2, "make it night")]
    assert second.record["previous_response_id"] == first.record["response_id"]
    assert widget.conversation["selected"] == widget.conversation["turns"][-1]["id"]
    assert widget.results[0]["id"] == second.record["id"]  # shown like any run
    assert widget.conversation["turns"][0]["thumb"][:2] in (b"\xff\xd8", b"\x89P")

    widget._handle_custom_msg({"type": "refine_select", "id": first.record["id"]}, [])
    assert widget.conversation["selected"] == first.record["id"]
    autumn = widget.refine("make it autumn")
    assert autumn.record["previous_response_id"] == first.record["response_id"]
    assert autumn.record["thread"] != first.record["thread"]
    assert strip(widget) == [(1, "a red fox in snow"), (2, "make it autumn")]
    assert len(turns_sent(emulator)) == 3


def test_each_turn_makes_only_its_own_strip_thumbnail(widget: ImageWidget, monkeypatch: pytest.MonkeyPatch) -> None:
    """The strip keeps the thumbnails it shows: turn k does not decode the k-1 turns before it again."""
    import image_widget.images as images

    made: list[int] = []
    real = images.thumbnail_bytes

    def counting(source: Any, px: int) -> bytes:
        made.append(px)
        return real(source, px)

    monkeypatch.setattr(images, "thumbnail_bytes", counting)
    per_turn = []
    for prompt in ("a red fox in snow", "make it night", "add a lantern", "add an owl"):
        before = len(made)
        widget.refine(prompt)
        per_turn.append(len(made) - before)
    assert per_turn[1:] == [per_turn[0]] * 3, per_turn  # turn 4 costs what turn 1 did (was 3, 4, 5, 6)
    assert [t["thumb"][:2] in (b"\xff\xd8", b"\x89P") for t in widget.conversation["turns"]] == [True] * 4


def test_the_first_turn_refines_the_current_result(widget: ImageWidget, emulator: Emulator) -> None:
    made = widget.generate("a lighthouse")
    turn = widget.refine("make it stormy")
    assert turn.record["turn"] == 1
    assert turn.record["action"] == "edit"
    body = turns_sent(emulator)[-1].params
    assert "input_image" in str(body.get("input")) or body.get("images")  # the result went in as the image
    assert made.paths[0].is_file()


def test_a_mask_painted_on_the_turn_goes_as_input_image_mask(widget: ImageWidget, emulator: Emulator) -> None:
    first = widget.refine("a red fox in snow")
    widget._handle_custom_msg({"type": "use_as_input", "id": first.record["id"], "role": "edit"}, [])
    widget.mask = mask_png((1024, 1024), (300, 0, 700, 300))
    hat = widget.refine("give it a hat")
    assert any(h.startswith("mask:") for h in hat.record["input_hashes"])
    assert "input_image_mask" in str(turns_sent(emulator)[-1].params.get("tools"))


def test_one_turn_at_a_time(widget: ImageWidget, emulator: Emulator) -> None:
    emulator.configure(latency_s=1.0)
    job = widget._conversation.start("a red fox in snow")
    assert job is not None
    with pytest.raises(JobBusyError):
        widget.refine("make it night")
    widget._handle_custom_msg({"type": "refine", "prompt": "make it night"}, [])  # a second click
    job.wait(30)
    assert len(turns_sent(emulator)) == 1


def test_bad_turns_are_refused_before_anything_is_sent(widget: ImageWidget, emulator: Emulator) -> None:
    widget._handle_custom_msg({"type": "refine", "prompt": "   "}, [])
    notices = [m["content"]["message"] for m in widget.sent  # type: ignore[attr-defined]
               if isinstance(m.get("content"), dict) and m["content"].get("type") == "notice"]
    assert any("prompt" in n for n in notices)
    assert turns_sent(emulator) == []


def test_a_new_widget_on_the_folder_shows_the_strip_again(widget: ImageWidget, emulator: Emulator) -> None:
    widget.refine("a red fox in snow")
    widget.refine("make it night")
    again = ImageWidget(base_url=emulator.url, api_key=KEY, folder=widget.folder)
    try:
        waiting.wait_until(lambda: bool(again.conversation["turns"]), "the strip to load from the store", 20)
        assert strip(again) == strip(widget)
        result = again.refine("add a lantern")
        assert result.record["turn"] == 3
        assert result.record["thread"] == widget.conversation["thread"]
    finally:
        again.close()
