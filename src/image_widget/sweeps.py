"""Prompt and option sweeps: every combination, a budget checked first, bounded concurrency, a contact sheet.

    sweep("a {animal} in {style}", animal=["fox", "owl"], style=["ink", "pixel art"],
          quality=["low", "high"], n=1, max_cost=2.00)

Keyword lists whose names appear in the template fill the prompt; the others are request options.
One failed cell never loses the others; with `cache=True` (the default) re-running spends nothing.
"""

from __future__ import annotations

import asyncio
import itertools
import string
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, overload

from image_widget import capabilities, sweep_budget
from image_widget import cost as pricing
from image_widget.client import api
from image_widget.client.api import Result
from image_widget.client.options import RUN_KEYS
from image_widget.errors import APIRequestError, BudgetError
from image_widget.runtime import run_sync

if TYPE_CHECKING:
    import pandas as pd
    from PIL.Image import Image

    from image_widget.batch import BatchSweep

DEFAULT_CONCURRENCY = 4
BACKOFF_S = (1.0, 2.0, 4.0)
_RUN_KEYS = set(RUN_KEYS) - {"cache"}  # a sweep has its own `cache` (on by default)


@dataclass
class Cell:
    """One combination: its varying values, the full request, and what came of it."""

    values: dict[str, Any]
    prompt: str
    options: dict[str, Any]
    result: Result | None = None
    error: str | None = None
    seconds: float = 0.0
    attempts: int = 0

    @property
    def ok(self) -> bool:
        return self.result is not None


@dataclass
class Sweep:
    """The outcome of `sweep()`: cells in order, records per image, a grid, failures."""

    template: str
    axes: dict[str, list[Any]]
    cells: list[Cell]
    estimate: pricing.Cost
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def failures(self) -> list[Cell]:
        return [c for c in self.cells if not c.ok]

    @property
    def records(self) -> list[dict[str, Any]]:
        """One row per image (and one per failed cell): prompt, varying values, options, cost, seconds, path."""
        rows: list[dict[str, Any]] = []
        for cell in self.cells:
            base = {"prompt": cell.prompt, **cell.values, "seconds": round(cell.seconds, 3),
                    "error": cell.error, "cached": bool(cell.result and cell.result.cached)}
            base.update({f"option_{k}": v for k, v in cell.options.items() if k not in cell.values})
            if cell.result is None:
                rows.append({**base, "image": None, "id": None, "path": None, "cost_usd": None,
                             "model": cell.options.get("model")})
                continue
            for index, record in enumerate(cell.result.records):
                rows.append({**base, "image": index, "id": record.get("id"), "path": record.get("path"),
                             "model": record.get("model"),
                             "cost_usd": record.get("cost_usd"), "request_id": record.get("request_id")})
        return rows

    def to_pandas(self) -> pd.DataFrame:
        """The records as a DataFrame (needs pandas)."""
        try:
            import pandas as pd
        except ImportError as exc:  # pragma: no cover - pandas is in the test extra
            raise ImportError("Sweep.to_pandas() needs pandas: pip install pandas") from exc
        return pd.DataFrame(self.records)

    def grid(self, thumb: int = 256, rows: str | None = None) -> Image:
        """One labelled contact sheet. `rows` names the value that runs down the side (default: the first
        varying one, or none when only one value varies, which then runs across)."""
        from image_widget.contact_sheet import contact_sheet

        varying = [k for k, v in self.axes.items() if len(v) > 1]
        if rows is not None and rows not in varying:
            raise ValueError(f"rows={rows!r} is not a varying value; choose one of {varying}")
        row_key = rows if rows is not None else (varying[0] if len(varying) > 1 else None)
        col_keys = [k for k in varying if k != row_key]
        row_values = self.axes[row_key] if row_key else [None]
        cols = list(itertools.product(*(self.axes[k] for k in col_keys))) or [()]
        lookup = {_key(cell.values, varying): cell for cell in self.cells}
        tiles: list[list[list[Image] | str]] = []
        for r in row_values:
            line: list[list[Image] | str] = []
            for c in cols:
                values = dict(zip(col_keys, c, strict=True))
                if row_key:
                    values[row_key] = r
                cell = lookup.get(_key(values, varying))
                if cell is None or cell.result is None:
                    line.append(f"failed: {cell.error if cell else 'missing'}")
                else:
                    line.append(cell.result.images)
            tiles.append(line)
        row_labels = [f"{row_key}={r}" if row_key else "" for r in row_values]
        col_labels = [", ".join(f"{k}={v}" for k, v in zip(col_keys, c, strict=True)) for c in cols]
        return contact_sheet(tiles, row_labels, col_labels, thumb=thumb, title=self.template)

    def __repr__(self) -> str:
        return (f"Sweep({len(self.cells)} cells, {len(self.failures)} failed, estimate {self.estimate.text}, "
                f"{self.seconds:.1f}s)")


def _key(values: dict[str, Any], keys: Sequence[str]) -> tuple[str, ...]:
    return tuple(repr(values.get(k)) for k in keys)


def template_fields(template: str) -> list[str]:
    """The `{names}` a prompt template uses."""
    return [name for _, name, _, _ in string.Formatter().parse(template) if name]


def split_axes(template: str, **axes: Any) -> tuple[dict[str, list[Any]], list[str], dict[str, Any]]:
    """(value lists, prompt fields, run settings) from a sweep's keyword arguments, checked."""
    fields = template_fields(template)
    run = {k: axes.pop(k) for k in list(axes) if k in _RUN_KEYS}
    known = set(capabilities.KNOWN_PARAMS["generate"]) | set(fields)
    unknown = sorted(set(axes) - known)
    if unknown:
        raise ValueError(f"sweep() got unknown argument(s) {', '.join(unknown)}; use prompt fields "
                         f"{fields or '(none)'} or request options such as model, size, quality, n")
    missing = [f for f in fields if f not in axes]
    if missing:
        raise ValueError(f"the template uses {{{missing[0]}}} but no values were given for {missing[0]}=")
    lists = {k: (list(v) if isinstance(v, list | tuple) else [v]) for k, v in axes.items()}
    empty = [k for k, v in lists.items() if not v]
    if empty:
        raise ValueError(f"{empty[0]}= is an empty list; give at least one value")
    return lists, fields, run


def iter_cells(template: str, lists: Mapping[str, list[Any]], fields: Sequence[str]) -> Iterator[Cell]:
    """Every combination as a Cell, one at a time (a 50,000-cell batch never holds them all)."""
    for combo in itertools.product(*lists.values()):
        values = dict(zip(lists, combo, strict=True))
        prompt = template.format(**{f: values[f] for f in fields})
        options = {k: v for k, v in values.items() if k not in fields}
        varying = {k: v for k, v in values.items() if len(lists[k]) > 1}
        yield Cell(values=varying, prompt=prompt, options=options)


def plan(template: str, **axes: Any) -> tuple[dict[str, list[Any]], list[Cell], dict[str, Any]]:
    """Split keyword arguments into axes, fixed options and run settings, and list every cell."""
    lists, fields, run = split_axes(template, **axes)
    return lists, list(iter_cells(template, lists, fields)), run


async def asweep(template: str, *, max_cost: float | None = None, learn: bool = False,
                 concurrency: int = DEFAULT_CONCURRENCY, cache: bool = True, progress: bool = True,
                 **axes: Any) -> Sweep:
    """Run every combination concurrently (at most `concurrency` at once). See the module docstring.

    `max_cost` (USD) is checked against the upper end of each cell's learned estimate and reconciled as
    results arrive: cells that would pass it are skipped (see `sweep_budget`). `learn=True` lets a budget
    on a still-unknown estimate run one cell first and learn from it.
    """
    if concurrency < 1:
        raise ValueError(f"concurrency must be at least 1, got {concurrency}")
    if max_cost is not None and (isinstance(max_cost, bool) or not isinstance(max_cost, int | float) or max_cost < 0):
        raise ValueError(f"max_cost must be an amount in USD (a number ≥ 0) or None, got {max_cost!r}")
    lists, cells, run = plan(template, **axes)
    problems = [f"{c.prompt!r}: {p.message}" for c in cells
                for p in capabilities.validate("generate", {"prompt": c.prompt, **c.options})]
    if problems:
        raise capabilities.ValidationError([capabilities.Problem("sweep", "; ".join(problems[:5]))])
    started = time.monotonic()
    estimator = sweep_budget.Estimator.for_run(run)
    budget = sweep_budget.Budget(float(max_cost)) if max_cost is not None else None
    notes: list[str] = []
    pending = list(cells)
    if budget is not None:
        unknown = next((c for c in pending if not estimator.of(c).known), None)
        if unknown is not None:
            model = str(unknown.options.get("model", capabilities.DEFAULT_MODEL))
            if not learn:
                raise sweep_budget.refuse_unknown(budget.max_cost, estimator.of(unknown), model)
            await _run_cell(unknown, cache, run)
            budget.settle(0.0, _cell_cost(unknown))
            pending.remove(unknown)
            estimator.forget()
            notes.append(f"learn=True: ran one cell of {model} first to learn its cost "
                         f"({pricing.format_usd(budget.spent)}); the budget was decided on what it used")
            still = next((c for c in pending if not estimator.of(c).known), None)
            if still is not None:
                raise sweep_budget.refuse_unknown(budget.max_cost, estimator.of(still), model)
        lowest = sum(e.low if e.low is not None else e.value or 0.0 for e in map(estimator.of, pending))
        if budget.spent + lowest > budget.max_cost:
            raise BudgetError(f"the sweep's estimate {sweep_budget.total([estimator.of(c) for c in pending]).text} "
                              f"for {len(pending)} cells is over max_cost=${budget.max_cost:.2f} even at its low "
                              "end; nothing was sent — reduce the combinations, n or quality, or raise max_cost")
    estimate = sweep_budget.total([estimator.of(c) for c in cells])
    gate = asyncio.Semaphore(concurrency)
    bar = _progress(len(pending)) if progress else None

    async def one(cell: Cell) -> None:
        async with gate:
            high = estimator.of(cell).high or 0.0
            if budget is not None and not budget.reserve(high, cell.prompt):
                cell.error = budget.skip_reason(high)
            else:
                await _run_cell(cell, cache, run)
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


def _cell_cost(cell: Cell) -> float | None:
    """What a finished cell cost: $0 from the cache or after a failure before sending, else its actual cost."""
    if cell.result is None:
        return 0.0
    return 0.0 if cell.result.cached else cell.result.cost.usd


async def _run_cell(cell: Cell, cache: bool, run: dict[str, Any]) -> None:
    """One cell, backing off on rate limits; any other failure is recorded, never raised."""
    started = time.monotonic()
    for wait in (*BACKOFF_S, None):
        cell.attempts += 1
        try:
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


__all__ = ["BudgetError", "Cell", "Sweep", "asweep", "plan", "sweep"]
