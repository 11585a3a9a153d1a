"""A kernel that stops answering is said, not silent (issue 22, item 2): after an action the page asks the
kernel for a `pong`; with none in time it says "The kernel does not answer — it may have restarted. Re-run
this cell." and disables what cannot work; a late answer (the kernel was only busy) brings it all back.
The same against a real kernel restarted through JupyterLab's REST API: tests/jupyter/test_e2e_kernel.py."""

from __future__ import annotations

import time
from typing import Any

import pytest
from widget_harness import DEFAULT_OPTIONS, Harness

pytestmark = pytest.mark.browser


def stop_the_clock(page: Any) -> None:
    """The page's timers from here on run only when the test says (`clock.run_for`). `install` alone lets time flow
    as it does outside: on a loaded machine the page's 300 ms passed while the test waited for a message."""
    start = time.time()  # seconds, as Playwright reads a number here
    page.clock.install(time=start)
    page.clock.pause_at(start + 1)  # a second on (any time that went by since `install` is within it), paused


def test_no_answer_is_said_and_a_late_answer_undoes_it(harness: Harness) -> None:
    harness.mount(options={**DEFAULT_OPTIONS, "prompt": "a fox"}, answer_timeout_ms=300)
    page = harness.page
    page.evaluate("() => window.__h.silence()")  # the kernel stopped answering (restarted elsewhere)
    generate = page.locator('[data-action="generate"]')
    generate.click()
    (ping,) = [m["content"] for m in harness.wait_sent("ping")]
    alert = page.locator('[data-role="kernel-unanswered"]')
    alert.wait_for(state="visible")
    assert "The kernel does not answer — it may have restarted. Re-run this cell." in (alert.text_content() or "")
    assert harness.root.get_attribute("data-kernel") == "unanswered"
    assert generate.is_disabled()
    assert page.locator('[data-action="refine"]').is_disabled()

    harness.fire({"type": "pong", "request_id": ping["request_id"]})
    alert.wait_for(state="hidden")
    assert harness.root.get_attribute("data-kernel") is None
    assert generate.is_enabled()



def test_the_shortcut_asks_the_kernel_too(harness: Harness) -> None:
    """Ctrl+Enter runs Generate without a click on it: a silent kernel must be said all the same."""
    harness.mount(options={**DEFAULT_OPTIONS, "prompt": "a fox"}, answer_timeout_ms=300)
    page = harness.page
    page.evaluate("() => window.__h.silence()")
    page.locator("textarea").first.press("Control+Enter")
    harness.wait_sent("generate")
    harness.wait_sent("ping")
    page.locator('[data-role="kernel-unanswered"]').wait_for(state="visible")
    assert page.locator('[data-action="generate"]').is_disabled()


def test_a_silent_kernel_is_asked_only_after_its_own_answer_had_time(harness: Harness) -> None:
    harness.mount(options={**DEFAULT_OPTIONS, "prompt": "a fox"}, answer_timeout_ms=300)
    page = harness.page
    stop_the_clock(page)
    page.locator('[data-action="generate"]').click()
    harness.wait_sent("generate")
    page.clock.run_for(250)
    assert harness.sent("ping") == []
    page.clock.run_for(100)  # ASK_AFTER_MS (300 ms) after the click
    harness.wait_sent("ping")


def test_a_kernel_that_answers_the_action_itself_is_not_pinged(harness: Harness) -> None:
    """The run's own status is the answer: no ping and its three replies in front of the run's first messages
    (issue 22, click → page)."""
    harness.mount(options={**DEFAULT_OPTIONS, "prompt": "a fox"}, answer_timeout_ms=300)
    page = harness.page
    stop_the_clock(page)
    page.locator('[data-action="generate"]').click()
    harness.wait_sent("generate")
    harness.set_trait("status", {"state": "running", "message": "Generating…", "job_id": "job-1"})
    page.wait_for_selector('.image-widget[data-state="running"]')
    page.clock.run_for(2000)  # past ASK_AFTER_MS and the answer timeout
    assert harness.sent("ping") == []
    assert page.locator('[data-role="kernel-unanswered"]').is_hidden()


def test_updates_of_a_run_under_way_are_not_an_answer(harness: Harness) -> None:
    """The job thread writes a running run's status even while a cell holds the kernel's main thread, which then
    cannot take the click (Cancel): only a run that started since the click answers it."""
    harness.mount(options={**DEFAULT_OPTIONS, "prompt": "a fox"}, answer_timeout_ms=300)
    page = harness.page
    running = {"state": "running", "message": "Generating…", "job_id": "job-1", "started_ms": 5}
    harness.set_trait("status", running)
    page.wait_for_selector('.image-widget[data-state="running"]')
    stop_the_clock(page)
    page.locator('[data-action="cancel"]').click()
    harness.wait_sent("cancel")
    harness.set_trait("status", {**running, "message": "Preview 1 of 2…"})
    page.clock.run_for(350)
    harness.wait_sent("ping")
