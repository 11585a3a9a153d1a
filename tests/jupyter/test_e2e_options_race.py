"""Options travel as patches (issue 22, item 1), end to end in JupyterLab: the page sends only the keys a
person changed, so a change made in Python at the same moment to another key survives, and of two changes to
the same key one defined winner — the one the kernel applies last — shows in both places.

The moment is made, not hoped for: a cell keeps the kernel busy while the page changes an option, then
writes `w.options` from the copy it read before the page's change arrived (as code running in the kernel
does); the page's change waits in the queue and arrives after it."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tests.jupyter.conftest import NotebookPage

pytestmark = pytest.mark.jupyter

START_CELL = """(code) => {
  const app = window.jupyterapp;
  const notebook = app.shell.currentWidget.content;
  const index = notebook.model.cells.length;
  notebook.model.sharedModel.insertCell(index, { cell_type: "code", source: code });
  notebook.activeCellIndex = index;
  app.commands.execute("notebook:run-cell");  // not awaited: the kernel is busy with it from now on
  return index;
}"""
CELL_DONE = """(i) => {
  const cell = window.jupyterapp.shell.currentWidget.content.widgets[i];
  return !!cell && cell.model.executionCount !== null && cell.model.outputs.length > 0;
}"""


def race(lab: NotebookPage, python_change: str, page_quality: str) -> dict[str, object]:
    """Python writes `python_change` from a stale copy while the page picks `page_quality`; the kernel's
    options afterwards."""
    index = lab.page.evaluate(START_CELL, "import time\nstale = dict(w.options)\ntime.sleep(2)\n"
                                          f"w.options = {{**stale, {python_change}}}\nprint('written')")
    lab.page.wait_for_function(
        "() => window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.status === 'busy'",
        timeout=lab.deadline.ms())
    lab.widget.locator("select[data-option='quality']").select_option(page_quality)
    lab.page.wait_for_function(CELL_DONE, arg=index, timeout=lab.deadline.ms())
    out, _state = lab.run_cell("import json\nprint(json.dumps({k: w.options[k] for k in ('n', 'quality')}))")
    return dict(json.loads(out.strip().splitlines()[-1]))


def test_different_keys_both_survive(lab: NotebookPage) -> None:
    assert race(lab, "'n': 3", "medium") == {"n": 3, "quality": "medium"}
    lab.page.wait_for_function(
        """() => { const r = document.querySelector('.image-widget[data-ready="1"]');
                   return r.querySelector("select[data-option='quality']").value === 'medium'
                       && r.querySelector("[data-option='n']").value === '3'; }""", timeout=lab.deadline.ms())


def test_the_same_key_has_one_winner_shown_in_both_places(lab: NotebookPage) -> None:
    kernel = race(lab, "'quality': 'high'", "medium")
    assert kernel["quality"] == "medium", "the page's change reached the kernel last, so it wins"
    lab.page.wait_for_function(
        """() => document.querySelector('.image-widget[data-ready="1"] select[data-option="quality"]').value
                 === 'medium'""", timeout=lab.deadline.ms())
