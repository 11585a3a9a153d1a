"""Prices as data: an estimate before a request, the actual cost after it, and a session total.

The only published prices we can read are those of gpt-image-1-mini (see ../shared/API-NOTES.md).
Every other model shows "unknown": a wrong price is worse than none, so nothing here is ever guessed.
When a parameter is left to the server (`quality="auto"`, `size="auto"`) the estimate is the highest
matching price and says "up to", a safe upper bound.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from image_widget.capabilities import STANDARD_SIZES

__all__ = [
    "PER_IMAGE_USD",
    "TOKEN_RATES",
    "Cost",
    "SessionTotal",
    "TokenRates",
    "actual",
    "add",
    "describe_price",
    "estimate",
    "format_usd",
]

#: Published per-image prices in USD: model → quality → size. 1536x1024 and 1024x1536 cost the same.
PER_IMAGE_USD: dict[str, dict[str, dict[str, float]]] = {
    "gpt-image-1-mini": {
        "low": {"1024x1024": 0.005, "1536x1024": 0.006, "1024x1536": 0.006},
        "medium": {"1024x1024": 0.011, "1536x1024": 0.015, "1024x1536": 0.015},
        "high": {"1024x1024": 0.036, "1536x1024": 0.052, "1024x1536": 0.052},
    },
}


@dataclass(frozen=True)
class TokenRates:
    """USD per 1M tokens, as published; used for actual costs when the response reports usage."""

    text_input: float
    image_input: float
    image_output: float


TOKEN_RATES: dict[str, TokenRates] = {
    "gpt-image-1-mini": TokenRates(text_input=2.00, image_input=2.50, image_output=8.00),
}

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


def _per_image(model: str, quality: str | None, size: str | None) -> tuple[float | None, bool, str]:
    """(price, is an upper bound, why unknown) for one image of `model` at `quality` × `size`."""
    table = PER_IMAGE_USD.get(model)
    if table is None:
        return None, False, f"no published price for model {model}"
    if quality in (None, "auto"):
        qualities = list(table)
    elif quality in table:
        qualities = [quality]
    else:
        return None, False, f"no published price for quality={quality!r} on {model}"
    if size in (None, "auto"):
        sizes = list(STANDARD_SIZES)
    elif size in STANDARD_SIZES:
        sizes = [size]
    else:
        return None, False, f"no published price for size {size} on {model} (custom sizes are not listed)"
    prices = [table[q][s] for q in qualities for s in sizes if s in table[q]]
    if not prices:
        return None, False, f"no published price for {quality} {size} on {model}"
    return max(prices), len(prices) > 1, ""


def estimate(model: str, *, quality: str | None, size: str | None, n: int | None,
             endpoint: str = "generate") -> Cost:
    """What a request will cost before it is sent: per-image price × n, or unknown.

    `quality`/`size` of "auto" (or None) take the highest matching price: an upper bound ("up to").
    Custom sizes and models without published prices are unknown. Edits and variations also bill
    the input images as tokens, which cannot be known before the call, so their estimate only covers
    the output and says "+ input images" (`partial=True`).
    """
    count = _count(n)
    price, upper, why = _per_image(model, quality, size)
    if price is None:
        return Cost.unknown(why)
    usd = price * count
    notes = [f"{format_usd(price)} per image × {count}"]
    if upper:
        notes.append("quality or size is auto: the highest matching price is shown")
    if endpoint == "generate":
        return Cost.of(usd, note="; ".join(notes), upper_bound=upper)
    notes.append("input images are billed as tokens and are not known before the call")
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


def _from_tokens(model: str, usage: Mapping[str, Any]) -> Cost | None:
    rates = TOKEN_RATES.get(model)
    output = _tokens(usage.get("output_tokens"))
    if rates is None or output is None:
        return None
    details = usage.get("input_tokens_details")
    details = details if isinstance(details, Mapping) else {}
    text_t, image_t = _tokens(details.get("text_tokens")), _tokens(details.get("image_tokens"))
    total_in = _tokens(usage.get("input_tokens"))
    upper = False
    if text_t is not None and image_t is not None:
        input_usd = text_t * rates.text_input + image_t * rates.image_input
        note = f"{text_t} text + {image_t} image input tokens, {output} output tokens"
    elif total_in is not None:
        # No text/image split: price every input token at the higher (image) rate — an upper bound.
        input_usd, upper = total_in * max(rates.text_input, rates.image_input), True
        note = f"{total_in} input tokens (no text/image split, priced as image), {output} output tokens"
    else:
        return None
    usd = (input_usd + output * rates.image_output) / 1_000_000
    return Cost.of(usd, note=note, upper_bound=upper and total_in != 0)


def actual(model: str, usage: Mapping[str, Any] | None, *, quality: str | None, size: str | None,
           n: int | None) -> Cost:
    """What a finished request cost: from its token usage when the model has published token rates,
    else the per-image price × n when known, else unknown.

    `usage` is the response's usage for the whole request (all n images); an SDK usage object works
    too. Pass the quality and size the response reports, so "auto" resolves to an exact price.
    """
    found = _usage_dict(usage)
    if found is not None:
        from_tokens = _from_tokens(model, found)
        if from_tokens is not None:
            return from_tokens
    count = _count(n)
    price, upper, why = _per_image(model, quality, size)
    if price is None:
        return Cost.unknown(why)
    note = f"{format_usd(price)} per image × {count}" + ("; no token usage reported" if found is None else "")
    return Cost.of(price * count, note=note, upper_bound=upper)


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


def describe_price(model: str) -> str:
    """One paragraph for the UI tooltip: the published prices of `model`, or that none are known."""
    table = PER_IMAGE_USD.get(model)
    rates = TOKEN_RATES.get(model)
    if table is None and rates is None:
        return f"No published price for {model} is known here, so its costs show as unknown."
    parts: list[str] = []
    if table is not None:
        per = "; ".join(
            f"{quality} " + " / ".join(f"{format_usd(p)} ({s})" for s, p in sizes.items())
            for quality, sizes in table.items()
        )
        parts.append(f"{model} per image: {per}.")
    if rates is not None:
        parts.append(
            f"Per 1M tokens: text input ${rates.text_input:.2f}, image input ${rates.image_input:.2f}, "
            f"image output ${rates.image_output:.2f}."
        )
    parts.append("quality/size 'auto' shows the highest price; edits also pay for input images; "
                 "custom sizes are unknown.")
    return " ".join(parts)
