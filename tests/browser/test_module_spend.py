"""The small spend view in Chromium: one closed line under the header, a table of the folder's costs by
model when opened, the class budget left when there is one, and updates as the kernel sends new figures."""

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
    view = harness.root.locator('[data-role="spend"]')
    expect(view.locator("summary")).to_have_text("Spend in this folder: $0.175 · this session: $0.053")
    expect(view.locator("table")).not_to_be_visible()  # closed: one line, the header stays small
    view.locator("summary").click()
    rows = view.locator("tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(1)).to_have_text("gpt-image-2.6-sunburstemulator2$0.016")
    expect(view.locator('[data-role="spend-budget"]')).to_have_text("class budget $1.000 per session, $0.947 left")
    harness.set_trait("spend", {**SPEND, "rows": SPEND["rows"][:1], "total_text": "$0.159", "budget_text": ""})
    expect(rows).to_have_count(1)
    expect(view.locator('[data-role="spend-budget"]')).to_be_hidden()


def test_before_any_run_it_reads_zero(harness: Harness) -> None:
    harness.mount()
    view = harness.root.locator('[data-role="spend"]')
    expect(view.locator("summary")).to_have_text("Spend in this folder: $0.000 · this session: $0.000")
