"""ImageWidget as people use it (issue 14): what the kernel does so the page can say the right thing.

Same style as tests/test_widget.py, whose helpers and fixtures this reuses (see conftest.py): traits
stand in for the front end's writes, messages go straight to the handler, and the real emulator answers.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openai
import pytest

from image_widget.emulator import Emulator
from image_widget.facts.capabilities import ValidationError
from image_widget.images import ImageInputError
from image_widget.widget import ImageWidget
from test_widget import KEY, Sent, finish, image_requests, mask_png, msg, png

SRC = Path(__file__).resolve().parents[2] / "src"

MakeWidget = Callable[..., tuple[ImageWidget, Sent]]


# ------------------------------------------------------------------------------- item 5: the last input


def test_removing_the_only_input_goes_back_to_generate(make_widget: MakeWidget, emulator: Emulator) -> None:
    w, _ = make_widget(prompt="a lighthouse")
    msg(w, {"type": "add_inputs", "names": ["photo.png"]}, [png((64, 64))])
    assert w.options["mode"] == "edit"
    msg(w, {"type": "remove_input", "id": w.inputs[0]["id"]})
    assert w.options["mode"] == "generate"
    assert w.problems == {}  # no "edit needs at least one input image" left behind
    msg(w, {"type": "generate"})
    finish(w)
    assert w.status["state"] == "done", w.error
    assert [e.endpoint for e in emulator.log if e.endpoint is not None] == ["generate"]


def test_variation_is_left_alone_when_the_inputs_go(make_widget: MakeWidget) -> None:
    """Only the automatic edit is undone: a person who chose Variation keeps it (and is told to add an image)."""
    w, _ = make_widget(prompt="x", mode="variation")
    msg(w, {"type": "add_inputs", "names": ["photo.png"]}, [png((64, 64))])
    msg(w, {"type": "remove_input", "id": w.inputs[0]["id"]})
    assert w.options["mode"] == "variation"
    assert "image" in w.problems


# ------------------------------------------------------------------------------- item 6: code that runs


def _run_elsewhere(code: str, cwd: Path, **extra_env: str) -> subprocess.CompletedProcess[str]:
    """`code` in a fresh Python in another folder, with no key or server in the environment (unless given)."""
    cwd.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k not in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "IMAGE_WIDGET_DIR")}
    env["PYTHONPATH"] = str(SRC)
    env.update(extra_env)
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=120, check=False)


def _digests(files: Any) -> list[str]:
    return [f["sha256"] for f in (files if isinstance(files, list) else [files])]


def test_copied_edit_runs_elsewhere_against_the_same_server(
        make_widget: MakeWidget, emulator: Emulator, tmp_path: Path) -> None:
    w, _ = make_widget(prompt="paint it")  # base_url=emulator.url, api_key=KEY
    msg(w, {"type": "add_inputs", "names": ["base.png"]}, [png((256, 256))])
    w.mask = mask_png((256, 256), (10, 10, 90, 90))
    w.generate()
    snippet = w.results[0]["snippet"]
    assert snippet.startswith("import image_widget as iw\n")
    assert f"base_url={emulator.url!r}" in snippet
    assert KEY not in snippet
    assert "api_key" not in snippet
    assert "OPENAI_API_KEY" in snippet  # says where the key comes from instead
    assert w.results[0]["code"].startswith("iw.edit(")  # the bare call is unchanged
    first = image_requests(emulator)[-1]

    done = _run_elsewhere(snippet, tmp_path / "elsewhere")
    assert done.returncode == 0, done.stderr
    again = image_requests(emulator)[-1]
    assert again.id != first.id
    assert again.endpoint == "edit"
    assert _digests(again.params["image"]) == _digests(first.params["image"])
    assert _digests(again.params["mask"]) == _digests(first.params["mask"])
    assert again.params["prompt"] == "paint it"
    assert KEY not in done.stdout + done.stderr


def test_copied_code_from_the_emulator_runs_on_an_emulator(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    w = ImageWidget(folder=tmp_path / "out", prompt="a red fox", n=2, quality="medium")
    try:
        w.generate()
        snippet = w.results[0]["snippet"]
        record = json.loads(next(iter(sorted(w.folder.glob("*.json")))).read_text())
    finally:
        w.close()
    assert "base_url=iw.Emulator.shared().url" in snippet  # the same kind of server, even where a key is set
    assert "offline emulator" in snippet
    elsewhere = tmp_path / "elsewhere"
    done = _run_elsewhere(snippet, elsewhere, OPENAI_API_KEY="sk-would-be-billed-0123456789")  # no network here
    assert done.returncode == 0, done.stderr
    made = [json.loads(p.read_text()) for p in sorted((elsewhere / "image-widget-output").glob("*.json"))]
    assert len(made) == 2
    again, before = made[0]["params"], record["params"]
    assert {k: before[k] for k in again} == again  # the same request, less the values the API defaults to
    assert set(before) - set(again) <= {"background", "moderation", "output_format"}
    assert made[0]["endpoint"] == "generate"


def test_copied_code_for_a_custom_client_names_its_server_not_its_key(
        make_widget: MakeWidget, emulator: Emulator, tmp_path: Path) -> None:
    client = openai.OpenAI(base_url=emulator.url, api_key=KEY)
    w, _ = make_widget(client=client, base_url=None, api_key=None, prompt="a kite")
    w.generate()
    snippet = w.results[0]["snippet"]
    assert KEY not in snippet
    assert f"base_url={emulator.url!r}" in snippet
    assert "client=" in snippet  # how to use the same client again
    done = _run_elsewhere(snippet, tmp_path / "elsewhere")
    assert done.returncode == 0, done.stderr
    assert image_requests(emulator)[-1].params["prompt"] == "a kite"


def test_copied_code_for_openai_says_it_is_billed_and_carries_no_key() -> None:
    from image_widget.client.reproduce import runnable_code
    from image_widget.widget.connection import Connection

    extra, comments = Connection(None, None, KEY, {}).code_context()
    record = {"prompt": "a fox", "endpoint": "generate", "params": {"model": "gpt-image-2", "n": 1}}
    snippet = runnable_code(record, extra=extra, comments=comments)
    assert snippet.splitlines()[0] == "import image_widget as iw"
    assert snippet.splitlines()[-1] == "iw.generate('a fox', model='gpt-image-2', n=1)"
    assert "billed" in snippet
    assert "OPENAI_API_KEY" in snippet
    assert KEY not in snippet
    with_creds = Connection(None, "https://user:pw@llm.example/v1?api-key=zzz", None, {}).code_context()
    assert with_creds[0] == {"base_url": "https://llm.example/v1"}


# ------------------------------------------------------------------------------- item 9: people's words

TRANSPARENT = "Transparent background needs PNG or WebP — Format is JPEG"


def test_a_problem_of_two_controls_names_both_in_plain_words(make_widget: MakeWidget, emulator: Emulator) -> None:
    w, _ = make_widget(prompt="a logo")
    w.options = {**w.options, "background": "transparent", "output_format": "jpeg"}
    assert w.problems == {"background": TRANSPARENT, "output_format": TRANSPARENT}
    # The Python error keeps its exact text; the widget's banner says it in the form's words.
    with pytest.raises(ValidationError) as info:
        w.generate()
    assert str(info.value) == "background='transparent' needs output_format png or webp, got jpeg"
    assert w.error["message"] == TRANSPARENT
    assert image_requests(emulator) == []


def test_problems_read_like_the_form(make_widget: MakeWidget) -> None:
    w, _ = make_widget(prompt="x")
    w.options = {**w.options, "output_compression": 50, "n": 12}
    assert w.problems["output_compression"] == "Compression works only with JPEG or WebP — Format is PNG"
    assert w.problems["output_format"] == w.problems["output_compression"]
    assert w.problems["n"] == "gpt-image-2 makes 1 to 10 images per request — you asked for 12"
    w.options = {**w.options, "output_compression": None, "n": 1, "mode": "edit"}
    assert w.problems == {"image": "Edit needs an input image — add one", "mode": "Edit needs an input image — add one"}


def test_a_bad_file_is_named_in_plain_words(make_widget: MakeWidget) -> None:
    w, sent = make_widget()
    msg(w, {"type": "add_inputs", "names": ["photo.txt"]}, [b"this is not an image at all"])
    assert w.inputs == []
    assert sent.notices() == ["photo.txt is not an image (PNG, JPEG or WebP)"]
    msg(w, {"type": "add_inputs", "names": ["broken.png"]}, [png((64, 64))[:60]])
    assert sent.notices()[-1] == "broken.png is a damaged or incomplete PNG file"
    # The Python error for the same bytes is unchanged.
    with pytest.raises(ImageInputError, match=r"image\[0\] is not a recognised image \(starts with b'this is not '\)"):
        w.add_inputs(b"this is not an image at all")


# ------------------------------------------------------------------------------- item 7: upload progress


def test_an_upload_with_an_id_is_answered_with_what_was_added_and_why_not(make_widget: MakeWidget) -> None:
    w, sent = make_widget()
    good, bad = png((64, 48)), b"this is not an image at all"
    msg(w, {"type": "add_inputs", "names": ["photo.png", "notes.txt"], "upload_id": "u1"}, [good, bad])
    assert [i["name"] for i in w.inputs] == ["photo.png"]
    (reply, buffers), = sent.custom("upload_progress")
    assert reply == {"type": "upload_progress", "upload_id": "u1", "received": len(good) + len(bad), "done": True,
                     "added": ["photo.png"], "problems": ["notes.txt is not an image (PNG, JPEG or WebP)"]}
    assert buffers == []
    assert sent.notices() == []  # said in the answer, next to the inputs, not as a toast


def test_every_chunk_is_answered_the_last_after_the_file_is_in(make_widget: MakeWidget) -> None:
    w, sent = make_widget()
    data = png((700, 500))
    parts = [data[i:i + 4096] for i in range(0, len(data), 4096)]
    for index, part in enumerate(parts):
        msg(w, {"type": "add_input_chunk", "upload_id": "big", "index": index, "total": len(parts),
                "name": "big.png"}, [part])
        replies = [c for c, _ in sent.custom("upload_progress")]
        assert len(replies) == index + 1
        assert replies[-1]["received"] == len(part)
        assert replies[-1]["done"] is (index == len(parts) - 1)
        assert len(w.inputs) == (1 if index == len(parts) - 1 else 0)
    assert replies[-1]["added"] == ["big.png"]
    assert sum(r["received"] for r in replies) == len(data)


def test_a_new_upload_clears_the_previous_error(make_widget: MakeWidget) -> None:
    w, _ = make_widget(prompt="x", mode="edit")
    msg(w, {"type": "generate"})  # refused: edit needs an input image
    assert w.error["code"] == "invalid_options"
    assert w.status["state"] == "error"
    msg(w, {"type": "add_input_chunk", "upload_id": "u2", "index": 0, "total": 3, "name": "big.png"}, [b"x" * 10])
    assert w.error == {}  # at the first piece, not seconds later when the whole file is in
    assert w.status["state"] == "idle"
