"""The pending-batches view: above the history, one line per batch, and it says when it is shown."""

from __future__ import annotations

import pytest
from widget_harness import Harness

pytestmark = pytest.mark.browser

ITEM = {"run_id": "r1", "template": "a {animal} in {style}", "state": "in progress", "done": 3, "failed": 1,
        "total": 8, "estimate": "$0.434 (Batch API price)", "created": "2026-11-29T12:00:00+00:00"}


def test_pending_batches_show_above_the_history_and_the_view_reports_itself(harness: Harness) -> None:
    harness.mount(batches=[ITEM])
    page = harness.page
    section = page.locator(".iw-batches")
    assert section.is_visible()
    item = section.locator(".iw-batch")
    assert item.locator(".iw-batch-template").inner_text() == "a {animal} in {style}"
    assert item.locator(".iw-batch-line").inner_text() == \
        "3 / 8 done, 1 failed · est. $0.434 (Batch API price) · in progress"
    assert item.locator("progress").get_attribute("value") == "4"
    assert page.evaluate("() => document.querySelector('.iw-batches').nextElementSibling.classList"
                         ".contains('iw-history')"), "drawn just above the history"
    (hello,) = harness.wait_sent("batches_view")
    assert hello["content"]["shown"] is True

    harness.set_trait("batches", [])  # every batch ended: nothing to keep current, so the kernel may stop
    assert not section.is_visible()
    assert [m["content"]["shown"] for m in harness.sent("batches_view")] == [True, False]
    harness.set_trait("batches", [ITEM])
    page.evaluate("() => window.__h.cleanup()")
    said = [m["content"] for m in harness.sent("batches_view")]
    assert [m["shown"] for m in said] == [True, False, True, False]
    assert {m["view_id"] for m in said} == {hello["content"]["view_id"]}


def test_with_no_pending_batch_the_view_sends_nothing(harness: Harness) -> None:
    harness.mount(batches=[])
    assert not harness.page.locator(".iw-batches").is_visible()
    harness.page.evaluate("() => window.__h.cleanup()")
    assert harness.sent("batches_view") == []


def test_a_sweep_not_submitted_shows_how_to_resume_or_drop_it(harness: Harness) -> None:
    hint = "not sent: iw.batches()[0].submit() sends it, .discard() drops it"
    harness.mount(batches=[{**ITEM, "state": "not submitted", "done": 0, "failed": 0, "hint": hint}])
    item = harness.page.locator(".iw-batches .iw-batch")
    assert item.get_attribute("data-state") == "not submitted"
    assert item.locator(".iw-batch-line").inner_text().endswith("· not submitted")
    assert item.locator(".iw-batch-hint").inner_text() == hint
    harness.set_trait("batches", [ITEM])  # an item without a hint shows none
    assert harness.page.locator(".iw-batch-hint").count() == 0
