"""The smaller things of issue 14, item 11: the A/B divider dragged on the picture, a cost line that
reads well and does not wrap inside an item, thumbnails that fill their boxes, a history strip that
shows there is more and brings a chosen run's images into view."""

from __future__ import annotations

import pytest
from widget_harness import Harness, fake_results

from support.images import jpeg, png

pytestmark = pytest.mark.browser


def open_slider(harness: Harness) -> dict[str, float]:
    """Compare results 0 and 1 in the A/B slider view; the stage's box."""
    page = harness.page
    page.click('.iw-result[data-result-id="img-0"] [data-action="compare"]')
    page.click('.iw-result[data-result-id="img-1"] [data-action="compare"]')
    req = harness.wait_sent("compare", 1)[-1]["content"]
    item = {"prompt": "p", "model": "gpt-image-2", "params": {}, "created": "2026-11-20T10:00:00Z",
            "cost_text": "$0.011", "width": 64, "height": 64, "mime": "image/png"}
    harness.fire({"type": "compare", "request_id": req["request_id"], "differences": [],
                  "items": [{**item, "id": "img-0"}, {**item, "id": "img-1"}]},
                 [png((64, 64), colour=(200, 0, 0)), png((64, 64), colour=(0, 0, 200))])
    page.wait_for_selector('[data-role="compare"][data-full="1"]')
    page.click('[data-role="compare"] button[data-mode="slider"]')
    stage = page.locator(".iw-compare-stage")
    stage.scroll_into_view_if_needed()
    box = stage.bounding_box()
    assert box is not None
    return box


def test_the_ab_divider_follows_a_drag_on_the_picture(harness: Harness) -> None:
    harness.mount(results=fake_results(2))
    page = harness.page
    box = open_slider(harness)
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] * 0.5, y)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.2, y, steps=5)
    assert abs(int(page.input_value(".iw-compare-range")) - 20) <= 1
    page.mouse.move(box["x"] + box["width"] * 0.8, y, steps=5)
    page.mouse.up()
    value = int(page.input_value(".iw-compare-range"))
    assert abs(value - 80) <= 1
    left = page.eval_on_selector(".iw-compare-divider", "d => d.style.left")
    assert left == f"{value}%"
    assert page.get_attribute(".iw-compare-range", "aria-valuetext") == f"{value}% A"
    # a plain click moves it too; moving without the button down does not
    page.mouse.click(box["x"] + box["width"] * 0.3, y)
    assert abs(int(page.input_value(".iw-compare-range")) - 30) <= 1
    page.mouse.move(box["x"] + box["width"] * 0.9, y)
    assert abs(int(page.input_value(".iw-compare-range")) - 30) <= 1


UNKNOWN_RUN = {"estimate_text": "unknown", "last_text": "unknown", "session_text": "≥ $0.093 (some unknown)",
               "estimate_usd": None, "last_usd": None, "session_usd": 0.093}


@pytest.mark.parametrize("width", [660, 380])
def test_the_cost_line_reads_well_and_never_wraps_inside_an_item(harness: Harness, width: int) -> None:
    page = harness.page
    page.evaluate(f"() => {{ document.getElementById('host').style.width = '{width}px'; }}")
    harness.mount(cost=UNKNOWN_RUN)
    items = page.locator(".iw-cost-item:visible")
    texts = [t.strip() for t in items.all_text_contents()]
    assert texts == ["Estimate: unknown", "Last run: unknown", "Session: ≥ $0.093 (some unknown)",
                     "nothing billed"]
    lines = page.eval_on_selector_all(".iw-cost-item", """items => items.filter((i) => !i.hidden).map((i) => {
      const r = document.createRange(); r.selectNodeContents(i);
      return new Set([...r.getClientRects()].map((b) => Math.round(b.top))).size;
    })""")
    assert lines == [1, 1, 1, 1], "an item broke over two lines"
    # a real backend: nothing about the emulator
    harness.set_trait("backend", {"kind": "openai", "label": "OpenAI", "synthetic": False})
    assert "emulator" not in " ".join(page.locator(".iw-cost-item:visible").all_text_contents())


def test_result_thumbnails_fill_their_boxes(harness: Harness) -> None:
    landscape = {**fake_results(2)[1], "id": "wide", "width": 1536, "height": 1024,
                 "thumb": jpeg((160, 107), (60, 160, 90))}
    harness.mount(results=[fake_results(1)[0], landscape])
    page = harness.page
    page.wait_for_function("() => [...document.querySelectorAll('.iw-result img')].every((i) => i.complete)")
    boxes = page.eval_on_selector_all(".iw-result-thumb", """buttons => buttons.map((b) => {
      const box = b.getBoundingClientRect(), img = b.querySelector("img").getBoundingClientRect();
      return { bw: box.width, bh: box.height, iw: img.width, ih: img.height };
    })""")
    for b in boxes:
        assert b["iw"] >= b["bw"] - 2, b
        assert b["ih"] >= b["bh"] - 2, b
    wide = boxes[1]
    assert abs(wide["bw"] / wide["bh"] - 1.5) < 0.02  # the box takes the image's shape: no grey bands


def history(n: int) -> list[dict[str, object]]:
    return [{"run_id": f"r{i}", "prompt": f"run number {i}", "created": "2026-11-20T10:00:00Z",
             "model": "gpt-image-2", "items": [{"id": f"h{i}-{j}", "thumb": jpeg((64, 64), (10, 10, 20 * i))}
                                               for j in range(2)]} for i in range(n)]


def test_the_history_strip_shows_there_is_more(harness: Harness) -> None:
    harness.mount(history=history(12))
    page = harness.page
    strip = ".iw-history-runs"
    assert page.eval_on_selector(strip, "s => s.scrollWidth > s.clientWidth")  # more than fits
    more = page.locator('.iw-history [data-action="history-next"]')
    back = page.locator('.iw-history [data-action="history-prev"]')
    assert more.is_visible()
    assert back.is_disabled()
    assert page.get_attribute(".iw-history-strip", "data-more") == "right"
    more.click()
    page.wait_for_function(f"() => document.querySelector('{strip}').scrollLeft > 0")
    page.wait_for_selector('.iw-history-strip[data-more="both"]')
    assert back.is_enabled()
    page.eval_on_selector(strip, "s => { s.scrollLeft = s.scrollWidth; }")
    page.wait_for_selector('.iw-history-strip[data-more="left"]')
    assert more.is_disabled()
    # a short history that fits: no buttons
    harness.set_trait("history", history(1))
    page.wait_for_selector('.iw-history-strip[data-more="none"]')
    assert more.is_hidden()


def test_choosing_a_run_brings_its_images_into_view(harness: Harness) -> None:
    page = harness.page
    page.set_viewport_size({"width": 1000, "height": 700})
    harness.mount(results=fake_results(4), history=history(3))
    run = page.locator('.iw-history-run[data-run-id="r1"]')
    run.scroll_into_view_if_needed()
    # the run's button at the bottom edge of the window: its images would open below it, unseen
    page.evaluate("""() => {
      const b = document.querySelector('.iw-history-run[data-run-id="r1"]').getBoundingClientRect();
      window.scrollBy(0, b.bottom - window.innerHeight + 4);
    }""")
    run.click()
    page.wait_for_function("""() => {
      const r = document.querySelector('.iw-history-thumbs').getBoundingClientRect();
      return r.height > 0 && r.top >= 0 && r.bottom <= window.innerHeight + 1;
    }""", timeout=3000)
