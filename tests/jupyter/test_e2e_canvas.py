"""Issue 12 end to end in JupyterLab: upload a photo, zoom, lasso a region, edit with Detail on, and
check in the kernel that every pixel outside the mask and its feather is the original; then expand the
picture to 16:9 with the Expand tool."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from support.images import photo

if TYPE_CHECKING:
    from tests.jupyter.conftest import NotebookPage

pytestmark = pytest.mark.jupyter

W, H = 1600, 1200


def _upload(lab: NotebookPage, tmp_path: Path) -> None:
    source = tmp_path / "photo.png"
    photo((W, H)).save(source)
    lab.widget.locator("input.iw-file").set_input_files(str(source), timeout=lab.deadline.ms())
    try:  # a 1600x1200 photo is several MB of comm messages: on a loaded 2-core machine that takes a while
        lab.widget.locator(".iw-mask[data-ready='1']").wait_for(state="visible", timeout=lab.deadline.ms(120))
    except Exception:
        seen, _ = lab.run_cell("print(w.options['mode'], len(w.inputs), w.status)")
        print(f"the mask never showed; the kernel says: {seen}; root: {lab.attr('data-state')}")
        raise


def _kernel_has_mask(lab: NotebookPage) -> None:
    """ipywidgets may hold a trait update back while an earlier one is pending: ask until it is there."""
    for _ in range(40):
        printed, _ = lab.run_cell("print(w.mask is not None)")
        if printed.strip() == "True":
            return
        lab.page.wait_for_timeout(100)
    raise AssertionError("the mask never reached the kernel")


def test_zoom_lasso_detail_edit_keeps_unmasked_pixels(lab: NotebookPage, tmp_path: Path) -> None:
    lab.widget.locator("textarea[data-option='prompt']").fill("a pond where the lasso is")
    _upload(lab, tmp_path)
    canvas = lab.widget.locator("[data-role='mask-canvas']")
    canvas.scroll_into_view_if_needed(timeout=lab.deadline.ms())
    canvas.focus(timeout=lab.deadline.ms())
    lab.page.keyboard.press("1")  # 100%, then one step out: 2/3
    lab.page.keyboard.press("-")
    lab.page.wait_for_function("() => document.querySelector('.iw-mask-stage').dataset.zoom === '67'",
                               timeout=lab.deadline.ms())
    lab.widget.locator(".iw-mask-toolbar [data-action='lasso']").click(timeout=lab.deadline.ms())
    stage = lab.widget.locator(".iw-mask-stage").bounding_box(timeout=lab.deadline.ms())
    assert stage is not None
    x0, y0 = stage["x"] + 40, stage["y"] + 40
    mouse = lab.page.mouse
    mouse.move(x0, y0)
    mouse.down()
    for dx, dy in [(160, 10), (190, 120), (60, 150)]:
        mouse.move(x0 + dx, y0 + dy, steps=4)
    mouse.up()
    lab.page.wait_for_function("() => Number(document.querySelector('.iw-mask').dataset.writes || 0) >= 1",
                               timeout=lab.deadline.ms())
    hint = lab.widget.locator("[data-role='detail-hint']")
    assert hint.is_visible(timeout=lab.deadline.ms()), "a small mask on a 1600 px image suggests Detail"
    lab.widget.locator("[data-role='detail']").check(timeout=lab.deadline.ms())
    _kernel_has_mask(lab)
    printed, _ = lab.run_cell("print(w.options['detail'], w.options['keep_unmasked'], w.options['feather'])")
    detail, keep, feather = printed.split()
    assert (detail, keep) == ("True", "True")

    lab.widget.locator("button[data-action='generate']").click(timeout=lab.deadline.ms())
    assert lab.finish() == "done"
    printed, _ = lab.run_cell(
        "import numpy as np\nfrom PIL import ImageFilter\n"
        "out, base = w.images[0].convert('RGB'), w.mask_base_image.convert('RGB')\n"
        f"grown = w.mask.getchannel('A').point(lambda a: 255 if a < 128 else 0)"
        f".filter(ImageFilter.MaxFilter(2 * {feather} + 3))\n"
        "keep = np.asarray(grown) == 0\n"
        "same = (np.asarray(out) == np.asarray(base)).all(axis=-1)\n"
        "print(out.size, int(keep.sum()), bool(same[keep].all()), bool((~same).any()))")
    size, kept, held, changed = printed.strip().rsplit(" ", 3)
    assert ast.literal_eval(size) == (W, H)
    assert int(kept) > W * H // 2
    assert held == "True", "a pixel outside the mask and its feather is not the original"
    assert changed == "True", "the edit changed something inside the mask"


def test_expand_to_16_9(lab: NotebookPage, tmp_path: Path) -> None:
    lab.widget.locator("textarea[data-option='prompt']").fill("more meadow on both sides")
    _upload(lab, tmp_path)
    lab.widget.locator("input[data-mode='expand']").check(timeout=lab.deadline.ms())
    lab.widget.locator(".iw-expand[data-ready='1']").wait_for(state="visible", timeout=lab.deadline.ms())
    lab.widget.locator("[data-aspect='16:9']").click(timeout=lab.deadline.ms())
    for _ in range(40):
        printed, _ = lab.run_cell("print(w.options['mode'], w.options['expand'])")
        if "'right'" in printed:
            break
        lab.page.wait_for_timeout(100)
    # 1200 × 16/9 = 2133 px wide: 533 more, the odd one on the right (anchor: centre)
    assert printed.startswith("expand {'left': 266, 'right': 267, 'top': 0, 'bottom': 0}"), printed
    lab.widget.locator("button[data-action='generate']").click(timeout=lab.deadline.ms())
    assert lab.finish() == "done"
    printed, _ = lab.run_cell("print(w.images[0].size)")
    assert ast.literal_eval(printed.strip()) == (W + 533, H)
