"""The refine box in the page (issue 20, item 5): the strip of turns, choosing where the next turn
continues from (a branch), sending by keyboard, Cancel with Escape, and everything disabled while a turn
runs. The kernel's side is tests/test_widget_refine.py; the whole path in JupyterLab is
tests/jupyter/test_e2e_refine.py."""

from __future__ import annotations

import time

import pytest
from widget_harness import Harness

from support.images import jpeg

pytestmark = pytest.mark.browser

TURNS = [{"id": f"img-{n}", "turn": n, "prompt": p, "action": "generate" if n == 1 else "edit", "thread": "thr_a",
          "thumb": jpeg((64, 64), (40 * n, 90, 160))}
         for n, p in ((1, "a red fox in snow"), (2, "make it night"), (3, "add a lantern"))]


def mount(harness: Harness, selected: str = "img-3") -> None:
    harness.mount(conversation={"thread": "thr_a", "turns": TURNS, "selected": selected})


def test_the_strip_shows_each_turn_and_where_the_next_continues(harness: Harness) -> None:
    mount(harness)
    page = harness.page
    turns = page.locator(".iw-refine-turn")
    assert turns.count() == 3
    assert [turns.nth(i).get_attribute("aria-pressed") for i in range(3)] == ["false", "false", "true"]
    assert "Turn 2 (changed): make it night" in (turns.nth(1).get_attribute("aria-label") or "")
    assert page.locator(".iw-refine-where").text_content() == "The next turn continues from turn 3."


def test_clicking_an_earlier_turn_asks_to_branch_from_it(harness: Harness) -> None:
    mount(harness)
    harness.page.locator('.iw-refine-turn[data-id="img-1"]').click()
    assert harness.wait_sent("refine_select")[-1]["content"]["id"] == "img-1"
    harness.set_trait("conversation", {"thread": "thr_a", "turns": TURNS, "selected": "img-1"})
    assert harness.page.locator(".iw-refine-where").text_content() == "The next turn branches from turn 1."


def test_enter_sends_the_turn_and_escape_cancels_it(harness: Harness) -> None:
    mount(harness)
    page = harness.page
    field = page.locator(".iw-refine-input")
    send = page.locator('[data-action="refine"]')
    assert send.is_disabled()  # nothing typed yet
    field.fill("make it autumn")
    field.press("Enter")
    assert harness.wait_sent("refine")[-1]["content"]["prompt"] == "make it autumn"
    assert field.input_value() == ""
    harness.set_trait("status", {"state": "running", "message": "Refining…", "job_id": "j",
                                 "started_ms": int(time.time() * 1000)})
    field.fill("and a lantern")
    assert send.is_disabled()
    assert page.locator('.iw-refine-turn[data-id="img-1"]').is_disabled()
    field.press("Escape")
    harness.wait_sent("cancel")
    field.press("Enter")  # a second send while one runs is not sent: never two paid turns at once
    assert len(harness.sent("refine")) == 1


def test_paint_a_mask_makes_the_chosen_turn_the_canvas(harness: Harness) -> None:
    mount(harness, selected="img-2")
    harness.page.locator('[data-action="refine-mask"]').click()
    assert harness.wait_sent("use_as_input")[-1]["content"] == {"type": "use_as_input", "id": "img-2", "role": "edit"}


def test_new_conversation_and_the_empty_box(harness: Harness) -> None:
    harness.mount()
    page = harness.page
    assert page.locator(".iw-refine-turn").count() == 0
    assert page.locator('[data-action="refine-new"]').is_disabled()
    assert page.locator(".iw-refine-where").is_hidden(), "one line until the first turn"
    assert page.locator(".iw-refine-input").get_attribute("placeholder") == \
        "Describe an image, then refine it turn by turn…"
    assert page.locator('[data-action="refine-mask"]').is_hidden()
    harness.set_trait("conversation", {"thread": "thr_a", "turns": TURNS, "selected": "img-3"})
    page.locator('[data-action="refine-new"]').click()
    harness.wait_sent("refine_new")
