"""The most a request can cost, for a budget: its estimate plus what the estimate leaves out, counted
pessimistically, so no check on a budget (the MCP server's `--max-cost`, a sweep's `max_cost`, a Batch API
sweep's) can be passed by the part nobody priced.

An estimate covers the output images (and, when learned, the text the runs read). It leaves out the input
images of an edit where OpenAI publishes no token rule for a model (gpt-image-2.x: "+ input images"), and a
learned edit estimate leaves out this request's own inputs (its runs read other pictures). Each input image
is bounded by the GPT Image 1 family's published rule with the high-fidelity surcharge whatever the fidelity
asked, at the model's own image-input rate; the prompt, where asked, as one token per UTF-8 byte (a token is
at least a byte). A model without an image-input rate cannot be bounded: `Unbounded`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from image_widget.base.errors import BudgetError
from image_widget.facts import cost as pricing
from image_widget.facts.prices import ModelPrice, input_image_tokens, price_for

BOUNDING_RULE = "tiles-512"
"""The published input-image rule the allowance is counted by (with `input_fidelity="high"`'s surcharge)."""


class Unbounded(BudgetError):
    """The model publishes no price for input images: an edit's cost has no upper bound."""


def bound(estimate: pricing.Cost, model: str, inputs: Sequence[tuple[int, int]], *, prompt: str | None = None,
          prices: Mapping[str, ModelPrice] | None = None, batch: bool = False) -> pricing.Cost:
    """`estimate` (a budget figure: `Estimate.budget()`) with its left-out parts added as upper bounds."""
    if estimate.usd is None:
        return estimate
    row = price_for(model, prices, batch=batch)
    extra, parts = 0.0, []
    if prompt is not None and row is not None and row.text_input is not None:
        extra += len(prompt.encode()) * row.text_input / 1_000_000
        parts.append("the prompt")
    if estimate.partial and inputs:
        if row is None or row.image_input is None:
            raise Unbounded(f"{model} publishes no price for input images, so the cost of this edit cannot be "
                            "bounded under a budget; nothing was sent. Pick a model with published prices, e.g. "
                            "gpt-image-2, or give its rates (iw.set_price / prices=)")
        tokens = sum(input_image_tokens(BOUNDING_RULE, w, h, "high") or 0 for w, h in inputs)
        extra += tokens * row.image_input / 1_000_000
        parts.append(f"{len(inputs)} input image(s), counted pessimistically")
    if not parts:
        return estimate
    usd = estimate.usd + extra
    shown = estimate.text.replace(" + input images", "")
    return pricing.Cost(usd, f"{shown}, reserved {pricing.format_usd(usd)} with {' and '.join(parts)}",
                        estimate.note, upper_bound=True, partial=False)
