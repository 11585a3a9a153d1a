"""A saved notebook shows pictures, not an error (issue 23, item 9): beside the widget the kernel publishes
a static view (one display_id) that each run updates with the last results' thumbnails and a line saying to
re-run the cell. The notebook is executed for real (nbclient, the emulator in the kernel) and read back as
saved; tests/jupyter/test_e2e_saved_view.py opens such a file in JupyterLab."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import nbclient
import nbformat
from PIL import Image

from image_widget.widget.saved_view import MAX_SHOWN, NOTHING_YET, RERUN, saved_view_html
from test_notebooks import kernel_env

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"


def run_notebook(tmp_path: Path, cells: list[str]) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nbclient.NotebookClient(nb, kernel_name="python3", timeout=120).execute(env=kernel_env(tmp_path / "out"))
    return nb


def saved_html(cell: nbformat.NotebookNode) -> list[str]:
    return [o["data"]["text/html"] for o in cell.outputs if "text/html" in o.get("data", {})]


def test_the_saved_notebook_holds_the_last_results_beside_the_widget(tmp_path: Path) -> None:
    nb = run_notebook(tmp_path, [
        "import image_widget as iw\nw = iw.ImageWidget(quality='low')\nw",
        "r = w.generate('a red fox in snow', n=2)",
    ])
    shown = nb.cells[0]
    assert any(WIDGET_MIME in o.get("data", {}) for o in shown.outputs), "the live widget is there too"
    (html,) = saved_html(shown)
    assert 'class="iw-saved-view"' in html
    assert RERUN in html
    assert "a red fox in snow" in html
    pictures = html.split('src="data:image/jpeg;base64,')[1:]
    assert len(pictures) == 2
    thumb = Image.open(io.BytesIO(base64.b64decode(pictures[0].split('"', 1)[0])))
    assert max(thumb.size) <= 160


def test_before_any_run_it_says_how_to_get_the_widget_back(tmp_path: Path) -> None:
    nb = run_notebook(tmp_path, ["import image_widget as iw\niw.ImageWidget()"])
    (html,) = saved_html(nb.cells[0])
    assert NOTHING_YET in html
    assert "<img" not in html


def test_at_most_a_few_small_thumbnails(tmp_path: Path) -> None:
    paths = []
    for i in range(MAX_SHOWN + 3):
        path = tmp_path / f"{i}.png"
        Image.new("RGB", (1024, 1024), (i * 20, 90, 160)).save(path)
        paths.append(path)
    html = saved_view_html(paths, "x")
    assert html.count("<img") == MAX_SHOWN
    assert len(html) < 40_000, "the saved notebook stays small"
