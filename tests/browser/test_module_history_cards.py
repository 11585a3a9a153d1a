"""History cards show what they are (issue 23, item 6): each run's first image as a small thumbnail (loaded
lazily) and what made it — generate, edit, expand, variation, batch or a conversation's turn — so runs whose
prompts start alike can be told apart."""

from __future__ import annotations

import pytest
from widget_harness import Harness

from support.images import jpeg

pytestmark = pytest.mark.browser

RUNS = [{"run_id": f"r{i}", "prompt": "a red fox in the snow at dusk, variant", "created": "2026-12-01T10:00:00Z",
         "model": "gpt-image-2", "call": call, "items": [{"id": f"i{i}", "thumb": jpeg((48, 48), (30 * i, 80, 120))}]}
        for i, call in enumerate(["generate", "edit", "expand", "variation", "batch", "turn 2"])]


def test_each_card_has_its_thumbnail_and_call(harness: Harness) -> None:
    harness.mount(history=RUNS)
    cards = harness.page.locator(".iw-history-run")
    assert cards.count() == len(RUNS)
    calls = [cards.nth(i).locator(".iw-history-call").text_content() for i in range(len(RUNS))]
    assert calls == ["generate", "edit", "expand", "variation", "batch", "turn 2"]
    for i in range(len(RUNS)):
        cover = cards.nth(i).locator("img.iw-history-cover")
        assert cover.get_attribute("loading") == "lazy"
        assert (cover.get_attribute("src") or "").startswith("blob:")
    # the cards in view load their picture (those scrolled out of view wait: loading="lazy")
    harness.page.wait_for_function("() => document.querySelector('img.iw-history-cover')?.naturalWidth === 48")


def test_a_history_diff_puts_the_new_run_in_front_without_the_whole_strip(harness: Harness) -> None:
    """Issue 22, item 1: a new run comes as a `history_diff` (its thumbnail a buffer); the strip shows it first,
    drops the run that fell off the end, and a later whole send of the trait replaces what the diffs built."""
    import base64

    harness.mount(history=RUNS[:3])
    thumb = jpeg((48, 48), (250, 20, 20))
    diff = {"type": "history_diff", "removed": ["r2"],
            "added": [{"index": 0, "run": {"run_id": "new", "prompt": "a lighthouse", "created": "", "model": "m",
                                           "call": "generate", "items": [{"id": "n0", "thumb": 0}]}}],
            "changed": []}
    harness.page.evaluate("([m, b]) => window.__h.fire(m, b)", [diff, [base64.b64encode(thumb).decode()]])
    cards = harness.page.locator(".iw-history-run")
    harness.page.wait_for_function("() => document.querySelector('.iw-history-run')?.dataset.runId === 'new'")
    assert [cards.nth(i).get_attribute("data-run-id") for i in range(cards.count())] == ["new", "r0", "r1"]
    harness.set_trait("history", RUNS[3:5])  # a whole send (a page, a search) is the truth again
    assert [cards.nth(i).get_attribute("data-run-id") for i in range(cards.count())] == ["r3", "r4"]
