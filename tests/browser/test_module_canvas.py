"""The canvas tools of issue 12 on known pixels: rectangle, lasso, magic wand at a tolerance, the
feather preview, painting while zoomed, undo/redo across tools, markup's PNG, Expand, Detail, keys."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import Page
from test_module_mask import canvas_box, capsule, click, disc, drag, edited, last_mask, native
from widget_harness import DEFAULT_OPTIONS, GPT_IMAGE_2_CAPS, Harness

from support.images import decode, encode, png

pytestmark = pytest.mark.browser

W, H = 600, 400
BAND = "[data-role=feather-canvas]"
STAGE = "document.querySelector('.iw-mask-stage')"


def mount(h: Harness, base: bytes, size: tuple[int, int] = (W, H), **traits: object) -> dict[str, float]:
    extra = traits.pop("options", {})
    assert isinstance(extra, dict)
    options = {**DEFAULT_OPTIONS, "mode": "edit", "prompt": "a red door", **extra}
    h.mount(
        options=options,
        inputs=[{"id": "in1", "name": "photo.png", "width": size[0], "height": size[1], "thumb": png((60, 40))}],
        mask_base=base,
        **traits,
    )
    h.page.wait_for_selector('.iw-mask[data-ready="1"]')
    return canvas_box(h)


def tool(h: Harness, name: str) -> None:
    h.page.click(f'.iw-mask-toolbar [data-action="{name}"]')
    assert h.page.get_attribute(".iw-mask-paint", "data-tool") == name


def polygon(points: list[tuple[int, int]], size: tuple[int, int] = (W, H)) -> np.ndarray:
    """The lasso rule, written again: pixel centres inside (even–odd, half-open rows) plus the outline."""
    out = np.zeros((size[1], size[0]), bool)
    n = len(points)
    for y in range(size[1]):
        xs = []
        for k in range(n):
            (ax, ay), (bx, by) = points[k], points[(k + 1) % n]
            if (ay <= y < by) or (by <= y < ay):
                xs.append(ax + (y - ay) * (bx - ax) / (by - ay))
        xs.sort()
        for a, b in zip(xs[::2], xs[1::2], strict=False):
            x0, x1 = max(0, math.ceil(a)), min(size[0] - 1, math.ceil(b) - 1)
            if x0 <= x1:
                out[y, x0 : x1 + 1] = True
    for k in range(n):
        (ax, ay), (bx, by) = points[k], points[(k + 1) % n]
        out |= capsule(ax, ay, bx, by, 1, size)
    return out


def test_rectangle_selects_the_inclusive_box(harness: Harness) -> None:
    box = mount(harness, png((W, H)))
    tool(harness, "rect")
    a = (box["left"] + 50.5, box["top"] + 40.5)
    b = (box["left"] + 230.5, box["top"] + 170.5)
    drag(harness, *a, *b, steps=6)
    (x0, y0), (x1, y1) = native(box, *a), native(box, *b)
    expected = np.zeros((H, W), bool)
    expected[y0 : y1 + 1, x0 : x1 + 1] = True
    assert np.array_equal(edited(last_mask(harness, 1), (W, H)), expected)
    # Alt subtracts a rectangle from the mask
    harness.page.keyboard.down("Alt")
    c = (box["left"] + 100.5, box["top"] + 60.5)
    drag(harness, *c, *b, steps=3)
    harness.page.keyboard.up("Alt")
    (cx, cy) = native(box, *c)
    expected[cy : y1 + 1, cx : x1 + 1] = False
    assert np.array_equal(edited(last_mask(harness, 2), (W, H)), expected)


def test_lasso_fills_the_freehand_shape(harness: Harness) -> None:
    box = mount(harness, png((W, H)))
    tool(harness, "lasso")
    page = harness.page
    corners = [(40.5, 30.5), (300.5, 60.5), (150.5, 120.5), (280.5, 250.5), (60.5, 230.5)]
    pts = [(box["left"] + dx, box["top"] + dy) for dx, dy in corners]
    page.mouse.move(*pts[0])
    page.mouse.down()
    for p in pts[1:]:
        page.mouse.move(*p)
    page.mouse.up()
    expected = polygon([native(box, *p) for p in pts])
    got = edited(last_mask(harness, 1), (W, H))
    assert np.array_equal(got, expected), int((got ^ expected).sum())
    # the notch between the two right points is outside: a filled polygon, not its bounding box
    notch = native(box, box["left"] + 260, box["top"] + 130)
    assert not got[notch[1], notch[0]]


def wand_image() -> bytes:
    """Grey 100 on the left half with a 125-grey stripe, 200 on the right, and a grey-100 island right."""
    arr = np.full((H, W, 3), 200, np.uint8)
    arr[:, : W // 2] = 100
    arr[150:170, 40:260] = (125, 100, 100)
    arr[300:340, 450:500] = 100
    return bytes(encode(Image.fromarray(arr, "RGB")))


def test_wand_takes_the_connected_colour_within_the_tolerance(harness: Harness) -> None:
    box = mount(harness, wand_image())
    tool(harness, "wand")
    page = harness.page
    page.fill('[data-role="wand-tolerance"]', "10")
    click(harness, box["left"] + 10, box["top"] + 10)
    left = np.zeros((H, W), bool)
    left[:, : W // 2] = True
    stripe = np.zeros((H, W), bool)
    stripe[150:170, 40:260] = True
    assert np.array_equal(edited(last_mask(harness, 1), (W, H)), left & ~stripe)
    page.keyboard.press("Control+z")
    assert last_mask(harness, 2) == b""
    page.fill('[data-role="wand-tolerance"]', "30")
    click(harness, box["left"] + 10, box["top"] + 10)
    assert np.array_equal(edited(last_mask(harness, 3), (W, H)), left), "the stripe joins; the island never"


def test_feather_preview_shows_the_band_around_the_mask(harness: Harness) -> None:
    box = mount(harness, png((W, H)), options={"feather": 6})
    tool(harness, "rect")
    a, b = (box["left"] + 100.5, box["top"] + 100.5), (box["left"] + 200.5, box["top"] + 160.5)
    drag(harness, *a, *b)
    last_mask(harness, 1)
    (x0, y0), (x1, y1) = native(box, *a), native(box, *b)
    harness.page.check('[data-role="feather-preview"]')
    harness.page.wait_for_function(f"() => Number(document.querySelector({BAND!r}).dataset.band) > 0")
    alpha = np.array(harness.page.evaluate(
        """() => { const c = document.querySelector('[data-role=feather-canvas]');
                   const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                   return Array.from(px.filter((_, i) => i % 4 === 3)); }"""
    ), np.uint8).reshape(H, W)
    ys, xs = np.mgrid[0:H, 0:W]
    dx = np.maximum(np.maximum(x0 - xs, xs - x1), 0)
    dy = np.maximum(np.maximum(y0 - ys, ys - y1), 0)
    d2 = dx * dx + dy * dy
    assert np.array_equal(alpha > 0, (d2 > 0) & (d2 <= 36))
    # the slider changes the band (and writes the option when released)
    harness.page.fill('[data-role="feather"]', "2")
    harness.page.wait_for_function(
        f"n => Number(document.querySelector({BAND!r}).dataset.band) === n",
        arg=int(((d2 > 0) & (d2 <= 4)).sum()))
    assert harness.wait_sets("options", 1)[-1]["feather"] == 2


def test_painting_while_zoomed_lands_on_the_native_pixels(harness: Harness) -> None:
    mount(harness, png((W, H)))
    page = harness.page
    page.focus(".iw-mask-paint")
    page.keyboard.press("1")  # 100%
    page.wait_for_function("() => document.querySelector('.iw-mask-stage').dataset.zoom === '100'")
    page.keyboard.press("+")
    page.keyboard.press("+")  # 150%, then 200%
    page.wait_for_function("() => document.querySelector('.iw-mask-stage').dataset.zoom === '200'")
    page.evaluate(f"() => {{ const s = {STAGE}; s.scrollLeft = 300; s.scrollTop = 200; }}")
    box = canvas_box(harness)
    assert box["width"] == pytest.approx(2 * W, abs=1)
    d = int(box["brush"])
    view = page.evaluate(f"() => {{ const r = {STAGE}.getBoundingClientRect(); return [r.left, r.top]; }}")
    x, y = view[0] + 120.5, view[1] + 90.5
    click(harness, x, y)
    cx, cy = native(box, x, y)
    border = page.evaluate("() => document.querySelector('.iw-mask-stage').clientLeft")
    assert (cx, cy) == (math.floor((300 + 120.5 - border) / 2), math.floor((200 + 90.5 - border) / 2))
    assert np.array_equal(edited(last_mask(harness, 1), (W, H)), disc(cx, cy, d, (W, H)))
    # Ctrl + wheel zooms at the pointer: the native pixel under it stays under it
    page.mouse.move(x, y)
    page.keyboard.down("Control")
    page.mouse.wheel(0, -200)
    page.keyboard.up("Control")
    page.wait_for_function("() => document.querySelector('.iw-mask-stage').dataset.zoom !== '200'")
    for settled in (False, True):  # while the wheel zoom is a transform, then once it is laid out
        if settled:
            page.wait_for_function("() => document.querySelector('.iw-mask-box').style.transform === ''")
        after = canvas_box(harness)
        nx, ny = ((x - after["left"]) * W / after["width"], (y - after["top"]) * H / after["height"])
        assert abs(nx - (cx + 0.5)) < 1.5
        assert abs(ny - (cy + 0.5)) < 1.5
    # and painting at the new zoom still lands on the native pixels under the pointer
    px, py = x + 37, y + 23
    click(harness, px, py)
    qx, qy = native(after, px, py)
    assert np.array_equal(edited(last_mask(harness, 2), (W, H)), disc(cx, cy, d, (W, H)) | disc(qx, qy, d, (W, H)))
    page.keyboard.press("0")  # fit again
    page.wait_for_function("() => document.querySelector('.iw-mask-paint').getBoundingClientRect().width < 700")


def test_space_drag_pans_without_painting(harness: Harness) -> None:
    box = mount(harness, png((W, H)))
    page = harness.page
    page.focus(".iw-mask-paint")
    page.keyboard.press("+")
    page.keyboard.press("+")
    page.keyboard.down(" ")
    drag(harness, box["left"] + 300, box["top"] + 200, box["left"] + 200, box["top"] + 150, steps=4)
    page.keyboard.up(" ")
    scroll = page.evaluate(f"() => [{STAGE}.scrollLeft, {STAGE}.scrollTop]")
    assert scroll[0] > 0
    assert scroll[1] > 0
    assert harness.count_sets("mask") == 0


def test_undo_redo_across_every_tool(harness: Harness) -> None:
    box = mount(harness, wand_image())
    page = harness.page
    masks = []
    drag(harness, box["left"] + 400, box["top"] + 40, box["left"] + 500, box["top"] + 60)
    masks.append(edited(last_mask(harness, 1), (W, H)))
    tool(harness, "rect")
    drag(harness, box["left"] + 350.5, box["top"] + 250.5, box["left"] + 420.5, box["top"] + 290.5)
    masks.append(edited(last_mask(harness, 2), (W, H)))
    tool(harness, "lasso")
    drag(harness, box["left"] + 320.5, box["top"] + 100.5, box["left"] + 560.5, box["top"] + 200.5, steps=5)
    masks.append(edited(last_mask(harness, 3), (W, H)))
    tool(harness, "wand")
    click(harness, box["left"] + 10, box["top"] + 10)
    masks.append(edited(last_mask(harness, 4), (W, H)))
    tool(harness, "eraser")
    click(harness, box["left"] + 20, box["top"] + 20)
    masks.append(edited(last_mask(harness, 5), (W, H)))
    for a, b in itertools.pairwise(masks):
        assert not np.array_equal(a, b)
    page.focus(".iw-mask-paint")
    n = 5
    for expected in reversed(masks[:-1]):
        page.keyboard.press("Control+z")
        n += 1
        assert np.array_equal(edited(last_mask(harness, n), (W, H)), expected)
    page.keyboard.press("Control+z")
    assert last_mask(harness, n + 1) == b""
    n += 1
    for expected in masks:
        page.keyboard.press("Control+Shift+z")
        n += 1
        assert np.array_equal(edited(last_mask(harness, n), (W, H)), expected)


def markup_caps() -> dict[str, object]:
    return {**GPT_IMAGE_2_CAPS, "markup": True}


def test_markup_png_holds_exactly_the_coloured_stroke(harness: Harness) -> None:
    box = mount(harness, png((W, H)), capabilities=markup_caps())
    page = harness.page
    assert page.is_visible('[data-layer="markup"]')
    page.click('[data-layer="markup"]')
    page.fill('[data-role="markup-colour"]', "#00c853")
    d = int(box["brush"])
    y = round(box["top"] + 200)
    x0, x1 = round(box["left"] + 100), round(box["left"] + 300)
    page.mouse.move(x0, y)
    page.mouse.down()
    page.mouse.move(x1, y)  # one segment: the stroke is exactly one capsule
    page.mouse.up()
    data = harness.wait_sets("markup", 1)[-1]
    img = decode(data)
    assert img.format == "PNG"
    assert img.mode == "RGBA"
    assert img.size == (W, H)
    arr = np.asarray(img)
    (ax, ay), (bx, by) = native(box, x0, y), native(box, x1, y)
    stroke = capsule(ax, ay, bx, by, d, (W, H))
    assert np.array_equal(arr[..., 3] == 255, stroke)
    assert not arr[~stroke].any(), "transparent (all zero) everywhere else"
    assert (arr[stroke][:, :3] == (0, 0xC8, 0x53)).all()
    assert harness.count_sets("mask") == 0, "markup never writes the mask"
    # Undo covers markup too; then the mask layer is free again
    page.focus(".iw-mask-paint")
    page.keyboard.press("Control+z")
    assert harness.wait_sets("markup", 2)[-1] == b""


def test_markup_refused_while_a_mask_exists(harness: Harness) -> None:
    box = mount(harness, png((W, H)), capabilities=markup_caps())
    click(harness, box["left"] + 100, box["top"] + 100)
    last_mask(harness, 1)
    harness.page.click('[data-layer="markup"]')
    refusal = harness.page.locator('[data-role="layer-refusal"]')
    assert "mask or markup, not both" in refusal.inner_text()
    assert harness.page.get_attribute('[data-layer="mask"]', "aria-pressed") == "true"
    assert harness.count_sets("markup") == 0


def test_markup_not_offered_without_the_capability(harness: Harness) -> None:
    mount(harness, png((W, H)))
    assert not harness.page.is_visible('[data-layer="markup"]')


def test_detail_hint_and_toggle(harness: Harness) -> None:
    big = (2048, 1536)
    box = mount(harness, png(big), big)
    click(harness, box["left"] + 100, box["top"] + 100)
    harness.wait_sets("mask", 1)
    hint = harness.page.locator('[data-role="detail-hint"]')
    assert hint.is_visible()
    assert "Detail" in hint.inner_text()
    harness.page.check('[data-role="detail"]')
    assert harness.wait_sets("options", 1)[-1]["detail"] is True
    harness.page.uncheck('[data-role="keep-unmasked"]')
    assert harness.wait_sets("options", 2)[-1]["keep_unmasked"] is False


def mount_expand(harness: Harness) -> Page:
    """Expand mode on a 1000x1000 first input, its image loaded."""
    harness.mount(
        options={**DEFAULT_OPTIONS, "mode": "expand", "prompt": "more sky"},
        inputs=[{"id": "in1", "name": "p.png", "width": 1000, "height": 1000, "thumb": png((60, 60))}],
        mask_base=png((1000, 1000)),
    )
    harness.page.wait_for_selector('.iw-expand[data-ready="1"]')
    return harness.page


def test_expand_aspect_and_dragged_edge(harness: Harness) -> None:
    page = mount_expand(harness)
    page.select_option('[data-role="expand-anchor"]', "left")
    page.click('[data-aspect="16:9"]')
    written = harness.wait_sets("options", 1)[-1]
    assert written["mode"] == "expand"
    assert written["expand"] == {"left": 0, "right": 778, "top": 0, "bottom": 0}
    harness.set_options(expand=written["expand"])
    scale = float(page.get_attribute('[data-role="expand-frame"]', "data-scale") or 0)
    handle = page.locator('.iw-expand-handle[data-side="top"]').bounding_box()
    assert handle is not None
    hx, hy = handle["x"] + handle["width"] / 2, handle["y"] + handle["height"] / 2
    drag(harness, hx, hy, hx, hy - 50, steps=4)
    got = harness.wait_sets("options", 2)[-1]["expand"]
    assert got["top"] == round(50 / scale)
    assert got["right"] == 778
    assert page.get_attribute(".iw-expand", "data-width") == "1778"


def test_expand_handles_move_with_arrow_keys_and_show_focus(harness: Harness) -> None:
    """Issue 22, item 5: each edge is a focusable slider; arrows move it 16 px (Shift: 128), with a focus ring."""
    page = mount_expand(harness)
    left = page.locator('.iw-expand-handle[data-side="left"]')
    assert left.get_attribute("role") == "slider"
    left.focus()
    page.keyboard.press("Tab")
    page.keyboard.press("Shift+Tab")  # focus arrives by keyboard: :focus-visible applies
    assert page.evaluate("() => document.activeElement.dataset.side") == "left"
    ring = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
    assert ring == "solid", "a visible focus ring"
    page.keyboard.press("ArrowLeft")
    assert harness.wait_sets("options", 1)[-1]["expand"] == {"left": 16, "right": 0, "top": 0, "bottom": 0}
    harness.set_options(mode="expand", expand={"left": 16, "right": 0, "top": 0, "bottom": 0})
    page.keyboard.press("Shift+ArrowLeft")
    assert harness.wait_sets("options", 2)[-1]["expand"]["left"] == 16 + 128
    harness.set_options(mode="expand", expand={"left": 144, "right": 0, "top": 0, "bottom": 0})
    page.keyboard.press("ArrowRight")  # back in
    assert harness.wait_sets("options", 3)[-1]["expand"]["left"] == 128
    assert left.get_attribute("aria-valuenow") == "128"
    bottom = page.locator('.iw-expand-handle[data-side="bottom"]')
    bottom.focus()
    page.keyboard.press("ArrowDown")
    assert harness.wait_sets("options", 4)[-1]["expand"]["bottom"] == 16


def test_keys_popover_lists_every_key(harness: Harness) -> None:
    mount(harness, png((W, H)))
    page = harness.page
    page.focus(".iw-mask-paint")
    page.keyboard.press("Shift+?")
    pop = page.locator('[data-role="shortcuts"]')
    assert pop.is_visible()
    text = pop.inner_text()
    for key in ["B", "E", "R", "L", "W", "Ctrl/⌘ + Z", "Space + drag", "+ / −", "[ / ]", "0", "1", "M", "F"]:
        assert key in text, key
    page.keyboard.press("Escape")
    assert not pop.is_visible()
    page.keyboard.press("r")
    assert page.get_attribute(".iw-mask-paint", "data-tool") == "rect"


def test_two_finger_pinch_zooms_and_puts_back_the_first_fingers_stroke(harness: Harness) -> None:
    box = mount(harness, png((W, H)))
    before = float(harness.page.get_attribute(".iw-mask-paint", "data-scale") or 0)
    cx, cy = box["left"] + 300, box["top"] + 200
    harness.page.evaluate(
        """([cx, cy]) => {
            const c = document.querySelector('.iw-mask-paint');
            const ev = (type, id, x, y) => c.dispatchEvent(new PointerEvent(type, {
                pointerId: id, pointerType: 'touch', isPrimary: id === 1, clientX: x, clientY: y,
                button: type === 'pointermove' ? -1 : 0, buttons: type === 'pointerup' ? 0 : 1,
                bubbles: true, cancelable: true}));
            ev('pointerdown', 1, cx - 40, cy);           // the first finger starts a stroke…
            ev('pointermove', 1, cx - 50, cy);
            ev('pointerdown', 2, cx + 40, cy);           // …the second turns it into a pinch
            for (let k = 1; k <= 10; k++) {
                ev('pointermove', 1, cx - 40 - 8 * k, cy);
                ev('pointermove', 2, cx + 40 + 8 * k, cy);
            }
            ev('pointerup', 1, cx - 120, cy);
            ev('pointerup', 2, cx + 120, cy);
        }""",
        [cx, cy],
    )
    after = float(harness.page.get_attribute(".iw-mask-paint", "data-scale") or 0)
    # the fingers were 90 px apart when the second came down (the first had moved 10 px), 240 at the end
    assert after == pytest.approx(before * 240 / 90, rel=0.01)
    assert harness.page.get_attribute(".iw-mask", "data-painted") == "0", "the first finger's stroke is put back"
    assert harness.count_sets("mask") == 0


def test_pinch_moves_only_transform_and_lay_out_once_at_the_end(harness: Harness) -> None:
    box = mount(harness, png((W, H)))
    cx, cy = box["left"] + 300, box["top"] + 200
    seen = harness.page.evaluate(
        """([cx, cy]) => {
            const c = document.querySelector('.iw-mask-paint');
            const img = c.parentElement;  // the image box the stage sizes (layout) or transforms (live)
            const ev = (type, id, x, y) => c.dispatchEvent(new PointerEvent(type, {
                pointerId: id, pointerType: 'touch', isPrimary: id === 1, clientX: x, clientY: y,
                button: type === 'pointermove' ? -1 : 0, buttons: type === 'pointerup' ? 0 : 1,
                bubbles: true, cancelable: true}));
            const width0 = img.style.width;
            ev('pointerdown', 1, cx - 40, cy);
            ev('pointerdown', 2, cx + 40, cy);
            const during = [];
            for (let k = 1; k <= 10; k++) {
                ev('pointermove', 1, cx - 40 - 8 * k, cy);
                ev('pointermove', 2, cx + 40 + 8 * k, cy);
                during.push([img.style.width, img.style.transform]);
            }
            ev('pointerup', 1, cx - 120, cy);
            const endWidth = img.style.width, endTransform = img.style.transform;
            ev('pointerup', 2, cx + 120, cy);
            return {width0, during, endWidth, endTransform, scale: Number(c.dataset.scale)};
        }""",
        [cx, cy],
    )
    assert all(width == seen["width0"] for width, _ in seen["during"]), "no layout while the fingers move"
    assert all(transform.startswith("translate(") and "scale(" in transform for _, transform in seen["during"])
    assert seen["endWidth"] != seen["width0"], "laid out at the new scale once the pinch ends"
    assert seen["endTransform"] == "", "the transform is dropped by that layout"
    assert float(seen["endWidth"].removesuffix("px")) == pytest.approx(W * seen["scale"], abs=1)


def test_markup_from_the_kernel_is_shown_and_followed(harness: Harness) -> None:
    rgba = np.zeros((H, W, 4), np.uint8)
    rgba[10:20, 30:40] = (255, 0, 0, 255)
    mount(harness, png((W, H)), capabilities=markup_caps(), markup=encode(Image.fromarray(rgba, "RGBA")))
    page = harness.page
    page.wait_for_function("() => document.querySelector('.iw-mask').dataset.markup === '100'")
    assert page.is_visible('[data-role="markup-canvas"]')
    harness.set_trait("markup", b"")
    page.wait_for_function("() => document.querySelector('.iw-mask').dataset.markup === '0'")
    assert harness.count_sets("markup") == 0, "following the kernel writes nothing back"


def test_markup_problem_shows_at_the_canvas_only(harness: Harness) -> None:
    problem = "markup and mask cannot be sent together: clear one of them"
    mount(harness, png((W, H)), capabilities=markup_caps(), problems={"markup": problem, "mask": problem})
    slot = harness.page.locator('.iw-mask .iw-problem[data-problem-for="mask"]')
    assert problem in slot.inner_text()
    assert problem not in harness.page.locator(".iw-problems-general").inner_text()


def test_an_options_change_leaves_the_view_alone(harness: Harness) -> None:
    """The kernel echoes options on every keystroke: the zoomed view must not move or re-filter."""
    mount(harness, png((W, H)))
    page = harness.page
    page.focus(".iw-mask-paint")
    page.keyboard.press("1")
    page.keyboard.press("+")  # 150%: 900 × 600 px in a smaller viewport
    page.evaluate(f"() => {{ {STAGE}.scrollLeft = 50; }}")
    page.wait_for_function("() => !document.querySelector('.iw-mask-box').classList.contains('iw-moving')")
    harness.set_options(prompt="a blue door")
    assert page.evaluate(f"() => [{STAGE}.scrollLeft, {STAGE}.dataset.zoom]") == [50, "150"]
    assert not page.evaluate("() => document.querySelector('.iw-mask-box').classList.contains('iw-moving')")
