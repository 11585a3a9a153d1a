"""How much `--max-cost` reserves for a request: the estimate plus what it leaves out, counted pessimistically
(`money.bounds`: the prompt, and the input images an estimate does not price), so one call cannot take the
session past its cap. The actual cost replaces the reservation when the call is back. A model without an
image-input rate cannot be bounded: such an edit is refused under a cap.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from image_widget.facts import cost as pricing
from image_widget.mcp.session import BudgetRefused
from image_widget.money import bounds


def reservation(estimate: pricing.Cost, params: Mapping[str, Any], inputs: Sequence[tuple[int, int]],
                capped: bool) -> pricing.Cost:
    """What to reserve for a request estimated at `estimate`; without a cap the estimate itself."""
    if not capped:
        return estimate
    prompt = params.get("prompt")
    text = prompt if isinstance(prompt, str) else None
    try:
        return bounds.bound(estimate, str(params.get("model")), inputs, prompt=text)
    except bounds.Unbounded as exc:
        raise BudgetRefused(f"max_cost: {exc} (the server's budget, --max-cost)") from None
