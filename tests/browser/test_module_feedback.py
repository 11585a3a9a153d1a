"""Feedback where the person looks (issue 14, items 8 and 10): no error before anything was asked for,
"Code copied" on the button that was used, notices that never cover the history strip."""

from __future__ import annotations

import pytest
from widget_harness import DEFAULT_OPTIONS, Harness, fake_results

from support.images import jpeg, png

pytestmark = pytest.mark.browser

EMPTY = {"prompt": "prompt is empty; describe the image you want"}
PROMPT_PROBLEM = '.iw-problem[data-problem-for="prompt"]'
PROMPT = '[data-option="prompt"]'


def prompt_problem_shown(harness: Harness) -> bool:
    page = harness.page
    shown = page.is_visible(PROMPT_PROBLEM)
    assert (page.get_attribute(PROMPT, "aria-invalid") == "true") == shown, "the red border follows the message"
    return shown


def test_a_new_widget_does_not_greet_with_an_error(harness: Harness) -> None:
    harness.mount(problems={**EMPTY, "size": "size='9x9' is not allowed"})
    page = harness.page
    assert not prompt_problem_shown(harness)
    assert page.is_visible('.iw-problem[data-problem-for="size"]')  # other problems show at once
    # focus and leave without typing: still nothing
    page.focus(PROMPT)
    page.focus('[data-option="model"]')
    assert not prompt_problem_shown(harness)
    # typed in, emptied and left: now it is the person's doing
    page.focus(PROMPT)
    page.keyboard.type("x")
    page.keyboard.press("Backspace")
    assert not prompt_problem_shown(harness)  # still typing
    page.focus('[data-option="model"]')
    assert prompt_problem_shown(harness)


def test_the_prompt_problem_shows_after_a_generate_attempt(harness: Harness) -> None:
    harness.mount(problems=EMPTY)
    page = harness.page
    assert not prompt_problem_shown(harness)
    page.click('[data-action="generate"]')
    assert prompt_problem_shown(harness)


def test_typing_then_clicking_generate_is_one_click(harness: Harness) -> None:
    """Leaving the prompt by pressing Generate must not move Generate from under the pointer: the kernel's
    old verdict on the empty prompt stays hidden while it has not seen the text (the first version of
    item 8 flashed it up on blur, and the click landed elsewhere — JupyterLab test_e2e_lab caught it)."""
    harness.mount(problems=EMPTY)
    page = harness.page
    page.click(PROMPT)
    page.keyboard.type("a fox")
    page.click('[data-action="generate"]')
    assert len(harness.wait_sent("generate", 1)) == 1
    assert not prompt_problem_shown(harness)  # the kernel has not answered the text yet: nothing stale
    harness.set_trait("problems", {})
    assert not prompt_problem_shown(harness)


def test_emptied_then_clicking_generate_is_one_click(harness: Harness) -> None:
    harness.mount(problems=EMPTY)
    page = harness.page
    page.click(PROMPT)
    page.keyboard.type("x")
    page.keyboard.press("Backspace")
    page.click('[data-action="generate"]')
    assert len(harness.wait_sent("generate", 1)) == 1
    page.wait_for_selector(PROMPT_PROBLEM)
    assert prompt_problem_shown(harness)


def test_the_prompt_problem_shows_after_a_refusal_from_the_kernel(harness: Harness) -> None:
    """`w.generate()` from Python (or a page that missed the click) is refused by the kernel."""
    harness.mount(problems=EMPTY)
    assert not prompt_problem_shown(harness)
    harness.set_trait("error", {"title": "Options not valid", "message": EMPTY["prompt"], "code": "invalid_options"})
    harness.set_trait("status", {"state": "error", "message": "Not sent: fix the marked options"})
    assert prompt_problem_shown(harness)


def test_a_prompt_set_from_python_shows_its_problem_at_once(harness: Harness) -> None:
    harness.mount(options={**DEFAULT_OPTIONS, "prompt": "x" * 40}, problems={"prompt": "prompt is too long"})
    assert prompt_problem_shown(harness)


# ------------------------------------------------------------------------------ item 10: where notices go


def test_code_copied_confirms_on_the_button(harness: Harness) -> None:
    harness.mount(results=fake_results(2))
    page = harness.page
    page.evaluate("""() => {  // a clipboard that works, as on a https or localhost JupyterLab
      window.__copied = [];
      Object.defineProperty(navigator, "clipboard", {
        configurable: true, value: { writeText: async (t) => { window.__copied.push(t); } },
      });
    }""")
    button = page.locator('.iw-result[data-result-id="img-1"] [data-action="copy-code"]')
    label = button.text_content()
    button.click()
    page.wait_for_function("() => window.__copied.length === 1")
    assert page.evaluate("() => window.__copied") == ["image_widget.generate('prompt 1')"]
    page.wait_for_selector('.iw-result[data-result-id="img-1"] [data-action="copy-code"][data-flash="copied"]')
    assert "Copied" in (button.text_content() or "")
    assert page.locator(".iw-notice").count() == 0, "no toast in the corner"
    other = page.locator('.iw-result[data-result-id="img-0"] [data-action="copy-code"]')
    assert other.text_content() == label
    # the button says so to screen readers, and goes back to its label after a moment
    status = page.locator('.iw-result[data-result-id="img-1"] [data-role="copy-status"]')
    assert status.text_content() == "Code copied"
    assert status.get_attribute("role") == "status"
    page.wait_for_function(
        """(label) => document.querySelector('.iw-result[data-result-id="img-1"] [data-action="copy-code"]')
             .textContent === label""",
        arg=label, timeout=5000,
    )


def test_notices_do_not_cover_the_history_strip(harness: Harness) -> None:
    harness.mount(
        results=fake_results(1),
        history=[{"run_id": f"r{i}", "prompt": f"run {i}", "created": "2026-11-20T10:00:00Z", "model": "gpt-image-2",
                  "items": [{"id": f"h{i}", "thumb": jpeg((64, 64), (10, 10, 200))}]} for i in range(6)],
    )
    page = harness.page
    for i in range(3):
        harness.fire({"type": "notice", "level": "warning" if i else "info", "message": f"notice number {i}"})
    page.wait_for_selector(".iw-notice >> nth=2")
    overlaps = page.evaluate("""() => {
      const boxes = (sel) => [...document.querySelectorAll(sel)].map((e) => e.getBoundingClientRect());
      const hit = (a, b) => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
      const under = boxes(".iw-history, .iw-results, .iw-actions, .iw-compose");
      return boxes(".iw-notice").filter((n) => under.some((u) => hit(n, u))).length;
    }""")
    assert overlaps == 0


def test_download_says_preparing_on_its_button(harness: Harness) -> None:
    harness.mount(results=fake_results(1))
    page = harness.page
    button = page.locator('.iw-result[data-result-id="img-0"] [data-action="download"]')
    button.click()
    req = harness.wait_sent("fetch_image", 1)[-1]["content"]
    assert button.text_content() == "Preparing…"
    assert page.locator(".iw-notice").count() == 0
    with page.expect_download():
        harness.fire({"type": "image", "id": "img-0", "request_id": req["request_id"], "mime": "image/png"},
                     [png((8, 8))])
    page.wait_for_function(
        """() => document.querySelector('.iw-result[data-result-id="img-0"] [data-action="download"]')
             .textContent === "Download" """)
