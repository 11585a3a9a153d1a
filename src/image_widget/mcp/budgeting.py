"""How much `--max-cost` reserves for a request: the price table's estimate plus what it leaves out, counted
pessimistically, so one call cannot take the session past its cap.

The estimate covers the output images. It leaves out the prompt's text tokens and, where OpenAI publishes no
token rule for a model's input images (gpt-image-2.x), the input images of an edit ("+ input images"). Under a
cap both are reserved by an upper bound: the prompt as one token per UTF-8 byte (a token is at least a byte),
and each input image by the GPT Image 1 family's published rule with the high-fidelity surcharge whatever the
fidelity asked, at the model's own image-input rate. The actual cost replaces the reservation when the call
is back. A model without an image-input rate cannot be bounded: such an edit is refused under a cap.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from image_widget.facts import cost as pricing
from image_widget.facts.prices import input_image_tokens, price_for
from image_widget.mcp.session import BudgetRefused

BOUNDING_RULE = "tiles-512"
"""The published input-image rule the allowance is counted by (with `input_fidelity="high"`'s surcharge)."""


def reservation(estimate: pricing.Cost, params: Mapping[str, Any], inputs: Sequence[tuple[int, int]],
                capped: bool) -> pricing.Cost:
    """What to reserve for a request estimated at `estimate`; without a cap the estimate itself."""
    if not capped or estimate.usd is None:
        return estimate
    model = str(params.get("model"))
    row = price_for(model)
    extra, parts = 0.0, []
    prompt = params.get("prompt")
    if isinstance(prompt, str) and row is not None and row.text_input is not None:
        extra += len(prompt.encode()) * row.text_input / 1_000_000
        parts.append("the prompt")
    if estimate.partial and inputs:
        if row is None or row.image_input is None:
            raise BudgetRefused(f"max_cost: {model} publishes no price for input images, so the cost of this edit "
                                "cannot be bounded under the server's budget (--max-cost); nothing was sent. Pick a "
                                "model with published prices, e.g. gpt-image-2")
        tokens = 0
        for width, height in inputs:
            tokens += input_image_tokens(BOUNDING_RULE, width, height, "high") or 0
        extra += tokens * row.image_input / 1_000_000
        parts.append(f"{len(inputs)} input image(s), counted pessimistically")
    if not parts:
        return estimate
    usd = estimate.usd + extra
    shown = estimate.text.replace(" + input images", "")
    text = f"{shown}, reserved {pricing.format_usd(usd)} with {' and '.join(parts)}"
    return pricing.Cost(usd, text, estimate.note, upper_bound=True, partial=False)
