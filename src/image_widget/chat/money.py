"""What a turn will cost before it is sent, and what it cost after: two models, each priced with its source.

A turn bills the mainline model's tokens (it reads the whole thread again each turn: `previous_response_id`
sends the earlier turns as input) plus the image tool's tokens at the image model's rates. The image part is
estimated like any edit or generation (learned from this folder's earlier turns where it can be, else the
published figure); the mainline part from the thread's last turn (its input grows by that turn's output and
the new prompt), else from a stated rule of thumb. Every figure says where it comes from.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from image_widget.chat.turn import Turn
from image_widget.facts import cost as pricing
from image_widget.facts.prices import ModelPrice, price_for
from image_widget.money import bounds, learned

__all__ = ["TurnEstimate", "actual", "estimate"]

_OVERHEAD_IN = 200
"""Tokens the mainline model reads each turn besides the prompt and the thread (instructions, the tool's
definition, sent again with every request): a rule of thumb (no published figure; the emulator uses it too)."""
_TOOL_CALL_OUT = 120
"""Tokens it writes to call the image tool (the revised prompt): a rule of thumb."""


_MAINLINE_MARGIN = 2
"""A budget counts the mainline part this many times over: its tokens are a forecast from the thread, not a
bound (the model may write a longer tool call than last turn)."""


@dataclass(frozen=True)
class TurnEstimate:
    """The turn's estimate (`cost`), the top of its range (`high`: what the classroom limit checks; input images
    an estimate leaves out are bounded, `money.bounds`) and the text that says where it is from."""

    cost: pricing.Cost
    high: float | None
    text: str
    mainline_usd: float | None = None

    def budget(self) -> pricing.Cost:
        """What a capped budget reserves (the MCP server's `--max-cost`): the image part's upper end plus the
        mainline part counted `_MAINLINE_MARGIN` times."""
        if self.high is None or self.mainline_usd is None:
            return self.cost
        usd = self.high + (_MAINLINE_MARGIN - 1) * self.mainline_usd
        return pricing.Cost(usd, f"up to {pricing.format_usd(usd)} (the mainline part counted "
                                 f"×{_MAINLINE_MARGIN}): {self.text}", self.cost.note, upper_bound=True)


def estimate(turn: Turn, folder: Path, *, synthetic: bool, context_size: tuple[int, int] | None,
             last_mainline: Mapping[str, Any] | None, prices: Mapping[str, ModelPrice]) -> TurnEstimate:
    """Image tool (learned or published) + mainline tokens (from the last turn, else the rule of thumb)."""
    inputs = turn.request.input_sizes() + ([context_size] if context_size and not turn.request.uploads("image")
                                           else [])
    image = learned.estimate(turn.request, folder, synthetic=synthetic, prices=prices, inputs=inputs)
    words = len(str(turn.request.params.get("prompt", "")).split())
    if last_mainline:
        tokens_in = int(last_mainline.get("input_tokens") or 0) + int(last_mainline.get("output_tokens") or 0) \
            + _OVERHEAD_IN + round(words * 1.3)
        tokens_out = int(last_mainline.get("output_tokens") or _TOOL_CALL_OUT)
        origin = "from the thread's last turn"
    else:
        tokens_in, tokens_out, origin = _OVERHEAD_IN + round(words * 1.3), _TOOL_CALL_OUT, "rule of thumb"
    mainline = _mainline_cost(turn.mainline, tokens_in, tokens_out, prices, origin)
    total = pricing.add(image.cost(), mainline)
    try:  # the image part's top with the turn's input images (its own, or the image it continues) bounded
        image_top = bounds.bound(image.budget(), turn.image_model, inputs, prices=prices).usd
    except bounds.Unbounded:
        image_top = None
    high = None if image_top is None or mainline.usd is None else image_top + mainline.usd
    text = f"{total.text} = image {image.text} + {turn.mainline} {mainline.text} ({mainline.note})"
    return TurnEstimate(pricing.Cost(total.usd, text, total.note, total.upper_bound, total.partial), high, text,
                        mainline.usd)


def _mainline_cost(model: str, tokens_in: int, tokens_out: int, prices: Mapping[str, ModelPrice],
                   origin: str) -> pricing.Cost:
    row = price_for(model, prices)
    if row is None or row.text_input is None or row.text_output is None:
        return pricing.Cost.unknown(f"no published price for {model}; set one with iw.set_price('{model}', "
                                    "text_input=…, text_output=…)")
    usd = (tokens_in * row.text_input + tokens_out * row.text_output) / 1_000_000
    return pricing.Cost.of(usd, note=f"≈{tokens_in} tokens in, {tokens_out} out, {origin}; {_cite(row)}")


def _cite(row: ModelPrice) -> str:
    label = {"official": "OpenAI's price", "quoted": "OpenAI's price as quoted by a third party",
             "user": "your price"}[row.confidence]
    when = f", read {row.read_on}" if row.read_on else ""
    return f"{label}: {row.source}{when}"


def actual(turn: Turn, image_usage: Mapping[str, Any] | None, mainline_usage: Mapping[str, Any] | None,
           meta: Mapping[str, Any], prices: Mapping[str, ModelPrice]) -> pricing.Cost:
    """From the answer's usage: the image tool's tokens at the image model's rates plus the mainline's."""
    image = pricing.actual(turn.image_model, image_usage, quality=meta.get("quality") or
                           turn.request.params.get("quality"), size=meta.get("size") or
                           turn.request.params.get("size"), n=1, prices=prices)
    if not mainline_usage:
        return pricing.add(image, pricing.Cost.unknown(f"{turn.mainline}: no usage reported"))
    details = mainline_usage.get("input_tokens_details") or {}
    cached = int(details.get("cached_tokens") or 0)
    fresh = int(mainline_usage.get("input_tokens") or 0) - cached
    out = int(mainline_usage.get("output_tokens") or 0)
    row = price_for(turn.mainline, prices)
    if row is None or row.text_input is None or row.text_output is None:
        return pricing.add(image, pricing.Cost.unknown(f"no published price for {turn.mainline}"))
    usd = (fresh * row.text_input + cached * (row.text_cached or row.text_input) + out * row.text_output) / 1e6
    return pricing.add(image, pricing.Cost.of(usd, note=f"{turn.mainline}: {fresh + cached} tokens in, {out} out; "
                                                      f"{_cite(row)}"))
