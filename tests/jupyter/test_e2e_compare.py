"""Compare view end to end in JupyterLab: two real runs, picked from the gallery and the history.

Uses the `lab` fixture of tests/jupyter/conftest.py: a fresh notebook whose first cell displays
`w = ImageWidget(folder=...)` with no key (the kernel's own emulator answers).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tests.jupyter.conftest import NotebookPage

pytestmark = pytest.mark.jupyter


def _run(lab: NotebookPage, quality: str, runs: int) -> None:
    """Set the quality, press Generate and wait until the run is in the history and done."""
    lab.widget.locator("select[data-option='quality']").select_option(quality, timeout=lab.deadline.ms())
    lab.widget.locator("button[data-action='generate']").click(timeout=lab.deadline.ms())
    lab.page.wait_for_function(
        "(n) => document.querySelectorAll(\".image-widget[data-ready='1'] .iw-history-run\").length >= n",
        arg=runs, timeout=lab.deadline.ms(),
    )
    assert lab.finish() == "done"


def test_compare_two_runs_with_different_quality(lab: NotebookPage) -> None:
    prompt = lab.widget.locator("textarea[data-option='prompt']")
    prompt.fill("a lighthouse at dusk")
    _run(lab, "low", 1)
    _run(lab, "medium", 2)

    # A: the latest result (medium), from the gallery. B: the first run (low), from the history.
    lab.widget.locator(".iw-result .iw-compare-toggle").first.click(timeout=lab.deadline.ms())
    runs = lab.widget.locator(".iw-history-run")
    assert runs.count() == 2
    runs.nth(1).click(timeout=lab.deadline.ms())  # newest first: the low-quality run is second
    older = lab.widget.locator(".iw-history-thumbs .iw-compare-toggle").first
    older.click(timeout=lab.deadline.ms())
    assert older.get_attribute("aria-pressed", timeout=lab.deadline.ms()) == "true"

    panel = lab.widget.locator(".iw-compare[data-full='1']")
    panel.wait_for(state="visible", timeout=lab.deadline.ms())
    assert lab.attr("data-compare") == "open"
    # both full-resolution images decoded in the page
    lab.page.wait_for_function(
        """() => [...document.querySelectorAll(".image-widget .iw-compare-side img")]
                   .every((img) => img.complete && img.naturalWidth === 1024)""",
        timeout=lab.deadline.ms(),
    )
    rows = panel.locator(".iw-compare-diff tbody tr")
    table = [[cell.text_content() for cell in rows.nth(i).locator("th, td").all()] for i in range(rows.count())]
    assert table == [["quality", "medium", "low"]]

    # the slider view works on the real images too
    panel.get_by_role("button", name="A/B slider").click(timeout=lab.deadline.ms())
    panel.get_by_label("A/B position").fill("25", timeout=lab.deadline.ms())
    clip = lab.page.evaluate(
        "() => getComputedStyle(document.querySelector('.image-widget .iw-compare-over')).clipPath")
    assert clip == "inset(0px 75% 0px 0px)"

    panel.get_by_role("button", name="Close compare").click(timeout=lab.deadline.ms())
    lab.widget.locator(".iw-compare").wait_for(state="hidden", timeout=lab.deadline.ms())
    assert lab.attr("data-compare") is None
