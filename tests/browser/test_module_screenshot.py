"""A picture of the whole widget (light theme): mask painted, inputs, results, history.

Set IMAGE_WIDGET_SCREENSHOT=docs/screenshot-module.png to refresh the committed screenshot.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PIL import Image, ImageDraw
from widget_harness import DEFAULT_OPTIONS, Harness

from support.images import decode, encode, jpeg

pytestmark = pytest.mark.browser


def scene(width: int, height: int, hue: int = 0) -> bytes:
    """A small landscape: sky, sun, hills, a house — something a mask is painted on."""
    img = Image.new("RGB", (width, height))
    draw = ImageDraw.Draw(img)
    for y in range(height):
        t = y / height
        draw.line([(0, y), (width, y)], fill=(int(90 + 120 * t), int(150 + 70 * t), int(230 - 30 * t)))
    draw.ellipse([width * 0.72, height * 0.1, width * 0.86, height * 0.1 + width * 0.14], fill=(255, 214, 90))
    draw.polygon(
        [(0, height * 0.7), (width * 0.35, height * 0.45), (width * 0.7, height * 0.72), (0, height)],
        fill=(70 + hue, 140, 80),
    )
    draw.polygon(
        [(width * 0.3, height), (width * 0.75, height * 0.5), (width, height * 0.68), (width, height)],
        fill=(50, 115 + hue // 2, 70),
    )
    draw.rectangle([width * 0.42, height * 0.6, width * 0.58, height * 0.82], fill=(230, 220, 200))
    draw.polygon(
        [(width * 0.4, height * 0.6), (width * 0.5, height * 0.48), (width * 0.6, height * 0.6)], fill=(170, 60, 50)
    )
    draw.rectangle([width * 0.48, height * 0.7, width * 0.52, height * 0.82], fill=(120, 80, 50))
    return encode(img)


def thumb(png: bytes, side: int = 160) -> bytes:
    img = decode(png).convert("RGB")
    img.thumbnail((side, side))
    return encode(img, "JPEG", quality=85)


def test_screenshot(harness: Harness, tmp_path: Path) -> None:
    page = harness.page
    page.evaluate("() => { document.getElementById('host').style.width = '920px'; }")
    base = scene(1536, 1024)
    variants = [scene(1024, 1024, hue) for hue in (0, 40, 80)]
    harness.mount(
        options={
            **DEFAULT_OPTIONS,
            "mode": "edit",
            "prompt": "Add a small red bicycle leaning against the house",
            "quality": "medium",
            "size": "1536x1024",
            "n": 3,
        },
        inputs=[
            {"id": "a", "name": "house.png", "width": 1536, "height": 1024, "thumb": thumb(base)},
            {
                "id": "b",
                "name": "bicycle-reference.jpg",
                "width": 800,
                "height": 600,
                "thumb": jpeg((120, 90), (190, 60, 60)),
            },
        ],
        mask_base=base,
        results=[
            {
                "id": f"r{i}",
                "width": 1024,
                "height": 1024,
                "format": "png",
                "thumb": thumb(v),
                "prompt": "A quiet house on a hill at noon",
                "model": "gpt-image-2",
                "size": "1024x1024",
                "quality": "low",
                "cost_text": "$0.006",
                "code": "image_widget.generate(...)",
            }
            for i, v in enumerate(variants)
        ],
        history=[
            {
                "run_id": "r-2",
                "prompt": "A quiet house on a hill at noon",
                "created": "2026-11-24T09:12:00Z",
                "model": "gpt-image-2",
                "items": [{"id": "h1", "thumb": thumb(variants[0], 64)}],
            },
            {
                "run_id": "r-1",
                "prompt": "Watercolour sketch of a cottage",
                "created": "2026-11-24T08:40:00Z",
                "model": "gpt-image-1-mini",
                "items": [{"id": "h2", "thumb": thumb(variants[1], 64)}],
            },
        ],
        status={"state": "done", "message": "3 images in 4.2 s", "job_id": "j", "started_ms": None},
        cost={
            "estimate_text": "$0.063",
            "last_text": "$0.018",
            "session_text": "$0.081",
            "estimate_usd": 0.063,
            "last_usd": 0.018,
            "session_usd": 0.081,
        },
    )
    page.wait_for_selector('.iw-mask[data-ready="1"]')
    box = page.eval_on_selector(
        ".iw-mask-paint", "c => { const r = c.getBoundingClientRect(); return [r.left, r.top, r.width, r.height]; }"
    )
    left, top, width, height = box
    page.mouse.move(left + width * 0.25, top + height * 0.78)
    page.mouse.down()
    page.mouse.move(left + width * 0.36, top + height * 0.84, steps=8)
    page.mouse.move(left + width * 0.40, top + height * 0.74, steps=8)
    page.mouse.up()
    harness.wait_sets("mask", 1)
    page.mouse.move(left + width * 0.62, top + height * 0.5)  # brush cursor visible over the image
    page.wait_for_function("() => [...document.querySelectorAll('.image-widget img')].every(i => i.complete)")

    out = Path(os.environ.get("IMAGE_WIDGET_SCREENSHOT") or tmp_path / "screenshot-module.png")
    out.parent.mkdir(parents=True, exist_ok=True)
    harness.root.screenshot(path=str(out))
    assert Image.open(out).size[0] >= 900
