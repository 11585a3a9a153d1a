"""The walk a newcomer's first session takes through the canvas and the inputs, end to end in JupyterLab
(issue 23, "also check"): drop and paste image files, drop a file that is not an image, the magic wand, zoom
and a space-drag pan, and markup on a model that takes it — each seen by the kernel, not only by the page.
(Lasso, detail and the high-contrast theme: test_e2e_canvas.py and test_e2e_theme.py; teaching.ipynb:
tests/test_notebooks.py.)"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING

import pytest

from support.images import encode, photo

if TYPE_CHECKING:
    from tests.jupyter.conftest import NotebookPage

pytestmark = pytest.mark.jupyter

DROP = """([b64, name, type]) => {
    const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
    const dt = new DataTransfer();
    dt.items.add(new File([bytes], name, {type}));
    const root = document.querySelector('.image-widget[data-ready="1"]');
    for (const kind of ['dragenter', 'dragover', 'drop'])
        root.dispatchEvent(new DragEvent(kind, {dataTransfer: dt, bubbles: true, cancelable: true}));
}"""
PASTE = """([b64, name]) => {
    const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
    const dt = new DataTransfer();
    dt.items.add(new File([bytes], name, {type: 'image/png'}));
    const prompt = document.querySelector('.image-widget[data-ready="1"] .iw-prompt');
    prompt.focus();
    prompt.dispatchEvent(new ClipboardEvent('paste', {clipboardData: dt, bubbles: true, cancelable: true}));
}"""


def kernel(lab: NotebookPage, expression: str) -> str:
    out, _state = lab.run_cell(f"print({expression})")
    return out.strip().splitlines()[-1]


def test_files_wand_pan_and_markup_reach_the_kernel(lab: NotebookPage) -> None:
    page, widget = lab.page, lab.widget
    picture = encode(photo((640, 480)))
    thumbs = widget.locator(".iw-thumb")

    page.evaluate(DROP, [base64.b64encode(picture).decode(), "dropped.png", "image/png"])
    thumbs.first.wait_for(state="visible", timeout=lab.deadline.ms())
    page.evaluate(PASTE, [base64.b64encode(encode(photo((320, 240), shift=60))).decode(), "clip.png"])
    page.wait_for_function("() => document.querySelectorAll('.image-widget[data-ready=\"1\"] .iw-thumb').length === 2",
                           timeout=lab.deadline.ms())
    page.evaluate(DROP, [base64.b64encode(b"just some words, not a picture").decode(), "notes.txt", "text/plain"])
    refused = widget.locator(".iw-upload-problems li")
    refused.first.wait_for(state="visible", timeout=lab.deadline.ms())
    assert "notes.txt" in (refused.first.text_content() or "")
    assert kernel(lab, "[i['name'] for i in w.inputs], w.options['mode']") == "['dropped.png', 'clip.png'] edit"

    # The magic wand: one click selects the connected colour; the kernel has the mask.
    canvas = widget.locator(".iw-mask-paint")
    canvas.wait_for(state="visible", timeout=lab.deadline.ms())
    widget.locator('.iw-mask-toolbar [data-action="wand"]').click()
    box = canvas.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5)
    code = ("__import__('image_widget.widget.serialization', fromlist=['edit_png'])"
            ".edit_png(w.mask) is not None")
    for _ in range(100):
        if kernel(lab, code) == "True":
            break
    assert kernel(lab, code) == "True", "the wand's selection reached the kernel"

    # Zoom in and pan with space-drag: the view moves, the mask does not change.
    before = kernel(lab, "hash(bytes(w.mask_base_image.tobytes()[:64])), len(__import__('image_widget.widget."
                         "serialization', fromlist=['edit_png']).edit_png(w.mask))")
    canvas.focus()
    page.keyboard.press("+")
    page.keyboard.press("+")
    page.keyboard.down(" ")
    page.mouse.move(box["x"] + 200, box["y"] + 150)
    page.mouse.down()
    page.mouse.move(box["x"] + 100, box["y"] + 80, steps=4)
    page.mouse.up()
    page.keyboard.up(" ")
    scrolled = page.evaluate("() => { const s = document.querySelector('.image-widget[data-ready=\"1\"] "
                             ".iw-mask-stage'); return s.scrollLeft + s.scrollTop; }")
    assert scrolled > 0
    assert kernel(lab, "hash(bytes(w.mask_base_image.tobytes()[:64])), len(__import__('image_widget.widget."
                       "serialization', fromlist=['edit_png']).edit_png(w.mask))") == before

    # Markup on a model that takes it (no mask: the two never go together).
    widget.locator('.iw-mask-toolbar [data-action="clear"]').click()
    lab.run_cell("w.options = {**w.options, 'model': 'gpt-image-2.5-flare', 'size': '1024x1024'}")
    widget.locator('[data-layer="markup"]').click(timeout=lab.deadline.ms())
    stage = widget.locator(".iw-mask-stage").bounding_box()  # the part of the (zoomed) canvas in view
    assert stage is not None
    x, y = stage["x"] + stage["width"] / 2, stage["y"] + stage["height"] / 2
    page.mouse.move(x - 60, y)
    page.mouse.down()
    page.mouse.move(x + 60, y + 30, steps=5)
    page.mouse.up()
    code = "__import__('image_widget.widget.markup', fromlist=['markup_png']).markup_png(w.markup) is not None"
    for _ in range(100):
        if kernel(lab, code) == "True":
            break
    assert kernel(lab, code) == "True", "the markup reached the kernel"
    widget.locator("textarea[data-option='prompt']").fill("a red door, as drawn")
    # the kernel's answer to the prompt clears "the prompt is empty" above the button: let the row settle
    page.wait_for_function("""() => !document.querySelector('.image-widget[data-ready="1"] .iw-problem'
                               + '[data-problem-for="prompt"]')?.textContent""", timeout=lab.deadline.ms())
    widget.locator("button[data-action='generate']").click()
    assert lab.finish() == "done"
    assert kernel(lab, "[h.split(':')[0] for h in w._runs and __import__('image_widget').History(w.folder)[0]"
                       ".record['input_hashes']]").count("markup") == 1
