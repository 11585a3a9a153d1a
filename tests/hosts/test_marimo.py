"""The widget in marimo (another anywidget host): it renders, and a Generate click brings results back.

JupyterLab and Notebook 7 are covered in tests/jupyter; this shows the front end needs nothing
Jupyter-specific (only get/set/on/off/save_changes/send on the model).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page

from support import processes, waiting

pytestmark = pytest.mark.browser

APP = '''
import marimo

app = marimo.App()


@app.cell
def _():
    import marimo as mo
    from image_widget import ImageWidget

    widget = mo.ui.anywidget(ImageWidget(prompt="a fox in marimo", n=2, size="1024x1024", quality="low",
                                         folder="out"))
    widget
    return


if __name__ == "__main__":
    app.run()
'''
START_S = 60.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def marimo_app(tmp_path: Path, bundle: Path) -> Iterator[tuple[str, Path]]:
    (tmp_path / "app.py").write_text(APP, encoding="utf-8")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("OPENAI_API_KEY", "OPENAI_BASE_URL")}
    env["PYTHONPATH"] = os.pathsep.join([str(Path(__file__).resolve().parents[2] / "src"),
                                         env.get("PYTHONPATH", "")])
    log = (tmp_path / "marimo.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "marimo", "run", "app.py", "--headless", "--host", "127.0.0.1",
                             "--port", str(port), "--no-token"], cwd=tmp_path, env=env, stdout=log,
                            stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"

    def log_text() -> str:
        return (tmp_path / "marimo.log").read_text(errors="replace")

    def started() -> bool:
        if proc.poll() is not None:
            pytest.fail(f"marimo exited with {proc.returncode}: {log_text()}")
        return waiting.answers(url, timeout=2)

    try:
        try:
            waiting.wait_until(started, "marimo to answer", START_S, interval=0.2)
        except AssertionError as exc:
            pytest.fail(f"marimo did not start ({exc}): {log_text()}")
        yield url, tmp_path / "out"
    finally:
        processes.stop(proc)
        log.close()


def test_widget_renders_and_generates_in_marimo(page: Page, marimo_app: tuple[str, Path]) -> None:
    url, out = marimo_app
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(url, timeout=30_000)
    widget = page.locator(".image-widget[data-ready='1']")
    widget.wait_for(timeout=30_000)
    page.get_by_role("button", name="Generate").first.click()
    page.locator(".image-widget[data-results='2']").wait_for(timeout=30_000)
    # the results are shown first; "done" follows once the run's spend and estimate are refreshed
    page.locator(".image-widget[data-state='done']").wait_for(timeout=30_000)
    assert widget.get_attribute("data-state") == "done"
    assert "images are synthetic" in widget.inner_text()
    assert len(list(out.glob("*.png"))) == 2
    assert errors == []
