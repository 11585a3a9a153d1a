"""`--max-cost` in the server's own terms: a request's estimate is reserved before it is sent, so requests in
flight count against the cap, and the actual cost replaces the estimate when it is known."""

from __future__ import annotations

import asyncio

import pytest

from image_widget.facts import cost as pricing
from image_widget.mcp.session import Budget, BudgetRefused


async def test_requests_in_flight_count_against_the_cap() -> None:
    budget = Budget(limit=0.10)
    estimate = pricing.Cost.of(0.06)
    outcomes = await asyncio.gather(budget.reserve(estimate), budget.reserve(estimate), return_exceptions=True)
    assert sorted(type(o).__name__ for o in outcomes) == ["BudgetRefused", "float"]
    assert budget.committed == pytest.approx(0.06)


async def test_the_actual_cost_replaces_the_reservation() -> None:
    budget = Budget(limit=0.10)
    reserved = await budget.reserve(pricing.Cost.of(0.08, upper_bound=True))
    await budget.settle(reserved, pricing.Cost.of(0.02))
    assert budget.committed == pytest.approx(0.02)
    await budget.reserve(pricing.Cost.of(0.08))  # fits now that the real cost is known
    assert budget.describe()["left_usd"] == pytest.approx(0.0)


async def test_an_unknown_estimate_is_refused_under_a_cap_and_free_without_one() -> None:
    with pytest.raises(BudgetRefused, match="cannot be estimated"):
        await Budget(limit=1.0).reserve(pricing.Cost.unknown("no published price"))
    uncapped = Budget()
    assert await uncapped.reserve(pricing.Cost.unknown("no published price")) == 0.0
    assert uncapped.describe() == {"max_cost_usd": None, "spent_usd": 0.0, "left_usd": None}


async def test_an_unknown_actual_cost_keeps_the_estimate() -> None:
    budget = Budget(limit=1.0)
    reserved = await budget.reserve(pricing.Cost.of(0.3))
    await budget.settle(reserved, pricing.Cost.unknown("no usage reported"))
    assert budget.committed == pytest.approx(0.3)
