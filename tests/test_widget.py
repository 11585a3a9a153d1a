"""ImageWidget without a browser: traits stand in for the front end's writes, messages go straight to
the handler, and the real emulator answers (nothing mocks the SDK).

Background jobs are awaited with `Job.wait` / bounded polls on the emulator's log, never with sleeps.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from ipywidgets.widgets.widget import _remove_buffers
from PIL import Image

from image_widget.client.api import Result
from image_widget.emulator import Emulator, Fault
from image_widget.facts import capabilities
from image_widget.store import History
from image_widget.widget import ImageWidget
from image_widget.widget.jobs import BUSY_MESSAGE, JobBusyError, JobCancelledError, JobRunner
from image_widget.widget.options import OPTION_KEYS
from support import waiting
from support.held import held
from support.images import decode, jpeg, mask_png, png

KEY = "sk-test-WIDGETSECRET0123456789"
WAIT_S = 30.0


# ------------------------------------------------------------------------------------------- helpers


class Sent:
    """Everything the widget sends through its comm: state updates and custom messages."""

    def __init__(self) -> None:
        self.messages: list[tuple[dict[str, Any], list[bytes]]] = []
        self._lock = threading.Lock()

    def __call__(self, data: Any = None, metadata: Any = None, buffers: Any = None) -> None:
        with self._lock:
            self.messages.append((data or {}, [bytes(b) for b in buffers or []]))

    def custom(self, kind: str | None = None) -> list[tuple[dict[str, Any], list[bytes]]]:
        with self._lock:
            found = [(m["content"], b) for m, b in self.messages if m.get("method") == "custom"]
        return [(c, b) for c, b in found if kind is None or c.get("type") == kind]

    def notices(self) -> list[str]:
        return [c["message"] for c, _ in self.custom("notice")]


@pytest.fixture
def make_widget(emulator: Emulator, tmp_path: Path) -> Iterator[Callable[..., tuple[ImageWidget, Sent]]]:
    made: list[ImageWidget] = []

    def make(**kwargs: Any) -> tuple[ImageWidget, Sent]:
        kwargs.setdefault("base_url", emulator.url)
        kwargs.setdefault("api_key", KEY)
        kwargs.setdefault("folder", tmp_path / "out")
        widget = ImageWidget(**kwargs)
        sent = Sent()
        widget.comm.send = sent  # every state update and custom message goes through here
        made.append(widget)
        return widget, sent

    yield make
    for widget in made:
        widget.close()


def msg(widget: ImageWidget, content: dict[str, Any], buffers: list[bytes] | None = None) -> None:
    """What a front-end `model.send(content, buffers)` turns into on the kernel side."""
    widget._handle_custom_msg(content, buffers or [])


def finish(widget: ImageWidget) -> None:
    assert widget.wait(WAIT_S), "the background job did not finish in time"


def wait_until(check: Callable[[], bool], what: str, timeout: float = WAIT_S) -> None:
    """Bounded poll for state owned by another thread or process (e.g. the emulator's log)."""
    waiting.wait_until(check, what, timeout)


def image_requests(emulator: Emulator) -> list[Any]:
    return [entry for entry in emulator.log if entry.endpoint is not None]


# ------------------------------------------------------------------------------------------- construction


def test_unknown_keyword_is_a_clear_type_error(tmp_path: Path) -> None:
    with pytest.raises(TypeError) as info:
        ImageWidget(folder=tmp_path, api_key=KEY, colour="red")  # type: ignore[arg-type]
    text = str(info.value)
    assert "colour" in text
    for accepted in ("client", "base_url", "api_key", "folder", "prompt", "model", "partial_images"):
        assert accepted in text


def test_initial_state_follows_the_protocol(make_widget: Callable[..., tuple[ImageWidget, Sent]]) -> None:
    w, _ = make_widget(n=2, prompt="a fox", size="1536x1024")
    assert set(w.options) == set(OPTION_KEYS)
    assert w.options["n"] == 2
    assert w.options["prompt"] == "a fox"
    assert w.options["size"] == "1536x1024"
    assert w.options["model"] == capabilities.DEFAULT_MODEL
    assert w.models[: len(capabilities.current_models())] == capabilities.current_models()
    assert w.capabilities == capabilities.describe(capabilities.DEFAULT_MODEL)
    assert w.problems == {}
    assert w.status["state"] == "idle"
    assert w.error == {}
    assert w.results == []
    assert w.inputs == []
    assert w.mask is None
    assert w.mask_base == b""
    assert set(w.backend) == {"kind", "label", "synthetic"}
    assert w.cost["estimate_usd"] == pytest.approx(0.010)  # 2 x low 1536x1024 of gpt-image-2
    assert isinstance(w.history, History)
    assert w.images == []


def test_no_key_means_the_offline_emulator(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    w = ImageWidget(folder=tmp_path)
    try:
        assert w.backend == {"kind": "emulator", "label": "Offline emulator — images are synthetic",
                             "synthetic": True}
    finally:
        w.close()


def test_secrets_never_reach_the_state(make_widget: Callable[..., tuple[ImageWidget, Sent]]) -> None:
    w, _ = make_widget()
    state, _paths, buffers = _remove_buffers(w.get_state())
    text = json.dumps(state)
    assert KEY not in text
    assert "base_url" not in text
    assert all(KEY.encode() not in bytes(b) for b in buffers)
    assert KEY not in repr(w)


# ------------------------------------------------------------------------------------------- validation


def test_bad_options_show_problems_and_send_nothing(
        make_widget: Callable[..., tuple[ImageWidget, Sent]], emulator: Emulator) -> None:
    w, _sent = make_widget(prompt="a fox")
    w.options = {**w.options, "n": 42, "size": "999x999", "output_compression": 50}
    assert set(w.problems) >= {"n", "size", "output_compression"}
    assert "1 to 10" in w.problems["n"]
    msg(w, {"type": "generate"})
    assert w.status["state"] == "error"
    assert w.error["code"] == "invalid_options"
    # Issue 14 item 9: the banner speaks the form's words (was: "n=42"); ValidationError keeps its text.
    assert "you asked for 42" in w.error["message"]
    with pytest.raises(capabilities.ValidationError, match="n=42 is out of range"):
        w.generate()
    assert image_requests(emulator) == []
    assert w.running is False
    # Fixing the options clears the problems (live, on every change) and the refusal's banner.
    w.options = {**w.options, "n": 1, "size": "1024x1024", "output_compression": None}
    assert w.problems == {}
    assert w.error == {}
    assert w.status["state"] == "idle"


def test_empty_prompt_is_a_problem(make_widget: Callable[..., tuple[ImageWidget, Sent]]) -> None:
    w, _ = make_widget()
    assert "prompt" in w.problems
    w.options = {**w.options, "prompt": "a cat"}
    assert w.problems == {}


def test_partial_front_end_write_keeps_the_other_options(
        make_widget: Callable[..., tuple[ImageWidget, Sent]]) -> None:
    w, _ = make_widget(n=3)
    w.options = {"prompt": "a boat"}  # a host that writes only what changed
    assert w.options["n"] == 3
    assert w.options["prompt"] == "a boat"
    assert set(w.options) == set(OPTION_KEYS)


def test_model_change_updates_capabilities_and_clamps_options(
        make_widget: Callable[..., tuple[ImageWidget, Sent]]) -> None:
    w, _ = make_widget(prompt="x", model="gpt-image-2.5-sunburst", quality="xhigh", size="2048x1152")
    assert w.problems == {}
    w.options = {**w.options, "model": "gpt-image-1-mini"}
    assert w.capabilities["model"] == "gpt-image-1-mini"
    assert w.options["quality"] == "low"  # xhigh does not exist on mini
    assert w.options["size"] == "1024x1024"  # no custom sizes on mini
    assert w.problems == {}
    w.options = {**w.options, "model": "gpt-image-1.5", "input_fidelity": "high"}
    assert w.options["input_fidelity"] == "high"
    w.options = {**w.options, "model": "gpt-image-2"}
    assert w.options["input_fidelity"] is None  # gpt-image-2 takes no input_fidelity


def test_retired_model_is_a_problem(make_widget: Callable[..., tuple[ImageWidget, Sent]]) -> None:
    w, _ = make_widget(prompt="x")
    w.options = {**w.options, "model": "dall-e-3"}
    assert "model" in w.problems
    assert "retired" in w.problems["model"]


def test_edit_without_inputs_is_a_problem(make_widget: Callable[..., tuple[ImageWidget, Sent]]) -> None:
    w, _ = make_widget(prompt="x", mode="edit")
    assert "image" in w.problems


# ------------------------------------------------------------------------------------------- generate


def test_generate_message_runs_in_the_background(
        make_widget: Callable[..., tuple[ImageWidget, Sent]], emulator: Emulator) -> None:
    w, _ = make_widget(prompt="a red fox", n=2)
    states: list[str] = []
    w.observe(lambda change: states.append(change["new"]["state"]), "status")
    with held(emulator):
        msg(w, {"type": "generate"})
        # The handler returned while the request is still in the emulator (held there): the kernel is free.
        assert w.running
        wait_until(lambda: [r.params.get("n") for r in image_requests(emulator)] == [2],
                   "one request, for n=2, to reach the emulator")
        assert w.running
    finish(w)
    assert states[0] == "running"
    assert states[-1] == "done"
    assert w.status["started_ms"] > 0
    assert w.error == {}
    assert len(w.results) == 2
    for item in w.results:
        assert item["width"] == 1024
        assert item["height"] == 1024
        assert item["format"] == "png"
        assert item["prompt"] == "a red fox"
        assert isinstance(item["thumb"], bytes)
        assert max(decode(item["thumb"]).size) <= 160
        assert item["code"] == ("iw.generate('a red fox', model='gpt-image-2', size='1024x1024', "
                                "quality='low', n=2)")
    files = sorted(p.name for p in w.folder.glob("*.png"))
    assert len(files) == 2
    assert [img.size for img in w.images] == [(1024, 1024), (1024, 1024)]
    assert w.cost["last_usd"] is not None
    assert w.cost["session_usd"] == pytest.approx(w.cost["last_usd"])
    history = w.get_state("history")["history"]
    assert history[0]["prompt"] == "a red fox"
    assert [i["id"] for i in history[0]["items"]] == [r["id"] for r in w.results]
    assert all(max(decode(i["thumb"]).size) <= 96 for i in history[0]["items"])
    assert len(w.history) == 2
    assert image_requests(emulator) == []  # (the release cleared the log) nothing was sent after that one


def test_generate_message_may_carry_the_options(
        make_widget: Callable[..., tuple[ImageWidget, Sent]], emulator: Emulator) -> None:
    """A front end can send its options with `generate`, so a held-back state update cannot lose them."""
    w, _ = make_widget()
    msg(w, {"type": "generate", "options": {**w.options, "prompt": "typed just now", "n": 2}})
    finish(w)
    assert w.status["state"] == "done"
    assert w.options["prompt"] == "typed just now"
    assert image_requests(emulator)[-1].params["n"] == 2


def test_generate_from_python_blocks_and_returns_the_result(
        make_widget: Callable[..., tuple[ImageWidget, Sent]]) -> None:
    w, _ = make_widget()
    result = w.generate("a lighthouse", n=1, quality="medium")
    assert isinstance(result, Result)
    assert w.options["prompt"] == "a lighthouse"
    assert w.options["quality"] == "medium"
    assert w.status["state"] == "done"
    assert result.paths[0].exists()
    assert w.results[0]["id"] == result.records[0]["id"]
    with pytest.raises(TypeError, match="colour"):
        w.generate(colour="red")


def test_images_work_without_the_result_object(make_widget: Callable[..., tuple[ImageWidget, Sent]]) -> None:
    w, _ = make_widget(prompt="a tree", n=2, size="1536x1024")
    w.generate()
    images = w.images
    assert len(images) == 2
    assert all(isinstance(img, Image.Image) and img.size == (1536, 1024) for img in images)


def test_partial_previews_reach_the_preview_trait(
        make_widget: Callable[..., tuple[ImageWidget, Sent]]) -> None:
    w, _ = make_widget(prompt="a comet", partial_images=2)
    previews: list[bytes] = []
    w.observe(lambda change: previews.append(change["new"]) if change["new"] else None, "preview")
    w.generate()
    assert len(previews) >= 1
    assert all(max(decode(p).size) <= 512 for p in previews)
    assert w.preview == b""  # cleared once the run is over
    assert w.status["state"] == "done"


def test_second_generate_while_running_sends_a_notice(
        make_widget: Callable[..., tuple[ImageWidget, Sent]], emulator: Emulator) -> None:
    w, sent = make_widget(prompt="a bridge")
    with held(emulator):  # the first run stays in flight while the second is asked for
        msg(w, {"type": "generate"})
        msg(w, {"type": "generate"})
        assert BUSY_MESSAGE in sent.notices()
        with pytest.raises(JobBusyError):
            w.generate()
        wait_until(lambda: emulator.in_flight == 1, "the first run's request to reach the emulator")
        assert len(image_requests(emulator)) == 1
    finish(w)
    assert w.status["state"] == "done"
    assert image_requests(emulator) == []  # (the release cleared the log) nothing was sent after the first


def test_cancel_abandons_the_request(
        make_widget: Callable[..., tuple[ImageWidget, Sent]], emulator: Emulator) -> None:
    emulator.configure(latency_s=20.0)
    w, _ = make_widget(prompt="a slow snail")
    msg(w, {"type": "generate"})
    wait_until(lambda: emulator.in_flight == 1, "the request to reach the emulator")
    assert w.status["state"] == "running"
    msg(w, {"type": "cancel"})
    assert w.wait(5.0), "cancel did not end the job promptly"
    assert w.status["state"] == "cancelled"
    assert w.results == []
    assert list(w.folder.glob("*.png")) == []
    # A new run works after a cancel.
    emulator.configure(latency_s=0.0)
    w.generate()
    assert w.status["state"] == "done"


def test_cancel_when_idle_says_so(make_widget: Callable[..., tuple[ImageWidget, Sent]]) -> None:
    w, sent = make_widget()
    msg(w, {"type": "cancel"})
    assert sent.notices() == ["Nothing is running."]


def test_cancelled_python_generate_raises(
        make_widget: Callable[..., tuple[ImageWidget, Sent]], emulator: Emulator) -> None:
    emulator.configure(latency_s=20.0)
    w, _ = make_widget(prompt="x")
    outcome: list[BaseException] = []

    def call() -> None:
        try:
            w.generate()
        except BaseException as exc:  # noqa: BLE001
            outcome.append(exc)

    caller = threading.Thread(target=call)
    caller.start()
    wait_until(lambda: emulator.in_flight == 1, "the request to reach the emulator")
    assert w.cancel()
    caller.join(10)
    assert not caller.is_alive()
    assert isinstance(outcome[0], JobCancelledError)


# ------------------------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("fault", "title", "hint_part"),
    [
        (Fault.unverified(), "Organisation not verified", "platform.openai.com/settings/organization/general"),
        (Fault.moderation_blocked(), "Blocked by moderation", "Rephrase"),
        (Fault.rate_limit(retry_after=0), "Rate limited", "may be billed"),
        (Fault(status=400, param="size", message="Invalid size."), "Invalid request", "'size'"),
        (Fault.server_error(), "Server error", "try again"),
    ],
)
def test_api_errors_become_an_actionable_banner(
        make_widget: Callable[..., tuple[ImageWidget, Sent]], emulator: Emulator,
        fault: Fault, title: str, hint_part: str) -> None:
    w, _ = make_widget(prompt="a fox", max_retries=0)
    emulator.inject(fault)
    msg(w, {"type": "generate"})
    finish(w)
    assert w.status["state"] == "error"
    assert w.error["title"] == title
    assert hint_part in w.error["hint"]
    assert w.error["status"] == fault.status
    assert w.error["message"]
    assert w.results == []


def test_python_generate_raises_the_api_error(
        make_widget: Callable[..., tuple[ImageWidget, Sent]], emulator: Emulator) -> None:
    from image_widget.base.errors import APIRequestError

    w, _ = make_widget(prompt="a fox", max_retries=0)
    emulator.inject(Fault.unverified())
    with pytest.raises(APIRequestError):
        w.generate()
    assert w.error["title"] == "Organisation not verified"


def test_the_key_is_scrubbed_from_errors_and_every_message(
        make_widget: Callable[..., tuple[ImageWidget, Sent]], emulator: Emulator) -> None:
    w, sent = make_widget(prompt="a fox", max_retries=0)
    emulator.inject(Fault(status=401, message=f"Incorrect API key provided: {KEY}. Also sk-otherkey12345678."))
    msg(w, {"type": "generate"})
    finish(w)
    assert w.error["title"] == "Authentication failed"
    state, _paths, buffers = _remove_buffers(w.get_state())
    everything = json.dumps(state) + json.dumps([m for m, _ in sent.messages], default=str)
    assert KEY not in everything
    assert "sk-otherkey12345678" not in everything
    assert all(KEY.encode() not in b for _, bufs in sent.messages for b in bufs)
    assert all(KEY.encode() not in bytes(b) for b in buffers)


# ------------------------------------------------------------------------------------------- inputs, mask


def test_add_inputs_normalises_and_sets_the_mask_base(
        make_widget: Callable[..., tuple[ImageWidget, Sent]]) -> None:
    w, _ = make_widget(prompt="add a hat")
    msg(w, {"type": "add_inputs", "names": ["photo.png", "ref.jpg"]}, [png((800, 600)), jpeg((640, 480))])
    assert [i["name"] for i in w.inputs] == ["photo.png", "ref.jpg"]
    assert [(i["width"], i["height"]) for i in w.inputs] == [(800, 600), (640, 480)]
    assert all(max(decode(i["thumb"]).size) <= 160 for i in w.inputs)
    assert decode(w.mask_base).size == (800, 600)
    assert w.options["mode"] == "edit"  # the first input switches generate to edit
    assert w.problems == {}
    # Move the second to the front: it becomes the mask base.
    second = w.inputs[1]["id"]
    msg(w, {"type": "move_input", "id": second, "to": 0})
    assert w.inputs[0]["id"] == second
    assert decode(w.mask_base).size == (640, 480)
    msg(w, {"type": "remove_input", "id": second})
    assert [i["name"] for i in w.inputs] == ["photo.png"]
    assert decode(w.mask_base).size == (800, 600)
    msg(w, {"type": "remove_input", "id": w.inputs[0]["id"]})
    assert w.inputs == []
    assert w.mask_base == b""
    # Issue 14 item 5: with the last input gone, edit turns back into generate (was: an "image" problem).
    assert w.options["mode"] == "generate"
    assert "image" not in w.problems


def test_bad_upload_is_a_notice(make_widget: Callable[..., tuple[ImageWidget, Sent]]) -> None:
    w, sent = make_widget()
    msg(w, {"type": "add_inputs", "names": ["notes.txt"]}, [b"hello, not an image"])
    assert w.inputs == []
    assert any("notes.txt" in text for text in sent.notices())


def test_too_many_inputs_is_a_notice(make_widget: Callable[..., tuple[ImageWidget, Sent]]) -> None:
    w, sent = make_widget()
    limit = w.capabilities["max_input_images"]
    small = png((32, 32))
    msg(w, {"type": "add_inputs", "names": [f"{i}.png" for i in range(limit + 2)]}, [small] * (limit + 2))
    assert len(w.inputs) == limit
    assert any(f"at most {limit}" in text for text in sent.notices())


def test_chunked_upload_is_reassembled(make_widget: Callable[..., tuple[ImageWidget, Sent]]) -> None:
    w, _ = make_widget()
    data = png((700, 500))
    parts = [data[i:i + 4096] for i in range(0, len(data), 4096)]
    for index in reversed(range(len(parts))):  # order of arrival does not matter
        msg(w, {"type": "add_input_chunk", "upload_id": "u1", "index": index, "total": len(parts),
                "name": "big.png"}, [parts[index]])
    assert [(i["name"], i["width"], i["height"]) for i in w.inputs] == [("big.png", 700, 500)]


def test_mask_trait_takes_png_bytes_and_gives_pil(make_widget: Callable[..., tuple[ImageWidget, Sent]]) -> None:
    w, _ = make_widget(prompt="x")
    msg(w, {"type": "add_inputs", "names": ["a.png"]}, [png((64, 48))])
    data = mask_png((64, 48), (10, 10, 20, 30))
    w.mask = data
    assert isinstance(w.mask, Image.Image)
    assert w.mask.mode == "RGBA"
    assert w.mask.size == (64, 48)
    alpha = np.asarray(w.mask.getchannel("A"))
    assert (alpha[10:30, 10:20] == 0).all()
    assert alpha.sum() == 255 * (64 * 48 - 20 * 10)
    assert w.get_state("mask")["mask"] == data  # the browser's exact bytes go back out
    w.mask = memoryview(b"")  # what a front end writes to clear it
    assert w.mask is None
    # From Python: a bool array (True = edit) is turned into the same kind of mask.
    edit = np.zeros((48, 64), dtype=bool)
    edit[:5, :5] = True
    w.mask = edit
    assert np.asarray(w.mask.getchannel("A"))[:5, :5].max() == 0


def test_wrong_size_mask_is_a_problem(make_widget: Callable[..., tuple[ImageWidget, Sent]]) -> None:
    w, _ = make_widget(prompt="x")
    msg(w, {"type": "add_inputs", "names": ["a.png"]}, [png((64, 48))])
    w.mask = mask_png((32, 32), (0, 0, 8, 8))
    assert "mask" in w.problems


def test_edit_sends_the_painted_mask(make_widget: Callable[..., tuple[ImageWidget, Sent]],
                                     emulator: Emulator) -> None:
    w, _ = make_widget(prompt="paint it")
    source = png((1024, 1024))
    msg(w, {"type": "add_inputs", "names": ["base.png"]}, [source])
    box = (100, 200, 300, 260)
    w.mask = mask_png((1024, 1024), box)
    msg(w, {"type": "generate"})
    finish(w)
    assert w.status["state"] == "done", w.error
    request = image_requests(emulator)[-1]
    assert request.endpoint == "edit"
    assert "mask" in request.params
    before = np.asarray(decode(source).convert("RGB")).astype(int)
    after = np.asarray(w.images[0].convert("RGB")).astype(int)
    inside = np.zeros(before.shape[:2], dtype=bool)
    inside[box[1]:box[3], box[0]:box[2]] = True
    feathered = np.zeros(before.shape[:2], dtype=bool)  # the mask plus the feather (8 px by default)
    feathered[box[1] - 8:box[3] + 8, box[0] - 8:box[2] + 8] = True
    assert (before[~feathered] == after[~feathered]).all()  # pixels outside mask+feather are held
    assert (np.abs(before[inside] - after[inside]).sum(axis=-1) > 0).mean() > 0.9
    code = w.results[0]["code"]
    assert code.startswith("iw.edit(")
    assert "mask=" in code
    # The call names the exact input and mask files, kept in the store by content hash.
    named = [p for p in (w.folder / "inputs").iterdir() if p.name in code]
    assert len(named) == 2
    assert source in [p.read_bytes() for p in named]


def test_edit_without_paint_sends_no_mask(make_widget: Callable[..., tuple[ImageWidget, Sent]],
                                          emulator: Emulator) -> None:
    w, _ = make_widget(prompt="paint it")
    msg(w, {"type": "add_inputs", "names": ["base.png"]}, [png((256, 256))])
    w.mask = mask_png((256, 256), (0, 0, 0, 0))  # all opaque: nothing to edit
    w.generate()
    request = image_requests(emulator)[-1]
    assert request.endpoint == "edit"
    assert "mask" not in request.params


def test_variation_goes_through_edit(make_widget: Callable[..., tuple[ImageWidget, Sent]],
                                     emulator: Emulator) -> None:
    w, _ = make_widget(mode="variation")
    msg(w, {"type": "add_inputs", "names": ["base.png"]}, [png((256, 256))])
    assert w.options["mode"] == "variation"
    assert w.problems == {}
    w.generate()
    assert image_requests(emulator)[-1].endpoint == "edit"
    assert w.results[0]["code"].startswith("iw.vary(")


def test_fetch_image_replies_with_the_file(make_widget: Callable[..., tuple[ImageWidget, Sent]]) -> None:
    w, sent = make_widget(prompt="a fox")
    w.generate()
    image_id = w.results[0]["id"]
    msg(w, {"type": "fetch_image", "id": image_id, "request_id": "r1"})
    (reply, buffers), = sent.custom("image")
    assert reply == {"type": "image", "id": image_id, "request_id": "r1", "mime": "image/png"}
    assert buffers == [(w.folder / f"{image_id}.png").read_bytes()]
    msg(w, {"type": "fetch_image", "id": "nope", "request_id": "r2"})
    reply2, buffers2 = sent.custom("image")[-1]
    assert reply2["request_id"] == "r2"
    assert reply2["error"]
    assert buffers2 == []


def test_use_as_input(make_widget: Callable[..., tuple[ImageWidget, Sent]]) -> None:
    w, _ = make_widget(prompt="a fox", n=2)
    w.generate()
    first, second = (r["id"] for r in w.results)
    msg(w, {"type": "use_as_input", "id": first, "role": "edit"})
    assert w.options["mode"] == "edit"
    assert len(w.inputs) == 1
    assert w.mask is None
    assert decode(w.mask_base).size == (1024, 1024)
    msg(w, {"type": "use_as_input", "id": second, "role": "reference"})
    assert len(w.inputs) == 2
    msg(w, {"type": "use_as_input", "id": first, "role": "edit"})
    assert len(w.inputs) == 1


def test_edit_this_clears_a_painted_mask_for_the_new_image(
        make_widget: Callable[..., tuple[ImageWidget, Sent]]) -> None:
    w, _ = make_widget(prompt="a fox", size="1536x1024")
    w.generate()
    msg(w, {"type": "add_inputs", "names": ["a.png"]}, [png((64, 48))])
    w.mask = mask_png((64, 48), (0, 0, 8, 8))
    assert w.mask is not None
    msg(w, {"type": "use_as_input", "id": w.results[0]["id"], "role": "edit"})
    assert w.mask is None
    assert w.get_state("mask")["mask"] == b""
    assert "mask" not in w.problems  # the old 64x48 mask must not linger against the 1536x1024 image


# ------------------------------------------------------------------------------------------- history


def test_history_reloads_after_a_restart(make_widget: Callable[..., tuple[ImageWidget, Sent]],
                                         tmp_path: Path) -> None:
    w, _ = make_widget(prompt="first run", folder=tmp_path / "shared")
    w.generate()
    w.generate("second run")
    again, _ = make_widget(folder=tmp_path / "shared")  # a new kernel, same folder
    assert again._history_ready.wait(WAIT_S)
    runs = again.get_state("history")["history"]
    # (Both runs may share a second, the resolution of the records' `created`: compare as a set.)
    assert sorted(r["prompt"] for r in runs) == ["first run", "second run"]
    assert all(item["thumb"] for run in runs for item in run["items"])
    assert len(again.history) == 2
    assert again.history.filter(prompt="first")[0].prompt == "first run"


# ------------------------------------------------------------------------------------------- job runner


async def _sleep_then(value: Any, seconds: float) -> Any:
    import asyncio

    await asyncio.sleep(seconds)
    return value


def test_job_runner_runs_one_job_at_a_time_and_cancels() -> None:
    runner = JobRunner()
    try:
        finished: list[str] = []
        job = runner.start(lambda _job: _sleep_then("a", 30), lambda j: finished.append(j.id))
        with pytest.raises(JobBusyError):
            runner.start(lambda _job: _sleep_then("b", 0))
        assert runner.cancel()
        assert job.wait(5)
        assert job.cancelled
        assert finished == [job.id]
        with pytest.raises(JobCancelledError):
            job.outcome()
        second = runner.start(lambda _job: _sleep_then("ok", 0))
        assert second.wait(5)
        assert second.outcome() == "ok"
        assert not runner.cancel()
    finally:
        runner.close()
    assert not runner.loop_thread or not runner.loop_thread.is_alive()


def test_job_runner_cancel_before_the_task_starts() -> None:
    runner = JobRunner()
    try:
        job = runner.start(lambda _job: _sleep_then("a", 30))
        runner.cancel()  # may land before the task has run a single step
        assert job.wait(5)
        assert job.cancelled
    finally:
        runner.close()


def test_job_runner_reports_errors() -> None:
    async def boom() -> None:
        raise ValueError("bad")

    runner = JobRunner()
    try:
        job = runner.start(lambda _job: boom())
        assert job.wait(5)
        with pytest.raises(ValueError, match="bad"):
            job.outcome()
    finally:
        runner.close()


# ------------------------------------------------------------------------------------------- compare


def test_compare_replies_with_records_differences_and_both_images(
        make_widget: Callable[..., tuple[ImageWidget, Sent]]) -> None:
    w, sent = make_widget(prompt="a <b>fox</b>", quality="low")
    w.generate()
    a = w.results[0]["id"]
    w.generate(quality="medium")
    b = w.results[0]["id"]
    msg(w, {"type": "compare", "ids": [a, b], "request_id": "c1"})
    (reply, buffers), = sent.custom("compare")
    assert reply["type"] == "compare"
    assert reply["request_id"] == "c1"
    assert "error" not in reply
    assert [item["id"] for item in reply["items"]] == [a, b]
    for item in reply["items"]:
        assert item["prompt"] == "a <b>fox</b>"
        assert item["model"] == w.options["model"]
        assert item["created"]
        assert item["cost_text"].startswith("$")
        assert item["mime"] == "image/png"
    assert reply["items"][0]["params"]["quality"] == "low"
    assert reply["items"][1]["params"]["quality"] == "medium"
    assert reply["differences"] == [{"param": "quality", "a": "low", "b": "medium"}]
    assert buffers == [(w.folder / f"{a}.png").read_bytes(), (w.folder / f"{b}.png").read_bytes()]
    json.dumps(reply)  # the reply is plain JSON (buffers travel separately)


def test_compare_an_unknown_id_replies_with_an_error_and_no_buffers(
        make_widget: Callable[..., tuple[ImageWidget, Sent]]) -> None:
    w, sent = make_widget(prompt="a fox")
    w.generate()
    known = w.results[0]["id"]
    msg(w, {"type": "compare", "ids": [known, "20990101-000000-deadbeef-0"], "request_id": "c2"})
    msg(w, {"type": "compare", "ids": [known], "request_id": "c3"})
    msg(w, {"type": "compare", "ids": [known, "../../etc/passwd"], "request_id": "c4"})
    replies = sent.custom("compare")
    assert [r["request_id"] for r, _ in replies] == ["c2", "c3", "c4"]
    for reply, buffers in replies:
        assert reply["error"]
        assert buffers == []
        assert reply["items"] == []
        assert reply["differences"] == []


def test_compare_records_lists_every_differing_parameter() -> None:
    from image_widget.widget.payloads import compare_records

    base = {"prompt": "a fox", "model": "gpt-image-1-mini", "endpoint": "generate",
            "params": {"prompt": "a fox", "size": "1024x1024", "quality": "low", "n": 1},
            "response": {"size": "1024x1024", "quality": "low"}}
    assert compare_records(base, base) == []
    other = {**base, "prompt": "a <b>fox</b>", "model": "gpt-image-2", "endpoint": "edit",
             "params": {**base["params"], "prompt": "a <b>fox</b>", "quality": "high", "background": "opaque"}}
    other["params"].pop("n")
    assert compare_records(base, other) == [
        {"param": "prompt", "a": "a fox", "b": "a <b>fox</b>"},
        {"param": "model", "a": "gpt-image-1-mini", "b": "gpt-image-2"},
        {"param": "endpoint", "a": "generate", "b": "edit"},
        {"param": "quality", "a": "low", "b": "high"},
        {"param": "n", "a": 1, "b": None},  # only in A
        {"param": "background", "a": None, "b": "opaque"},  # only in B
    ]


def test_compare_records_size_and_quality_fall_back_to_the_response() -> None:
    from image_widget.widget.payloads import compare_records

    # Left to the API: the response says what was used.
    a = {"prompt": "x", "model": "m", "params": {"prompt": "x"}, "response": {"size": "1024x1024", "quality": "medium"}}
    b = {"prompt": "x", "model": "m", "params": {"prompt": "x", "quality": "high"},
         "response": {"size": "1536x1024", "quality": "high"}}
    assert compare_records(a, b) == [{"param": "size", "a": "1024x1024", "b": "1536x1024"},
                                     {"param": "quality", "a": "medium", "b": "high"}]
    # Nothing known on either side: not a difference. Values of another type are.
    assert compare_records({"params": {}}, {"params": {}}) == []
    assert compare_records({"params": {"n": 1}}, {"params": {"n": True}}) == [{"param": "n", "a": 1, "b": True}]
    assert compare_records({"params": {"x": [1, 2]}}, {"params": {"x": [1, 2]}}) == []


# ------------------------------------------------------------------------------------------- add_inputs (Python)


def test_add_inputs_from_python_is_like_an_upload(make_widget: Callable[..., tuple[ImageWidget, Sent]],
                                                   tmp_path: Path) -> None:
    w, _ = make_widget(prompt="add a hat")
    path = tmp_path / "photo.png"
    path.write_bytes(png((800, 600)))
    arr = np.zeros((48, 64, 3), dtype=np.uint8)
    pil = Image.new("RGB", (320, 240), (10, 200, 10))
    ref = jpeg((640, 480))
    w.add_inputs(path, pil)
    assert [i["name"] for i in w.inputs] == ["photo.png", "image-2"]
    assert [(i["width"], i["height"]) for i in w.inputs] == [(800, 600), (320, 240)]
    assert all(max(decode(i["thumb"]).size) <= 160 for i in w.inputs)
    assert decode(w.mask_base).size == (800, 600)  # the first is the canvas
    assert w.options["mode"] == "edit"
    assert w.problems == {}
    w.add_inputs(arr, ref, str(path))
    assert [(i["width"], i["height"]) for i in w.inputs][2:] == [(64, 48), (640, 480), (800, 600)]
    assert decode(w.mask_base).size == (800, 600)  # appending keeps the canvas
    # The same normalising as a browser upload: what the API gets is the same bytes.
    browser, _ = make_widget(prompt="add a hat", folder=tmp_path / "other")
    msg(browser, {"type": "add_inputs", "names": ["photo.png"]}, [path.read_bytes()])
    assert browser._inputs[0].upload == w._inputs[0].upload
    assert browser.inputs[0]["thumb"] == w.inputs[0]["thumb"]
    assert browser.mask_base == w.mask_base


def test_add_inputs_from_python_paints_and_edits(make_widget: Callable[..., tuple[ImageWidget, Sent]],
                                                  emulator: Emulator) -> None:
    w, _ = make_widget(prompt="a river")
    w.add_inputs(Image.new("RGB", (64, 48), (1, 2, 3)))
    w.mask = mask_png((64, 48), (10, 10, 20, 30))
    w.generate()
    request = image_requests(emulator)[-1]
    assert request.endpoint == "edit"
    assert "mask" in request.params


def test_add_inputs_from_python_is_all_or_nothing(make_widget: Callable[..., tuple[ImageWidget, Sent]]) -> None:
    from image_widget.images import ImageInputError

    w, _ = make_widget()
    with pytest.raises(ImageInputError):
        w.add_inputs(png((32, 32)), b"not an image")
    assert w.inputs == []
    assert w.options["mode"] == "generate"
    limit = w.capabilities["max_input_images"]
    with pytest.raises(ValueError, match=f"at most {limit}"):
        w.add_inputs(*[png((16, 16))] * (limit + 1))
    assert w.inputs == []
    w.add_inputs()  # nothing given: nothing happens
    assert w.inputs == []


def test_an_options_patch_is_answered_to_the_view_that_sent_it(make_widget: Any) -> None:
    """Two views of one widget number their patches apart: the answer names the view it is for."""
    widget, sent = make_widget()
    msg(widget, {"type": "options_patch", "seq": 1, "view": "options-a", "changes": {"quality": "high"}})
    msg(widget, {"type": "options_patch", "seq": 1, "view": "options-b", "changes": {"n": 2}})
    assert [c for c, _ in sent.custom("options_applied")] == [
        {"type": "options_applied", "seq": 1, "view": "options-a"},
        {"type": "options_applied", "seq": 1, "view": "options-b"}]
    assert (widget.options["quality"], widget.options["n"]) == ("high", 2)
