"""Compare view: toggles on results and history thumbnails, the panel, the A/B slider, the table."""

from __future__ import annotations

import pytest
from widget_harness import Harness, fake_results

from support.images import jpeg, png

pytestmark = pytest.mark.browser


results = fake_results


HISTORY = [
    {
        "run_id": "r1",
        "prompt": "older run",
        "created": "2026-11-19T10:00:00Z",
        "model": "gpt-image-2",
        "items": [{"id": "h1", "thumb": jpeg((64, 64), (10, 10, 200))}, {"id": "h2", "thumb": png((64, 64))}],
    }
]


def reply(request_id: str, a: str, b: str, prompt_b: str = "a <b>bold</b> fox") -> dict[str, object]:
    return {
        "type": "compare",
        "request_id": request_id,
        "items": [
            {"id": a, "prompt": "a fox", "model": "gpt-image-2", "params": {"quality": "low"},
             "created": "2026-11-20T10:00:00Z", "cost_text": "$0.011", "width": 64, "height": 48, "mime": "image/png"},
            {"id": b, "prompt": prompt_b, "model": "gpt-image-2", "params": {"quality": "high", "n": 2},
             "created": "2026-11-20T10:01:00Z", "cost_text": "$0.167", "width": 64, "height": 48, "mime": "image/png"},
        ],
        "differences": [
            {"param": "prompt", "a": "a fox", "b": prompt_b},
            {"param": "quality", "a": "low", "b": "high"},
            {"param": "n", "a": None, "b": 2},
        ],
    }


def test_pick_two_results_and_compare(harness: Harness) -> None:
    harness.mount(results=results(3), history=HISTORY)
    page = harness.page
    toggles = page.locator(".iw-result .iw-compare-toggle")
    toggles.first.wait_for()
    assert toggles.count() == 3
    assert toggles.nth(0).get_attribute("aria-pressed") == "false"

    # keyboard: focus the first toggle and press Space; then click the third
    toggles.nth(0).focus()
    page.keyboard.press("Space")
    assert toggles.nth(0).get_attribute("aria-pressed") == "true"
    assert page.get_attribute(".image-widget", "data-compare") is None
    assert harness.sent("compare") == []
    assert harness.sent("fetch_image") == []  # a toggle is not the enlarge button
    toggles.nth(2).click()
    assert toggles.nth(2).get_attribute("aria-pressed") == "true"
    page.wait_for_selector('.image-widget[data-compare="open"]')
    panel = page.locator(".iw-compare")
    assert panel.is_visible()
    # the panel is inside the widget root, not a portal
    assert page.evaluate("() => !!document.querySelector('#host .image-widget .iw-compare')")

    req = harness.wait_sent("compare", 1)[-1]["content"]
    assert req["ids"] == ["img-0", "img-2"]
    assert req["request_id"]
    assert panel.get_attribute("data-full") == "0"

    # a reply for another request changes nothing
    a, b = png((64, 48)), png((64, 48), colour=(250, 20, 20))
    harness.fire(reply("someone-else", "img-0", "img-2"), [a, b])
    assert panel.get_attribute("data-full") == "0"
    harness.fire(reply(req["request_id"], "img-0", "img-2"), [a, b])
    page.wait_for_selector('.iw-compare[data-full="1"]')
    page.wait_for_function(
        "() => [...document.querySelectorAll('.iw-compare-side img')].every(i => i.complete && i.naturalWidth === 64)"
    )
    side_imgs = page.locator(".iw-compare-side img")
    assert side_imgs.count() == 2
    assert all(side_imgs.nth(i).is_visible() for i in range(2))
    srcs = [side_imgs.nth(i).get_attribute("src") for i in range(2)]
    assert all(s and s.startswith("blob:") for s in srcs)
    assert srcs[0] != srcs[1]

    # differences table: exactly the differing params, markup shown as text
    rows = page.locator(".iw-compare-diff tbody tr")
    assert rows.count() == 3
    table = [[c.text_content() for c in rows.nth(i).locator("th, td").all()] for i in range(rows.count())]
    assert table == [
        ["prompt", "a fox", "a <b>bold</b> fox"],
        ["quality", "low", "high"],
        ["n", "—", "2"],
    ]
    assert page.locator(".iw-compare b").count() == 0
    assert page.locator(".iw-compare-prompt").nth(1).text_content() == "a <b>bold</b> fox"

    # A/B slider mode: stacked images, the top one clipped by the range input
    page.get_by_role("button", name="A/B slider").click()
    assert page.get_attribute(".iw-compare", "data-mode") == "slider"
    assert page.is_hidden(".iw-compare-side")
    slider = page.get_by_label("A/B position")
    assert slider.is_visible()
    over = page.locator(".iw-compare-over")
    assert over.get_attribute("src") == srcs[0]
    assert page.locator(".iw-compare-under").get_attribute("src") == srcs[1]
    clip = "() => getComputedStyle(document.querySelector('.iw-compare-over')).clipPath"
    assert page.evaluate(clip) == "inset(0px 50% 0px 0px)"
    slider.fill("30")
    assert page.evaluate(clip) == "inset(0px 70% 0px 0px)"
    slider.focus()
    page.keyboard.press("ArrowRight")
    assert page.evaluate(clip) == "inset(0px 69% 0px 0px)"
    assert page.get_by_role("button", name="A/B slider").get_attribute("aria-pressed") == "true"
    assert page.get_by_role("button", name="Side by side").get_attribute("aria-pressed") == "false"

    # Escape closes; picks are cleared and focus returns to the toggle that opened it
    page.keyboard.press("Escape")
    assert page.is_hidden(".iw-compare")
    assert page.get_attribute(".image-widget", "data-compare") is None
    assert [toggles.nth(i).get_attribute("aria-pressed") for i in range(3)] == ["false"] * 3
    assert page.evaluate("() => document.activeElement.dataset.compareId") == "img-2"
    assert page.evaluate("() => [...document.querySelectorAll('.iw-compare img')].every(i => !i.src)")


def test_compare_from_history_close_button_and_errors(harness: Harness) -> None:
    harness.mount(results=results(1), history=HISTORY)
    page = harness.page
    page.click(".iw-history-run")
    history_toggles = page.locator(".iw-history-thumbs .iw-compare-toggle")
    history_toggles.first.wait_for()
    assert history_toggles.count() == 2
    page.click('.iw-result .iw-compare-toggle')
    history_toggles.nth(1).click()
    req = harness.wait_sent("compare", 1)[-1]["content"]
    assert req["ids"] == ["img-0", "h2"]
    # a history toggle does not open the lightbox
    assert harness.sent("fetch_image") == []
    # the same id shows as picked wherever it appears; a third pick replaces the oldest
    history_toggles.nth(0).click()
    req2 = harness.wait_sent("compare", 2)[-1]["content"]
    assert req2["ids"] == ["h2", "h1"]
    assert page.locator(".iw-result .iw-compare-toggle").get_attribute("aria-pressed") == "false"
    harness.fire({"type": "compare", "request_id": req2["request_id"], "items": [], "differences": [],
                  "error": "<i>no image</i> 'h1'"}, [])
    status = page.locator(".iw-compare-status")
    page.wait_for_function("() => document.querySelector('.iw-compare-status').textContent.includes('Cannot')")
    assert status.text_content() == "Cannot compare: <i>no image</i> 'h1'"
    assert page.locator(".iw-compare i").count() == 0
    assert page.get_attribute(".iw-compare", "data-full") == "0"
    # the history strip re-renders (run collapsed and opened again): toggles come back, still pressed
    page.click(".iw-history-run")
    page.click(".iw-history-run")
    history_toggles.first.wait_for()
    assert [history_toggles.nth(i).get_attribute("aria-pressed") for i in range(2)] == ["true", "true"]
    page.get_by_role("button", name="Close compare").click()
    assert page.is_hidden(".iw-compare")
    assert page.get_attribute(".image-widget", "data-compare") is None
    # un-picking one of a pair closes the panel
    history_toggles.nth(0).click()
    history_toggles.nth(1).click()
    page.wait_for_selector('.image-widget[data-compare="open"]')
    history_toggles.nth(1).click()
    assert page.is_hidden(".iw-compare")
    assert history_toggles.nth(0).get_attribute("aria-pressed") == "true"


def test_cleanup_revokes_compare_urls(harness: Harness) -> None:
    harness.mount(results=results(2))
    page = harness.page
    toggles = page.locator(".iw-result .iw-compare-toggle")
    toggles.first.wait_for()
    toggles.nth(0).click()
    toggles.nth(1).click()
    req = harness.wait_sent("compare", 1)[-1]["content"]
    harness.fire(reply(req["request_id"], "img-0", "img-1"), [png((64, 48)), png((64, 48))])
    page.wait_for_selector('.iw-compare[data-full="1"]')
    # close → the full images' URLs are revoked (only the two result thumbnails stay)
    before = page.evaluate("() => window.__h.instr()")
    page.keyboard.press("Escape")
    after_close = page.evaluate("() => window.__h.instr()")
    assert after_close["liveUrls"] == before["liveUrls"] - 2
    # open again, then clean up the whole view with the panel open
    toggles.nth(0).click()
    toggles.nth(1).click()
    req = harness.wait_sent("compare", 2)[-1]["content"]
    harness.fire(reply(req["request_id"], "img-0", "img-1"), [png((64, 48)), png((64, 48))])
    page.wait_for_selector('.iw-compare[data-full="1"]')
    page.evaluate("() => window.__h.cleanup()")
    after = page.evaluate("() => window.__h.instr()")
    assert after["liveUrls"] == 0
    assert after["revoked"] == after["created"]
    assert page.evaluate("() => window.__h.handlerCount()") == 0
    # a late reply after cleanup reaches nothing
    harness.fire(reply(req["request_id"], "img-0", "img-1"), [png((8, 8)), png((8, 8))])
    assert page.evaluate("() => window.__h.instr().liveUrls") == 0
