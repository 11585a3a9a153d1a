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
