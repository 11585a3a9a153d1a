"""The classroom app: `voila notebooks/classroom.ipynb` shows the widget and no code, and works with no key.

Voila runs the notebook in its own kernel, which inherits Voila's environment: no OPENAI_* settings here, so
the kernel makes its pictures with the offline emulator and the widget says so. Chromium opens the app, the
widget renders (anywidget's front end through Voila's widget manager), Generate makes an image that is saved
to the folder, and no code cell is in the page.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page

from support import processes, waiting
from support.jupyter_server import free_port

pytestmark = pytest.mark.jupyter

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "notebooks" / "classroom.ipynb"
STEP_MS = 60_000
_NOT_INHERITED = ("OPENAI_API_KEY", "OPENAI_BASE_URL", "IMAGE_WIDGET_DIR", "JUPYTER_PATH")


@pytest.fixture(scope="module")
def voila_app(bundle: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """`voila classroom.ipynb --no-browser` on a free loopback port, as a teacher starts it; (URL, folder)."""
    base = tmp_path_factory.mktemp("voila")
    shutil.copy(APP, base / APP.name)
    out = base / "pictures"
    env = {k: v for k, v in os.environ.items() if k not in _NOT_INHERITED}
    env.update(IMAGE_WIDGET_DIR=str(out), PYTHONUNBUFFERED="1",
               PYTHONPATH=os.pathsep.join([str(ROOT / "src"), *filter(None, [os.environ.get("PYTHONPATH")])]))
    for name in ("JUPYTER_CONFIG_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR"):
        (base / name.lower()).mkdir()
        env[name] = str(base / name.lower())
    port = free_port()
    log = (base / "voila.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "voila", APP.name, "--no-browser", f"--port={port}",
                             "--Voila.ip=127.0.0.1", "--Voila.port_retries=0"],
                            cwd=base, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/"
    try:

        def listening() -> bool:
            assert proc.poll() is None, (base / "voila.log").read_text()[-3000:]
            return waiting.answers(f"{url}api/kernelspecs", timeout=5) or waiting.answers(url, timeout=30)

        waiting.wait_until(listening, "Voila to serve the app", 90, interval=0.2)
        yield url, out
    finally:
        processes.stop(proc, timeout=15)
        log.close()


def test_the_classroom_app_shows_the_widget_without_code_and_generates(voila_app: tuple[str, Path],
                                                                      page: Page) -> None:
    url, out = voila_app
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(url, timeout=STEP_MS)
    widget = page.locator(".image-widget[data-ready='1']").first
    widget.wait_for(state="visible", timeout=STEP_MS)

    body = page.locator("body").inner_text(timeout=STEP_MS)
    assert "Make a picture" in body, "the notebook's text is shown"
    source = "".join(json.loads(APP.read_text())["cells"][1]["source"])
    for line in filter(None, (line.strip() for line in source.splitlines())):
        assert line not in body, f"code is shown: {line!r}"
    assert page.locator(".jp-CodeCell .jp-InputArea, .jp-CodeMirrorEditor, .cm-editor, .highlight").count() == 0, \
        "no code cell input"
    assert "Offline emulator" in widget.inner_text(timeout=STEP_MS), "the widget says its pictures are synthetic"

    widget.locator("textarea[data-option='prompt']").fill("a lighthouse at dusk, watercolor")
    widget.locator("button[data-action='generate']").click(timeout=STEP_MS)
    page.wait_for_function(
        """() => {
             const root = document.querySelector(".image-widget[data-ready='1']");
             const imgs = root ? [...root.querySelectorAll(".iw-result img")] : [];
             return root.dataset.state === "done" && root.dataset.results === "1"
               && imgs.length === 1 && imgs[0].complete && imgs[0].naturalWidth > 0;
           }""",
        timeout=STEP_MS,
    )
    saved = sorted(out.glob("*.json"))
    assert len(saved) == 1, "the picture was saved with its record before it was shown"
    assert json.loads(saved[0].read_text())["prompt"] == "a lighthouse at dusk, watercolor"
    assert not errors, errors
