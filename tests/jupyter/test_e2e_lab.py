"""The widget end to end in JupyterLab: the real comm path, binary buffers both ways, the kernel's view.

Each test gets a fresh notebook whose first cell makes `w = ImageWidget(folder=...)` with no key (so
the kernel runs its own emulator) and whose second prints the emulator's URL.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest

from support.images import decode, photo

if TYPE_CHECKING:
    from playwright.sync_api import Locator
    from tests.jupyter.conftest import NotebookPage

pytestmark = pytest.mark.jupyter


def _generate(lab: NotebookPage, prompt: str) -> None:
    lab.widget.locator("textarea[data-option='prompt']").fill(prompt)
    lab.widget.locator("button[data-action='generate']").click(timeout=lab.deadline.ms())


def _settled_box(lab: NotebookPage, locator: Locator) -> dict[str, float]:
    """The element's box once layout has settled (thumbnails above it may still be loading)."""
    lab.page.wait_for_function(
        "() => [...document.querySelectorAll('.image-widget img')].every((img) => img.complete)",
        timeout=lab.deadline.ms(),
    )
    previous = None
    for _ in range(100):
        box = locator.bounding_box(timeout=lab.deadline.ms())
        if box is not None and box == previous:
            return box
        previous = box
        lab.page.wait_for_timeout(100)
    raise AssertionError(f"the layout did not settle: {previous}")


def test_prompt_and_generate_two_images(lab: NotebookPage) -> None:
    n_input = lab.widget.locator("input[data-option='n']")
    n_input.fill("2")
    n_input.dispatch_event("change")
    _generate(lab, "a red fox in the snow")
    assert lab.finish() == "done"
    lab.page.wait_for_function(
        """() => {
             const root = document.querySelector(".image-widget[data-ready='1']");
             const imgs = root ? [...root.querySelectorAll(".iw-result img")] : [];
             return root.dataset.results === "2" && imgs.length === 2
               && imgs.every((img) => img.complete && img.naturalWidth > 0);
           }""",
        timeout=lab.deadline.ms(),
    )
    printed, _ = lab.run_cell("print(len(w.images), [im.size for im in w.images])")
    count, sizes = printed.strip().split(" ", 1)
    assert int(count) == 2
    assert ast.literal_eval(sizes) == [(1024, 1024), (1024, 1024)]
    code, _ = lab.run_cell("print(w.results[0]['code'])")
    assert code.strip() == ("iw.generate('a red fox in the snow', model='gpt-image-2', size='1024x1024', "
                            "quality='low', n=2)")


def test_upload_paint_mask_and_edit(lab: NotebookPage, tmp_path: Path) -> None:
    prompt = lab.widget.locator("textarea[data-option='prompt']")
    prompt.fill("turn the stroke into a river")
    prompt.blur(timeout=lab.deadline.ms())
    width, height = 640, 480
    source = tmp_path / "photo.png"
    photo((width, height)).save(source)

    lab.widget.locator("input.iw-file").set_input_files(str(source), timeout=lab.deadline.ms())
    mask = lab.widget.locator(".iw-mask[data-ready='1']")
    mask.wait_for(state="visible", timeout=lab.deadline.ms())
    canvas = lab.widget.locator("[data-role='mask-canvas']")
    canvas.scroll_into_view_if_needed(timeout=lab.deadline.ms())
    box = _settled_box(lab, canvas)
    brush = int(canvas.get_attribute("data-brush", timeout=lab.deadline.ms()) or 0)
    assert brush > 0

    start = (box["x"] + 0.25 * box["width"], box["y"] + 0.35 * box["height"])
    end = (box["x"] + 0.70 * box["width"], box["y"] + 0.60 * box["height"])
    mouse = lab.page.mouse
    mouse.move(*start)
    mouse.down()
    mouse.move(*end, steps=25)
    mouse.up()
    assert canvas.bounding_box(timeout=lab.deadline.ms()) == box, "the canvas moved during the stroke"
    # The stroke's PNG is encoded asynchronously, then written to the `mask` trait (data-writes counts).
    lab.page.wait_for_function(
        """() => {
             const section = document.querySelector(".image-widget .iw-mask");
             return Number(section.dataset.painted || 0) > 0 && Number(section.dataset.writes || 0) >= 1;
           }""",
        timeout=lab.deadline.ms(),
    )

    def native(point: tuple[float, float]) -> tuple[int, int]:  # the page's own mapping (mask/stage.ts)
        return (int((point[0] - box["x"]) * width // box["width"]),
                int((point[1] - box["y"]) * height // box["height"]))

    # ipywidgets may hold a trait update back while an earlier message is pending, so a cell can run
    # before the kernel has the mask: ask again (each cell run lets the kernel take what arrived).
    alpha_file = tmp_path / "alpha.npy"
    check = (f"import numpy as np\nm = w.mask\nprint(None if m is None else (m.size, m.mode))\n"
             f"None if m is None else np.save({str(alpha_file)!r}, np.asarray(m.getchannel('A')))")
    for _ in range(20):
        printed, _ = lab.run_cell(check)
        if printed.strip() != "None":
            break
        lab.page.wait_for_timeout(100)
    assert printed.strip() == f"(({width}, {height}), 'RGBA')", printed
    alpha = np.load(alpha_file)
    assert set(np.unique(alpha).tolist()) <= {0, 255}

    (ax, ay), (bx, by) = native(start), native(end)
    ys, xs = np.mgrid[0:height, 0:width]
    seg = np.array([bx - ax, by - ay], dtype=float)
    t = np.clip(((xs - ax) * seg[0] + (ys - ay) * seg[1]) / float(seg @ seg), 0, 1)
    dist = np.hypot(xs - (ax + t * seg[0]), ys - (ay + t * seg[1]))
    radius = brush / 2
    assert (alpha[dist <= radius - 2] == 0).all(), "a pixel under the stroke is not marked for editing"
    assert (alpha[dist > radius + 2] == 255).all(), "a pixel away from the stroke is marked for editing"

    lab.widget.locator("button[data-action='generate']").click(timeout=lab.deadline.ms())
    assert lab.finish() == "done"
    printed, _ = lab.run_cell(
        "e = [x for x in shared_emulator().log if x.endpoint][-1]\n"
        "print(e.endpoint, 'mask' in e.params, w.results[0]['code'].startswith('iw.edit('), len(w.images))")
    assert printed.split() == ["edit", "True", "True", "1"], printed


def test_partial_previews_appear_while_streaming(lab: NotebookPage) -> None:
    lab.control("/_emulator/config", {"partial_interval_s": 0.3})
    lab.widget.locator("select[data-option='partial_images']").select_option("3", timeout=lab.deadline.ms())
    _generate(lab, "a comet over the sea")
    lab.page.wait_for_function(
        """() => {
             const root = document.querySelector(".image-widget[data-ready='1']");
             return root.dataset.state === "running" && Number(root.dataset.preview) >= 1;
           }""",
        timeout=lab.deadline.ms(), polling="raf",
    )
    assert lab.finish() == "done"
    assert int(lab.attr("data-preview") or 0) >= 1


def test_cancel(lab: NotebookPage) -> None:
    lab.hold()
    try:
        _generate(lab, "a very slow snail")
        lab.wait_state("running")
        lab.widget.locator("button[data-action='cancel']").click(timeout=lab.deadline.ms())
        assert lab.wait_state("cancelled", "done", "error", step=10) == "cancelled"
    finally:
        lab.release()  # the abandoned request too
    printed, _ = lab.run_cell("print(w.status['state'], len(w.results))")
    assert printed.split() == ["cancelled", "0"]


def test_injected_error_shows_the_banner(lab: NotebookPage) -> None:
    lab.control("/_emulator/faults", [{"status": 403}])
    _generate(lab, "a fox")
    assert lab.wait_state("error", "done") == "error"
    banner = lab.widget.locator("[data-role='banner']")
    banner.wait_for(state="visible", timeout=lab.deadline.ms())
    text = banner.inner_text(timeout=lab.deadline.ms())
    assert "Organisation not verified" in text
    assert "platform.openai.com/settings/organization/general" in text


def test_kernel_stays_free_while_generating(lab: NotebookPage) -> None:
    lab.hold()  # the request stays in flight however long the cell below takes to run
    try:
        _generate(lab, "a patient heron")
        lab.wait_state("running")
        printed, state_then = lab.run_cell('print("free")')
        assert printed.strip() == "free"
        assert state_then == "running"
    finally:
        lab.release()
    assert lab.finish() == "done"


def test_result_shows_the_saved_image_at_once_and_a_later_view_its_thumbnail(lab: NotebookPage) -> None:
    """A run's saved image reaches the page full size through a real kernel (`results_saved`, issue 22) and stays
    shown; a view drawn later has only the state, whose thumb bytes (nested in the results list) arrive as a
    binary buffer and decode in the page."""
    _generate(lab, "a lighthouse")
    assert lab.finish() == "done"
    shown = lab.widget.locator(".iw-result img").first
    assert (shown.get_attribute("src", timeout=lab.deadline.ms()) or "").startswith("data:image/png;base64,")
    lab.page.wait_for_function("(img) => img.naturalWidth === 1024", arg=shown.element_handle(),
                               timeout=lab.deadline.ms())

    lab.run_cell("display(w)")
    later = lab.page.locator(".image-widget[data-ready='1']").nth(1).locator(".iw-result img").first
    src = later.get_attribute("src", timeout=lab.deadline.ms())
    assert src
    assert src.startswith("blob:")
    data = lab.page.evaluate(
        """async (url) => Array.from(new Uint8Array(await (await fetch(url)).arrayBuffer()))""", src)
    thumb = decode(bytes(data))
    assert max(thumb.size) <= 160


def test_generate_from_a_cell_updates_the_page(lab: NotebookPage) -> None:
    """`w.generate()` blocks the cell; the job thread's trait updates still reach the page."""
    printed, state_then = lab.run_cell("r = w.generate('a kite on a beach', n=2)\nprint(len(r.images))")
    assert printed.strip() == "2"
    assert state_then in ("running", "done")  # the page may not have drawn the last update yet
    assert lab.finish() == "done"
    lab.page.wait_for_function(
        "() => document.querySelector(\".image-widget[data-ready='1']\").dataset.results === '2'",
        timeout=lab.deadline.ms(),
    )
