"""The mask editor, pixel-exactly: native resolution under a scaled display, binary PNG, tools."""

from __future__ import annotations

import math

import numpy as np
import pytest
from widget_harness import DEFAULT_OPTIONS, Harness

from support.images import decode as decode_bytes
from support.images import mask_png, png

pytestmark = pytest.mark.browser

W, H = 1536, 1024


def mount_edit(h: Harness, width: int = W, height: int = H) -> dict[str, float]:
    base = png((width, height))
    h.mount(
        options={**h_default_options(), "mode": "edit", "prompt": "a red door"},
        inputs=[{"id": "in1", "name": "photo.png", "width": width, "height": height, "thumb": png((96, 64))}],
        mask_base=base,
    )
    h.page.wait_for_selector('.iw-mask[data-ready="1"]')
    return canvas_box(h)


def h_default_options() -> dict[str, object]:
    return dict(DEFAULT_OPTIONS)


def canvas_box(h: Harness) -> dict[str, float]:
    return h.page.evaluate(
        """() => { const c = document.querySelector('.iw-mask-paint');
                   const r = c.getBoundingClientRect();
                   return {left: r.left, top: r.top, width: r.width, height: r.height,
                           w: c.width, h: c.height, brush: Number(c.dataset.brush)}; }"""
    )


def native(box: dict[str, float], x: float, y: float) -> tuple[int, int]:
    """The same mapping the widget uses: CSS px → native px through the bounding rect."""
    return (
        math.floor(((x - box["left"]) * box["w"]) / box["width"]),
        math.floor(((y - box["top"]) * box["h"]) / box["height"]),
    )


def decode(png: bytes, size: tuple[int, int] = (W, H)) -> np.ndarray:
    """Alpha of a mask PNG, after checking it is exactly what the protocol says."""
    img = decode_bytes(png)
    assert img.format == "PNG"
    assert img.size == size
    # A 1-bit palette PNG (js/mask/png1.ts): two black entries, index 0 transparent; read as RGBA.
    assert img.mode == "P"
    assert img.info.get("transparency") == 0
    assert img.getpalette()[:6] == [0, 0, 0, 0, 0, 0]
    arr = np.asarray(img.convert("RGBA"))
    assert not arr[..., :3].any(), "RGB must be 0 everywhere"
    alpha = arr[..., 3]
    assert set(np.unique(alpha).tolist()) <= {0, 255}, "alpha must be strictly 0 or 255"
    return alpha


def edited(png: bytes, size: tuple[int, int] = (W, H)) -> np.ndarray:
    return decode(png, size) == 0


def capsule(ax: int, ay: int, bx: int, by: int, d: int, size: tuple[int, int] = (W, H)) -> np.ndarray:
    """Pixels within d/2 of the segment a–b, with the widget's integer rule."""
    ys, xs = np.mgrid[0 : size[1], 0 : size[0]].astype(np.int64)
    px, py = xs - ax, ys - ay
    pp = px * px + py * py
    dx, dy = bx - ax, by - ay
    l2 = dx * dx + dy * dy
    if l2 == 0:
        return 4 * pp <= d * d
    dot = px * dx + py * dy
    qx, qy = xs - bx, ys - by
    return np.where(
        dot <= 0,
        4 * pp <= d * d,
        np.where(dot >= l2, 4 * (qx * qx + qy * qy) <= d * d, 4 * (pp * l2 - dot * dot) <= d * d * l2),
    )


def disc(cx: int, cy: int, d: int, size: tuple[int, int] = (W, H)) -> np.ndarray:
    return capsule(cx, cy, cx, cy, d, size)


def centre_of(region: np.ndarray) -> tuple[int, int]:
    ys, xs = np.nonzero(region)
    return (int(xs.min() + xs.max()) // 2, int(ys.min() + ys.max()) // 2)


def click(h: Harness, x: float, y: float) -> None:
    h.page.mouse.move(x, y)
    h.page.mouse.down()
    h.page.mouse.up()


def drag(h: Harness, x0: float, y0: float, x1: float, y1: float, steps: int = 12) -> None:
    h.page.mouse.move(x0, y0)
    h.page.mouse.down()
    h.page.mouse.move(x1, y1, steps=steps)
    h.page.mouse.up()


def last_mask(h: Harness, writes: int) -> bytes:
    return h.wait_sets("mask", writes)[-1]


def test_native_canvas_scaled_display(harness: Harness) -> None:
    box = mount_edit(harness)
    assert (box["w"], box["h"]) == (W, H)
    assert 500 <= box["width"] <= 660, box
    assert box["height"] == pytest.approx(box["width"] * H / W, abs=1.0)
    assert harness.page.eval_on_selector(".iw-mask-paint", "c => getComputedStyle(c).touchAction") == "none"


def test_click_paints_exact_disc(harness: Harness) -> None:
    box = mount_edit(harness)
    d = int(box["brush"])
    x, y = round(box["left"] + 200), round(box["top"] + 150)
    click(harness, x, y)
    region = edited(last_mask(harness, 1))
    cx, cy = centre_of(region)
    ex, ey = native(box, x, y)
    assert abs(cx - ex) <= 1, ((cx, cy), (ex, ey))
    assert abs(cy - ey) <= 1, ((cx, cy), (ex, ey))
    assert np.array_equal(region, disc(cx, cy, d))
    # one set per stroke, each followed by save_changes
    calls = harness.calls()
    i = calls.index("set")
    assert "save_changes" in calls[i + 1 : i + 4]


def test_drag_paints_exact_capsule(harness: Harness) -> None:
    box = mount_edit(harness)
    d = int(box["brush"])
    y = round(box["top"] + 200)
    x0, x1 = round(box["left"] + 100), round(box["left"] + 450)
    drag(harness, x0, y, x1, y)
    region = edited(last_mask(harness, 1))
    assert harness.count_sets("mask") == 1, "one mask write per stroke"
    _, cy = centre_of(region)
    row = np.nonzero(region[cy])[0]
    ax, bx = int(row.min()) + d // 2, int(row.max()) - d // 2
    assert abs(ax - native(box, x0, y)[0]) <= 1
    assert abs(bx - native(box, x1, y)[0]) <= 1
    assert abs(cy - native(box, x0, y)[1]) <= 1
    assert np.array_equal(region, capsule(ax, cy, bx, cy, d))


def test_diagonal_stroke_is_binary_and_continuous(harness: Harness) -> None:
    box = mount_edit(harness)
    drag(harness, box["left"] + 40, box["top"] + 40, box["left"] + 500, box["top"] + 320, steps=5)
    region = edited(last_mask(harness, 1))
    # Few pointer samples, yet no gaps: every row between the ends is painted.
    ys = np.nonzero(region.any(axis=1))[0]
    assert ys.max() - ys.min() + 1 == len(ys)
    assert region.sum() > 0


def test_eraser_removes_exact_disc(harness: Harness) -> None:
    box = mount_edit(harness)
    d = int(box["brush"])
    y = round(box["top"] + 200)
    drag(harness, box["left"] + 100, y, box["left"] + 450, y)
    before = edited(last_mask(harness, 1))
    harness.page.click('[data-action="eraser"]')
    assert harness.page.get_attribute(".iw-mask-paint", "data-tool") == "eraser"
    click(harness, round(box["left"] + 275), y)
    after = edited(last_mask(harness, 2))
    erased = before & ~after
    assert not (after & ~before).any(), "the eraser never paints"
    cx, cy = centre_of(erased)
    assert np.array_equal(erased, disc(cx, cy, d) & before)


def test_undo_redo_whole_strokes(harness: Harness) -> None:
    box = mount_edit(harness)
    drag(harness, box["left"] + 60, box["top"] + 80, box["left"] + 300, box["top"] + 80)
    m1 = edited(last_mask(harness, 1))
    drag(harness, box["left"] + 60, box["top"] + 260, box["left"] + 300, box["top"] + 300)
    m2 = edited(last_mask(harness, 2))
    assert (m2 & ~m1).any()

    harness.page.focus(".iw-mask-paint")
    harness.page.keyboard.press("Control+z")
    assert np.array_equal(edited(last_mask(harness, 3)), m1)
    harness.page.keyboard.press("Control+z")
    assert last_mask(harness, 4) == b"", "undoing every stroke leaves an empty mask"
    harness.page.keyboard.press("Control+Shift+z")
    assert np.array_equal(edited(last_mask(harness, 5)), m1)
    harness.page.keyboard.press("Control+y")
    assert np.array_equal(edited(last_mask(harness, 6)), m2)
    harness.page.click('[data-action="undo"]')
    assert np.array_equal(edited(last_mask(harness, 7)), m1)
    harness.page.click('[data-action="redo"]')
    assert np.array_equal(edited(last_mask(harness, 8)), m2)
    assert harness.page.is_disabled('[data-action="redo"]')


def test_invert_and_clear(harness: Harness) -> None:
    box = mount_edit(harness)
    click(harness, box["left"] + 300, box["top"] + 200)
    m1 = edited(last_mask(harness, 1))
    harness.page.click('[data-action="invert"]')
    assert np.array_equal(edited(last_mask(harness, 2)), ~m1)
    harness.page.click('[data-action="clear"]')
    assert last_mask(harness, 3) == b""
    assert harness.page.get_attribute(".iw-mask", "data-painted") == "0"
    # clear is undoable like a stroke
    harness.page.click('[data-action="undo"]')
    assert np.array_equal(edited(last_mask(harness, 4)), ~m1)


def test_bracket_keys_change_brush_size(harness: Harness) -> None:
    box = mount_edit(harness)
    d0 = int(box["brush"])
    harness.page.focus(".iw-mask-paint")
    harness.page.keyboard.press("]")
    harness.page.keyboard.press("]")
    d1 = int(harness.page.get_attribute(".iw-mask-paint", "data-brush") or 0)
    assert d1 > d0
    harness.page.keyboard.press("[")
    d2 = int(harness.page.get_attribute(".iw-mask-paint", "data-brush") or 0)
    assert d0 < d2 < d1
    assert harness.page.input_value('[data-role="brush-size"]') == str(d2)
    click(harness, box["left"] + 300, box["top"] + 200)
    region = edited(last_mask(harness, 1))
    cx, cy = centre_of(region)
    assert np.array_equal(region, disc(cx, cy, d2))


def test_wheel_is_not_cancelled(harness: Harness) -> None:
    mount_edit(harness)
    prevented = harness.page.evaluate(
        """() => { const e = new WheelEvent('wheel', {deltaY: 100, bubbles: true, cancelable: true});
                   document.querySelector('.iw-mask-paint').dispatchEvent(e); return e.defaultPrevented; }"""
    )
    assert prevented is False


def test_mask_kept_on_option_change_and_reset_on_new_image(harness: Harness) -> None:
    box = mount_edit(harness)
    click(harness, box["left"] + 300, box["top"] + 200)
    last_mask(harness, 1)
    painted = harness.page.get_attribute(".iw-mask", "data-painted")
    assert painted
    assert int(painted) > 0

    harness.set_options(prompt="another prompt", quality="high")
    harness.set_trait("mask_base", harness.state("mask_base"))  # same bytes again: keep
    assert harness.page.get_attribute(".iw-mask", "data-painted") == painted
    assert harness.count_sets("mask") == 1

    harness.set_trait("mask_base", png((W, H), colour=(70, 130, 180)))
    assert last_mask(harness, 2) == b"", "a different image resets the mask"
    harness.page.wait_for_selector('.iw-mask[data-ready="1"][data-painted="0"]')


def test_hidden_outside_edit_mode(harness: Harness) -> None:
    mount_edit(harness)
    assert harness.page.is_visible(".iw-mask")
    harness.set_options(mode="generate")
    assert harness.page.is_hidden(".iw-mask")
    harness.set_options(mode="edit")
    harness.set_trait("mask_base", b"")
    assert harness.page.is_hidden(".iw-mask")


def test_existing_mask_is_loaded_and_kernel_clear_followed(harness: Harness) -> None:
    harness.mount(
        options={**h_default_options(), "mode": "edit"},
        mask_base=png((W, H)),
        mask=mask_png((W, H), (300, 100, 500, 200)),
    )
    harness.page.wait_for_selector(f'.iw-mask[data-painted="{100 * 200}"]')
    harness.set_trait("mask", b"")  # the kernel clears it (e.g. "Edit this")
    harness.page.wait_for_selector('.iw-mask[data-painted="0"]')
    assert harness.count_sets("mask") == 0


def test_small_image_upscaled_display(harness: Harness) -> None:
    """A 300x200 image shown larger than native: the mask is still 300x200 and exact."""
    box = mount_edit(harness, 300, 200)
    assert (box["w"], box["h"]) == (300, 200)
    assert box["width"] > 300
    d = int(box["brush"])
    x, y = round(box["left"] + 123), round(box["top"] + 77)
    click(harness, x, y)
    region = edited(last_mask(harness, 1), (300, 200))
    cx, cy = centre_of(region)
    ex, ey = native(box, x, y)
    assert abs(cx - ex) <= 1
    assert abs(cy - ey) <= 1
    assert np.array_equal(region, disc(cx, cy, d, (300, 200)))


def test_pen_pointer_paints(harness: Harness) -> None:
    """Pen and touch go through the same pointer events as the mouse."""
    box = mount_edit(harness)
    d = int(box["brush"])
    y = round(box["top"] + 120)
    x0, x1 = round(box["left"] + 80), round(box["left"] + 300)
    harness.page.evaluate(
        """([x0, x1, y]) => {
            const c = document.querySelector('.iw-mask-paint');
            const ev = (type, x) => new PointerEvent(type, {
                pointerId: 7, pointerType: 'pen', isPrimary: true, clientX: x, clientY: y,
                button: type === 'pointermove' ? -1 : 0, buttons: 1, bubbles: true, cancelable: true});
            c.dispatchEvent(ev('pointerdown', x0));
            for (let x = x0; x <= x1; x += 20) c.dispatchEvent(ev('pointermove', x));
            c.dispatchEvent(ev('pointermove', x1));
            c.dispatchEvent(ev('pointerup', x1));
        }""",
        [x0, x1, y],
    )
    region = edited(last_mask(harness, 1))
    ax, ay = native(box, x0, y)
    bx, _ = native(box, x1, y)
    assert np.array_equal(region, capsule(ax, ay, bx, ay, d))
