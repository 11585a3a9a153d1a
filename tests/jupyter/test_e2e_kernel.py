"""A kernel restart in JupyterLab: the widget says plainly that it lost its kernel, how to get it back,
and disables what cannot work (issue 14 item 4). The host is the cause here, so this runs end to end.

The fixture's notebook makes `w = ImageWidget(folder=...)` with no key (the kernel's own emulator).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from support.jupyter_page import KERNEL_IDLE_JS

if TYPE_CHECKING:
    from tests.jupyter.conftest import NotebookPage

pytestmark = pytest.mark.jupyter


def test_after_a_kernel_restart_the_widget_says_it_lost_its_kernel(lab: NotebookPage) -> None:
    page, widget = lab.page, lab.widget
    # It works first: one run, so the status line reads like a live widget.
    widget.locator("textarea[data-option='prompt']").fill("a lighthouse")
    widget.locator("button[data-action='generate']").click(timeout=lab.deadline.ms())
    assert lab.finish() == "done"
    assert widget.locator("[data-role='kernel-lost']").is_hidden()

    # Kernel → Restart, as a person does it: the menu's command, then the dialog's accept button.
    page.evaluate("() => { window.jupyterapp.commands.execute('kernelmenu:restart'); }")
    page.locator(".jp-Dialog .jp-mod-accept").click(timeout=lab.deadline.ms())

    lost = widget.locator("[data-role='kernel-lost']")
    lost.wait_for(state="visible", timeout=lab.deadline.ms())
    text = lost.text_content(timeout=lab.deadline.ms()) or ""
    assert "This widget lost its kernel" in text
    assert "Re-run the cell" in text
    assert lab.attr("data-kernel") == "lost"
    assert widget.locator("button.iw-generate").is_disabled(timeout=lab.deadline.ms())
    assert widget.locator("textarea[data-option='prompt']").is_disabled(timeout=lab.deadline.ms())
    assert widget.locator(".iw-state-message").text_content(timeout=lab.deadline.ms()) == \
        "No kernel — re-run the cell"
    assert widget.locator("[data-action='copy-code']").first.is_enabled(timeout=lab.deadline.ms())

    # Re-running the cell, as the message says, gives a working widget (and the old one stays dead).
    page.wait_for_function(KERNEL_IDLE_JS, timeout=lab.deadline.ms(60))
    folder = lab.server.root / "out" / "after-restart"
    lab.run_cell(f"from image_widget import ImageWidget\nw = ImageWidget(folder={str(folder)!r})\nw")
    fresh = page.locator(".image-widget[data-ready='1']").nth(1)
    fresh.wait_for(state="visible", timeout=lab.deadline.ms())
    assert fresh.get_attribute("data-kernel", timeout=lab.deadline.ms()) is None
    assert fresh.locator("button.iw-generate").is_enabled(timeout=lab.deadline.ms())
    assert fresh.locator("[data-role='kernel-lost']").is_hidden(timeout=lab.deadline.ms())
    assert lab.attr("data-kernel") == "lost"


def test_a_restart_from_elsewhere_is_said_when_generate_gets_no_answer(lab: NotebookPage) -> None:
    """Restarted through the REST API (another tab, a script, JupyterHub culling): ipywidgets tells the page
    nothing, so only the kernel's silence says it (issue 22, item 2)."""
    page, widget = lab.page, lab.widget
    lab.run_cell("w.answer_timeout_ms = 3000")
    kernel_id = page.evaluate("() => window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.id")
    lab.server.api("POST", f"/api/kernels/{kernel_id}/restart")
    page.wait_for_function(KERNEL_IDLE_JS, timeout=lab.deadline.ms(60))
    assert widget.locator("[data-role='kernel-unanswered']").is_hidden()

    widget.locator("textarea[data-option='prompt']").fill("a lighthouse")
    widget.locator("button[data-action='generate']").click(timeout=lab.deadline.ms())
    said = widget.locator("[data-role='kernel-unanswered']")
    said.wait_for(state="visible", timeout=lab.deadline.ms())
    assert "The kernel does not answer — it may have restarted. Re-run this cell." in (said.text_content() or "")
    assert lab.attr("data-kernel") in ("unanswered", "lost")
    assert widget.locator("button.iw-generate").is_disabled(timeout=lab.deadline.ms())
