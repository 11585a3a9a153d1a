"""The keyboard (issue 14, item 2): the mode group is a radio group with one tab stop (arrows move and
select, Home/End), and keys pressed in the widget's form controls stay in the widget.

A host that handles keys on the document (JupyterLab's notebook does: it moved focus to "add a cell" on
ArrowDown in the Model select) is stood in for by a document keydown listener that records what reaches
it; tests/jupyter/test_e2e_keys.py proves the same in JupyterLab.
"""

from __future__ import annotations

import pytest
from widget_harness import DEFAULT_OPTIONS, Harness

from support.images import jpeg, png

pytestmark = pytest.mark.browser

RECORD_DOCUMENT_KEYS = """() => {
  window.__docKeys = [];
  document.addEventListener("keydown", (e) => window.__docKeys.push(e.key));
}"""


def focused(harness: Harness, attr: str) -> str | None:
    return harness.page.evaluate(f"() => document.activeElement?.dataset?.{attr} ?? null")


def test_mode_group_is_a_radio_group(harness: Harness) -> None:
    harness.mount(options={**DEFAULT_OPTIONS, "mode": "edit"})
    page = harness.page
    # one tab stop: from the prompt, Tab lands on the checked mode, the next Tab leaves the group
    page.focus('[data-option="prompt"]')
    page.keyboard.press("Tab")
    assert focused(harness, "mode") == "edit"
    page.keyboard.press("Tab")
    assert focused(harness, "mode") is None
    assert focused(harness, "option") == "model"
    page.keyboard.press("Shift+Tab")
    assert focused(harness, "mode") == "edit"

    # arrows move and select (each choice is written to the options)
    page.keyboard.press("ArrowLeft")
    assert focused(harness, "mode") == "generate"
    assert page.is_checked('input[data-mode="generate"]')
    assert harness.wait_sets("options", 1)[-1]["mode"] == "generate"
    # the group wraps around to the last mode, Expand (an edit, so gpt-image-2 has it)
    page.keyboard.press("ArrowLeft")
    assert focused(harness, "mode") == "expand"
    # Variation goes through edit for gpt-image-2 (issue 23): an enabled stop
    page.keyboard.press("ArrowLeft")
    assert focused(harness, "mode") == "variation"
    page.keyboard.press("ArrowLeft")
    assert focused(harness, "mode") == "edit"
    page.keyboard.press("ArrowRight")
    assert focused(harness, "mode") == "variation"
    page.keyboard.press("Home")
    assert focused(harness, "mode") == "generate"
    page.keyboard.press("End")
    assert focused(harness, "mode") == "expand"
    page.keyboard.press("Home")
    assert harness.sets("options")[-1]["mode"] == "generate"
    assert [s["mode"] for s in harness.sets("options")] == [
        "generate", "expand", "variation", "edit", "variation", "generate", "expand", "generate"]
    # a model with no edit endpoint: Edit, Variation and Expand are disabled and skipped
    harness.set_trait("capabilities", {**harness.state("capabilities"), "endpoints": ["generate"]})
    page.focus('input[data-mode="generate"]')
    page.keyboard.press("ArrowRight")
    assert focused(harness, "mode") == "generate", "no enabled mode to move to"


def test_keys_in_form_controls_stay_in_the_widget(harness: Harness) -> None:
    harness.mount(
        options={**DEFAULT_OPTIONS, "mode": "edit"},
        inputs=[{"id": "a", "name": "a.png", "width": 120, "height": 80, "thumb": jpeg((60, 40), (9, 9, 9))}],
        mask_base=png((120, 80)),
    )
    page = harness.page
    page.wait_for_selector('.iw-mask[data-ready="1"]')
    page.evaluate(RECORD_DOCUMENT_KEYS)

    page.focus('[data-option="model"]')
    page.keyboard.press("ArrowDown")
    assert page.input_value('[data-option="model"]') == "gpt-image-1.5"
    assert harness.wait_sets("options", 1)[-1]["model"] == "gpt-image-1.5"

    brush = '[data-role="brush-size"]'
    start = int(page.input_value(brush))
    page.focus(brush)
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowUp")
    assert int(page.input_value(brush)) == start + 2

    page.focus('input[data-mode="edit"]')
    page.keyboard.press("ArrowLeft")
    page.focus('[data-option="prompt"]')
    page.keyboard.type("b")  # JupyterLab's command mode: B inserts a cell below
    page.keyboard.press("Shift+Enter")  # …and runs a cell: here it is a new line in the prompt
    assert page.input_value('[data-option="prompt"]') == "b\n"
    assert page.evaluate("() => window.__docKeys") == []

    # Ctrl+Enter still generates; keys with Ctrl/Meta/Alt, Tab and Escape reach the host as before
    page.keyboard.press("Control+Enter")
    harness.wait_sent("generate", 1)
    page.keyboard.press("Tab")
    page.keyboard.press("Escape")
    reached = [k for k in page.evaluate("() => window.__docKeys") if k not in ("Control", "Shift", "Alt", "Meta")]
    assert reached == ["Enter", "Tab", "Escape"]
