"""Sweeps against the emulator: grid, records, budget refusal, bounded concurrency, failures, cache."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from image_widget.emulator import Emulator, Fault
from image_widget.sweeps import run as sweeps
from support import waiting
from support.clock import record_sleeps
from support.held import held

KEY = "sk-test-sweep-0123456789"


@pytest.fixture
def run(emulator: Emulator, tmp_path: Path) -> dict[str, Any]:
    return {"base_url": emulator.url, "api_key": KEY, "store": tmp_path, "progress": False}


def sent(emulator: Emulator) -> int:
    return sum("/images/" in e.path for e in emulator.log)


def test_every_combination_runs_and_records_one_row_per_image(emulator: Emulator, run: dict[str, Any]) -> None:
    result = sweeps.sweep("a {animal} in {style}", animal=["fox", "owl"], style=["ink", "pixel art"],
                          quality=["low", "high"], model="gpt-image-1-mini", n=2, size="1024x1024", **run)
    assert len(result.cells) == 8
    assert result.failures == []
    assert len(result.records) == 16
    row = result.records[0]
    assert row["prompt"] == "a fox in ink"
    assert (row["animal"], row["style"], row["quality"]) == ("fox", "ink", "low")
    assert Path(row["path"]).exists()
    assert row["cost_usd"] is not None
    assert sent(emulator) == 8
    assert {r["prompt"] for r in result.records} == {
        "a fox in ink", "a fox in pixel art", "a owl in ink", "a owl in pixel art"}


def test_grid_has_one_tile_per_cell_with_labels(run: dict[str, Any]) -> None:
    result = sweeps.sweep("a {animal}", animal=["fox", "owl", "cat"], quality=["low", "high"],
                          model="gpt-image-1-mini", size="1024x1024", **run)
    sheet = result.grid(thumb=64)
    # 3 rows (animal) x 2 columns (quality); labels add a margin on the left and top
    assert sheet.width > 2 * 64
    assert sheet.height > 3 * 64
    assert sheet.width < 2 * 64 + 400
    assert sheet.height < 3 * 64 + 120


def test_budget_over_max_cost_sends_nothing(emulator: Emulator, run: dict[str, Any]) -> None:
    with pytest.raises(sweeps.BudgetError, match="over max_cost"):
        sweeps.sweep("a {animal}", animal=["fox", "owl"], quality="high", size="1536x1024",
                     model="gpt-image-1-mini", n=10, max_cost=0.50, **run)
    assert sent(emulator) == 0


def test_unknown_price_with_budget_refuses(emulator: Emulator, run: dict[str, Any]) -> None:
    with pytest.raises(sweeps.BudgetError, match="cannot check max_cost"):
        sweeps.sweep("a {animal}", animal=["fox"], model="gpt-image-2.6-flare", max_cost=1.0, **run)
    assert sent(emulator) == 0


def test_invalid_cell_refused_before_sending(emulator: Emulator, run: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="quality"):
        sweeps.sweep("a {animal}", animal=["fox"], quality=["low", "ultra"], model="gpt-image-1-mini", **run)
    assert sent(emulator) == 0


def test_concurrency_is_bounded(run: dict[str, Any]) -> None:
    with Emulator() as own, ThreadPoolExecutor(1) as caller:  # its own server: nobody else's requests
        with held(own):  # the first cells stay in flight: the sweep fills its three slots and waits
            running = caller.submit(sweeps.sweep, "cat {i}", i=list(range(8)), concurrency=3,
                                    **{**run, "base_url": own.url})
            waiting.wait_until(lambda: own.in_flight == 3, "three cells in flight at once", 30.0)
            assert own.max_in_flight == 3
            assert len(own.log) == 3  # the other five wait for a slot
        result = running.result(timeout=60)  # released: the rest run, never more than three at once
        assert own.max_in_flight <= 3
    assert len(result.cells) == 8
    assert result.failures == []


def test_a_failing_cell_does_not_lose_the_others(emulator: Emulator, run: dict[str, Any]) -> None:
    emulator.inject(Fault(status=400, message="bad cell"))
    result = sweeps.sweep("cat {i}", i=[1, 2, 3], concurrency=1, **run)
    assert len(result.failures) == 1
    assert "bad cell" in (result.failures[0].error or "")
    assert sum(c.ok for c in result.cells) == 2
    assert any(r["error"] for r in result.records)
    assert result.grid(thumb=32).width > 0


def test_rate_limits_are_backed_off(emulator: Emulator, run: dict[str, Any],
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sweeps, "BACKOFF_S", (0.01, 0.01, 0.01))
    emulator.inject(*[Fault(status=429, retry_after=0.01)] * 3)
    result = sweeps.sweep("a {x}", x=["cat"], max_retries=0, **run)
    assert result.failures == []
    assert result.cells[0].attempts == 4


def test_a_rate_limit_waits_as_long_as_the_server_asks(emulator: Emulator, run: dict[str, Any],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """The server's `retry-after-ms` decides the wait, not the sweep's own backoff (recorded, not slept)."""
    asked = record_sleeps(monkeypatch, sweeps)
    emulator.inject(Fault(status=429, retry_after_ms=2500))
    result = sweeps.sweep("a {x}", x=["cat"], max_retries=0, **run)
    assert result.failures == []
    assert asked == [2.5]


def test_rerun_with_cache_sends_nothing(emulator: Emulator, run: dict[str, Any]) -> None:
    first = sweeps.sweep("a {animal}", animal=["fox", "owl"], **run)
    before = sent(emulator)
    again = sweeps.sweep("a {animal}", animal=["fox", "owl"], **run)
    assert sent(emulator) == before == 2
    assert all(c.result is not None and c.result.cached for c in again.cells)
    assert [r["path"] for r in again.records] == [r["path"] for r in first.records]


def test_to_pandas(run: dict[str, Any]) -> None:
    frame = sweeps.sweep("a {animal}", animal=["fox", "owl"], **run).to_pandas()
    assert list(frame["animal"]) == ["fox", "owl"]
    assert {"prompt", "path", "cost_usd", "seconds"} <= set(frame.columns)


@pytest.mark.parametrize(("kwargs", "needle"), [
    ({"colour": ["red"]}, "unknown argument"),
    ({}, "no values were given for animal"),
    ({"animal": []}, "empty list"),
])
def test_bad_arguments_are_named(kwargs: dict[str, Any], needle: str, run: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=needle):
        sweeps.sweep("a {animal}", **kwargs, **run)


def test_grid_axis_choice_and_single_axis_runs_across(run: dict[str, Any]) -> None:
    result = sweeps.sweep("a {animal}", animal=["fox", "owl", "cat"], quality=["low", "high"],
                          model="gpt-image-1-mini", size="1024x1024", **run)
    default, swapped = result.grid(thumb=64), result.grid(thumb=64, rows="quality")
    assert swapped.width > default.width  # 3 columns instead of 2
    single = sweeps.sweep("a {animal}", animal=["fox", "owl", "cat"], **run).grid(thumb=64)
    assert single.width > 3 * 64 > single.height
    with pytest.raises(ValueError, match="not a varying value"):
        result.grid(rows="model")


def test_contact_sheet_labels_scale_with_the_tile() -> None:
    """Issue 23, item 8: labels were 11 px whatever the tile; a sheet of 512-px tiles gets ~32-px labels."""
    import numpy as np
    from PIL import Image

    from image_widget.sweeps.contact_sheet import contact_sheet

    def label_height(thumb: int) -> int:
        tile = Image.new("RGB", (thumb, thumb), (200, 220, 240))
        sheet = contact_sheet([[[tile]]], [""], ["fox"], thumb=thumb)
        top = np.asarray(sheet)[: sheet.height - thumb - 8]  # the column-label strip above the tile
        rows = np.where((top < 128).all(axis=-1).any(axis=1))[0]
        return int(rows.max() - rows.min() + 1)

    small, big = label_height(128), label_height(512)
    assert small >= 8
    assert big >= 3 * small, f"label height {small} px at 128-px tiles, {big} px at 512-px tiles"


def test_a_dry_run_prices_the_sweep_and_sends_nothing(emulator: Emulator, run: dict[str, Any]) -> None:
    """A price before the run without a budget to refuse against: the estimate, and whether a max_cost fits."""
    result = sweeps.sweep("a {x}", x=["cat", "owl", "fox"], model="gpt-image-2", quality="low", size="1024x1024",
                          dry_run=True, max_cost=0.01, **run)
    assert sent(emulator) == 0
    assert result.estimate.usd is not None
    assert result.estimate.usd > 0
    assert result.notes[0].startswith("dry run: 3 cell(s) would cost")
    assert "nothing was sent" in result.notes[0]
    assert "passes it" in result.notes[1]
    assert all(c.error == "dry run: not sent" for c in result.cells)
