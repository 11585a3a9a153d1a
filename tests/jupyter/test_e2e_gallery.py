"""One gallery, live, end to end in JupyterLab: a widget is shown, another process generates into its
folder, and the run appears in the widget's history strip in the browser — no re-run, no reload.

The other process is a `Writer`: a function given the folder and a prompt that makes one image there
from outside the notebook's kernel and returns when it is saved. `WRITERS` holds one per kind of
writer; a script with `iw.generate` today, and the MCP server (`image-widget mcp`) can join as another
entry with the same signature.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

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


WRITERS: dict[str, Writer] = {"script": generate_with_a_script}


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
