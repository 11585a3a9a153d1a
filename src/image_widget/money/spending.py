"""Where the money went: `iw.spend(folder=None, by="day" | "model" | "thread" | "session")`.

A pandas DataFrame of actual costs and tokens from the folder's records, read through its SQLite index:
one row per group and kind — `billed` (a real server's bill) apart from `emulator` (what the emulator's
usage would cost, no money) — with the Batch API's runs in their own rows (`batch`, at the batch price,
and `batch_saved_usd`: what the same images cost directly). Answers from the cache write no record: they
cost $0 and add nothing. `by="session"` is the teacher's report: one row per kernel / Voila visitor / MCP
server (`classroom.SESSION_ID`). `.plot()` draws it (needs matplotlib, which is optional).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from image_widget.facts.prices import BATCH_DISCOUNT
from image_widget.store.index import FolderIndex
from image_widget.store.layout import default_folder
from image_widget.store.schema import RECORD

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes

By = Literal["day", "model", "thread", "session"]
BY: tuple[By, ...] = ("day", "model", "thread", "session")
COLUMNS = ("kind", "batch", "runs", "images", "cost_usd", "unknown_cost_images", "input_tokens", "output_tokens",
           "batch_saved_usd")
_SQL = f"SELECT created_us, model, idx, {RECORD} FROM images ORDER BY row"  # noqa: S608 - constant text


def _group(by: By, created_us: int | None, model: str, record: dict[str, Any]) -> str:
    if by == "day":
        return datetime.fromtimestamp((created_us or 0) / 1e6, UTC).date().isoformat() if created_us else "unknown"
    if by == "model":
        return model
    value = record.get(by)
    return str(value) if value else "(none)"


def _int(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def rows(folder: str | Path | None = None, by: By = "day") -> list[dict[str, Any]]:
    """The report as plain rows (what `spend` puts in a DataFrame), sorted by group, kind and batch."""
    if by not in BY:
        raise ValueError(f"by={by!r} is not a way to group spend; choose one of {', '.join(BY)}")
    found = FolderIndex(default_folder(folder)).rows(_SQL, fresh=True)
    groups: dict[tuple[str, str, bool], dict[str, Any]] = {}
    for created_us, model, idx, text in found:
        record = json.loads(text)
        synthetic = bool((record.get("backend") or {}).get("synthetic"))
        batch = bool(record.get("from_batch"))
        key = (_group(by, created_us, model, record), "emulator" if synthetic else "billed", batch)
        row = groups.setdefault(key, {by: key[0], "kind": key[1], "batch": batch, "runs": 0, "images": 0,
                                      "cost_usd": 0.0, "unknown_cost_images": 0, "input_tokens": 0,
                                      "output_tokens": 0, "batch_saved_usd": 0.0})
        row["images"] += 1
        cost = record.get("cost_usd")
        if isinstance(cost, int | float) and not isinstance(cost, bool):
            row["cost_usd"] += cost
            if batch:
                row["batch_saved_usd"] += cost / BATCH_DISCOUNT - cost
        else:
            row["unknown_cost_images"] += 1
        if idx == 0:  # a run's usage is for all its images: counted once
            usage = record.get("usage") if isinstance(record.get("usage"), dict) else {}
            row["runs"] += 1
            row["input_tokens"] += _int(usage.get("input_tokens"))
            row["output_tokens"] += _int(usage.get("output_tokens"))
    return [groups[k] for k in sorted(groups)]


def spend(folder: str | Path | None = None, by: By = "day") -> pd.DataFrame:
    """Actual costs and tokens in `folder` (the default images folder), grouped `by` day, model, thread
    or session: a pandas DataFrame (needs pandas) whose `.plot()` draws the report (see `plot`)."""
    try:
        import pandas as pd
    except ImportError as exc:
        raise ImportError("iw.spend() needs pandas: pip install pandas "
                          "(or use image_widget.money.spending.rows)") from exc
    frame: pd.DataFrame = _frame_type(pd)(rows(folder, by), columns=[by, *COLUMNS])
    frame.attrs["by"] = by
    return frame


_FRAME: list[type] = []


def _frame_type(pd: Any) -> Any:
    """`SpendFrame`, defined once pandas is imported (pandas stays an optional dependency)."""
    if _FRAME:
        return _FRAME[0]

    class _SpendFrame(pd.DataFrame):  # type: ignore[misc]
        @property
        def _constructor(self) -> type:
            return _SpendFrame

        def plot(self, *args: Any, **kwargs: Any) -> Any:
            """Cost per group as bars, billed and emulator (and batch) stacked apart."""
            return plot(self, **kwargs)

    _FRAME.append(_SpendFrame)
    return _SpendFrame


def plot(frame: pd.DataFrame, ax: Axes | None = None, title: str | None = None) -> Axes:
    """Bars of cost per group, one colour per kind (billed / emulator, direct / batch). Needs matplotlib."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError("spend().plot() needs matplotlib, which image_widget does not install: "
                          "pip install matplotlib (the DataFrame itself needs only pandas)") from exc
    by = frame.attrs.get("by") or frame.columns[0]
    label = frame["kind"] + frame["batch"].map({True: " (batch)", False: ""})
    table = frame.assign(series=label).pivot_table(index=by, columns="series", values="cost_usd", aggfunc="sum",
                                                   fill_value=0.0)
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 3.2))
    import pandas as pd

    pd.DataFrame(table).plot.bar(stacked=True, ax=ax, rot=0, width=0.7)
    ax.set_ylabel("USD")
    ax.set_xlabel(str(by))
    ax.set_title(title or f"Spend by {by}")
    ax.legend(title=None, frameon=False)
    ax.figure.tight_layout()
    return ax
