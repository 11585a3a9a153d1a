"""Every rule in the capability table, one test each: the message names the parameter and what is allowed."""

from __future__ import annotations

from typing import Any

import pytest
from PIL import Image

from image_widget.facts import capabilities as caps
from image_widget.facts.capabilities import ValidationError, check, validate
from support.images import encode, jpeg, png

PNG = png(mode="RGBA")  # 64x64 with an alpha channel: fits as an image, a mask or a markup
JPEG = jpeg()


def gen(**params: Any) -> list[caps.Problem]:
    return validate("generate", {"prompt": "a cat", "model": "gpt-image-1.5", **params})


def edit(**params: Any) -> list[caps.Problem]:
    base = {"prompt": "a cat", "model": "gpt-image-1.5", "image": [("a.png", PNG, "image/png")]}
    return validate("edit", {**base, **params})


def only(problems: list[caps.Problem], param: str) -> str:
    """The single problem's message, after checking it names `param`."""
    assert [p.param for p in problems] == [param], problems
    return problems[0].message


def test_valid_generate_has_no_problems() -> None:
    assert gen(size="1536x1024", quality="high", n=2, background="opaque", output_format="png") == []


def test_every_sdk_model_is_in_the_table() -> None:
    from typing import get_args

    from openai.types.image_model import ImageModel

    assert set(get_args(ImageModel)) <= set(caps.MODELS)


@pytest.mark.parametrize(("model", "replacement"), [
    ("gpt-image-1", "gpt-image-2.5-sunburst or gpt-image-2.5-flare"),
    ("dall-e-2", "GPT image model"),
    ("dall-e-3", "GPT image model"),
])
def test_retired_model_names_replacement(model: str, replacement: str) -> None:
    message = only(validate("generate", {"prompt": "x", "model": model}), "model")
    assert "retired" in message
    assert replacement in message


def test_retired_model_allowed_for_legacy_servers() -> None:
    assert validate("generate", {"prompt": "x", "model": "dall-e-2", "size": "512x512"}, allow_retired=True) == []


def test_model_must_be_text() -> None:
    assert only(validate("generate", {"prompt": "x", "model": 3}), "model").startswith("model must be")


def test_unknown_model_is_permissive() -> None:
    assert validate("generate", {"prompt": "x", "model": "my-local-sd", "size": "777x333", "quality": "hd"}) == []
    assert caps.caps_for("my-local-sd").known is False


def test_unknown_parameter_is_named() -> None:
    message = only(gen(seed=3), "seed")
    assert "not a parameter of the generate endpoint" in message


@pytest.mark.parametrize(("prompt", "needle"), [
    ("", "empty"), ("   \n", "empty"), ("a\x00b", "NUL"), ("x" * 32_001, "at most 32,000"), (None, "required"),
])
def test_prompt_rules(prompt: object, needle: str) -> None:
    assert needle in only(gen(prompt=prompt) if prompt is not None else
                          validate("generate", {"model": "gpt-image-1.5"}), "prompt")


def test_prompt_at_limit_is_fine() -> None:
    assert gen(prompt="x" * 32_000) == []


@pytest.mark.parametrize("n", [0, 11, "3", 2.0, True])
def test_n_must_be_whole_number_in_range(n: object) -> None:
    message = only(gen(n=n), "n")
    assert "1" in message
    assert "10" in message


def test_svg_output_allows_only_one_image() -> None:
    assert "1 to 1" in only(gen(output_format="svg", n=2), "n")


@pytest.mark.parametrize("size", ["999x999", "1536x864", "big", "1024X1024", "0x0"])
def test_fixed_size_models_reject_other_sizes(size: str) -> None:
    message = only(gen(size=size), "size")
    assert "1024x1024, 1536x1024, 1024x1536" in message


def test_size_must_be_string() -> None:
    assert "string" in only(gen(size=1024), "size")


def test_custom_sizes_on_gpt_image_2() -> None:
    assert validate("generate", {"prompt": "x", "model": "gpt-image-2", "size": "1536x864"}) == []
    assert caps.size_warning("gpt-image-2", "3840x2160") is not None
    assert caps.size_warning("gpt-image-2", "1536x864") is None


@pytest.mark.parametrize(("size", "needle"), [
    ("1000x1000", "divisible by 16"),
    ("3200x1024", "between 1:3 and 3:1"),
    ("4096x2048", "at most 3840 pixels a side"),
    ("3840x2176", "8,294,400 pixels in all"),
])
def test_custom_size_limits(size: str, needle: str) -> None:
    problems = validate("generate", {"prompt": "x", "model": "gpt-image-2", "size": size})
    assert needle in only(problems, "size")


def test_quality_per_model() -> None:
    assert "low, medium, high, auto" in only(gen(quality="xhigh"), "quality")
    assert validate("generate", {"prompt": "x", "model": "gpt-image-2.5-flare", "quality": "max"}) == []
    assert "standard" in only(gen(quality="standard"), "quality")


def test_transparent_background_needs_png_or_webp() -> None:
    message = only(gen(background="transparent", output_format="jpeg"), "background")
    assert message == "background='transparent' needs output_format png or webp, got jpeg"
    assert gen(background="transparent", output_format="webp") == []


def test_background_values() -> None:
    assert "transparent, opaque, auto" in only(gen(background="clear"), "background")


def test_output_format_values() -> None:
    assert "png, webp, jpeg, gif, svg" in only(gen(output_format="bmp"), "output_format")


def test_compression_only_with_webp_or_jpeg() -> None:
    assert "webp or jpeg" in only(gen(output_compression=50), "output_compression")
    assert "0 to 100" in only(gen(output_format="jpeg", output_compression=101), "output_compression")
    assert gen(output_format="jpeg", output_compression=80) == []


def test_moderation_generate_only() -> None:
    assert "low, auto" in only(gen(moderation="high"), "moderation")
    assert "not a parameter of the edit endpoint" in only(edit(moderation="low"), "moderation")


def test_complexity_values() -> None:
    assert "low, medium, high" in only(gen(complexity="extreme"), "complexity")


def test_partial_images_need_stream_and_range() -> None:
    assert "stream=True" in only(gen(partial_images=2), "partial_images")
    assert "0 to 3" in only(gen(partial_images=4, stream=True), "partial_images")
    assert gen(partial_images=3, stream=True) == []


def test_gif_and_svg_cannot_stream() -> None:
    assert "cannot stream" in only(gen(output_format="gif", stream=True), "stream")
    assert "cannot stream" in only(gen(output_format="svg", stream=True), "stream")


def test_gif_frame_rules() -> None:
    assert "2 to 16" in only(gen(output_format="gif", frame_count=17), "frame_count")
    assert "only with output_format gif" in only(gen(frame_count=4), "frame_count")
    assert "only with output_format gif" in only(gen(frame_duration_ms=100), "frame_duration_ms")
    assert gen(output_format="gif", frame_count=4, frame_duration_ms=100) == []


def test_svg_options() -> None:
    assert "only with output_format svg" in only(gen(svg={"model": "x"}), "svg")
    assert "effort" in only(gen(output_format="svg", svg={"model": "x", "reasoning": {"effort": "huge"}}), "svg")
    assert gen(output_format="svg", svg={"model": "x", "reasoning": {"effort": "low"}}) == []


@pytest.mark.parametrize("key", ["response_format", "style"])
def test_legacy_params_rejected_on_gpt_models(key: str) -> None:
    assert "legacy DALL·E parameter" in only(gen(**{key: "url"}), key)


def test_identifiers_must_be_strings() -> None:
    assert "string" in only(gen(safety_identifier=5), "safety_identifier")


def test_edit_needs_an_image() -> None:
    assert "at least one input image" in only(validate("edit", {"prompt": "x", "model": "gpt-image-1.5"}), "image")


def test_edit_image_limit() -> None:
    many = [("a.png", png((8, 8), mode="RGBA"), "image/png")] * 17
    assert "at most 16" in only(edit(image=many), "image")


def test_octet_stream_upload_rejected() -> None:
    message = only(edit(image=[("upload", PNG, "application/octet-stream")]), "image")
    assert "image/png" in message


def test_raw_bytes_upload_rejected() -> None:
    assert "tuple" in only(edit(image=[PNG]), "image")


def test_input_format_sniffed_not_trusted() -> None:
    gif = encode(Image.new("RGB", (8, 8)), "GIF")
    message = only(edit(image=[("a.png", gif, "image/png")]), "image")
    assert "gif" in message
    assert "png, webp, jpeg" in message


def test_input_size_limit() -> None:
    big = PNG + b"\0" * (50 * caps.MB)
    assert "under 50 MB" in only(edit(image=[("a.png", big, "image/png")]), "image")


def test_input_fidelity_per_model() -> None:
    assert edit(input_fidelity="high") == []
    mini = validate("edit", {"prompt": "x", "model": "gpt-image-1-mini", "input_fidelity": "high",
                             "image": [("a.png", PNG, "image/png")]})
    assert "allowed: low" in only(mini, "input_fidelity")
    two = validate("edit", {"prompt": "x", "model": "gpt-image-2", "input_fidelity": "low",
                            "image": [("a.png", PNG, "image/png")]})
    assert "omit it" in only(two, "input_fidelity")


def test_mask_same_size_as_first_image() -> None:
    message = only(edit(mask=("mask.png", png((32, 32), mode="RGBA"), "image/png")), "mask")
    assert message == "mask is 32x32 but the first image is 64x64; they must be the same size"


def test_mask_needs_alpha() -> None:
    assert "no alpha channel" in only(edit(mask=("mask.png", png(), "image/png")), "mask")


def test_mask_must_be_png() -> None:
    message = only(edit(mask=("mask.jpg", JPEG, "image/jpeg")), "mask")
    assert "allowed: png" in message


def test_mask_size_limit() -> None:
    big = PNG + b"\0" * (4 * caps.MB)
    assert "under 4 MB" in only(edit(mask=("m.png", big, "image/png")), "mask")


def test_markup_only_on_25_models_and_never_with_mask() -> None:
    assert "gpt-image-2.5-sunburst" in only(edit(markup=("m.png", PNG, "image/png")), "markup")
    both = validate("edit", {"prompt": "x", "model": "gpt-image-2.5-flare",
                             "image": [("a.png", PNG, "image/png")],
                             "mask": ("m.png", PNG, "image/png"), "markup": ("k.png", PNG, "image/png")})
    assert "cannot be combined" in only(both, "markup")


def test_gif_has_no_mask() -> None:
    assert "gif does not support a mask" in only(
        edit(output_format="gif", mask=("m.png", PNG, "image/png")), "mask")


def test_variation_endpoint_only_for_legacy_models() -> None:
    message = only(validate("variation", {"model": "gpt-image-2", "image": ("a.png", PNG, "image/png")}), "model")
    assert "through edit" in message
    ok = validate("variation", {"model": "dall-e-2", "image": ("a.png", PNG, "image/png")}, allow_retired=True)
    assert ok == []


def test_variation_takes_one_image() -> None:
    two = [("a.png", PNG, "image/png")] * 2
    problems = validate("variation", {"model": "dall-e-2", "image": two}, allow_retired=True)
    assert "at most 1" in only(problems, "image")


def test_every_problem_reported_at_once() -> None:
    problems = gen(n=11, size="1x1", quality="ultra", background="transparent", output_format="jpeg")
    assert {p.param for p in problems} == {"n", "size", "quality", "background"}


def test_check_raises_with_all_params() -> None:
    with pytest.raises(ValidationError) as info:
        check("generate", {"prompt": "", "model": "gpt-image-1.5", "n": 0})
    assert info.value.params == ["prompt", "n"]
    assert "prompt is empty" in str(info.value)


def test_unknown_endpoint() -> None:
    assert validate("upscale", {}) [0].param == "endpoint"  # type: ignore[arg-type]


def test_describe_is_json_ready() -> None:
    import json

    described = caps.describe("gpt-image-2.5-sunburst")
    assert json.loads(json.dumps(described)) == described
    assert described["custom_size"] is True
    assert described["markup"] is True
    assert "max" in described["qualities"]
    assert caps.describe("gpt-image-1.5")["input_fidelity"] == ["high", "low"]


def test_snapshots_share_base_rules() -> None:
    assert caps.caps_for("gpt-image-2-2026-04-21").sizes.custom is True
    assert "gpt-image-2-2026-04-21" in caps.current_models()
    assert "dall-e-3" not in caps.current_models()


@pytest.mark.parametrize(("data", "fmt"), [
    (PNG, "png"), (JPEG, "jpeg"), (b"RIFF\0\0\0\0WEBPVP8 ", "webp"), (b"GIF89a...", "gif"),
    (b"<svg xmlns='x'/>", "svg"), (b"%PDF-1.7", "pdf"), (b"", None), (b"hello", None),
])
def test_sniff_format(data: bytes, fmt: str | None) -> None:
    assert caps.sniff_format(data) == fmt


def test_legacy_variation_needs_a_square_image() -> None:
    wide = validate("variation", {"model": "dall-e-2", "image": ("a.png", png((64, 32), mode="RGBA"), "image/png")},
                    allow_retired=True)
    assert "needs a square image" in only(wide, "image")
