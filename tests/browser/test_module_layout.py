"""The wide layout (issue 12 part 6): on a 1400×900 screen, canvas and results side by side and the
whole generate → paint → edit → compare loop visible without scrolling; a narrow cell stacks."""

from __future__ import annotations

import os

import pytest
from test_module_screenshot import scene, thumb
from test_module_theme import low
from widget_harness import DEFAULT_OPTIONS, GPT_IMAGE_2_CAPS, Harness

from support.themes import THEMES, apply_theme, axe, contrast, serious

pytestmark = pytest.mark.browser

SCREEN = {"width": 1400, "height": 900}


def session(h: Harness, host_width: str) -> None:
    """A generate-and-edit session: an input with its mask canvas, three results, two history runs."""
    h.page.set_viewport_size(SCREEN)
    h.page.evaluate("w => { document.getElementById('host').style.width = w; }", host_width)
    base = scene(1536, 1024)
    variants = [scene(1024, 1024, hue) for hue in (0, 40, 80)]
    h.mount(
        options={**DEFAULT_OPTIONS, "mode": "edit", "prompt": "Add a small red bicycle by the house", "n": 3},
        inputs=[{"id": "a", "name": "house.png", "width": 1536, "height": 1024, "thumb": thumb(base)}],
        mask_base=base,
        results=[
            {"id": f"r{i}", "width": 1024, "height": 1024, "format": "png", "thumb": thumb(v),
             "prompt": "A quiet house", "model": "gpt-image-2", "size": "1024x1024", "quality": "low",
             "cost_text": "$0.006", "code": "image_widget.generate(...)"}
            for i, v in enumerate(variants)
        ],
        history=[{"run_id": "r-1", "prompt": "A quiet house", "created": "2026-11-24T09:12:00Z",
                  "model": "gpt-image-2", "items": [{"id": "h1", "thumb": thumb(variants[0], 64)}]}],
        status={"state": "done", "message": "3 images in 4.2 s", "job_id": "j", "started_ms": None},
    )
    h.page.wait_for_selector('.iw-mask[data-ready="1"]')


def box(h: Harness, selector: str) -> dict[str, float]:
    found = h.page.evaluate(
        """s => { const e = document.querySelector(s); if (!e) return null;
                  const r = e.getBoundingClientRect();
                  return {left: r.left, top: r.top, right: r.right, bottom: r.bottom}; }""",
        selector,
    )
    assert found is not None, f"{selector} is not on the page"
    return {k: float(v) for k, v in found.items()}


LOOP = {
    "prompt": '[data-option="prompt"]',
    "generate": '[data-action="generate"]',
    "mask toolbar": ".iw-mask-toolbar",
    "mask canvas": ".iw-mask-paint",
    "first result": ".iw-result",
    "last result": ".iw-result:last-of-type",
    "compare": '[data-action="compare"]',
    "keep unmasked, feather, detail": ".iw-result-options",
}


def test_wide_cell_fits_one_screen_side_by_side(harness: Harness) -> None:
    session(harness, "1370px")
    page = harness.page
    assert page.get_attribute(".image-widget", "data-wide") == "1"
    c = box(harness, ".iw-mask-paint")
    page.mouse.move(c["left"] + 60, c["top"] + 60)
    page.mouse.down()
    page.mouse.move(c["left"] + 160, c["top"] + 90, steps=5)
    page.mouse.up()
    harness.wait_sets("mask", 1)
    page.wait_for_selector(".iw-result-options:not([hidden])")
    if os.environ.get("IMAGE_WIDGET_LAYOUT_SHOT"):
        page.screenshot(path=os.environ["IMAGE_WIDGET_LAYOUT_SHOT"])
    assert page.evaluate("() => window.scrollY") == 0
    for name, selector in LOOP.items():
        b = box(harness, selector)
        assert min(b["left"], b["top"]) >= 0, (name, b)
        assert b["right"] <= SCREEN["width"], (name, b)
        assert b["bottom"] <= SCREEN["height"], (name, b)
    # JupyterLab's own bars take about 100 px of the screen above the cell: leave them room.
    assert box(harness, ".image-widget")["bottom"] <= SCREEN["height"] - 100
    canvas, result = box(harness, ".iw-mask-paint"), box(harness, ".iw-result")
    assert result["left"] >= canvas["right"], "results sit to the right of the canvas"
    assert result["top"] < canvas["bottom"], "…at the same height, not below it"


def test_narrow_cell_stacks(harness: Harness) -> None:
    session(harness, "800px")
    assert harness.page.get_attribute(".image-widget", "data-wide") != "1"
    canvas, result = box(harness, ".iw-mask-paint"), box(harness, ".iw-result")
    assert result["top"] >= canvas["bottom"], "results below the canvas"


CANVAS_TEXT = {
    "keep unmasked, feather, detail": ".iw-result-options label",
    "feather value": ".iw-result-options output",
    "detail hint": '[data-role="detail-hint"]',
    "zoom level": '[data-role="zoom-level"]',
    "keys popover": ".iw-keys-popover td",
    "layer refusal": '[data-role="layer-refusal"]',
}


@pytest.mark.parametrize("theme", list(THEMES))
def test_canvas_controls_readable_in_every_theme(harness: Harness, theme: str) -> None:
    """The wide layout with the new canvas controls showing: 4.5:1 text and no serious axe finding."""
    apply_theme(harness.page, theme)
    harness.page.set_viewport_size(SCREEN)
    harness.page.evaluate("() => { document.getElementById('host').style.width = '1370px'; }")
    harness.mount(
        options={**DEFAULT_OPTIONS, "mode": "edit", "prompt": "a bicycle"},
        capabilities={**GPT_IMAGE_2_CAPS, "markup": True},
        inputs=[{"id": "a", "name": "big.png", "width": 2048, "height": 1536, "thumb": thumb(scene(200, 150))}],
        mask_base=scene(2048, 1536),
    )
    page = harness.page
    page.wait_for_selector('.iw-mask[data-ready="1"]')
    c = box(harness, ".iw-mask-paint")
    page.mouse.click(c["left"] + 40, c["top"] + 40)  # a small mask on a large image: the Detail hint shows
    harness.wait_sets("mask", 1)
    page.click('[data-layer="markup"]')  # refused while the mask exists
    page.focus(".iw-mask-paint")
    page.keyboard.press("Shift+?")
    page.wait_for_selector(".iw-keys-popover:not([hidden])")
    assert low(contrast(page, CANVAS_TEXT)) == {}
    found = serious(axe(page))
    assert not found, "\n".join(found)
