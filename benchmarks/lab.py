"""A JupyterLab server and Chromium for browser benchmarks and browser security tests.

The same approach as tests/jupyter/conftest.py (and /work/shared/BROWSER-TESTS.md): temp config, data,
runtime, settings and workspace dirs; settings that start the kernel and skip the news; a token;
`/api/status` polled until it answers; the notebook opened with `?reset`; the kernel awaited idle
through `window.jupyterapp`; a timer around every in-page await; and one `Deadline` over the whole job
that every wait takes its share from. Two additions: "Save Widget State Automatically" is on by default
(so a saved notebook holds the widget state, as a user who turned it on would get), and the caller
chooses the server's environment (the security test sets a canary key and a base URL).

    with lab_session(total_s=600) as lab:
        nb = lab.notebook("bench.ipynb", ["from image_widget import ImageWidget\\nw = ImageWidget()\\nw"])
        nb.run_cell("print(1)")
"""

from __future__ import annotations

import contextlib
import json
import shutil
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
sys.path.insert(0, str(ROOT))
from tests.support.chromium import CHROMIUM, CHROMIUM_ARGS, ensure_bundle  # noqa: E402
from tests.support.jupyter_page import KERNEL_IDLE_JS, OPEN_JS, WITH_TIMER_JS, output_text  # noqa: E402
from tests.support.jupyter_server import SERVER_START_S, JupyterServer, start_server, write_notebook  # noqa: E402

VIEWPORT = {"width": 1280, "height": 1600}
STEP_S = 45.0
"""Any single wait, unless the caller asks for more (never more than what is left of the total)."""
HARMLESS_PAGE_ERRORS = ("reading 'schema'",)
WIDGET = ".image-widget[data-ready='1']"


# ------------------------------------------------------------------------------------------- basics


class Deadline:
    """The job's overall time limit; every wait gets the smaller of its own limit and what is left."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.end = time.monotonic() + seconds

    def left(self) -> float:
        return self.end - time.monotonic()

    def s(self, step: float = STEP_S) -> float:
        left = self.left()
        if left <= 0:
            raise TimeoutError(f"over the total time limit of {self.seconds:.0f} s")
        return min(step, left)

    def ms(self, step: float = STEP_S) -> float:
        return 1000 * self.s(step)


def post_json(url: str, body: Any, timeout: float = 10) -> Any:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        text = response.read().decode()
    return json.loads(text) if text else None


# ------------------------------------------------------------------------------------------- server


LabServer = JupyterServer


def start_lab(base: Path, *, env: Mapping[str, str] | None = None, save_widget_state: bool = True,
              timeout: float = SERVER_START_S) -> LabServer:
    """Start `jupyter lab` with everything under `base`; `env` is added to a clean environment.

    OPENAI_API_KEY / OPENAI_BASE_URL / IMAGE_WIDGET_DIR are not inherited, so the kernel uses its own
    emulator unless `env` sets them.
    """
    ensure_bundle()
    return start_server("lab", base, env=env, save_widget_state=save_widget_state, timeout=timeout)


# ------------------------------------------------------------------------------------------- the page

_APPEND_CELL_JS = """
(code) => {
  const notebook = window.jupyterapp.shell.currentWidget.content;
  const index = notebook.model.cells.length;
  notebook.model.sharedModel.insertCell(index, { cell_type: "code", source: code });
  return index;
}
"""

_RUN_CELL_JS = WITH_TIMER_JS + """
async ([index, limitMs]) => {
  const app = window.jupyterapp;
  const notebook = app.shell.currentWidget.content;
  notebook.activeCellIndex = index;
  const cell = notebook.widgets[index];
  await withTimer(app.commands.execute("notebook:run-cell"), "notebook:run-cell", limitMs);
  const start = Date.now();
  while (cell.model.executionCount === null) {
    if (Date.now() - start > limitMs) throw new Error("timed out: the cell did not finish");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return cell.model.outputs.toJSON();
}
"""

_SAVE_JS = WITH_TIMER_JS + """
async (limitMs) => {
  const panel = window.jupyterapp.shell.currentWidget;
  await withTimer(window.jupyterapp.commands.execute("docmanager:save"), "docmanager:save", limitMs);
  const start = Date.now();
  while (panel.context.model.dirty) {
    if (Date.now() - start > limitMs) throw new Error("timed out: the notebook stayed dirty");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return panel.context.path;
}
"""


class CellError(RuntimeError):
    """A cell raised (its text output is the message)."""


@dataclass
class Notebook:
    """One notebook open in a page; every helper waits with a bounded timer."""

    page: Any
    server: LabServer
    name: str
    deadline: Deadline
    page_errors: list[str] = field(default_factory=list)
    emulator: str = ""

    @property
    def path(self) -> Path:
        return self.server.root / self.name

    @property
    def widget(self) -> Any:
        return self.page.locator(WIDGET).first

    def open(self) -> None:
        self.page.on("pageerror", lambda exc: self.page_errors.append(str(exc)))
        self.page.goto(f"{self.server.url}/lab/tree/{self.name}?token={self.server.token}&reset",
                       timeout=self.deadline.ms(60))
        self.page.wait_for_function("() => !!window.jupyterapp", timeout=self.deadline.ms())
        self.page.evaluate(OPEN_JS, self.deadline.ms(60))
        self.wait_kernel_idle(60)

    def wait_kernel_idle(self, step: float = STEP_S) -> None:
        self.page.wait_for_function(KERNEL_IDLE_JS, timeout=self.deadline.ms(step))

    def run_all(self, step: float = STEP_S) -> None:
        ms = self.deadline.ms(step)
        self.page.evaluate(WITH_TIMER_JS + """async (limitMs) => await withTimer(
              window.jupyterapp.commands.execute("notebook:run-all-cells"), "run-all", limitMs)""", ms)

    def cell_output(self, index: int, step: float = STEP_S) -> str:
        """Wait for cell `index` to have run with some output; its text."""
        self.page.wait_for_function(
            """(i) => {
                 const cell = window.jupyterapp.shell.currentWidget.content.widgets[i];
                 return !!cell && cell.model.executionCount !== null && cell.model.outputs.length > 0;
               }""",
            arg=index, timeout=self.deadline.ms(step))
        outputs = self.page.evaluate(
            "(i) => window.jupyterapp.shell.currentWidget.content.widgets[i].model.outputs.toJSON()", index)
        return output_text(outputs)

    def append_cell(self, code: str) -> int:
        """Add a code cell at the end without running it; its index."""
        return int(self.page.evaluate(_APPEND_CELL_JS, code))

    def delete_cell(self, index: int) -> None:
        self.page.evaluate(
            "(i) => window.jupyterapp.shell.currentWidget.content.model.sharedModel.deleteCell(i)", index)

    def run_cell(self, code: str, step: float = STEP_S, check: bool = True) -> str:
        """Append a code cell, run it and wait for it; its text output (CellError if it raised)."""
        index = self.append_cell(code)
        outputs = self.page.evaluate(_RUN_CELL_JS, [index, self.deadline.ms(step)])
        text = output_text(outputs)
        if check and any(o.get("output_type") == "error" for o in outputs):
            raise CellError(f"cell failed: {code[:200]!r}\n{text}")
        return text

    def wait_state(self, *states: str, step: float = STEP_S) -> str:
        """Wait until the widget's root `data-state` is one of `states`; return it."""
        handle = self.page.wait_for_function(
            """([sel, states]) => {
                 const root = document.querySelector(sel);
                 return root && states.includes(root.dataset.state) ? root.dataset.state : false;
               }""",
            arg=[WIDGET, list(states)], timeout=self.deadline.ms(step), polling="raf")
        return str(handle.json_value())

    def click_generate(self, prompt: str | None = None, step: float = 60) -> str:
        """Type `prompt` (if given), click Generate, and wait for *that* run to end; its final state.

        The root's `data-state` changes are recorded in the page from before the click, so the state
        left by an earlier run is never taken for this run's.
        """
        if prompt is not None:
            self.widget.locator("textarea[data-option='prompt']").fill(prompt)
        self.page.evaluate(
            """(sel) => {
                 const root = document.querySelector(sel);
                 window.__iwStates = [];
                 if (window.__iwStateObserver) window.__iwStateObserver.disconnect();
                 window.__iwStateObserver = new MutationObserver(() => window.__iwStates.push(root.dataset.state));
                 window.__iwStateObserver.observe(root, { attributes: true, attributeFilter: ["data-state"] });
               }""", WIDGET)
        self.widget.locator("button[data-action='generate']").click(timeout=self.deadline.ms())
        handle = self.page.wait_for_function(
            """() => {
                 const seen = window.__iwStates;
                 const i = seen.indexOf("running");
                 const end = seen.slice(i + 1).find((s) => ["done", "error", "cancelled"].includes(s));
                 return i >= 0 && end ? end : false;
               }""", timeout=self.deadline.ms(step))
        return str(handle.json_value())

    def save(self, step: float = STEP_S) -> Path:
        """Save through JupyterLab (`docmanager:save`), wait until the model is clean; the file on disk."""
        self.page.evaluate(_SAVE_JS, self.deadline.ms(step))
        return self.path

    def control(self, path: str, body: Any) -> Any:
        """POST to the kernel's emulator control endpoint, e.g. `/_emulator/config`."""
        if not self.emulator:
            raise RuntimeError("the emulator URL was not read from the notebook")
        return post_json(f"{self.emulator}{path}", body)

    def real_page_errors(self) -> list[str]:
        return [e for e in self.page_errors if not any(s in e for s in HARMLESS_PAGE_ERRORS)]

    def close(self) -> None:
        self.server.shutdown_sessions(self.name)


@dataclass
class Lab:
    """A running JupyterLab, a Chromium, and the job's deadline."""

    server: LabServer
    browser: Any
    deadline: Deadline
    base: Path

    def new_page(self) -> tuple[Any, Any]:
        context = self.browser.new_context(viewport=VIEWPORT, device_scale_factor=1)
        context.set_default_timeout(STEP_S * 1000)
        return context, context.new_page()

    def notebook(self, name: str, cells: list[str], *, page: Any = None, emulator_cell: int | None = None,
                 step: float = 90) -> Notebook:
        """Write a notebook, open it (in `page` or a new one), run all cells, wait for the widget.

        `emulator_cell`: the index of a cell printing `EMULATOR <origin>`; its URL becomes `nb.emulator`.
        """
        write_notebook(self.server.root, name, cells)
        if page is None:
            _context, page = self.new_page()
        nb = Notebook(page, self.server, name, self.deadline)  # `step` bounds single waits
        try:
            nb.open()
            nb.run_all(step)
            nb.widget.wait_for(state="visible", timeout=nb.deadline.ms(step))
            if emulator_cell is not None:
                printed = nb.cell_output(emulator_cell, step)
                if not printed.startswith("EMULATOR "):
                    raise RuntimeError(f"the emulator cell printed {printed!r}")
                nb.emulator = printed.split()[1]
            nb.wait_kernel_idle(step)
        except Exception:
            print(f"--- jupyter lab log (tail) ---\n{self.server.log_tail()}", file=sys.stderr)
            nb.close()
            raise
        return nb


def launch_browser(playwright: Any) -> Any:
    """Debian's Chromium (never a downloaded browser)."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)


@contextlib.contextmanager
def lab_session(total_s: float = 900, *, env: Mapping[str, str] | None = None, save_widget_state: bool = True,
                base: Path | None = None, keep: bool = False) -> Iterator[Lab]:
    """JupyterLab + Chromium for one job that may not run longer than `total_s` seconds."""
    from playwright.sync_api import sync_playwright

    deadline = Deadline(total_s)
    owned = base is None
    base = Path(tempfile.mkdtemp(prefix="iw-lab-")) if base is None else base
    server = start_lab(base, env=env, save_widget_state=save_widget_state,
                       timeout=min(SERVER_START_S, deadline.left()))
    try:
        with sync_playwright() as pw:
            browser = launch_browser(pw)
            try:
                yield Lab(server, browser, deadline, base)
            finally:
                browser.close()
    finally:
        server.stop()
        if owned and not keep:
            shutil.rmtree(base, ignore_errors=True)
