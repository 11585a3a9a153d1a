"""The widget in JupyterLab Dark and Dark High Contrast (issue 14, item 1), end to end: the issue's own
steps — Background transparent with Format JPEG, Generate — then the contrast of the error banner, the
synthetic badge, the problem and the status text, and axe-core on the whole widget.

The theme is a setting of the session's JupyterLab server: the test switches back to Light at the end.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from support.themes import JP_NAMES, axe, contrast, serious

if TYPE_CHECKING:
    from tests.jupyter.conftest import NotebookPage

pytestmark = pytest.mark.jupyter

MEASURED = {
    "banner title": ".iw-banner-title",
    "banner message": ".iw-banner-message",
    "synthetic badge": '[data-role="synthetic"]',
    "problem": '.iw-problem[data-problem-for="background"]',
    "status": ".iw-state-message",
    "cost": ".iw-cost-item",
}

CHANGE_THEME_JS = """
async ([name, limitMs]) => {
  const app = window.jupyterapp;
  await Promise.race([
    app.commands.execute("apputils:change-theme", { theme: name }),
    new Promise((_, reject) => setTimeout(() => reject(new Error("timed out: change-theme")), limitMs)),
  ]);
  return true;
}
"""


def change_theme(lab: NotebookPage, name: str) -> None:
    lab.page.evaluate(CHANGE_THEME_JS, [name, lab.deadline.ms()])
    lab.page.wait_for_function(
        "(name) => document.body.dataset.jpThemeName === name"
        " && getComputedStyle(document.body).getPropertyValue('--jp-layout-color0').trim() !== ''",
        arg=name, timeout=lab.deadline.ms(),
    )
    lab.page.wait_for_timeout(300)  # the theme's stylesheet replaces the old one; let the page repaint


def test_readable_in_jupyterlab_dark_and_high_contrast(lab: NotebookPage) -> None:
    try:
        change_theme(lab, JP_NAMES["dark"])
        assert lab.page.evaluate("() => getComputedStyle(document.body).getPropertyValue('--jp-layout-color0')"
                                 ".trim()") == "#111"
        lab.widget.locator("select[data-option='background']").select_option("transparent")
        lab.widget.locator("select[data-option='output_format']").select_option("jpeg")
        lab.widget.locator("textarea[data-option='prompt']").fill("a fox in the snow")
        lab.widget.locator("button[data-action='generate']").click(timeout=lab.deadline.ms())
        assert lab.wait_state("error", "done") == "error"
        lab.widget.locator("[data-role='banner']").wait_for(state="visible", timeout=lab.deadline.ms())

        for theme in ("dark", "high-contrast"):
            change_theme(lab, JP_NAMES[theme])
            measured = contrast(lab.page, MEASURED)
            missing = [label for label, found in measured.items() if not found]
            assert not missing, f"{theme}: not visible, so not measured: {missing}"
            low = {label: [(m["ratio"], m["text"]) for m in found or [] if m["ratio"] < 4.5]
                   for label, found in measured.items()}
            assert not any(low.values()), f"{theme}: {low}"
            found = serious(axe(lab.page, ".image-widget[data-ready='1']"))
            assert not found, f"{theme}:\n" + "\n".join(found)
    finally:
        change_theme(lab, JP_NAMES["light"])
