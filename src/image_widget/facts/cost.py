"""Costs: an estimate before a request, the actual cost after it, and a session total.

The prices themselves are data in `prices.py` (each with its source). Nothing here is ever guessed:
where no price or token count is published the cost is "unknown", and an unknown part keeps a total
marked "some unknown". When a parameter is left to the server (`quality="auto"`, `size="auto"`) the
estimate is the highest matching price and says "up to", a safe upper bound.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from image_widget.facts.capabilities import STANDARD_SIZES, parse_size
from image_widget.facts.prices import (
    OPENAI_PRICING_PAGE,
    ModelPrice,
    gpt_image_2_output_tokens,
    input_image_tokens,
    price_for,
)

__all__ = [
    "Cost",
    "SessionTotal",
    "actual",
    "add",
    "describe_price",
    "estimate",
    "format_usd",
]

_UNKNOWN = "unknown"


def format_usd(usd: float) -> str:
    """`$0.022`; amounts below a tenth of a cent keep their significant digits instead of `$0.000`."""
    if usd == 0 or abs(usd) >= 0.001:
        return f"${usd:,.3f}"
    return "$" + f"{usd:.6f}".rstrip("0")


def _render(usd: float | None, upper_bound: bool, partial: bool) -> str:
    if usd is None:
        return _UNKNOWN
    amount = format_usd(usd)
    if upper_bound and partial:
        return f"up to {amount} + unknown"
    if upper_bound:
        return f"up to {amount}"
    if partial:
        return f"≥ {amount} (some unknown)"
    return amount


@dataclass(frozen=True)
class Cost:
    """A price in USD, or None when it is not known, with the text the UI shows.

    `upper_bound`: the true cost is at most `usd` (a parameter was left to the server).
    `partial`: part of the cost is not known (unknown prices, or input images of an edit), so the
    true cost is at least `usd` plus something. `note` explains, for a tooltip.
    """

    usd: float | None
    text: str
    note: str = ""
    upper_bound: bool = False
    partial: bool = False

    @classmethod
    def unknown(cls, note: str = "") -> Cost:
        return cls(None, _UNKNOWN, note=note)

    @classmethod
    def of(cls, usd: float | None, *, note: str = "", upper_bound: bool = False,
           partial: bool = False) -> Cost:
        """A Cost whose text is rendered from the number and the flags."""
        if usd is None:
            return cls.unknown(note)
        return cls(usd, _render(usd, upper_bound, partial), note, upper_bound, partial)

    @property
    def known(self) -> bool:
        return self.usd is not None

    def __str__(self) -> str:
        return self.text

    def __add__(self, other: Cost) -> Cost:
        return add(self, other)


def add(a: Cost, b: Cost) -> Cost:
    """The sum of two costs; an unknown part keeps the total marked "some unknown", never dropped."""
    if a.usd is None and b.usd is None:
        return Cost.unknown("no known prices")
    usd = (a.usd or 0.0) + (b.usd or 0.0)
    partial = a.partial or b.partial or a.usd is None or b.usd is None
    upper = a.upper_bound or b.upper_bound
    note = "; ".join(dict.fromkeys(n for n in (a.note, b.note) if n))
    return Cost.of(usd, note=note, upper_bound=upper, partial=partial)


def _count(n: int | None) -> int:
    if n is None:
        return 1
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"n must be a whole number of images, got {n!r}")
    return n


_HOW_TO_PRICE = "give a price with iw.set_price(model, ...) or prices={...}"
_FORMULA_QUALITIES = ("low", "medium", "high")


def _no_price(model: str) -> str:
    return f"no published price for model {model}; {_HOW_TO_PRICE}"


def _output_tokens(row: ModelPrice, quality: str, size: str) -> int | None:
    """Output tokens of one image as published: the model's token table, else its calculator rule."""
    tokens = row.output_tokens.get(quality, {}).get(size)
    if tokens is None and row.output_formula == "gpt-image-2":
        wh = parse_size(size)
        tokens = gpt_image_2_output_tokens(quality, *wh) if wh else None
    return tokens


def _output_usd(row: ModelPrice, quality: str, size: str) -> float | None:
    """One image's output at exactly this quality and size, from what is published."""
    table = row.per_image.get(quality, {})
    if size in table:
        return table[size]
    tokens = _output_tokens(row, quality, size)
    if tokens is None or row.image_output is None:
        return None
    return tokens * row.image_output / 1_000_000


def published_output_tokens(model: str, quality: str, size: tuple[int, int]) -> int | None:
    """Output tokens of one image as published (what the emulator bills, as OpenAI would), else None."""
    row = price_for(model)
    return None if row is None else _output_tokens(row, quality, f"{size[0]}x{size[1]}")


def _per_image(model: str, row: ModelPrice | None, quality: str | None,
               size: str | None) -> tuple[float | None, bool, str]:
    """(price, is an upper bound, why unknown) for one image of `model` at `quality` × `size`."""
    if row is None:
        return None, False, _no_price(model)
    known_qualities = sorted({*row.per_image, *row.output_tokens,
                              *(_FORMULA_QUALITIES if row.output_formula else ())})
    if not known_qualities:
        return None, False, (f"no published output-token counts or per-image prices for {model} "
                             f"(only token rates, so the actual cost is known after the call); {_HOW_TO_PRICE}")
    qualities = known_qualities if quality in (None, "auto") else [str(quality)]
    sizes = list(STANDARD_SIZES) if size in (None, "auto") else [str(size)]
    prices = [_output_usd(row, q, s) for q in qualities for s in sizes]
    if any(p is None for p in prices):
        return None, False, f"no published price for quality={quality!r} at size {size} on {model}; {_HOW_TO_PRICE}"
    found = [p for p in prices if p is not None]
    return max(found), len(found) > 1, ""


def _inputs_usd(row: ModelPrice | None, inputs: Sequence[tuple[int, int]], fidelity: str | None) -> float | None:
    """Input images of an edit, by the published token rule; None where no rule is published."""
    if row is None or row.image_input is None:
        return None
    total = 0
    for width, height in inputs:
        tokens = input_image_tokens(row.input_rule, width, height, fidelity)
        if tokens is None:
            return None
        total += tokens
    return total * row.image_input / 1_000_000


def _source_note(row: ModelPrice) -> str:
    if row.confidence == "user":
        return f"price {row.source}"
    return f"price: {price_citation(row)}"


def price_citation(row: ModelPrice) -> str:
    """Where a price comes from, said plainly: OpenAI's own page, or a third party's figure labelled as such."""
    if row.confidence == "official":
        return f"OpenAI, {row.source} (read {row.read_on})"
    if row.confidence == "user":
        return row.source
    return (f"third-party figure, not OpenAI's page (OpenAI's {OPENAI_PRICING_PAGE} could not be read here): "
            f"{row.source} (read {row.read_on}); a figure learned from your own runs is preferred")


def short_citation(row: ModelPrice) -> str:
    """A few words for an estimate's text — whose figure, where, and the day it was read (the note has all)."""
    if row.confidence == "user":
        return "your price"
    words = [w.rstrip(",;)") for w in row.source.split() if w.startswith("http")]
    if row.confidence == "official":
        return f"published price: {words[0] if words else row.source}, read {row.read_on}"
    theirs = [w for w in words if "openai.com" not in w]
    return f"third-party price: {theirs[0] if theirs else row.source}, read {row.read_on}"


def estimate(model: str, *, quality: str | None, size: str | None, n: int | None, endpoint: str = "generate",  # noqa: PLR0913 - public keyword options mirror a request's
             inputs: Sequence[tuple[int, int]] | None = None, input_fidelity: str | None = None,
             prices: Mapping[str, ModelPrice] | None = None, batch: bool = False) -> Cost:
    """What a request will cost before it is sent: per-image output × n, plus the input images of an edit.

    `quality`/`size` of "auto" (or None) take the highest matching price: an upper bound ("up to").
    Edits and variations also bill their input images (`inputs`: width × height of each) as tokens:
    estimated by the published rule where there is one, else the estimate says "+ input images".
    """
    count = _count(n)
    row = price_for(model, prices, batch=batch)
    price, upper, why = _per_image(model, row, quality, size)
    if price is None or row is None:
        return Cost.unknown(why)
    usd = price * count
    notes = [f"{format_usd(price)} per image × {count}"]
    if upper:
        notes.append("quality or size is auto: the highest matching price is shown")
    if batch:
        notes.append("Batch API price (50% less)")
    notes.append(_source_note(row))
    if endpoint == "generate":
        return Cost.of(usd, note="; ".join(notes), upper_bound=upper)
    input_usd = _inputs_usd(row, inputs or [], input_fidelity) if inputs else None
    if input_usd is not None:
        notes.append(f"{len(inputs or [])} input image(s): {format_usd(input_usd)} by the published token rule")
        return Cost.of(usd + input_usd, note="; ".join(notes), upper_bound=upper)
    notes.append("input images are billed as tokens; no published rule for this model, so not included")
    text = f"{_render(usd, upper, False)} + input images"
    return Cost(usd, text, "; ".join(notes), upper_bound=upper, partial=True)


def _usage_dict(usage: object) -> Mapping[str, Any] | None:
    if usage is None:
        return None
    if isinstance(usage, Mapping):
        return usage
    dump = getattr(usage, "model_dump", None)  # an SDK `ImageUsage` object
    if callable(dump):
        dumped = dump()
        return dumped if isinstance(dumped, Mapping) else None
    return None


def _tokens(value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return None
    return value


def _from_tokens(row: ModelPrice, usage: Mapping[str, Any]) -> Cost | None:
    output = _tokens(usage.get("output_tokens"))
    if row.image_output is None or output is None:
        return None
    details = usage.get("input_tokens_details")
    details = details if isinstance(details, Mapping) else {}
    text_t, image_t = _tokens(details.get("text_tokens")), _tokens(details.get("image_tokens"))
    total_in = _tokens(usage.get("input_tokens"))
    text_rate, image_rate = row.text_input, row.image_input
    upper = False
    if text_t is not None and image_t is not None and text_rate is not None and image_rate is not None:
        input_usd = text_t * text_rate + image_t * image_rate
        note = f"{text_t} text + {image_t} image input tokens, {output} output tokens"
    elif total_in is not None and (text_rate is not None or image_rate is not None):
        # No text/image split: price every input token at the higher rate — an upper bound.
        input_usd, upper = total_in * max(r for r in (text_rate, image_rate) if r is not None), True
        note = f"{total_in} input tokens (no text/image split, priced at the higher rate), {output} output tokens"
    else:
        return None
    out_details = usage.get("output_tokens_details")
    text_out = _tokens(out_details.get("text_tokens")) if isinstance(out_details, Mapping) else None
    output_usd = output * row.image_output
    if text_out and row.text_output is not None:  # text the model wrote is billed at the text rate
        output_usd = (output - text_out) * row.image_output + text_out * row.text_output
    usd = (input_usd + output_usd) / 1_000_000
    return Cost.of(usd, note=f"{note}; {_source_note(row)}", upper_bound=upper and total_in != 0)


def actual(model: str, usage: Mapping[str, Any] | None, *, quality: str | None, size: str | None,
           n: int | None, prices: Mapping[str, ModelPrice] | None = None, batch: bool = False) -> Cost:
    """What a finished request cost: from its token usage when the model has token rates, else the
    per-image price × n when known, else unknown.

    `usage` is the response's usage for the whole request (all n images); an SDK usage object works
    too. Pass the quality and size the response reports, so "auto" resolves to an exact price.
    """
    row = price_for(model, prices, batch=batch)
    found = _usage_dict(usage)
    if found is not None and row is not None:
        from_tokens = _from_tokens(row, found)
        if from_tokens is not None:
            return from_tokens
    count = _count(n)
    price, upper, why = _per_image(model, row, quality, size)
    if price is None or row is None:
        return Cost.unknown(why)
    note = f"{format_usd(price)} per image × {count}" + ("; no token usage reported" if found is None else "")
    return Cost.of(price * count, note=f"{note}; {_source_note(row)}", upper_bound=upper)


def price_source(model: str, prices: Mapping[str, ModelPrice] | None = None) -> str | None:
    """For records: "official", "quoted" or "user" (given with set_price / prices=), None if unpriced."""
    row = price_for(model, prices)
    return row.confidence if row is not None else None


class SessionTotal:
    """A running total of actual costs that stays honest about unknown parts. Thread-safe."""

    def __init__(self, costs: Iterable[Cost] = ()) -> None:
        self._lock = threading.Lock()
        self._total: Cost | None = None
        self.count = 0
        for cost in costs:
            self.add(cost)

    def add(self, cost: Cost) -> Cost:
        """Add one request's cost; returns the new total."""
        with self._lock:
            self._total = cost if self._total is None else add(self._total, cost)
            self.count += 1
            return self._total

    def reset(self) -> None:
        with self._lock:
            self._total, self.count = None, 0

    @property
    def total(self) -> Cost:
        with self._lock:
            return self._total if self._total is not None else Cost.of(0.0)

    @property
    def usd(self) -> float | None:
        return self.total.usd

    @property
    def text(self) -> str:
        return self.total.text

    def __repr__(self) -> str:
        return f"SessionTotal({self.text}, {self.count} requests)"


def describe_price(model: str, prices: Mapping[str, ModelPrice] | None = None) -> str:
    """One paragraph for the UI tooltip: the prices of `model` and their source, or that none are known."""
    row = price_for(model, prices)
    if row is None:
        return f"No published price for {model} is known here, so its costs show as unknown ({_HOW_TO_PRICE})."
    parts: list[str] = []
    if row.per_image:
        per = "; ".join(f"{quality} " + " / ".join(f"{format_usd(p)} ({s})" for s, p in sizes.items())
                        for quality, sizes in row.per_image.items())
        parts.append(f"{model} per image: {per}.")
    rates = [f"{label} ${value:.2f}" for label, value in (
        ("text input", row.text_input), ("cached text", row.text_cached), ("image input", row.image_input),
        ("cached image", row.image_cached), ("image output", row.image_output), ("text output", row.text_output))
        if value is not None]
    if rates:
        parts.append(f"Per 1M tokens: {', '.join(rates)}.")
    if not row.per_image and not row.output_tokens and not row.output_formula:
        parts.append("No output-token counts are published, so estimates are unknown; actual costs come from "
                     "the tokens the API reports.")
    parts.append(f"Source: {_source_note(row)}. Batch API: 50% less.")
    return " ".join(parts)
