"""End-to-end fixtures: a real JupyterLab (and Notebook 7) server per session, driven by Chromium.

Follows shared/BROWSER-TESTS.md: temp config/data/runtime/settings dirs, settings files that start
the kernel and skip the news, a token, `/api/status` polled until the server answers, the notebook
opened with `?reset`, the kernel awaited idle through `window.jupyterapp`, and a timer around every
in-page await plus a limit on each whole test. The notebook's kernel makes the widget with no key,
so it talks to its own in-process emulator; tests steer that emulator over HTTP
(`/_emulator/config`, `/_emulator/faults`) at the URL a cell prints.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Locator, Page

from support import waiting
from support.held import HOLD_S, RELEASE_S
from support.jupyter_page import KERNEL_IDLE_JS, OPEN_JS, output_text
from support.jupyter_server import JupyterServer, start_server, write_notebook

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src"
BUNDLE = SRC / "image_widget" / "static" / "widget.js"
TEST_LIMIT_S = 150.0
"""The whole of one test, kernel start included."""
STEP_S = 45.0
"""Any single wait inside a test."""
NOTEBOOK7_PAGE_ERRORS = ("reading 'schema'",)
"""Harmless page errors Notebook 7.6 throws on load (BROWSER-TESTS.md)."""


# ------------------------------------------------------------------------------------------- browser



@pytest.fixture(scope="module")  # as the root conftest's: Playwright lives for one module
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_context_args, "viewport": {"width": 1280, "height": 1400}, "device_scale_factor": 1}


# ------------------------------------------------------------------------------------------- bundle




# ------------------------------------------------------------------------------------------- servers


Server = JupyterServer


def _start(kind: str, base: Path) -> Server:
    return start_server(kind, base)


def _stop(server: Server) -> None:
    server.stop()


@pytest.fixture(scope="session")
def lab_server(bundle: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = _start("lab", tmp_path_factory.mktemp("jupyterlab"))
    yield server
    _stop(server)


@pytest.fixture(scope="session")
def notebook_server(bundle: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = _start("notebook", tmp_path_factory.mktemp("notebook7"))
    yield server
    _stop(server)


# ------------------------------------------------------------------------------------------- the page


class Deadline:
    """The test's overall time limit; every wait gets the smaller of its own and what is left."""

    def __init__(self, seconds: float) -> None:
        self.end = time.monotonic() + seconds

    def ms(self, step: float = STEP_S) -> float:
        left = self.end - time.monotonic()
        if left <= 0:
            raise TimeoutError("the test ran over its total time limit")
        return 1000 * min(step, left)


_RUN_CELL_JS = """
async ([code, limitMs]) => {
  const withTimer = (promise, what) => Promise.race([
    promise,
    new Promise((_, reject) => setTimeout(() => reject(new Error("timed out: " + what)), limitMs)),
  ]);
  const app = window.jupyterapp;
  const panel = app.shell.currentWidget;
  const notebook = panel.content;
  const model = notebook.model;
  const index = model.cells.length;
  model.sharedModel.insertCell(index, { cell_type: "code", source: code });
  notebook.activeCellIndex = index;
  const cell = notebook.widgets[index];
  await withTimer(app.commands.execute("notebook:run-cell"), "notebook:run-cell");
  const start = Date.now();
  while (cell.model.executionCount === null) {
    if (Date.now() - start > limitMs) throw new Error("timed out: the cell did not finish");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const root = document.querySelector(".image-widget");
  return {
    outputs: cell.model.outputs.toJSON(),
    state: root ? root.dataset.state : null,
  };
}
"""

@dataclass
class NotebookPage:
    """A notebook open in the browser, with helpers that each wait with a bounded timer."""

    page: Page
    server: Server
    name: str
    deadline: Deadline
    page_errors: list[str] = field(default_factory=list)
    emulator: str = ""

    @property
    def widget(self) -> Locator:
        return self.page.locator(".image-widget[data-ready='1']").first

    def open(self) -> None:
        path = "lab/tree" if self.server.kind == "lab" else "notebooks"
        self.page.goto(f"{self.server.url}/{path}/{self.name}?token={self.server.token}&reset",
                       timeout=self.deadline.ms())
        self.page.wait_for_function("() => !!window.jupyterapp", timeout=self.deadline.ms())
        self.page.evaluate(OPEN_JS, self.deadline.ms())
        self.page.wait_for_function(KERNEL_IDLE_JS, timeout=self.deadline.ms(60))

    def run_all(self) -> None:
        self.page.evaluate(
            """async (limitMs) => await Promise.race([
                 window.jupyterapp.commands.execute("notebook:run-all-cells"),
                 new Promise((_, reject) => setTimeout(() => reject(new Error("timed out: run-all")), limitMs)),
               ])""",
            self.deadline.ms(),
        )

    def cell_output(self, index: int) -> str:
        """Wait for cell `index` to have run, then return its text output."""
        self.page.wait_for_function(
            """(i) => {
                 const cell = window.jupyterapp.shell.currentWidget.content.widgets[i];
                 return !!cell && cell.model.executionCount !== null && cell.model.outputs.length > 0;
               }""",
            arg=index, timeout=self.deadline.ms(),
        )
        outputs = self.page.evaluate(
            "(i) => window.jupyterapp.shell.currentWidget.content.widgets[i].model.outputs.toJSON()", index)
        return output_text(outputs)

    def run_cell(self, code: str) -> tuple[str, str | None]:
        """Append a code cell, run it, wait for it; (its text output, the widget's data-state then)."""
        result = self.page.evaluate(_RUN_CELL_JS, [code, self.deadline.ms()])
        return output_text(result["outputs"]), result["state"]

    def wait_state(self, *states: str, step: float = STEP_S) -> str:
        """Wait until the widget's root `data-state` is one of `states`; return it."""
        handle = self.page.wait_for_function(
            """(states) => {
                 const root = document.querySelector(".image-widget[data-ready='1']");
                 return root && states.includes(root.dataset.state) ? root.dataset.state : false;
               }""",
            arg=list(states), timeout=self.deadline.ms(step), polling="raf",
        )
        return str(handle.json_value())

    def finish(self) -> str:
        """Wait for the run to end; the final state, with the banner's text when it failed."""
        final = self.wait_state("done", "error", "cancelled")
        if final == "error":
            banner = self.widget.locator("[data-role='banner']")
            return f"error: {banner.text_content(timeout=self.deadline.ms())}"
        return final

    def attr(self, name: str) -> str | None:
        return self.widget.get_attribute(name, timeout=self.deadline.ms())

    # ------------------------------------------------------------------ the kernel's emulator

    def control(self, path: str, body: Any) -> Any:
        """POST to the kernel's emulator control endpoint (e.g. /_emulator/config)."""
        assert self.emulator, "the emulator URL was not read yet"
        request = urllib.request.Request(f"{self.emulator}{path}", data=json.dumps(body).encode(),
                                         method="POST", headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            text = response.read().decode()
        return json.loads(text) if text else None

    def hold(self) -> None:
        """Images requests stay in flight on the kernel's emulator until `release` (support/held.py)."""
        self.control("/_emulator/config", {"latency_s": HOLD_S})

    def release(self) -> None:
        """End the held requests: reset the emulator until none is in flight (support/held.py says why
        once may not be enough); its configuration is back to the default."""
        assert self.emulator, "the emulator URL was not read yet"

        def released() -> bool:
            self.control("/_emulator/reset", {})
            with urllib.request.urlopen(f"{self.emulator}/_emulator/health", timeout=10) as response:
                return json.loads(response.read())["in_flight"] == 0

        waiting.wait_until(released, "the held requests to end", RELEASE_S, interval=0.05)


SETUP_CELLS = [
    "import image_widget as iw\n"
    "from image_widget import ImageWidget\n"
    "from image_widget.emulator import shared_emulator\n"
    "w = ImageWidget(folder={folder!r})\n"
    "w",
    'print("EMULATOR", shared_emulator().origin)',
]


def _open_widget_notebook(page: Page, server: Server, request: pytest.FixtureRequest) -> Iterator[NotebookPage]:
    deadline = Deadline(TEST_LIMIT_S)
    name = f"{request.node.name.replace('[', '_').replace(']', '_')}.ipynb"
    folder = server.root / "out" / name.removesuffix(".ipynb")
    write_notebook(server.root, name, [c.format(folder=str(folder)) for c in SETUP_CELLS])
    nb = NotebookPage(page, server, name, deadline)
    page.on("pageerror", lambda exc: nb.page_errors.append(str(exc)))
    try:
        nb.open()
        nb.run_all()
        nb.widget.wait_for(state="visible", timeout=deadline.ms())
        printed = nb.cell_output(1)
        assert printed.startswith("EMULATOR "), printed
        nb.emulator = printed.split()[1]
        yield nb
        errors = [e for e in nb.page_errors if not any(s in e for s in NOTEBOOK7_PAGE_ERRORS)]
        assert not errors, f"page errors: {errors}"
    except Exception:
        print(f"--- jupyter {server.kind} log (tail) ---\n{server.log_tail()}")
        raise
    finally:
        server.shutdown_sessions(name)


@pytest.fixture
def lab(page: Page, lab_server: Server, request: pytest.FixtureRequest) -> Iterator[NotebookPage]:
    """A fresh notebook in JupyterLab, all cells run: `w` is displayed and the emulator URL read."""
    yield from _open_widget_notebook(page, lab_server, request)


@pytest.fixture
def notebook7(page: Page, notebook_server: Server, request: pytest.FixtureRequest) -> Iterator[NotebookPage]:
    """The same in Notebook 7 (`/notebooks/NAME.ipynb`)."""
    yield from _open_widget_notebook(page, notebook_server, request)


@pytest.fixture
def open_saved(page: Page, lab_server: Server) -> Iterator[Any]:
    """Open a notebook already in the server's root as a person reopens a saved one: no cell is run."""
    opened: list[str] = []

    def open_one(name: str) -> NotebookPage:
        nb = NotebookPage(page, lab_server, name, Deadline(TEST_LIMIT_S))
        opened.append(name)
        nb.open()
        return nb

    yield open_one
    for name in opened:
        lab_server.shutdown_sessions(name)
