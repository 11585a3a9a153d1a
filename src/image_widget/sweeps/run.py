"""Prompt and option sweeps: every combination, a budget checked first, bounded concurrency, a contact sheet.

    sweep("a {animal} in {style}", animal=["fox", "owl"], style=["ink", "pixel art"],
          quality=["low", "high"], n=1, max_cost=2.00)

Keyword lists whose names appear in the template fill the prompt; the others are request options.
One failed cell never loses the others; with `cache=True` (the default) re-running spends nothing.
"""

from __future__ import annotations

import asyncio
import time
import warnings
from typing import TYPE_CHECKING, Any, Literal, overload

from image_widget.base.errors import APIRequestError, BudgetError, paid_before_failing
from image_widget.base.runtime import run_sync
from image_widget.client import api, refs
from image_widget.client.backend import resolve_backend
from image_widget.client.edits import Holding, lined_up_edit
from image_widget.client.options import RUN_KEYS
from image_widget.facts import capabilities
from image_widget.facts import cost as pricing
from image_widget.money.bounds import Unbounded
from image_widget.sweeps import budget as sweep_budget
from image_widget.sweeps.cells import INPUT_KEYS, Cell, Sweep, plan

if TYPE_CHECKING:

    from image_widget.sweeps.batch import BatchSweep

DEFAULT_CONCURRENCY = 4
BACKOFF_S = (1.0, 2.0, 4.0)
MAX_WAIT_S = 60.0
"""The longest wait a server's `retry-after` gets from a sweep before it tries the cell again."""
_RUN_KEYS = set(RUN_KEYS) - {"cache"}  # a sweep has its own `cache` (on by default)


async def asweep(template: str, *, max_cost: float | None = None, learn: bool = False,
                 concurrency: int = DEFAULT_CONCURRENCY, cache: bool = True, progress: bool = True,
                 dry_run: bool = False, **axes: Any) -> Sweep:
    """Run every combination concurrently (at most `concurrency` at once). See the module docstring.

    `max_cost` (USD) is checked against the upper end of each cell's learned estimate and reconciled as
    results arrive: cells that would pass it are skipped (see `sweep_budget`). `learn=True` lets a budget
    on a still-unknown estimate run one cell first and learn from it. `dry_run=True` checks and prices the
    sweep and sends nothing: its `estimate` and `notes` say what it would cost. The progress bar shows the
    estimate before the first request goes.
    """
    if concurrency < 1:
        raise ValueError(f"concurrency must be at least 1, got {concurrency}")
    if max_cost is not None and (isinstance(max_cost, bool) or not isinstance(max_cost, int | float) or max_cost < 0):
        raise ValueError(f"max_cost must be an amount in USD (a number ≥ 0) or None, got {max_cost!r}")
    inputs = {k: axes.pop(k) for k in INPUT_KEYS if k in axes}
    if "mask" in inputs and "image" not in inputs:
        raise ValueError("mask= needs image=: the mask applies to the first image of an edit sweep")
    lists, cells, run = plan(template, **axes)
    endpoint: capabilities.Endpoint = "edit" if inputs else "generate"
    problems = [f"{c.prompt!r}: {p.message}" for c in cells  # the inputs themselves: checked per cell
                for p in capabilities.validate(endpoint, {"prompt": c.prompt, **c.options}) if p.param != "image"]
    if problems:
        raise capabilities.ValidationError([capabilities.Problem("sweep", "; ".join(problems[:5]))])
    started = time.monotonic()
    estimator = sweep_budget.Estimator.for_run(run, await _input_sizes(inputs, run, cells[0].options))
    budget = sweep_budget.Budget(float(max_cost)) if max_cost is not None else None
    notes: list[str] = []
    if dry_run:
        return _priced_only(template, lists, cells, estimator, budget)
    pending = list(cells)
    if budget is not None:
        pending = await _teach_if_asked(cells, estimator, budget, learn, cache, {**run, **inputs}, notes)
    estimate = sweep_budget.total([estimator.of(c) for c in cells])
    gate = asyncio.Semaphore(concurrency)
    bar = _progress(len(pending), estimate) if progress else None

    async def one(cell: Cell) -> None:
        async with gate:
            high = estimator.reservation(cell) if budget is not None else 0.0
            if budget is not None and not budget.reserve(high, cell.prompt):
                cell.error = budget.skip_reason(high)
            else:
                await _run_cell(cell, cache, {**run, **inputs})
                if budget is not None:
                    budget.settle(high, _cell_cost(cell))
        if bar is not None:
            bar.update(1)

    try:
        await asyncio.gather(*(one(c) for c in pending))
    finally:
        if bar is not None:
            bar.close()
    if budget is not None:
        notes.append(budget.summary(len(cells)))
    return Sweep(template, lists, cells, estimate, time.monotonic() - started, notes)


async def _teach_if_asked(cells: list[Cell], estimator: sweep_budget.Estimator, budget: sweep_budget.Budget,
                          learn: bool, cache: bool, run: dict[str, Any], notes: list[str]) -> list[Cell]:
    """The cells still to send once the budget is decided. A cell of unknown cost refuses the budget, or with
    `learn=True` runs first, unchecked (nothing bounds an unknown price), and teaches the rest; when what it
    cost leaves no room, the rest are skipped and the sweep says plainly what was sent and spent."""
    pending = list(cells)
    unknown = next((c for c in pending if not estimator.of(c).known), None)
    taught = ""
    if unknown is not None:
        model = str(unknown.options.get("model", capabilities.DEFAULT_MODEL))
        if not learn:
            raise sweep_budget.refuse_unknown(budget.max_cost, estimator.of(unknown), model)
        await _run_cell(unknown, cache, run)
        budget.settle(0.0, _cell_cost(unknown))
        pending.remove(unknown)
        estimator.forget()
        taught = (f"learn=True: ran one cell of {model} first to learn its cost "
                  f"({pricing.format_usd(budget.spent)}; its price was unknown, so that cell was not held to "
                  f"max_cost=${budget.max_cost:.2f})")
        notes.append(f"{taught}; the budget was decided on what it used")
        still = next((c for c in pending if not estimator.of(c).known), None)
        if still is not None:
            return _skip_all(pending, budget, notes, f"the cost of {model} is still {estimator.of(still).text}")
    try:  # every cell's reservation can be bounded (an edit on a model with no input-image price cannot)
        for cell in pending:
            estimator.reservation(cell)
    except Unbounded as exc:
        raise BudgetError(f"cannot check max_cost=${budget.max_cost:.2f}: {exc}") from None
    lowest = sum(e.low if e.low is not None else e.value or 0.0 for e in map(estimator.of, pending))
    if pending and budget.spent + lowest > budget.max_cost:
        over = (f"the estimate {sweep_budget.total([estimator.of(c) for c in pending]).text} for {len(pending)} "
                f"cells is over max_cost=${budget.max_cost:.2f} even at its low end")
        if not taught:
            raise BudgetError(f"the sweep's {over}; nothing was sent — reduce the combinations, n or quality, "
                              "or raise max_cost")
        return _skip_all(pending, budget, notes, f"{over} after {pricing.format_usd(budget.spent)} spent")
    return pending


async def _input_sizes(inputs: dict[str, Any], run: dict[str, Any], options: dict[str, Any]) -> list[tuple[int, int]]:
    """An edit sweep's input image sizes as sent, read once before the plan (an image by URL or file id is
    fetched for it): what its estimate prices and its budget bounds. Empty for a generation sweep."""
    if "image" not in inputs:
        return []
    image, mask = inputs["image"], inputs.get("mask")
    if refs.has_refs(image, mask):
        backend = resolve_backend(run.get("client"), run.get("base_url"), run.get("api_key"))
        image = (await refs.resolve(image, "image", backend))[0]
        mask = None if mask is None else (await refs.resolve(mask, "mask", backend))[0]
    model = str(options.get("model", capabilities.DEFAULT_MODEL))
    request = lined_up_edit(image, "sizes", mask, None, model, None, {}, Holding())
    return request.input_sizes()


def _skip_all(pending: list[Cell], budget: sweep_budget.Budget, notes: list[str], why: str) -> list[Cell]:
    """Mark every cell still to send as skipped (not sent), and say why in the cells and the notes."""
    for cell in pending:
        cell.error = f"skipped: {why}; not sent"
        budget.skipped.append(cell.prompt)
    notes.append(f"{why}: the other {len(pending)} cell(s) were not sent")
    warnings.warn(f"sweep: {notes[0]}; {notes[-1]}", UserWarning, stacklevel=4)
    return []


def _cell_cost(cell: Cell) -> float | None:
    """What a finished cell cost: $0 from the cache or after a failure before sending (or refused), unknown
    (the reservation is kept as spent) after a failure that may have been billed, what its answer cost after a
    failure once it came (its images could not be saved), else its actual cost."""
    if cell.result is None:
        if cell.paid_usd is not None:
            return cell.paid_usd
        return None if cell.may_have_billed else 0.0
    return 0.0 if cell.result.cached else cell.result.cost.usd


async def _run_cell(cell: Cell, cache: bool, run: dict[str, Any]) -> None:
    """One cell, backing off on rate limits; any other failure is recorded, never raised."""
    started = time.monotonic()
    for wait in (*BACKOFF_S, None):
        cell.attempts += 1
        try:
            if "image" in run:  # an edit sweep: the same inputs every cell, uploaded once (file ids)
                inputs = {k: v for k, v in run.items() if k != "image"}
                cell.result = await api.aedit(run["image"], cell.prompt, cache=cache, reuse_inputs=True,
                                              **cell.options, **inputs)
            else:
                cell.result = await api.agenerate(cell.prompt, cache=cache, **cell.options, **run)
            cell.error = None
            break
        except APIRequestError as exc:
            cell.error = str(exc)
            cell.may_have_billed, cell.paid_usd = exc.may_have_billed, paid_before_failing(exc)
            if exc.status != 429 or wait is None:
                break
            await asyncio.sleep(min(MAX_WAIT_S, exc.retry_after_s) if exc.retry_after_s is not None else wait)
        except Exception as exc:  # noqa: BLE001 - one bad cell must not lose the others
            cell.error = f"{type(exc).__name__}: {exc}"
            cell.paid_usd = paid_before_failing(exc)
            break
    cell.seconds = time.monotonic() - started


def _priced_only(template: str, lists: dict[str, list[Any]], cells: list[Cell], estimator: sweep_budget.Estimator,
                 budget: sweep_budget.Budget | None) -> Sweep:
    """`dry_run=True`: the sweep checked and priced, every cell marked not sent."""
    estimate = sweep_budget.total([estimator.of(c) for c in cells])
    for cell in cells:
        cell.error = "dry run: not sent"
    notes = [f"dry run: {len(cells)} cell(s) would cost {estimate.text}; nothing was sent"]
    if budget is not None and estimate.usd is not None:
        try:
            top = sum(estimator.reservation(c) for c in cells)
        except Unbounded as exc:
            notes.append(f"max_cost=${budget.max_cost:.2f} cannot be checked: {exc}")
        else:
            fits = "fits" if top <= budget.max_cost else "passes it: cells would be skipped"
            notes.append(f"max_cost=${budget.max_cost:.2f}: the most it would hold is "
                         f"{pricing.format_usd(top)}, which {fits}")
    return Sweep(template, lists, cells, estimate, 0.0, notes)


def _progress(total: int, estimate: pricing.Cost) -> Any:
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm(total=total, desc=f"sweep ({estimate.text.split(' (')[0]})", unit="cell")


@overload
def sweep(template: str, *, batch: Literal[False] = False, **kwargs: Any) -> Sweep: ...
@overload
def sweep(template: str, *, batch: Literal[True], **kwargs: Any) -> BatchSweep: ...
def sweep(template: str, *, batch: bool = False, **kwargs: Any) -> Sweep | BatchSweep:
    """Run a sweep and wait for it (also inside Jupyter). See `asweep` for the arguments.

    `batch=True` sends it to the Batch API instead (half the price, results within 24 hours) and
    returns at once with a `BatchSweep` (see `image_widget.sweeps.batch`).
    """
    if batch:
        from image_widget.sweeps.batch import batch_sweep

        return batch_sweep(template, **kwargs)
    return run_sync(asweep(template, **kwargs))


__all__ = ["asweep", "sweep"]
