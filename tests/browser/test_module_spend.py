"""The small spend view in Chromium: one closed item in the header row, a table of the folder's costs by
model when opened, the class budget left when there is one, hidden before there is anything to show, and
updated as the kernel sends new figures."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from widget_harness import Harness

pytestmark = pytest.mark.browser

SPEND = {
    "rows": [{"model": "gpt-image-2", "kind": "billed", "images": 3, "cost_text": "$0.159"},
             {"model": "gpt-image-2.6-sunburst", "kind": "emulator", "images": 2, "cost_text": "$0.016"}],
    "total_text": "$0.175", "session_text": "$0.053",
    "budget_text": "class budget $1.000 per session, $0.947 left",
}


def test_the_spend_view_shows_the_folder_by_model_and_the_budget(harness: Harness) -> None:
    harness.mount(spend=SPEND)
    view = harness.root.locator('.iw-header [data-role="spend"]')
    expect(view.locator("summary")).to_have_text(
        "Folder spend: $0.175 · class budget $1.000 per session, $0.947 left")
    expect(view.locator("table")).not_to_be_visible()  # closed: one item, the header stays one line
    view.locator("summary").click()
    rows = view.locator("tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(1)).to_have_text("gpt-image-2.6-sunburstemulator2$0.016")
    harness.set_trait("spend", {**SPEND, "rows": SPEND["rows"][:1], "total_text": "$0.159", "budget_text": ""})
    expect(rows).to_have_count(1)
    expect(view.locator("summary")).to_have_text("Folder spend: $0.159")


def test_before_any_run_and_without_a_budget_it_is_hidden(harness: Harness) -> None:
    harness.mount(spend={"rows": [], "total_text": "$0.000", "session_text": "$0.000", "budget_text": ""})
    expect(harness.root.locator('[data-role="spend"]')).to_be_hidden()


def test_with_spend_the_header_stays_one_line_in_a_wide_cell(harness: Harness) -> None:
    harness.page.set_viewport_size({"width": 1440, "height": 900})
    harness.page.evaluate("() => { document.getElementById('host').style.width = '1370px'; }")
    cost = {"estimate_text": "≈ $0.021 (learned from 12 runs; $0.018–0.025)", "last_text": "$0.022",
            "session_text": "$0.418"}
    harness.mount(cost=cost, backend={"kind": "emulator", "label": "Offline emulator", "synthetic": True})
    header = harness.root.locator(".iw-header")
    without = header.bounding_box()
    harness.set_trait("spend", {**SPEND, "budget_text": ""})
    expect(harness.root.locator('[data-role="spend"]')).to_be_visible()
    with_spend = header.bounding_box()
    assert without is not None
    assert with_spend is not None
    assert with_spend["height"] == without["height"]
