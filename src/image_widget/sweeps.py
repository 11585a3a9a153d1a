"""Prompt and option sweeps: every combination, a budget checked first, bounded concurrency, a contact sheet.

    sweep("a {animal} in {style}", animal=["fox", "owl"], style=["ink", "pixel art"],
          quality=["low", "high"], n=1, max_cost=2.00)

Keyword lists whose names appear in the template fill the prompt; the others are request options.
One failed cell never loses the others; with `cache=True` (the default) re-running spends nothing.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any, Literal, overload

from image_widget import capabilities
from image_widget.client import api
from image_widget.client.options import RUN_KEYS
from image_widget.errors import APIRequestError
from image_widget.runtime import run_sync
from image_widget.sweep_cells import INPUT_KEYS, BudgetError, Cell, Sweep, estimate_cells, plan

if TYPE_CHECKING:

    from image_widget.batch import BatchSweep

DEFAULT_CONCURRENCY = 4
BACKOFF_S = (1.0, 2.0, 4.0)
_RUN_KEYS = set(RUN_KEYS) - {"cache"}  # a sweep has its own `cache` (on by default)


async def asweep(template: str, *, max_cost: float | None = None, concurrency: int = DEFAULT_CONCURRENCY,
                 cache: bool = True, progress: bool = True, **axes: Any) -> Sweep:
    """Run every combination concurrently (at most `concurrency` at once). See the module docstring."""
    if concurrency < 1:
        raise ValueError(f"concurrency must be at least 1, got {concurrency}")
    inputs = {k: axes.pop(k) for k in INPUT_KEYS if k in axes}
    if "mask" in inputs and "image" not in inputs:
        raise ValueError("mask= needs image=: the mask applies to the first image of an edit sweep")
    lists, cells, run = plan(template, **axes)
    endpoint: capabilities.Endpoint = "edit" if inputs else "generate"
    problems = [f"{c.prompt!r}: {p.message}" for c in cells  # the inputs themselves: checked per cell
                for p in capabilities.validate(endpoint, {"prompt": c.prompt, **c.options}) if p.param != "image"]
    if problems:
        raise capabilities.ValidationError([capabilities.Problem("sweep", "; ".join(problems[:5]))])
    estimate = estimate_cells(cells, run.get("prices"))
    if max_cost is not None:
        if estimate.usd is None:
            raise BudgetError(f"cannot check max_cost=${max_cost:.2f}: no price is known for {estimate.note}. "
                              "Ways out: give the price (iw.set_price(model, ...) or prices={model: {...}}), "
                              "pick a model with published prices (e.g. gpt-image-2), or pass max_cost=None "
                              "to run without a budget check; nothing was sent")
        if estimate.usd > max_cost:
            raise BudgetError(f"the sweep's estimate {estimate.text} for {len(cells)} cells is over "
                              f"max_cost=${max_cost:.2f}; nothing was sent — reduce the combinations, "
                              "n or quality, or raise max_cost")
    started = time.monotonic()
    gate = asyncio.Semaphore(concurrency)
    bar = _progress(len(cells)) if progress else None

    async def one(cell: Cell) -> None:
        async with gate:
            await _run_cell(cell, cache, {**run, **inputs})
        if bar is not None:
            bar.update(1)

    try:
        await asyncio.gather(*(one(c) for c in cells))
    finally:
        if bar is not None:
            bar.close()
    return Sweep(template, lists, cells, estimate, time.monotonic() - started)


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
            if exc.status != 429 or wait is None:
                break
            await asyncio.sleep(wait)
        except Exception as exc:  # noqa: BLE001 - one bad cell must not lose the others
            cell.error = f"{type(exc).__name__}: {exc}"
            break
    cell.seconds = time.monotonic() - started


def _progress(total: int) -> Any:
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm(total=total, desc="sweep", unit="cell")


@overload
def sweep(template: str, *, batch: Literal[False] = False, **kwargs: Any) -> Sweep: ...
@overload
def sweep(template: str, *, batch: Literal[True], **kwargs: Any) -> BatchSweep: ...
def sweep(template: str, *, batch: bool = False, **kwargs: Any) -> Sweep | BatchSweep:
    """Run a sweep and wait for it (also inside Jupyter). See `asweep` for the arguments.

    `batch=True` sends it to the Batch API instead (half the price, results within 24 hours) and
    returns at once with a `BatchSweep` (see `image_widget.batch`).
    """
    if batch:
        from image_widget.batch import batch_sweep

        return batch_sweep(template, **kwargs)
    return run_sync(asweep(template, **kwargs))


__all__ = ["asweep", "sweep"]
