"""Published prices as data, each row with its source and the day it was read.

Where OpenAI publishes nothing (output-token counts of the 2.5 and 2.6 models, their input-image rule),
the value is None and the estimate says "unknown": a wrong price is worse than none. "quoted" sources
are third-party pages that quote OpenAI's pricing page (OpenAI's own page was not readable here); they
agree with each other and with the official gpt-image-2.6-sunburst page. A user can give prices for any
model (Azure, a custom server, a negotiated rate) with `set_price` or a `prices=` argument; records then
say the price was user-given.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

__all__ = [
    "BATCH_DISCOUNT",
    "ModelPrice",
    "price_for",
    "set_price",
]

READ_ON = "2026-11-29"
_MODEL_PAGE = "https://developers.openai.com/api/docs/models/"
_PRICING_PAGE = OPENAI_PRICING_PAGE = "https://developers.openai.com/api/docs/pricing"
_IMAGE_GUIDE = "https://developers.openai.com/api/docs/guides/image-generation"
_VISION_GUIDE = "https://developers.openai.com/api/docs/guides/images-vision"
BATCH_DISCOUNT = 0.5
"""The Batch API bills 50% less (https://help.openai.com/en/articles/9197833-batch-api-faq)."""

Confidence = Literal["official", "quoted", "user"]
PerSize = Mapping[str, float]
PerQuality = Mapping[str, PerSize]


@dataclass(frozen=True)
class ModelPrice:
    """USD per 1M tokens by kind, plus what turns a request into tokens before it is sent.

    `per_image` (quality → size → USD) and `output_tokens` (quality → size → tokens) come from the
    model's page and the image-generation guide; `output_formula` names a published calculator rule;
    `input_rule` names the published rule for the tokens of an input image.
    """

    text_input: float | None = None
    text_cached: float | None = None
    image_input: float | None = None
    image_cached: float | None = None
    image_output: float | None = None
    text_output: float | None = None
    per_image: PerQuality = field(default_factory=dict)
    output_tokens: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    output_formula: Literal["gpt-image-2"] | None = None
    input_rule: Literal["tiles-512"] | None = None
    source: str = ""
    confidence: Confidence = "official"
    read_on: str = READ_ON

    def batch(self) -> ModelPrice:
        """The same row at the Batch API's price."""
        def half(value: float | None) -> float | None:
            return None if value is None else value * BATCH_DISCOUNT

        per_image = {q: {s: p * BATCH_DISCOUNT for s, p in sizes.items()} for q, sizes in self.per_image.items()}
        return replace(self, text_input=half(self.text_input), text_cached=half(self.text_cached),
                       image_input=half(self.image_input), image_cached=half(self.image_cached),
                       image_output=half(self.image_output), text_output=half(self.text_output),
                       per_image=per_image, source=f"{self.source}; Batch API: 50% less")


_RATE_FIELDS = ("text_input", "text_cached", "image_input", "image_cached", "image_output", "text_output")

#: Output-token counts of the GPT Image 1 family (1, 1-mini, 1.5, chatgpt-image-latest), from the guide.
_GPT1_OUTPUT_TOKENS = {
    "low": {"1024x1024": 272, "1024x1536": 408, "1536x1024": 400},
    "medium": {"1024x1024": 1056, "1024x1536": 1584, "1536x1024": 1568},
    "high": {"1024x1024": 4160, "1024x1536": 6240, "1536x1024": 6208},
}
_GPT2_FAMILY = ModelPrice(text_input=5.00, text_cached=1.25, image_input=8.00, image_cached=2.00,
                          image_output=30.00)


def _same_sides(low: float, medium: float, high: float, square: tuple[float, float, float]) -> PerQuality:
    """A per-image table where portrait and landscape cost the same (as OpenAI publishes them)."""
    return {q: {"1024x1024": sq, "1536x1024": other, "1024x1536": other}
            for q, sq, other in zip(("low", "medium", "high"), square, (low, medium, high), strict=True)}


PRICES: dict[str, ModelPrice] = {
    "gpt-image-2.6-sunburst": replace(
        _GPT2_FAMILY, source=_MODEL_PAGE + "gpt-image-2.6-sunburst"),
    "gpt-image-2.6-flare": replace(
        _GPT2_FAMILY, confidence="quoted",
        source="https://docs.apiyi.com/en/live/2026-11/gpt-image-2-6-launch.md (same rates as Sunburst, "
               "quoting OpenAI, 2026-11-05)"),
    "gpt-image-2.5-sunburst": ModelPrice(
        text_input=5.00, image_input=8.00, image_output=30.00, confidence="quoted",
        source="https://apidog.com/kr/blog/gpt-image-2-5-api/ (same rates as gpt-image-2; cached rates "
               "not published there)"),
    "gpt-image-2.5-flare": ModelPrice(
        text_input=5.00, image_input=8.00, image_output=30.00, confidence="quoted",
        source="https://apidog.com/kr/blog/gpt-image-2-5-api/ (same rates as gpt-image-2; cached rates "
               "not published there)"),
    "gpt-image-2": replace(
        _GPT2_FAMILY, confidence="quoted", output_formula="gpt-image-2",
        per_image=_same_sides(0.005, 0.041, 0.165, (0.006, 0.053, 0.211)),
        source=f"{_PRICING_PAGE} and {_IMAGE_GUIDE} (per-image table and calculator), quoted by "
               "https://yingtu.ai/en/blog/gpt-image-2-cost-per-image"),
    "gpt-image-1.5": ModelPrice(
        text_input=5.00, image_input=8.00, image_cached=2.00, image_output=32.00, text_output=10.00,
        output_tokens=_GPT1_OUTPUT_TOKENS, input_rule="tiles-512", confidence="quoted",
        per_image=_same_sides(0.013, 0.05, 0.2, (0.009, 0.034, 0.133)),
        source=f"{_PRICING_PAGE} quoted by https://www.llmreference.com/model/gpt-image-1.5/openai-api; "
               f"token counts and input rule: {_IMAGE_GUIDE}, {_VISION_GUIDE}"),
    "chatgpt-image-latest": ModelPrice(
        per_image=_same_sides(0.013, 0.05, 0.2, (0.009, 0.034, 0.133)), output_tokens=_GPT1_OUTPUT_TOKENS,
        confidence="quoted",
        source="https://www.aifreeapi.com/en/posts/gpt-image-1-5-pricing (per image, as gpt-image-1.5; "
               "token rates not published)"),
    "gpt-image-1-mini": ModelPrice(
        text_input=2.00, text_cached=0.20, image_input=2.50, image_cached=0.25, image_output=8.00,
        per_image=_same_sides(0.006, 0.015, 0.052, (0.005, 0.011, 0.036)),
        output_tokens=_GPT1_OUTPUT_TOKENS, input_rule="tiles-512",
        source=_MODEL_PAGE + "gpt-image-1-mini"),
    # Mainline models (text tokens only) for conversations through the Responses API (image_widget.chat).
    "gpt-5.5": ModelPrice(
        text_input=5.00, text_cached=0.50, text_output=30.00, confidence="quoted", read_on="2026-12-04",
        source="https://apidog.com/blog/how-to-use-gpt-5-5-api/ (quoting OpenAI at launch, 2026-04-23: $5 input, "
               "$30 output per 1M tokens) and https://aipromptshub.co/calc/openai-api-cost (cached $0.50)"),
}
for _snapshot, _base in (("gpt-5.5-2026-04-23", "gpt-5.5"),
                         ("gpt-image-2-2026-04-21", "gpt-image-2"),
                         ("gpt-image-2.5-sunburst-2026-09-08", "gpt-image-2.5-sunburst"),
                         ("gpt-image-2.5-flare-2026-09-08", "gpt-image-2.5-flare"),
                         ("gpt-image-1.5-2025-12-16", "gpt-image-1.5")):
    PRICES[_snapshot] = PRICES[_base]

_user_lock = threading.Lock()
_USER: dict[str, ModelPrice] = {}


def set_price(model: str, *, per_image: PerQuality | None = None, source: str = "given by the user",
              **rates: float) -> ModelPrice:
    """Give prices for `model` (this process): USD per 1M tokens (`text_input`, `text_cached`,
    `image_input`, `image_cached`, `image_output`, `text_output`) and/or `per_image` as
    {quality: {size: USD}}. Returns the row that now applies. Records mark these prices as user-given.
    """
    row = user_price(model, per_image=per_image, source=source, **rates)
    with _user_lock:
        _USER[model] = row
    return row


def clear_prices() -> None:
    """Forget every price given with `set_price`."""
    with _user_lock:
        _USER.clear()


def user_price(model: str, *, per_image: PerQuality | None = None, source: str = "given by the user",
               **rates: Any) -> ModelPrice:
    """Check and build a user-given row; the error names the bad argument and what is allowed."""
    unknown = sorted(set(rates) - set(_RATE_FIELDS))
    if unknown:
        raise TypeError(f"set_price() got unknown price(s) {', '.join(unknown)} for {model}; "
                        f"allowed: {', '.join(_RATE_FIELDS)} (USD per 1M tokens) and per_image")
    for name, value in rates.items():
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
            raise ValueError(f"{name} must be a price in USD per 1M tokens (a number ≥ 0), got {value!r}")
    table: dict[str, dict[str, float]] = {}
    for quality, sizes in (per_image or {}).items():
        for size, usd in sizes.items():
            if isinstance(usd, bool) or not isinstance(usd, int | float) or usd < 0:
                raise ValueError(f"per_image[{quality!r}][{size!r}] must be USD per image (≥ 0), got {usd!r}")
            table.setdefault(str(quality), {})[str(size)] = float(usd)
    if not rates and not table:
        raise ValueError(f"set_price({model!r}) needs at least one price: per_image or a token rate")
    rate = {k: float(v) for k, v in rates.items()}
    return ModelPrice(text_input=rate.get("text_input"), text_cached=rate.get("text_cached"),
                      image_input=rate.get("image_input"), image_cached=rate.get("image_cached"),
                      image_output=rate.get("image_output"), text_output=rate.get("text_output"),
                      per_image=table, source=source, confidence="user", read_on="")


def as_overrides(prices: Mapping[str, Any] | None) -> dict[str, ModelPrice]:
    """A `prices=` argument ({model: ModelPrice or {rate: USD}}) as checked rows."""
    rows: dict[str, ModelPrice] = {}
    for model, value in (prices or {}).items():
        if isinstance(value, ModelPrice):
            rows[model] = value
        elif isinstance(value, Mapping):
            rows[model] = user_price(model, **dict(value))
        else:
            raise TypeError(f"prices[{model!r}] must be a dict of prices or a ModelPrice, got {type(value).__name__}")
    return rows


def price_for(model: str, overrides: Mapping[str, ModelPrice] | None = None, *,
              batch: bool = False) -> ModelPrice | None:
    """The prices that apply to `model`: a `prices=` argument, then `set_price`, then the table."""
    row = (overrides or {}).get(model)
    if row is None:
        with _user_lock:
            row = _USER.get(model)
    if row is None:
        row = PRICES.get(model)
    if row is None:
        return None
    return row.batch() if batch else row


def gpt_image_2_output_tokens(quality: str, width: int, height: int) -> int | None:
    """Output tokens of one gpt-image-2 image, by the rule behind OpenAI's cost calculator.

    It reproduces every figure OpenAI publishes for gpt-image-2 (the guide's per-image table and the
    calculator's readings at 1024², 1536x1024, 2048² and 3840x2160).
    """
    factor = {"low": 16, "medium": 48, "high": 96}.get(quality)
    if factor is None:
        return None
    long_edge, short_edge = max(width, height), min(width, height)
    steps = (2 * factor * short_edge + long_edge) // (2 * long_edge)
    return math.ceil(factor * steps * (2_000_000 + width * height) / 4_000_000)


def input_image_tokens(rule: str | None, width: int, height: int, fidelity: str | None) -> int | None:
    """Tokens of one input image by the published rule (GPT Image 1 family), or None where none is.

    The image is scaled down so its short side is at most 512 px and cut into 512 px tiles: 65 + 129 per tile;
    `input_fidelity="high"` adds 4,160 tokens (square) or 6,240 (portrait or landscape).
    """
    if rule != "tiles-512" or width <= 0 or height <= 0:
        return None
    scale = min(1.0, 512 / min(width, height))
    tiles = math.ceil(width * scale / 512) * math.ceil(height * scale / 512)
    tokens = 65 + 129 * tiles
    if fidelity == "high":
        tokens += 4160 if width == height else 6240
    return tokens
