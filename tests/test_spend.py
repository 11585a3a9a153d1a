"""`iw.spend()`: actual costs and tokens from the records, grouped, billed apart from emulator runs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from image_widget.client import api
from image_widget.emulator import Emulator
from image_widget.money import classroom, spending

KEY = "sk-test-spend-0123456789"


@pytest.fixture
def run(emulator: Emulator, tmp_path: Path) -> dict[str, Any]:
    return {"base_url": emulator.url, "api_key": KEY, "store": tmp_path / "images"}


def _records(folder: Path) -> list[dict[str, Any]]:
    return [json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))]


def test_spend_sums_to_the_records_costs_by_every_grouping(run: dict[str, Any]) -> None:
    api.generate("a fox", model="gpt-image-2.6-sunburst", quality="low", size="1024x1024", **run)
    api.generate("an owl", model="gpt-image-2", quality="low", size="1024x1024", n=2, cache=True, **run)
    again = api.generate("an owl", model="gpt-image-2", quality="low", size="1024x1024", n=2, cache=True, **run)
    assert again.cached
    assert again.cost.usd == 0
    records = _records(run["store"])
    assert len(records) == 3
    total = sum(r["cost_usd"] for r in records)
    for by in spending.BY:
        frame = spending.spend(run["store"], by=by)
        assert frame["cost_usd"].sum() == pytest.approx(total)
        assert frame["images"].sum() == 3
        assert frame["runs"].sum() == 2
        assert set(frame["kind"]) == {"billed"}  # a custom base_url is a server that bills
    by_model = spending.spend(run["store"], by="model").set_index("model")
    owl = next(r for r in records if r["model"] == "gpt-image-2")
    assert by_model.loc["gpt-image-2", "output_tokens"] == owl["usage"]["output_tokens"]  # once per run
    by_session = spending.spend(run["store"], by="session")
    assert list(by_session["session"]) == [classroom.SESSION_ID]


def test_emulator_runs_are_apart_from_billed_ones(run: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    api.generate("a fox", model="gpt-image-2", quality="low", size="1024x1024", **run)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    api.generate("a fox", model="gpt-image-2", quality="low", size="1024x1024", store=run["store"])
    frame = spending.spend(run["store"], by="model")
    assert sorted(frame["kind"]) == ["billed", "emulator"]


def test_unknown_grouping_is_refused_with_the_choices(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"by=.week. is not a way .* one of day, model, thread, session"):
        spending.rows(tmp_path, by="week")  # type: ignore[arg-type]


def test_plot_without_matplotlib_says_how_to_get_it(run: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    api.generate("a fox", model="gpt-image-2", quality="low", size="1024x1024", **run)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match="pip install matplotlib"):
        spending.spend(run["store"]).plot()


def test_the_widget_spend_view_shows_the_folder_by_model_and_the_budget_left(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from image_widget.widget import ImageWidget

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    classroom.reset()
    w = ImageWidget(folder=tmp_path / "w", model="gpt-image-2")
    try:
        assert w.spend["rows"] == []
        assert w.spend["budget_text"] == ""
        monkeypatch.setenv(classroom.ENV_VAR, "1")
        w.options = {**w.options, "quality": "low", "size": "1024x1024"}
        w.generate("a fox")
        cost = w.cost["last_usd"]
        assert w.spend["rows"] == [{"model": "gpt-image-2", "kind": "emulator", "images": 1,
                                    "cost_text": w.cost["last_text"]}]
        assert w.spend["total_text"] == w.cost["last_text"]
        assert w.spend["budget_text"] == f"class budget $1.000 per session, ${1 - cost:.3f} left"
    finally:
        w.close()
