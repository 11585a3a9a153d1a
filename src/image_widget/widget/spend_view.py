"""The widget's small spend view: what this folder's runs cost, by model, and the class budget left.

Plain values for the page (the `spend` trait), from `spending.rows` (the folder's index, no pandas);
refreshed when the widget opens and after each run. The page draws it in `views/spend.ts`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from image_widget.facts.cost import format_usd
from image_widget.money import classroom, spending


def spend_payload(folder: Path) -> dict[str, Any]:
    """{rows: [{model, kind, images, cost_text}], total_text, session_text, budget_text}."""
    rows = spending.rows(folder, by="model")
    total = sum(r["cost_usd"] for r in rows)
    budget = classroom.budget_usd()
    left = None if budget is None else max(0.0, budget - classroom.spent())
    return {
        "rows": [{"model": r["model"], "kind": r["kind"] + (" (batch)" if r["batch"] else ""), "images": r["images"],
                  "cost_text": format_usd(r["cost_usd"]) + (" + unknown" if r["unknown_cost_images"] else "")}
                 for r in rows],
        "total_text": format_usd(total),
        "session_text": format_usd(classroom.spent()),
        "budget_text": "" if budget is None else
        f"class budget {format_usd(budget)} per session, {format_usd(left or 0.0)} left",
    }


NO_SPEND_YET: dict[str, Any] = {"rows": [], "total_text": "", "session_text": "", "budget_text": ""}
"""The `spend` trait until the folder has been read (in the background: it reads every row)."""
