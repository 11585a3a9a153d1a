"""A reopened notebook shows pictures (issue 23, item 9), in JupyterLab itself: a notebook executed and saved
without widget state is opened (not run). Where the widget was, JupyterLab says "model not found" — it has
no fallback — and beside it the saved view shows the last results and the line to re-run the cell. While a
live widget is on the page, the saved view stays out of sight."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import nbclient
import nbformat
import pytest

from test_notebooks import kernel_env

if TYPE_CHECKING:
    from tests.jupyter.conftest import NotebookPage

    from support.jupyter_server import JupyterServer

pytestmark = pytest.mark.jupyter


def test_a_reopened_notebook_shows_the_last_results(open_saved: Callable[[str], Any], lab_server: JupyterServer,
                                                    tmp_path: Path) -> None:
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("import image_widget as iw\nw = iw.ImageWidget(quality='low')\nw"),
        nbformat.v4.new_code_cell("r = w.generate('a red fox in snow', n=2)"),
    ])
    nbclient.NotebookClient(nb, kernel_name="python3", timeout=120).execute(env=kernel_env(tmp_path / "out"))
    name = "reopened.ipynb"
    nbformat.write(nb, lab_server.root / name)  # saved as a person's kernel left it: no widget state
    opened: NotebookPage = open_saved(name)
    page = opened.page
    saved = page.locator(".jp-OutputArea .iw-saved-view")
    saved.wait_for(state="visible", timeout=opened.deadline.ms())
    assert saved.locator("img").count() == 2
    page.wait_for_function("() => [...document.querySelectorAll('.iw-saved-view img')]"
                           ".every((img) => img.naturalWidth > 0)", timeout=opened.deadline.ms())
    assert "re-run this cell to get the live widget back" in (saved.text_content() or "")


def test_beside_a_live_widget_the_saved_view_is_out_of_sight(lab: NotebookPage) -> None:
    lab.widget.wait_for(state="visible", timeout=lab.deadline.ms())
    saved = lab.page.locator(".jp-OutputArea .iw-saved-view")
    saved.first.wait_for(state="attached", timeout=lab.deadline.ms())
    assert saved.count() == 1, "published beside the widget"
    saved.wait_for(state="hidden", timeout=lab.deadline.ms())
