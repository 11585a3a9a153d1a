"""The emulator, driven by the real openai SDK over loopback with strict response validation."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import openai
import pytest
from PIL import Image, ImageChops, ImageStat

from image_widget.emulator import Emulator, Fault, RequestLog, render, shared_emulator
from support import waiting
from support.held import aheld
from support.images import decode as decode_bytes
from support.images import encode, mask_png, photo

SRC = str(Path(__file__).resolve().parents[1] / "src")
FAST = "gpt-image-2"  # takes custom sizes, so tests can ask for small, quick images


# ---------------------------------------------------------------------------------------------- helpers


def decode(b64: str | None) -> Image.Image:
    assert b64 is not None
    return decode_bytes(base64.b64decode(b64))


def control(emulator: Emulator, method: str, path: str, body: Any = None) -> tuple[int, Any, dict[str, str]]:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(f"{emulator.origin}{path}", data=data, method=method,
                                 headers={"content-type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.status, json.loads(resp.read() or b"null"), dict(resp.headers)
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"null"), dict(err.headers)


def last(emulator: Emulator) -> RequestLog:
    return emulator.log[-1]


# ---------------------------------------------------------------------------------------------- generate


@pytest.mark.parametrize(("size", "fmt", "background", "mode"), [
    ("1024x1024", "png", "opaque", "RGB"),
    ("1536x1024", "webp", "transparent", "RGBA"),
    ("1024x1536", "jpeg", "auto", "RGB"),
    ("1024x1024", "png", "transparent", "RGBA"),
])
def test_generate_n2_decodes_to_asked_size_format_and_alpha(emulator_client: openai.OpenAI, size: str, fmt: str,
                                                            background: str, mode: str) -> None:
    resp = emulator_client.images.generate(prompt="a red fox", n=2, size=size, output_format=fmt,
                                           background=background)
    assert resp.data is not None
    assert len(resp.data) == 2
    images = [decode(d.b64_json) for d in resp.data]
    w, h = (int(v) for v in size.split("x"))
    for img in images:
        assert img.format == {"png": "PNG", "webp": "WEBP", "jpeg": "JPEG"}[fmt]
        assert img.size == (w, h)
        assert img.mode == mode
        if mode == "RGBA":
            assert img.getchannel("A").getextrema() == (0, 255)  # transparent outside the central shape
    assert images[0].tobytes() != images[1].tobytes()
    assert resp.size == size
    assert resp.output_format == fmt
    assert resp.quality == "medium"
    assert resp.background == ("transparent" if background == "transparent" else "opaque")
    assert resp.usage is not None
    assert resp.usage.output_tokens_details is not None
    assert resp.usage.total_tokens == resp.usage.input_tokens + resp.usage.output_tokens
    assert resp.usage.input_tokens_details.text_tokens > 0


def test_auto_size_and_defaults_resolve(emulator_client: openai.OpenAI) -> None:
    resp = emulator_client.images.generate(prompt="a cat", size="auto", quality="auto")
    assert (resp.size, resp.quality, resp.output_format, resp.background) == ("1024x1024", "medium", "png", "opaque")
    assert decode(resp.data[0].b64_json).size == (1024, 1024)


def test_images_are_deterministic_and_depend_on_prompt_and_seed(emulator: Emulator,
                                                                emulator_client: openai.OpenAI) -> None:
    def one(prompt: str) -> str | None:
        return emulator_client.images.generate(prompt=prompt, model=FAST, size="256x256").data[0].b64_json

    first = one("a lighthouse")
    assert one("a lighthouse") == first
    assert one("a lighthouse at night") != first
    emulator.configure(seed=7)
    assert one("a lighthouse") != first


def test_usage_scales_with_quality_size_and_n(emulator_client: openai.OpenAI) -> None:
    def usage(**kw: Any) -> int:
        resp = emulator_client.images.generate(prompt="a cat", model=FAST, **kw)
        assert resp.usage is not None
        return resp.usage.output_tokens

    low = usage(quality="low", size="512x512")
    assert usage(quality="high", size="512x512") > low
    assert usage(quality="low", size="1024x1024") == 196  # OpenAI's published count for gpt-image-2
    assert usage(quality="high", size="1024x1024") == 7024
    assert usage(quality="low", size="512x512", n=3) == 3 * low


def test_gif_and_svg_outputs(emulator_client: openai.OpenAI) -> None:
    gif = emulator_client.images.generate(prompt="a spinning top", model=FAST, size="256x256",
                                          output_format="gif", frame_count=4, frame_duration_ms=120)
    img = decode(gif.data[0].b64_json)
    assert img.format == "GIF"
    assert getattr(img, "n_frames", 1) == 4
    assert img.info["duration"] == 120
    svg = emulator_client.images.generate(prompt="a <logo> & text", model=FAST, size="256x256",
                                          output_format="svg", svg={"model": "any", "reasoning": {"effort": "low"}})
    text = base64.b64decode(svg.data[0].b64_json or "").decode()
    assert text.startswith("<svg")
    assert 'width="256"' in text
    assert "a &lt;logo&gt; &amp; text" in text
    assert svg.output_format == "svg"


def test_render_is_fast_and_cached(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fast: the pixels are Pillow's C code, so the Python a render runs does not grow with the image
    (counted in lines executed, not timed: a count does not depend on how busy the machine is). Cached:
    asking again returns the same bytes without drawing or encoding anything."""
    render.render("generate", render.Spec("warm up", 0, (64, 64)))  # first-use imports and plugin set-up
    small = _python_lines(lambda: render.render("generate", render.Spec("lines 64", 0, (64, 64))))
    big = _python_lines(lambda: render.render("generate", render.Spec("lines 2048", 0, (2048, 2048))))
    assert big < small + 500, (small, big)  # 1024x the pixels; a Python loop over just the rows adds 2048

    made: Counter[str] = Counter()
    for name in ("_generate_canvas", "encode"):
        original = getattr(render, name)
        monkeypatch.setattr(render, name, lambda *a, _f=original, _n=name, **kw: (made.update([_n]), _f(*a, **kw))[1])
    spec = render.Spec(prompt="cached", index=0, size=(1024, 1024))
    first = render.render("generate", spec)
    assert made == Counter(_generate_canvas=1, encode=1)
    assert render.render("generate", spec) is first
    assert made == Counter(_generate_canvas=1, encode=1), "a repeated render drew or encoded again"
    render.render("generate", dataclasses.replace(spec, fmt="jpeg"))
    assert made == Counter(_generate_canvas=1, encode=2), "another format of one picture drew it again"


def _python_lines(fn: Callable[[], object]) -> int:
    """Lines of Python that `fn` executes on this thread (sys.settrace; any earlier tracer is put back)."""
    count = 0

    def trace(_frame: Any, event: str, _arg: Any) -> Any:
        nonlocal count
        count += event == "line"
        return trace

    before = sys.gettrace()
    sys.settrace(trace)
    try:
        fn()
    finally:
        sys.settrace(before)
    return count


# ---------------------------------------------------------------------------------------------- edits


def test_edit_with_mask_changes_the_masked_area_and_leaks_a_little(emulator: Emulator,
                                                                    emulator_client: openai.OpenAI) -> None:
    source = photo((512, 512))
    hole = (128, 128, 256, 256)

    def edited() -> Image.Image:
        resp = emulator_client.images.edit(
            image=("photo.png", encode(source), "image/png"), prompt="add a red scarf", model=FAST,
            mask=("mask.png", mask_png((512, 512), hole), "image/png"),
        )
        return decode(resp.data[0].b64_json).convert("RGB")

    out = edited()
    assert out.size == (512, 512)  # size auto keeps the input's size when the model takes it
    diff = ImageChops.difference(out, source)
    inside = ImageStat.Stat(diff.crop(hole).convert("L")).mean[0]
    assert inside > 40
    # Like the real models, pixels outside the mask change too, but only a little (2‥5 levels).
    outside = np.asarray(diff).copy()
    outside[128:256, 128:256] = 0
    assert diff.getbbox() == (0, 0, 512, 512)
    assert 2 <= outside.max() <= 5
    emulator.configure(mask_leak=False)  # switched off: every changed pixel is inside the hole
    assert ImageChops.difference(edited(), source).getbbox() == hole
    with pytest.raises(ValueError, match="mask_leak must be true or false"):
        emulator.configure(mask_leak="no")
    sent = last(emulator).params
    assert sent["mask"]["content_type"] == "image/png"
    assert sent["image"]["name"] == "photo.png"
    assert len(sent["image"]["sha256"]) == 64


def test_multi_image_edit_puts_extra_inputs_in_strips(emulator: Emulator, emulator_client: openai.OpenAI) -> None:
    colours = [(200, 30, 30), (30, 200, 30), (30, 30, 200)]
    files = [(f"in{i}.png", encode(Image.new("RGB", (300, 300), c)), "image/png") for i, c in enumerate(colours)]
    resp = emulator_client.images.edit(image=files, prompt="combine them", model=FAST, size="384x384",
                                       output_format="png")
    out = decode(resp.data[0].b64_json).convert("RGB")
    assert out.size == (384, 384)
    assert out.getpixel((128 + 64, 200)) == colours[1]
    assert out.getpixel((256 + 64, 200)) == colours[2]
    assert [f["name"] for f in last(emulator).params["image"]] == ["in0.png", "in1.png", "in2.png"]


def test_edit_form_fields_are_converted_back(emulator: Emulator, emulator_client: openai.OpenAI) -> None:
    image = ("a.png", encode(photo((256, 256))), "image/png")
    emulator_client.images.edit(image=image, prompt="vector", model=FAST, output_format="svg",
                                svg={"model": "svg-model", "reasoning": {"effort": "low"}})
    params = last(emulator).params
    assert params["svg"] == {"model": "svg-model", "reasoning": {"effort": "low"}}
    resp = emulator_client.images.edit(image=image, prompt="two", model=FAST, n=2, output_format="webp",
                                       output_compression=50)
    assert len(resp.data or []) == 2
    params = last(emulator).params
    assert params["n"] == 2
    assert params["output_compression"] == 50


def test_edit_auto_size_picks_standard_size_for_other_shapes(emulator_client: openai.OpenAI) -> None:
    image = ("wide.png", encode(photo((300, 200))), "image/png")
    resp = emulator_client.images.edit(image=image, prompt="wider", model="gpt-image-1-mini")
    assert resp.size == "1536x1024"
    assert decode(resp.data[0].b64_json).size == (1536, 1024)


# ---------------------------------------------------------------------------------------------- streaming


def test_stream_generate_partials_then_completed(emulator_client: openai.OpenAI) -> None:
    stream = emulator_client.images.generate(prompt="a fox", model=FAST, size="256x256", stream=True,
                                             partial_images=3)
    events = [(time.monotonic(), event) for event in stream]
    types = [e.type for _, e in events]
    assert types == ["image_generation.partial_image"] * 3 + ["image_generation.completed"]
    assert [e.partial_image_index for _, e in events[:3]] == [0, 1, 2]
    stamps = [t for t, _ in events]
    assert stamps == sorted(stamps)
    assert stamps[0] < stamps[-1]
    final = events[-1][1]
    assert decode(final.b64_json).size == (256, 256)
    assert final.usage.output_tokens > 0
    preview = decode(events[0][1].b64_json)
    assert preview.size == (256, 256)
    assert preview.tobytes() != decode(final.b64_json).tobytes()


def test_stream_n2_sends_one_completed_per_image(emulator_client: openai.OpenAI) -> None:
    stream = emulator_client.images.generate(prompt="two", model=FAST, size="256x256", n=2, stream=True,
                                             partial_images=1)
    assert [e.type.split(".")[1] for e in stream] == ["partial_image", "completed"] * 2


def test_stream_without_partials_sends_only_completed(emulator_client: openai.OpenAI) -> None:
    stream = emulator_client.images.generate(prompt="x", model=FAST, size="256x256", stream=True,
                                             partial_images=0)
    assert [e.type for e in stream] == ["image_generation.completed"]


async def test_stream_edit_async(emulator: Emulator, async_emulator_client: openai.AsyncOpenAI) -> None:
    stream = await async_emulator_client.images.edit(
        image=("a.png", encode(photo((256, 256))), "image/png"), prompt="edit", model=FAST, stream=True,
        partial_images=2)
    types = [event.type async for event in stream]
    assert types == ["image_edit.partial_image"] * 2 + ["image_edit.completed"]
    assert last(emulator).params["stream"] is True
    assert last(emulator).params["partial_images"] == 2


# ---------------------------------------------------------------------------------------------- faults


@pytest.mark.parametrize(("fault", "error", "check"), [
    (Fault(status=400, code="moderation_blocked"), openai.BadRequestError,
     lambda e: e.code == "moderation_blocked" and e.type == "image_generation_user_error"),
    (Fault(status=401), openai.AuthenticationError, lambda e: e.code == "invalid_api_key"),
    (Fault(status=403), openai.PermissionDeniedError, lambda e: "organization must be verified" in e.message),
    (Fault(status=429, retry_after=2.5), openai.RateLimitError,
     lambda e: e.response.headers["retry-after"] == "2.5" and "x-should-retry" not in e.response.headers),
    (Fault(status=500, should_retry=False), openai.InternalServerError,
     lambda e: e.response.headers["x-should-retry"] == "false"),
    (Fault(status=503, message="overloaded"), openai.InternalServerError, lambda e: "overloaded" in e.message),
    (Fault(kind="drop"), openai.APIConnectionError, lambda e: True),
])
def test_status_faults_raise_the_sdk_error(emulator: Emulator, emulator_client: openai.OpenAI, fault: Fault,
                                           error: type[Exception], check: Any) -> None:
    emulator.inject(fault)
    with pytest.raises(error) as info:
        emulator_client.images.generate(prompt="a cat", model=FAST, size="256x256")
    assert check(info.value)
    entry = last(emulator)
    assert entry.fault == fault
    assert entry.status == fault.status
    if fault.status:
        assert info.value.request_id == entry.id
    assert emulator.pending_faults == []


@pytest.mark.parametrize("kind", ["drop", "error_event", "malformed_event"])
def test_stream_faults_break_after_the_first_event(emulator: Emulator, emulator_client: openai.OpenAI,
                                                   kind: str) -> None:
    emulator.inject(Fault(kind=kind, after=1))
    seen: list[str] = []
    expected: type[Exception] = {"drop": openai.APIConnectionError, "error_event": openai.APIError,
                                 "malformed_event": ValueError}[kind]
    stream = emulator_client.images.generate(prompt="a", model=FAST, size="256x256", stream=True,
                                             partial_images=2)
    with pytest.raises(expected) as info:
        seen.extend(event.type for event in stream)
    assert seen == ["image_generation.partial_image"]
    if kind == "error_event":
        assert info.value.code == "image_generation_failed"


def test_data_faults(emulator: Emulator, emulator_client: openai.OpenAI) -> None:
    emulator.inject(Fault(kind="empty_data"), Fault(kind="wrong_size"), Fault(kind="truncated_b64"))
    assert emulator_client.images.generate(prompt="a", model=FAST, size="256x256").data == []
    wrong = emulator_client.images.generate(prompt="a", model=FAST, size="256x512")
    assert wrong.size == "256x512"
    assert decode(wrong.data[0].b64_json).size != (256, 512)
    truncated = emulator_client.images.generate(prompt="a", model=FAST, size="256x256")
    with pytest.raises((ValueError, OSError)):
        decode(truncated.data[0].b64_json)


def test_slow_fault_delays_one_request(emulator: Emulator, emulator_client: openai.OpenAI) -> None:
    emulator.inject(Fault(kind="slow", seconds=0.2))
    emulator_client.images.generate(prompt="a", model=FAST, size="256x256")
    emulator_client.images.generate(prompt="a", model=FAST, size="256x256")
    slow, fast = emulator.log
    assert slow.elapsed_s is not None
    assert slow.elapsed_s >= 0.2
    assert fast.fault is None


def test_sdk_retry_is_visible_in_the_log(emulator: Emulator) -> None:
    client = openai.OpenAI(base_url=emulator.url, api_key="sk-test", max_retries=1,
                           _strict_response_validation=True)
    emulator.inject(Fault(status=500, retry_after_ms=1))
    resp = client.images.generate(prompt="retry me", model=FAST, size="256x256")
    assert len(resp.data or []) == 1
    assert [(e.status, e.fault is not None) for e in emulator.log] == [(500, True), (200, False)]
    assert emulator.log[0].params == emulator.log[1].params


# ---------------------------------------------------------------------------------------------- validation


def test_octet_stream_upload_is_rejected(emulator_client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        emulator_client.images.edit(image=encode(photo()), prompt="raw bytes", model=FAST)
    assert info.value.param == "image"
    assert "application/octet-stream" in info.value.message


def test_mask_of_wrong_size_is_rejected(emulator_client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        emulator_client.images.edit(image=("a.png", encode(photo((256, 256))), "image/png"), prompt="x", model=FAST,
                                    mask=("m.png", mask_png((128, 128), (0, 0, 10, 10)), "image/png"))
    assert info.value.param == "mask"
    assert "same size" in info.value.message


def test_mask_without_alpha_is_rejected(emulator_client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        emulator_client.images.edit(image=("a.png", encode(photo((256, 256))), "image/png"), prompt="x", model=FAST,
                                    mask=("m.png", encode(Image.new("RGB", (256, 256))), "image/png"))
    assert info.value.param == "mask"
    assert "alpha" in info.value.message


def test_unknown_parameter_is_rejected(emulator_client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        emulator_client.images.generate(prompt="x", model=FAST, extra_body={"colour_scheme": "warm"})
    assert (info.value.param, info.value.code) == ("colour_scheme", "unknown_parameter")
    with pytest.raises(openai.BadRequestError) as info:
        emulator_client.images.edit(image=("a.png", encode(photo()), "image/png"), prompt="x", model=FAST,
                                    extra_body={"strength": 0.5})
    assert info.value.param == "strength"


@pytest.mark.parametrize("path", ["/images/generations", "/responses"])
@pytest.mark.parametrize("value", ["true", 1, "false"])
def test_a_json_stream_that_is_not_a_boolean_is_refused(emulator_client: openai.OpenAI, path: str,
                                                        value: object) -> None:
    """A form field is text by nature, a JSON one is typed: `"stream": "true"` is a 400 at the API, not a
    non-streamed answer (OpenAPI: `stream: boolean`)."""
    body: dict[str, object] = {"model": FAST, "prompt": "x", "stream": value} if path != "/responses" else {
        "model": "gpt-5", "input": "x", "tools": [{"type": "image_generation", "model": FAST}], "stream": value}
    with pytest.raises(openai.BadRequestError) as info:
        emulator_client.post(path, body=body, cast_to=object)
    assert (info.value.param, info.value.code) == ("stream", "invalid_type")
    assert "expected a boolean" in info.value.message


def test_every_problem_is_reported_first_param_named(emulator_client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        emulator_client.images.generate(prompt="x", model="gpt-image-1.5", n=11, background="transparent",
                                        output_format="jpeg")
    assert info.value.param == "n"
    assert "n=11" in info.value.message
    assert "transparent" in info.value.message


@pytest.mark.parametrize("model", ["dall-e-3", "gpt-image-1"])  # past their dates on the tests' TEST_TODAY
def test_a_shut_down_model_is_not_found_as_its_model_page_says(emulator_client: openai.OpenAI, model: str) -> None:
    """Past its shutdown date a model is a 404 `model_not_found` for a request, as for `GET /v1/models/{id}`
    (it was a 400 `invalid_value` in the client's own words for the table's models)."""
    with pytest.raises(openai.NotFoundError) as info:
        emulator_client.images.generate(prompt="x", model=model)
    assert info.value.param == "model"
    assert info.value.code == "model_not_found"
    assert "retired" in info.value.message
    with pytest.raises(openai.NotFoundError):
        emulator_client.models.retrieve(model)


@pytest.mark.filterwarnings("ignore:deprecated:DeprecationWarning")
def test_variations_only_on_legacy_servers(emulator: Emulator, emulator_client: openai.OpenAI) -> None:
    square = ("sq.png", encode(photo((256, 256))), "image/png")
    with pytest.raises(openai.NotFoundError) as info:
        emulator_client.images.create_variation(image=square, model="dall-e-2")
    assert "retired" in info.value.message
    emulator.configure(legacy=True)
    resp = emulator_client.images.create_variation(image=square, n=2, size="256x256")
    images = [decode(d.b64_json) for d in resp.data or []]
    assert [im.size for im in images] == [(256, 256)] * 2
    assert images[0].tobytes() != photo((256, 256)).tobytes()
    assert resp.usage is None  # DALL·E-era response shape
    urls = emulator_client.images.create_variation(image=square, size="256x256", response_format="url")
    assert urls.data is not None
    assert urls.data[0].url is not None
    with urllib.request.urlopen(urls.data[0].url, timeout=5) as download:
        assert decode_bytes(download.read()).size == (256, 256)
    assert "model" not in last(emulator).params  # the log shows what was sent; the server defaults to dall-e-2
    with pytest.raises(openai.BadRequestError, match="square"):
        emulator_client.images.create_variation(image=("w.png", encode(photo((256, 128))), "image/png"))
    with pytest.raises(openai.BadRequestError) as bad:
        emulator_client.images.create_variation(image=square, model="gpt-image-2")
    assert bad.value.param == "model"
    # retired models are allowed on a legacy server
    assert emulator_client.images.generate(prompt="old", model="dall-e-2", size="256x256").data


# ---------------------------------------------------------------------------------------------- concurrency


async def test_concurrent_requests_overlap(emulator: Emulator, async_emulator_client: openai.AsyncOpenAI) -> None:
    async with aheld(emulator):  # each request stays in flight until all four have been seen at once
        calls = asyncio.gather(*(async_emulator_client.images.generate(prompt=f"cat {i}", model=FAST,
                                                                       size="256x256") for i in range(4)))
        await waiting.await_until(lambda: emulator.in_flight == 4, "all four requests in flight at once", 30.0)
        assert emulator.max_in_flight == 4
        assert sorted(e.in_flight_at_start for e in emulator.log) == [0, 1, 2, 3]
    responses = await calls  # released: each completes normally
    assert [len(r.data or []) for r in responses] == [1, 1, 1, 1]


# ---------------------------------------------------------------------------------------------- control


def test_control_endpoints(emulator: Emulator, emulator_client: openai.OpenAI) -> None:
    status, body, headers = control(emulator, "GET", "/_emulator/health")
    assert status == 200
    assert body["status"] == "ok"
    assert headers["x-request-id"].startswith("req_")

    status, body, _ = control(emulator, "POST", "/_emulator/faults", [{"status": 503}, {"kind": "empty_data"}])
    assert (status, body["queued"]) == (200, 2)
    with pytest.raises(openai.InternalServerError):
        emulator_client.images.generate(prompt="a", model=FAST, size="256x256")
    assert emulator_client.images.generate(prompt="a", model=FAST, size="256x256").data == []

    status, log, _ = control(emulator, "GET", "/_emulator/log")
    assert [e["status"] for e in log] == [503, 200]
    assert log[0]["fault"]["status"] == 503
    assert log[0]["params"]["prompt"] == "a"
    assert control(emulator, "DELETE", "/_emulator/log")[1] == {"cleared": 2}
    assert emulator.log == []

    status, body, _ = control(emulator, "POST", "/_emulator/config", {"latency_s": 0.01, "legacy": True})
    assert (status, body["latency_s"], body["legacy"]) == (200, 0.01, True)
    assert emulator.config.legacy is True
    assert control(emulator, "POST", "/_emulator/config", {"speed": 2})[0] == 400
    assert control(emulator, "POST", "/_emulator/faults", [{"kind": "explode"}])[0] == 400
    assert control(emulator, "POST", "/_emulator/faults", [{"status": 500, "colour": 1}])[0] == 400

    control(emulator, "POST", "/_emulator/faults", {"status": 500})
    assert control(emulator, "POST", "/_emulator/reset")[0] == 200
    assert emulator.pending_faults == []
    assert emulator.config.legacy is False
    assert emulator.config.latency_s == 0


def test_request_id_header_matches_log(emulator: Emulator, emulator_client: openai.OpenAI) -> None:
    raw = emulator_client.images.with_raw_response.generate(prompt="a", model=FAST, size="256x256")
    assert raw.headers["x-request-id"] == last(emulator).id
    assert raw.headers["x-request-id"].startswith("req_")


def test_unknown_v1_path_is_a_json_404(emulator: Emulator, emulator_client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as info:
        emulator_client.moderations.create(input="x")  # an endpoint the emulator does not serve
    assert "Invalid URL" in info.value.message
    assert last(emulator).status == 404


# ---------------------------------------------------------------------------------------------- auth, binding


def test_auth_is_required_and_key_never_echoed(emulator: Emulator) -> None:
    req = urllib.request.Request(f"{emulator.url}/images/generations", method="POST",
                                 data=json.dumps({"prompt": "x"}).encode(),
                                 headers={"content-type": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(req, timeout=5)
    assert info.value.code == 401
    assert info.value.headers["x-request-id"].startswith("req_")
    error = json.loads(info.value.read())["error"]
    assert error["code"] == "invalid_api_key"
    assert error["type"] == "invalid_request_error"

    secret = "sk-wrong-SECRET-123456"
    with Emulator(api_key="sk-right") as strict:
        client = openai.OpenAI(base_url=strict.url, api_key=secret, max_retries=0)
        with pytest.raises(openai.AuthenticationError) as auth:
            client.images.generate(prompt="x")
        assert secret not in str(auth.value)
        assert secret not in auth.value.response.text
        ok = openai.OpenAI(base_url=strict.url, api_key="sk-right", max_retries=0)
        assert ok.images.generate(prompt="x", model=FAST, size="256x256").data


def test_binds_loopback_only(emulator: Emulator) -> None:
    assert emulator.url.startswith("http://127.0.0.1:")
    assert emulator.address == ("127.0.0.1", emulator.port)
    with pytest.raises(ValueError, match="loopback"):
        Emulator(host="0.0.0.0")
    with pytest.raises(ValueError, match="loopback"):
        Emulator(host="192.168.1.10")
    Emulator(host="0.0.0.0", allow_remote=True)  # allowed when asked for explicitly (not started)


def test_stop_closes_the_port() -> None:
    emu = Emulator().start()
    port = emu.port
    with socket.create_connection(("127.0.0.1", port), timeout=1):
        pass
    emu.stop()
    assert not emu.running
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
        pass
    emu.stop()  # idempotent


def test_shared_emulator_is_one_running_instance() -> None:
    first = shared_emulator()
    assert first is shared_emulator()
    assert first.running


def test_import_is_light() -> None:
    code = ("import sys, image_widget.emulator as e; "
            "print(sorted(m for m in ('uvicorn', 'starlette', 'PIL', 'openai') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": SRC})
    assert out.stdout.strip() == "[]"


def test_command_line_serves_until_interrupted() -> None:
    proc = subprocess.Popen([sys.executable, "-m", "image_widget.emulator", "--port", "0", "--latency", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": SRC})
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        assert url.endswith("/v1")
        with urllib.request.urlopen(url.removesuffix("/v1") + "/_emulator/health", timeout=5) as resp:
            assert json.loads(resp.read())["status"] == "ok"
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_fault_arguments_are_checked() -> None:
    with pytest.raises(ValueError, match="status"):
        Fault()
    with pytest.raises(ValueError, match="unknown fault kind"):
        Fault(kind="explode")
    with pytest.raises(ValueError):
        Fault(status=200)
    assert Fault(status=429).kind == "status"
    assert Fault.from_dict(Fault.rate_limit(2.0).to_dict()) == Fault(status=429, retry_after=2.0)


def test_reset_cuts_short_a_request_the_client_abandoned(emulator: Emulator) -> None:
    emulator.configure(latency_s=30.0)
    client = openai.OpenAI(base_url=emulator.url, api_key="sk-test", max_retries=0, timeout=0.3)
    with pytest.raises(openai.APITimeoutError):
        client.images.generate(prompt="slow", model=FAST, size="256x256")
    assert emulator.in_flight == 1  # the server is still "generating"
    emulator.reset()
    waiting.wait_until(lambda: emulator.in_flight == 0, "reset to end the abandoned request", 5.0)
    client.close()
