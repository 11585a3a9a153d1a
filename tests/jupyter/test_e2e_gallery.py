"""One gallery, live, end to end in JupyterLab: a widget is shown, another process generates into its
folder, and the run appears in the widget's history strip in the browser — no re-run, no reload.

The other process is a `Writer`: a function given the folder and a prompt that makes one image there
from outside the notebook's kernel and returns when it is saved. `WRITERS` holds one per kind of
writer: a script with `iw.generate`, and the MCP server (`python -m image_widget.mcp`, over stdio, driven by
the `mcp` SDK's own client as an assistant would drive it).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from support import waiting

if TYPE_CHECKING:
    from tests.jupyter.conftest import NotebookPage

pytestmark = pytest.mark.jupyter

SRC = Path(__file__).resolve().parents[2] / "src"
Writer = Callable[[Path, str], None]
"""Makes one image with `prompt` in `folder` from another process; returns once it is saved."""


def generate_with_a_script(folder: Path, prompt: str) -> None:
    """A plain script in its own interpreter: `iw.generate(prompt, store=folder)` with no key (its own
    offline emulator), the way another notebook or a batch job would write into the shared folder."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(SRC), os.environ.get("PYTHONPATH")]))}
    env.pop("OPENAI_API_KEY", None)
    code = "import sys, image_widget as iw; iw.generate(sys.argv[1], store=sys.argv[2])"
    subprocess.run([sys.executable, "-c", code, prompt, str(folder)], env=env, check=True, timeout=120,
                   capture_output=True)


def generate_through_the_mcp_server(folder: Path, prompt: str) -> None:
    """An assistant's tool call: the MCP server, started over stdio with `--folder`, runs `generate_image`
    (no key: its own offline emulator) and answers once the image is saved."""
    import anyio

    from support.mcp_server import body, server_env, stdio

    async def call() -> None:
        async with stdio(folder.parent, server_env(None, None), ["--folder", str(folder)]) as client:
            result = await client.call_tool("generate_image", {"prompt": prompt})
            assert not result.is_error, result
            assert body(result)["images"], body(result)

    with ThreadPoolExecutor(1) as pool:  # Playwright's sync API keeps an event loop running on this thread
        pool.submit(anyio.run, call).result(timeout=120)


WRITERS: dict[str, Writer] = {"script": generate_with_a_script, "mcp": generate_through_the_mcp_server}


@pytest.mark.parametrize("writer", list(WRITERS.values()), ids=list(WRITERS))
def test_a_run_saved_by_another_process_appears_in_the_shown_widget(lab: NotebookPage, writer: Writer) -> None:
    folder = lab.server.root / "out" / lab.name.removesuffix(".ipynb")  # the folder the lab fixture's widget uses
    runs = lab.widget.locator(".iw-history-run")
    assert runs.count() == 0  # a new folder: nothing in the history yet
    prompt = "a lighthouse drawn by another process"

    writer(folder, prompt)
    saved = time.monotonic()
    lab.page.wait_for_function(
        """(prompt) => [...document.querySelectorAll(".image-widget[data-ready='1'] .iw-history-run")]
                        .some((run) => run.title === prompt)""",
        arg=prompt, timeout=lab.deadline.ms(30),
    )
    print(f"the run appeared {time.monotonic() - saved:.1f} s after the other process saved it")
    assert runs.count() == 1

    runs.first.click(timeout=lab.deadline.ms())  # its thumbnail came with it, from the kernel
    lab.page.wait_for_function(
        """() => [...document.querySelectorAll(".image-widget .iw-history-thumbs img")]
                   .some((img) => img.complete && img.naturalWidth > 0)""",
        timeout=lab.deadline.ms(),
    )
    shown, _ = lab.run_cell("print([run['prompt'] for run in w.history.shown], len(w.history))")
    assert shown.strip() == f"[{prompt!r}] 1"


_START_CELL_JS = """
(code) => {
  const notebook = window.jupyterapp.shell.currentWidget.content;
  const index = notebook.model.cells.length;
  notebook.model.sharedModel.insertCell(index, { cell_type: "code", source: code });
  notebook.activeCellIndex = index;
  void window.jupyterapp.commands.execute("notebook:run-cell");  // not awaited: the cell keeps running
  return index;
}
"""

_CELL_RUNNING_JS = "(i) => window.jupyterapp.shell.currentWidget.content.widgets[i].model.executionCount === null"

LONG_CELL = """
import pathlib, time
started = time.monotonic()
while time.monotonic() - started < 3 * live.VIEW_TIMEOUT_S:  # silent heartbeats: long past the timeout
    time.sleep(0.05)
pathlib.Path({ready!r}).touch()
while not pathlib.Path({done!r}).exists() and time.monotonic() - started < 60:  # until the test says
    time.sleep(0.05)
"""


def test_the_gallery_stays_live_while_the_kernel_runs_a_long_cell(lab: NotebookPage, tmp_path: Path) -> None:
    """A long cell (a sweep, a batch) keeps the kernel from hearing the page's heartbeats; runs saved
    elsewhere meanwhile still appear, sent from the poll thread while the cell runs."""
    folder = lab.server.root / "out" / lab.name.removesuffix(".ipynb")
    lab.run_cell("from image_widget.widget import live\nlive.VIEW_TIMEOUT_S = 0.5")
    ready, done = tmp_path / "ready", tmp_path / "done"
    cell = lab.page.evaluate(_START_CELL_JS, LONG_CELL.format(ready=str(ready), done=str(done)))
    try:
        # the cell has run (the page's heartbeats unheard) well past the view timeout
        waiting.wait_until(ready.exists, "the long cell to be under way", 30.0, interval=0.05)
        generate_with_a_script(folder, "a ship saved while the kernel was busy")
        lab.page.wait_for_function(
            """(prompt) => [...document.querySelectorAll(".image-widget[data-ready='1'] .iw-history-run")]
                            .some((run) => run.title === prompt)""",
            arg="a ship saved while the kernel was busy", timeout=lab.deadline.ms(30),
        )
        assert lab.page.evaluate(_CELL_RUNNING_JS, cell)  # it arrived while the cell was still running
    finally:
        done.touch()
    lab.page.wait_for_function(f"(i) => !({_CELL_RUNNING_JS})(i)", arg=cell, timeout=lab.deadline.ms())
