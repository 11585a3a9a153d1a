"""facts/prices.py: every current model's published prices with their source, the published token rules,
the Batch price, and prices a user gives (set_price / prices=)."""

from __future__ import annotations

from pathlib import Path

import pytest

import image_widget as iw
from image_widget.emulator import Emulator
from image_widget.facts import prices
from image_widget.facts.capabilities import MODELS
from image_widget.facts.cost import estimate
from image_widget.facts.lifecycle import lifecycle_of
from image_widget.facts.prices import PRICES, ModelPrice, gpt_image_2_output_tokens, input_image_tokens

#: Models with no announced shutdown that OpenAI prices (the ones a user can rely on after 2026-12-01).
LASTING = [name for name in MODELS if lifecycle_of(name).shutdown is None]
#: Of those, the ones whose output-token counts or per-image prices are published (estimates before a call).
ESTIMABLE = [name for name in LASTING if PRICES[name].per_image or PRICES[name].output_formula]


@pytest.fixture(autouse=True)
def _no_user_prices() -> None:
    prices.clear_prices()
    yield
    prices.clear_prices()


def test_every_model_that_will_exist_has_token_prices_and_a_dated_source() -> None:
    assert LASTING, "the table must list current models"
    for name in LASTING:
        row = PRICES[name]
        assert (row.image_output, row.image_input, row.text_input) == (30.00, 8.00, 5.00), name
        assert row.source.startswith("https://"), name
        assert row.read_on == "2026-11-29", name
    assert PRICES["gpt-image-2.6-sunburst"].confidence == "official"
    assert PRICES["gpt-image-2.6-sunburst"].text_cached == 1.25
    assert PRICES["gpt-image-2.6-sunburst"].image_cached == 2.00


@pytest.mark.parametrize(("quality", "width", "height", "tokens"), [
    ("high", 1024, 1024, 7024), ("high", 1536, 1024, 5488), ("high", 2048, 2048, 14272),
    ("high", 3840, 2160, 13342), ("low", 1024, 1024, 196), ("low", 1536, 1024, 158),
])
def test_gpt_image_2_tokens_match_openais_calculator(quality: str, width: int, height: int, tokens: int) -> None:
    assert gpt_image_2_output_tokens(quality, width, height) == tokens


def test_gpt_image_2_estimates_standard_and_custom_sizes() -> None:
    assert estimate("gpt-image-2", quality="low", size="1024x1024", n=1).text == "$0.006"
    assert estimate("gpt-image-2", quality="high", size="1536x1024", n=2).usd == pytest.approx(0.330)
    custom = estimate("gpt-image-2", quality="high", size="3840x2160", n=1)
    assert custom.usd == pytest.approx(13342 * 30 / 1e6)
    assert "quoted" in custom.note
    assert "read 2026-11-29" in custom.note


@pytest.mark.parametrize("model", ESTIMABLE)
def test_estimate_and_cost_are_numbers_where_counts_are_published(model: str) -> None:
    result = iw.generate("a cat", model=model, quality="low")
    assert result.estimate.usd is not None
    assert result.estimate.usd > 0
    assert result.cost.usd is not None
    assert result.cost.usd > 0
    assert result.cost.usd == pytest.approx(result.estimate.usd, rel=0.05)  # the bill matches the estimate


@pytest.mark.parametrize("model", sorted(set(LASTING) - set(ESTIMABLE)))
def test_models_without_published_counts_have_a_cost_but_say_why_no_estimate(model: str, tmp_path: Path) -> None:
    result = iw.generate("a cat", model=model, quality="low", store=tmp_path)  # a new folder: nothing learned yet
    assert result.estimate.usd is None
    assert "no published output-token counts" in result.estimate.note
    assert "set_price" in result.estimate.note
    assert result.cost.usd is not None
    assert result.cost.usd > 0


def test_input_image_rule() -> None:
    assert input_image_tokens("tiles-512", 1024, 1024, None) == 65 + 129
    assert input_image_tokens("tiles-512", 1024, 1536, None) == 65 + 129 * 2
    assert input_image_tokens("tiles-512", 1024, 1024, "high") == 65 + 129 + 4160
    assert input_image_tokens("tiles-512", 1536, 1024, "high") == 65 + 129 * 2 + 6240
    assert input_image_tokens("tiles-512", 300, 200, None) == 65 + 129
    assert input_image_tokens(None, 1024, 1024, None) is None


def test_edit_estimate_includes_input_images_where_the_rule_is_published() -> None:
    base = estimate("gpt-image-1-mini", quality="low", size="1024x1024", n=1, endpoint="edit")
    assert base.partial
    assert base.text.endswith("+ input images")
    with_inputs = estimate("gpt-image-1-mini", quality="low", size="1024x1024", n=1, endpoint="edit",
                           inputs=[(1024, 1024), (1024, 1536)])
    assert not with_inputs.partial
    assert with_inputs.usd == pytest.approx(0.005 + (194 + 323) * 2.50 / 1e6)
    high = estimate("gpt-image-1.5", quality="low", size="1024x1024", n=1, endpoint="edit",
                    inputs=[(1024, 1024)], input_fidelity="high")
    assert high.usd == pytest.approx(0.009 + (194 + 4160) * 8.00 / 1e6)
    no_rule = estimate("gpt-image-2", quality="low", size="1024x1024", n=1, endpoint="edit", inputs=[(1024, 1024)])
    assert no_rule.partial
    assert "no published rule" in no_rule.note


def test_batch_price_is_half() -> None:
    normal = estimate("gpt-image-2", quality="medium", size="1024x1024", n=4)
    batch = estimate("gpt-image-2", quality="medium", size="1024x1024", n=4, batch=True)
    assert batch.usd == pytest.approx(normal.usd / 2)
    assert "Batch" in batch.note
    half = PRICES["gpt-image-2.6-sunburst"].batch()
    assert (half.image_output, half.text_cached) == (15.0, 0.625)


def test_set_price_makes_an_unpriced_model_priced_and_records_say_so() -> None:
    prices.set_price("gpt-image-2.6-flare", per_image={"low": {"1024x1024": 0.02}}, image_output=30.0)
    got = estimate("gpt-image-2.6-flare", quality="low", size="1024x1024", n=2)
    assert got.usd == pytest.approx(0.04)
    assert "given by the user" in got.note
    result = iw.generate("a cat", model="gpt-image-2.6-flare", quality="low", size="1024x1024")
    assert result.estimate.usd == pytest.approx(0.02)
    assert result.record["price_source"] == "user"
    plain = iw.generate("a cat", model="gpt-image-2", quality="low")
    assert plain.record["price_source"] == "quoted"


def test_prices_argument_applies_to_one_call_only(emulator: Emulator, tmp_path: Path) -> None:
    emulator.configure(models={"my-azure-deployment": None})  # a deployment name on a custom server
    result = iw.generate("a cat", model="my-azure-deployment", quality="low", size="1024x1024",
                         prices={"my-azure-deployment": {"per_image": {"low": {"1024x1024": 0.5}}}},
                         base_url=emulator.url, api_key="sk-test", store=tmp_path)
    assert result.estimate.usd == pytest.approx(0.5)
    assert result.record["price_source"] == "user"
    assert estimate("my-azure-deployment", quality="low", size="1024x1024", n=1).usd is None


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"image_outptu": 3.0}, "image_outptu.*allowed: text_input"),
    ({"image_output": -1.0}, "image_output must be a price"),
    ({"per_image": {"low": {"1024x1024": "cheap"}}}, r"per_image\['low'\]\['1024x1024'\]"),
    ({}, "needs at least one price"),
])
def test_bad_prices_name_the_argument(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises((TypeError, ValueError), match=match):
        prices.set_price("m", **kwargs)  # type: ignore[arg-type]


def test_a_user_row_is_a_model_price() -> None:
    row = prices.set_price("x", image_output=1.0)
    assert isinstance(row, ModelPrice)
    assert row.confidence == "user"


def test_a_third_partys_figure_is_labelled_as_such_never_as_openais() -> None:
    """Issue 23, item 10: where no OpenAI page gives a model's price, the figure is shown as a third party's."""
    from image_widget.facts.cost import describe_price as price_note

    official = price_note("gpt-image-2.6-sunburst")
    assert "OpenAI, https://developers.openai.com" in official
    assert "third party" not in official
    quoted = price_note("gpt-image-2.6-flare")
    assert "third-party figure, not OpenAI's page" in quoted
    assert "https://docs.apiyi.com" in quoted
    assert "OpenAI, as quoted" not in quoted
