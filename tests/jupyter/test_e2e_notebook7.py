"""Smoke test in Notebook 7 (`jupyter notebook`, `/notebooks/NAME.ipynb`): it renders and generates."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tests.jupyter.conftest import NotebookPage

pytestmark = pytest.mark.jupyter


def test_renders_and_generates(notebook7: NotebookPage) -> None:
    assert notebook7.attr("data-ready") == "1"
    notebook7.widget.locator("textarea[data-option='prompt']").fill("a paper boat")
    notebook7.widget.locator("button[data-action='generate']").click(timeout=notebook7.deadline.ms())
    assert notebook7.finish() == "done"
    notebook7.page.wait_for_function(
        "() => document.querySelector(\".image-widget[data-ready='1']\").dataset.results === '1'",
        timeout=notebook7.deadline.ms(),
    )
    printed, _ = notebook7.run_cell("print(len(w.images), w.images[0].size)")
    assert printed.strip() == "1 (1024, 1024)"
