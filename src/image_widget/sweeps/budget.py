"""`max_cost` for a sweep: learned estimates per cell, a reservation at the upper end, reconciled as results arrive.

Before anything is sent the sweep is refused when even the low end of its estimate (the sum of the
cells' ranges) is over the budget. Then each cell reserves the upper end of its estimate before it
starts and gives the reservation back for its actual cost when it is done (an answer from the cache
costs $0); a cell whose reservation would pass the budget is skipped, never sent, and the sweep says
what was spent and what was skipped. An estimate that is still unknown refuses the budget, or with
`learn=True` one cell runs first, its usage teaches the estimate, and the budget is decided on that
(the sweep's notes say so).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from image_widget.base.errors import BudgetError
from image_widget.client.backend import resolve_backend
from image_widget.facts import capabilities
from image_widget.facts import cost as pricing
from image_widget.facts.prices import as_overrides
from image_widget.money import bounds, learned
from image_widget.store import Store
from image_widget.store.layout import default_folder

if TYPE_CHECKING:
    from image_widget.sweeps.cells import Cell


@dataclass
class Estimator:
    """Learned estimates for the cells of one sweep (one look-up per distinct option set)."""

    folder: Path
    synthetic: bool
    prices: Mapping[str, Any] | None
    inputs: list[tuple[int, int]] = field(default_factory=list)
    """An edit sweep's input image sizes (the same in every cell): priced as an edit, its inputs bounded."""
    _seen: dict[str, learned.Estimate] = field(default_factory=dict)

    @classmethod
    def for_run(cls, run: Mapping[str, Any], inputs: list[tuple[int, int]] | None = None) -> Estimator:
        store = run.get("store")
        folder = store.folder if isinstance(store, Store) else default_folder(store)
        synthetic = resolve_backend(run.get("client"), run.get("base_url"), run.get("api_key")).synthetic
        return cls(folder, synthetic, as_overrides(run.get("prices")), list(inputs or []))

    def of(self, cell: Cell) -> learned.Estimate:
        params = {"model": capabilities.DEFAULT_MODEL, **cell.options, **({"call": "edit"} if self.inputs else {})}
        key = repr(sorted(params.items()))
        if key not in self._seen:
            self._seen[key] = learned.estimate(params, self.folder, synthetic=self.synthetic, prices=self.prices,
                                               inputs=self.inputs or None)
        return self._seen[key]

    def reservation(self, cell: Cell) -> float:
        """What a cell holds against `max_cost`: the top of its estimate with its input images bounded
        (`money.bounds`; raises `Unbounded` for a model with no input-image price)."""
        model = str(cell.options.get("model", capabilities.DEFAULT_MODEL))
        top = bounds.bound(self.of(cell).budget(), model, self.inputs, prices=self.prices)
        return top.usd or 0.0

    def forget(self) -> None:
        self._seen.clear()


def total(estimates: Sequence[learned.Estimate]) -> pricing.Cost:
    """The sweep's estimate: the sum of medians, its range, and where the figures come from."""
    unknown = [e for e in estimates if e.value is None]
    if unknown:
        return pricing.Cost.unknown(f"{unknown[0].text} ({unknown[0].note})" if unknown[0].note else unknown[0].text)
    value = sum(e.value or 0.0 for e in estimates)
    low = sum(e.low if e.low is not None else e.value or 0.0 for e in estimates)
    high = sum(e.high if e.high is not None else e.value or 0.0 for e in estimates)
    origins = ", ".join(sorted({e.origin for e in estimates}))
    spread = f"{pricing.format_usd(low)}–{pricing.format_usd(high).lstrip('$')}"
    text = f"≈ {pricing.format_usd(value)} ({origins}; {spread})"
    return pricing.Cost(value, text, "; ".join(dict.fromkeys(e.text for e in estimates)), upper_bound=high > value)


def refuse_unknown(max_cost: float, estimate: learned.Estimate, model: str) -> BudgetError:
    return BudgetError(
        f"cannot check max_cost=${max_cost:.2f}: the cost of {model} is {estimate.text}"
        f"{f' ({estimate.note})' if estimate.note else ''}. Ways out: pass learn=True to run one request, "
        "learn its cost from its usage, then decide; give the price (iw.set_price(model, ...) or "
        "prices={model: {...}}); or pass max_cost=None to run without a budget check; nothing was sent")


class Budget:
    """Spend so far, reservations under way, and the cells skipped. Thread-safe (cells finish concurrently)."""

    def __init__(self, max_cost: float) -> None:
        self.max_cost = max_cost
        self.spent = 0.0
        self.reserved = 0.0
        self.skipped: list[str] = []
        self._lock = threading.Lock()

    def reserve(self, high: float, prompt: str) -> bool:
        """Hold `high` for one cell; False (and the cell is skipped) when it would pass the budget."""
        with self._lock:
            if self.spent + self.reserved + high > self.max_cost + 1e-12:
                self.skipped.append(prompt)
                return False
            self.reserved += high
            return True

    def settle(self, high: float, actual: float | None) -> None:
        """Replace a cell's reservation by what it cost (an unknown actual keeps the reservation as spent)."""
        with self._lock:
            self.reserved -= high
            self.spent += high if actual is None else actual

    def skip_reason(self, high: float) -> str:
        return (f"skipped: up to {pricing.format_usd(high)} would pass max_cost=${self.max_cost:.2f} "
                f"({pricing.format_usd(self.spent)} spent); not sent")

    def summary(self, cells: int) -> str:
        done = cells - len(self.skipped)
        line = f"max_cost=${self.max_cost:.2f}: spent {pricing.format_usd(self.spent)} on {done} of {cells} cells"
        if self.skipped:
            line += f"; skipped {len(self.skipped)} that would have passed the budget (not sent)"
        return line
