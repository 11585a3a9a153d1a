"""facts/cost.py: published prices only, upper bounds for "auto", unknown for everything else."""

from __future__ import annotations

from typing import Any

import pytest

from image_widget.facts import cost
from image_widget.facts.cost import Cost, SessionTotal, actual, add, describe_price, estimate

MINI = "gpt-image-1-mini"


@pytest.mark.parametrize(
    ("quality", "size", "usd"),
    [
        ("low", "1024x1024", 0.005), ("low", "1536x1024", 0.006), ("low", "1024x1536", 0.006),
        ("medium", "1024x1024", 0.011), ("medium", "1536x1024", 0.015), ("medium", "1024x1536", 0.015),
        ("high", "1024x1024", 0.036), ("high", "1536x1024", 0.052), ("high", "1024x1536", 0.052),
    ],
)
def test_published_per_image_prices(quality: str, size: str, usd: float) -> None:
    one = estimate(MINI, quality=quality, size=size, n=1)
    assert one.usd == pytest.approx(usd)
    assert one.text == f"${usd:.3f}"
    assert not one.upper_bound
    assert not one.partial
    assert estimate(MINI, quality=quality, size=size, n=3).usd == pytest.approx(3 * usd)


def test_estimate_text() -> None:
    assert estimate(MINI, quality="medium", size="1024x1024", n=2).text == "$0.022"
    assert estimate(MINI, quality="low", size="1024x1024", n=None).text == "$0.005"  # n defaults to 1


@pytest.mark.parametrize(
    ("quality", "size", "usd"),
    [("auto", "1024x1024", 0.036), (None, "1024x1024", 0.036), ("low", "auto", 0.006),
     ("medium", None, 0.015), ("auto", "auto", 0.052), (None, None, 0.052)],
)
def test_auto_is_a_safe_upper_bound(quality: str | None, size: str | None, usd: float) -> None:
    got = estimate(MINI, quality=quality, size=size, n=2)
    assert got.usd == pytest.approx(2 * usd)
    assert got.upper_bound
    assert got.text == f"up to ${2 * usd:.3f}"


@pytest.mark.parametrize("model", ["my-local-model", "dall-e-3", "gpt-image-1"])
def test_models_without_any_price_are_unknown(model: str) -> None:
    got = estimate(model, quality="low", size="1024x1024", n=1)
    assert got.usd is None
    assert got.text == "unknown"
    assert model in got.note
    assert "set_price" in got.note  # says the way out
    after = actual(model, {"input_tokens": 10, "input_tokens_details": {"text_tokens": 10, "image_tokens": 0},
                           "output_tokens": 1000}, quality="low", size="1024x1024", n=1)
    assert (after.usd, after.text) == (None, "unknown")
    assert "No published price" in describe_price(model)


@pytest.mark.parametrize(("quality", "size"), [("low", "2048x1152"), ("xhigh", "1024x1024"),
                                               ("standard", "1024x1024")])
def test_unlisted_sizes_and_qualities_are_unknown(quality: str, size: str) -> None:
    got = estimate(MINI, quality=quality, size=size, n=1)
    assert (got.usd, got.text) == (None, "unknown")


def test_edit_estimate_says_input_images_are_extra() -> None:
    got = estimate(MINI, quality="low", size="1024x1024", n=2, endpoint="edit")
    assert got.usd == pytest.approx(0.010)
    assert got.partial
    assert got.text == "$0.010 + input images"
    assert "input images" in got.note
    auto = estimate(MINI, quality="auto", size="1024x1024", n=1, endpoint="edit")
    assert auto.text == "up to $0.036 + input images"


def test_bad_n_is_refused() -> None:
    with pytest.raises(ValueError, match="n must be"):
        estimate(MINI, quality="low", size="1024x1024", n=-1)


def test_actual_from_token_usage() -> None:
    usage = {"input_tokens": 1050, "input_tokens_details": {"text_tokens": 50, "image_tokens": 1000},
             "output_tokens": 4000, "total_tokens": 5050}
    got = actual(MINI, usage, quality="high", size="1024x1024", n=1)
    expected = (50 * 2.00 + 1000 * 2.50 + 4000 * 8.00) / 1e6
    assert got.usd == pytest.approx(expected)
    assert got.text == f"${expected:.3f}"
    assert not got.upper_bound


def test_actual_without_split_is_an_upper_bound() -> None:
    got = actual(MINI, {"input_tokens": 100, "output_tokens": 1000}, quality="low", size="1024x1024", n=1)
    assert got.usd == pytest.approx((100 * 2.50 + 1000 * 8.00) / 1e6)
    assert got.upper_bound
    assert got.text.startswith("up to $")


def test_actual_falls_back_to_per_image_price() -> None:
    got = actual(MINI, None, quality="medium", size="1536x1024", n=2)
    assert got.usd == pytest.approx(0.030)
    assert got.text == "$0.030"
    garbage: dict[str, Any] = {"output_tokens": "many"}
    assert actual(MINI, garbage, quality="low", size="1024x1024", n=1).usd == pytest.approx(0.005)
    assert actual(MINI, None, quality="low", size="4096x4096", n=1).text == "unknown"


def test_actual_accepts_sdk_usage_objects() -> None:
    class Usage:
        def model_dump(self) -> dict[str, Any]:
            return {"input_tokens": 0, "input_tokens_details": {"text_tokens": 0, "image_tokens": 0},
                    "output_tokens": 1_000_000}

    got = actual(MINI, Usage(), quality="low", size="1024x1024", n=1)  # type: ignore[arg-type]
    assert got.usd == pytest.approx(8.0)


def test_add_and_session_total() -> None:
    a = Cost.of(0.011)
    b = Cost.of(0.005)
    assert add(a, b).usd == pytest.approx(0.016)
    assert (a + b).text == "$0.016"
    unknown = Cost.unknown("no price")
    mixed = add(a, unknown)
    assert mixed.usd == pytest.approx(0.011)
    assert mixed.text == "≥ $0.011 (some unknown)"
    assert add(mixed, b).text == "≥ $0.016 (some unknown)"  # stays marked after more known costs
    assert add(unknown, unknown).text == "unknown"
    assert add(Cost.of(0.01, upper_bound=True), b).text == "up to $0.015"

    total = SessionTotal()
    assert total.text == "$0.000"
    assert total.usd == 0.0
    total.add(actual(MINI, None, quality="low", size="1024x1024", n=2))
    total.add(actual(MINI, None, quality="high", size="1024x1024", n=1))
    assert total.text == "$0.046"
    assert total.count == 2
    total.add(actual("gpt-image-2.6-flare", None, quality="low", size="1024x1024", n=1))  # no per-image price
    assert total.usd == pytest.approx(0.046)
    assert total.text == "≥ $0.046 (some unknown)"
    assert "3 requests" in repr(total)
    total.reset()
    assert (total.text, total.count) == ("$0.000", 0)

    only_unknown = SessionTotal([unknown])
    assert (only_unknown.usd, only_unknown.text) == (None, "unknown")


def test_format_usd() -> None:
    assert cost.format_usd(0.0) == "$0.000"
    assert cost.format_usd(0.022) == "$0.022"
    assert cost.format_usd(1234.5) == "$1,234.500"
    assert cost.format_usd(0.00043) == "$0.00043"


def test_describe_price() -> None:
    text = describe_price(MINI)
    for fragment in ("$0.005", "$0.006", "$0.011", "$0.015", "$0.036", "$0.052", "$2.00", "$2.50", "$8.00"):
        assert fragment in text
