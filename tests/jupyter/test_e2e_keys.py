"""The keyboard in JupyterLab (issue 14, item 2): the widget's selects, sliders and mode group keep their
keys, and focus stays in the widget.

JupyterLab's notebook handles keydown events that bubble up from a cell's output (a plain <select> in an
output loses ArrowDown to it too), so these can only be proved in JupyterLab itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tests.jupyter.conftest import NotebookPage

pytestmark = pytest.mark.jupyter

FOCUS_IN_WIDGET_JS = "() => !!document.activeElement && !!document.activeElement.closest('.image-widget')"


def _kernel(lab: NotebookPage, expr: str) -> str:
    printed, _ = lab.run_cell(f"print({expr})")
    return printed.strip()


def _kernel_until(lab: NotebookPage, expr: str, expected: str) -> str:
    """The kernel's value of `expr`, asked again until it is `expected` (trait updates may lag a cell)."""
    value = ""
    for _ in range(20):
        value = _kernel(lab, expr)
        if value == expected:
            break
        lab.page.wait_for_timeout(100)
    return value


def test_arrow_down_on_model_changes_the_model_and_keeps_focus(lab: NotebookPage) -> None:
    model = lab.widget.locator("select[data-option='model']")
    before = model.input_value(timeout=lab.deadline.ms())
    options = model.evaluate("s => [...s.options].map((o) => o.value)")
    model.focus(timeout=lab.deadline.ms())
    lab.page.keyboard.press("ArrowDown")
    expected = options[options.index(before) + 1]
    lab.page.wait_for_function(
        "(v) => document.querySelector(\".image-widget select[data-option='model']\").value === v",
        arg=expected, timeout=lab.deadline.ms(5),
    )
    assert lab.page.evaluate(FOCUS_IN_WIDGET_JS), "focus left the widget"
    assert lab.page.evaluate("() => document.activeElement.dataset.option") == "model"
    assert _kernel_until(lab, "w.options['model']", expected) == expected


def test_arrows_move_the_brush_size_and_the_mode_group(lab: NotebookPage) -> None:
    printed, _ = lab.run_cell("from PIL import Image\nw.add_inputs(Image.new('RGB', (96, 64), 'white'))\n"
                              "print(w.options['mode'])")
    assert printed.strip() == "edit"
    lab.widget.locator(".iw-mask[data-ready='1']").wait_for(state="visible", timeout=lab.deadline.ms())

    brush = lab.widget.locator("input[data-role='brush-size']")
    start = int(brush.input_value(timeout=lab.deadline.ms()))
    brush.focus(timeout=lab.deadline.ms())
    lab.page.keyboard.press("ArrowRight")
    lab.page.keyboard.press("ArrowUp")
    assert int(brush.input_value(timeout=lab.deadline.ms())) == start + 2
    lab.page.keyboard.press("ArrowDown")
    assert int(brush.input_value(timeout=lab.deadline.ms())) == start + 1
    assert lab.page.evaluate(FOCUS_IN_WIDGET_JS), "focus left the widget"

    # Back to Generate by keyboard: the checked mode is the group's one tab stop; arrows move and select.
    lab.widget.locator("input[data-mode='edit']").focus(timeout=lab.deadline.ms())
    lab.page.keyboard.press("ArrowLeft")
    assert lab.page.evaluate("() => document.activeElement.dataset.mode") == "generate"
    assert lab.widget.locator("input[data-mode='generate']").is_checked(timeout=lab.deadline.ms())
    assert _kernel_until(lab, "w.options['mode']", "generate") == "generate"
    lab.widget.locator("input[data-mode='generate']").focus(timeout=lab.deadline.ms())
    lab.page.keyboard.press("End")
    assert lab.page.evaluate("() => document.activeElement.dataset.mode") in ("edit", "variation", "expand")
    lab.page.keyboard.press("Home")
    assert lab.page.evaluate("() => document.activeElement.dataset.mode") == "generate"
    assert lab.page.evaluate(FOCUS_IN_WIDGET_JS), "focus left the widget"
