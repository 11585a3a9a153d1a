"""What a sweep is: its combinations (cells), checked arguments, estimate and outcome (`Sweep`, its grid).

Kept below the runner (`sweeps.py`) and the Batch API path (`batch/`), which both build and fill these
cells, so neither imports the other's module to name them.
"""

from __future__ import annotations

import itertools
import string
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from image_widget.client.api import Result
from image_widget.client.options import RUN_KEYS
from image_widget.facts import capabilities
from image_widget.facts import cost as pricing
from image_widget.facts.prices import as_overrides

if TYPE_CHECKING:
    import pandas as pd
    from PIL.Image import Image

_RUN_KEYS = set(RUN_KEYS) - {"cache"}  # a sweep has its own `cache` (on by default)
INPUT_KEYS = ("image", "mask")
"""An edit sweep's inputs: the same for every cell (not axes), uploaded once and named by file id."""


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
    may_have_billed: bool = False
    """It failed after its request may have reached the server (a 5xx, a timeout): a budget counts it as paid."""
    paid_usd: float | None = None
    """It failed after its answer came (e.g. the disk was full): what that answer cost."""

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
        from image_widget.sweeps.contact_sheet import contact_sheet

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
    # generate and edit fields alike: the request's own validation says which endpoint takes which
    known = (set(capabilities.KNOWN_PARAMS["generate"]) | set(capabilities.KNOWN_PARAMS["edit"])
             | set(fields)) - set(INPUT_KEYS)
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


def estimate_cells(cells: Sequence[Cell], prices: Mapping[str, Any] | None = None) -> pricing.Cost:
    """Sum of per-cell estimates; unknown (naming the model) if any cell's price is unknown."""
    total = 0.0
    overrides = as_overrides(prices)
    for cell in cells:
        o = cell.options
        model = str(o.get("model", capabilities.DEFAULT_MODEL))
        each = pricing.estimate(model, quality=o.get("quality"), size=o.get("size"), n=int(o.get("n", 1)),
                                prices=overrides)
        if each.usd is None:
            return pricing.Cost.unknown(f"model {model} (quality={o.get('quality')!r}, size={o.get('size')!r}): "
                                        f"{each.note}")
        total += each.usd
    return pricing.Cost(total, f"${total:.3f}")
