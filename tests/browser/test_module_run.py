"""Running, results, lightbox, history, banner, previews, notices and status text."""

from __future__ import annotations

import time

import pytest
from widget_harness import Harness, fake_results

from support.images import jpeg, png

pytestmark = pytest.mark.browser


results = fake_results


def test_results_render_and_lightbox_shows_full_image(harness: Harness) -> None:
    harness.mount()
    page = harness.page
    harness.set_trait("results", results(3))
    page.wait_for_selector('.image-widget[data-results="3"]')
    assert page.locator(".iw-result").count() == 3

    page.focus('.iw-result[data-result-id="img-1"] [data-action="enlarge"]')
    page.keyboard.press("Enter")
    req = harness.wait_sent("fetch_image", 1)[-1]["content"]
    assert req["id"] == "img-1"
    assert req["request_id"]
    assert page.is_visible(".iw-lightbox")
    assert page.get_attribute(".iw-lightbox", "data-full") == "0"

    full = png((1024, 1024))
    harness.fire({"type": "image", "id": "img-1", "request_id": "someone-else", "mime": "image/png"}, [b"xx"])
    assert page.get_attribute(".iw-lightbox", "data-full") == "0"
    harness.fire({"type": "image", "id": "img-1", "request_id": req["request_id"], "mime": "image/png"}, [full])
    page.wait_for_selector('.iw-lightbox[data-full="1"]')
    page.wait_for_function("() => document.querySelector('.iw-lightbox-img').naturalWidth === 1024")

    page.keyboard.press("Escape")
    assert page.is_hidden(".iw-lightbox")
    assert page.locator(".iw-portal").count() == 0
    focused = page.evaluate("() => document.activeElement.closest('[data-result-id]')?.dataset.resultId")
    assert focused == "img-1"


def test_result_actions(harness: Harness) -> None:
    harness.mount()
    page = harness.page
    harness.set_trait("results", results(2))
    page.click('.iw-result[data-result-id="img-0"] [data-action="edit"]')
    page.click('.iw-result[data-result-id="img-1"] [data-action="reference"]')
    sent = harness.wait_sent("use_as_input", 2)
    assert [m["content"] for m in sent] == [
        {"type": "use_as_input", "id": "img-0", "role": "edit"},
        {"type": "use_as_input", "id": "img-1", "role": "reference"},
    ]

    page.click('.iw-result[data-result-id="img-1"] [data-action="download"]')
    req = harness.wait_sent("fetch_image", 1)[-1]["content"]
    assert req["id"] == "img-1"
    with page.expect_download() as info:
        harness.fire(
            {"type": "image", "id": "img-1", "request_id": req["request_id"], "mime": "image/png"}, [png((32, 32))]
        )
    assert info.value.suggested_filename == "img-1.png"

    # Copy code: no clipboard API on this http test page, so the fallback selects a textarea.
    page.click('.iw-result[data-result-id="img-0"] [data-action="copy-code"]')
    box = page.locator('.iw-result[data-result-id="img-0"] textarea.iw-code')
    box.wait_for()
    assert box.input_value() == "image_widget.generate('prompt 0')"
    selected = page.evaluate(
        "() => { const t = document.activeElement; return t.value.slice(t.selectionStart, t.selectionEnd); }"
    )
    assert selected == "image_widget.generate('prompt 0')"


def test_history_strip(harness: Harness) -> None:
    harness.mount(
        history=[
            {
                "run_id": "r2",
                "prompt": "newest <b>run</b>",
                "created": "2026-11-20T10:00:00Z",
                "model": "gpt-image-2",
                "items": [
                    {"id": "h1", "thumb": jpeg((64, 64), (10, 10, 200))},
                    {"id": "h2", "thumb": jpeg((64, 64), (10, 200, 10))},
                ],
            },
            {
                "run_id": "r1",
                "prompt": "older run",
                "created": "2026-11-19T10:00:00Z",
                "model": "gpt-image-2",
                "items": [{"id": "h3", "thumb": jpeg((64, 64), (200, 10, 10))}],
            },
        ]
    )
    page = harness.page
    runs = page.locator(".iw-history-run")
    assert runs.count() == 2
    assert (runs.nth(0).text_content() or "").startswith("newest <b>run</b>")
    assert page.locator(".iw-history b").count() == 0
    runs.nth(0).click()
    assert runs.nth(0).get_attribute("aria-expanded") == "true"
    assert page.locator(".iw-history-thumb").count() == 2
    page.click('.iw-history-thumb[data-item-id="h2"]')
    assert harness.wait_sent("fetch_image", 1)[-1]["content"]["id"] == "h2"
    page.keyboard.press("Escape")
    runs.nth(0).click()
    assert page.locator(".iw-history-thumb").count() == 0


def test_cancel_while_running_and_timer(harness: Harness) -> None:
    harness.mount()
    page = harness.page
    assert page.text_content('[data-action="generate"]') == "Generate"
    started = int(time.time() * 1000) - 5000
    harness.set_trait("status", {"state": "running", "message": "Generating…", "job_id": "j1", "started_ms": started})
    page.wait_for_selector('.image-widget[data-state="running"]')
    button = page.locator(".iw-generate")
    assert button.text_content() == "Cancel"
    # the timer counts from started_ms (at least the 5 s already elapsed)
    page.wait_for_function("() => parseFloat(document.querySelector('[data-role=timer]').textContent) >= 5")
    before = harness.page.evaluate("() => window.__instr.timers.size")
    assert before >= 1
    button.click()
    assert harness.wait_sent("cancel", 1)[-1]["content"] == {"type": "cancel"}
    assert harness.sent("generate") == []
    # Ctrl+Enter does not start a duplicate run while one is running
    page.focus(".iw-prompt")
    page.keyboard.press("Control+Enter")
    assert harness.sent("generate") == []

    harness.set_trait("status", {"state": "cancelled", "message": "Cancelled", "job_id": "j1", "started_ms": started})
    page.wait_for_selector('.image-widget[data-state="cancelled"]')
    assert button.text_content() == "Generate"
    assert page.text_content('[data-role="timer"]') == ""
    assert page.evaluate("() => window.__instr.timers.size") == before - 1


def test_previews_count_distinct_per_run(harness: Harness) -> None:
    harness.mount()
    page = harness.page
    harness.set_trait("status", {"state": "running", "message": "", "job_id": "j1", "started_ms": 1})
    a, b = png((64, 64)), png((64, 64), colour=(70, 130, 180))
    harness.set_trait("preview", a)
    page.wait_for_selector('.image-widget[data-preview="1"]')
    harness.set_trait("preview", a)
    harness.set_trait("preview", b)
    page.wait_for_selector('.image-widget[data-preview="2"]')
    assert page.is_visible(".iw-preview img")
    harness.set_trait("preview", b"")
    harness.set_trait("status", {"state": "done", "message": "Done", "job_id": "j1", "started_ms": 1})
    assert page.is_hidden(".iw-preview")
    assert page.get_attribute(".image-widget", "data-preview") == "2"
    harness.set_trait("status", {"state": "running", "message": "", "job_id": "j2", "started_ms": 2})
    page.wait_for_selector('.image-widget[data-preview="0"]')


def test_banner_shows_text_never_html(harness: Harness) -> None:
    harness.mount()
    page = harness.page
    evil = '<img src=x onerror="window.__pwned=1"> quota exceeded'
    harness.set_trait(
        "error",
        {
            "title": "<b>Rate limited</b>",
            "message": evil,
            "hint": "<script>window.__pwned=2</script>wait",
            "code": "rate_limit",
            "status": 429,
        },
    )
    banner = page.locator('[data-role="banner"]')
    banner.wait_for()
    assert page.locator(".image-widget img[src='x']").count() == 0
    assert page.locator(".iw-banner img, .iw-banner b, .iw-banner script").count() == 0
    assert page.get_by_text(evil, exact=True).is_visible()
    assert page.get_by_text("<b>Rate limited</b>", exact=True).is_visible()
    assert page.evaluate("() => window.__pwned") is None
    page.click('[data-action="dismiss"]')
    assert banner.is_hidden()
    harness.set_trait("error", {"title": "Another", "message": "new error"})
    banner.wait_for()
    harness.set_trait("error", {})
    assert banner.is_hidden()


def test_status_backend_cost_and_notice(harness: Harness) -> None:
    harness.mount(
        cost={
            "estimate_text": "$0.042",
            "estimate_note": "price: OpenAI, https://developers.openai.com/api/docs/pricing (read 2026-11-29)",
            "last_text": "$0.011",
            "session_text": "$0.093",
            "estimate_usd": 0.042,
            "last_usd": 0.011,
            "session_usd": 0.093,
        }
    )
    page = harness.page
    assert page.text_content('[data-role="backend"]') == "Emulator (127.0.0.1)"
    assert page.is_visible("text=Offline emulator — images are synthetic")
    assert "$0.042" in (page.text_content('[data-role="cost-estimate"]') or "")
    source = page.get_attribute('[data-role="cost-estimate"]', "title") or ""
    assert "read 2026-11-29" in source  # where the figure comes from, as its tooltip
    assert "$0.093" in (page.text_content('[data-role="cost-session"]') or "")
    harness.set_trait("backend", {"kind": "openai", "label": "OpenAI", "synthetic": False})
    assert page.is_hidden('[data-role="synthetic"]')
    harness.fire({"type": "notice", "level": "warning", "message": "<i>already running</i>"})
    notice = page.locator(".iw-notice-warning")
    notice.wait_for()
    assert notice.text_content() == "<i>already running</i>"


def test_lightbox_reports_missing_image(harness: Harness) -> None:
    harness.mount(results=results(1))
    page = harness.page
    page.click('[data-action="enlarge"]')
    req = harness.wait_sent("fetch_image", 1)[-1]["content"]
    harness.fire(
        {"type": "image", "id": "img-0", "request_id": req["request_id"], "mime": None, "error": "<b>gone</b>"}, []
    )
    page.wait_for_selector(".iw-lightbox-status:has-text('not available: <b>gone</b>')")
    page.click('[data-action="close"]')
    assert page.is_hidden(".iw-lightbox")
