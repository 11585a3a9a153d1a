"""Readable in every JupyterLab theme (issue 14, item 1) and no serious axe-core violations.

The page takes the installed JupyterLab's own theme CSS (support/themes.py); a host without JupyterLab's
variables (marimo, VS Code) gets the widget's fallbacks, light or dark by `prefers-color-scheme`.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from widget_harness import DEFAULT_OPTIONS, GPT_IMAGE_2_CAPS, Harness, fake_results

from support.images import jpeg, png
from support.themes import THEMES, apply_theme, axe, contrast, serious

pytestmark = pytest.mark.browser

TEXT_RATIO = 4.5
"""WCAG 2.x AA for normal-size text."""

ERROR = {
    "title": "Request refused",
    "message": "Transparent background needs PNG or WebP output; this run asked for JPEG.",
    "hint": "Pick PNG or WebP as the format, or an opaque background.",
    "code": "invalid_options",
    "status": None,
}
PROBLEMS = {
    "background": "Transparent background needs PNG or WebP — Format is JPEG",
    "svg": "svg options work only with output_format svg",
}
MEASURED = {
    "banner title": ".iw-banner-title",
    "banner message": ".iw-banner-message",
    "banner hint": ".iw-banner-hint",
    "synthetic badge": '[data-role="synthetic"]',
    "problem at a control": ".iw-problem",
    "problem list": ".iw-problems-general li",
    "status": ".iw-state-message",
    "cost": ".iw-cost-item",
    "model note": '[data-role="model-note"]',
    "refine hint": ".iw-refine-where",
    "background preview": '[data-role="background-preview"]',
}


def scene(harness: Harness, state: str = "error") -> None:
    """Everything whose colours the issue names: the banner, the badge, problems and the status line."""
    harness.mount(
        options={**DEFAULT_OPTIONS, "prompt": "a fox", "background": "transparent", "output_format": "jpeg"},
        problems=PROBLEMS,
        error=ERROR,
        status={"state": state, "message": "Not sent: fix the marked options", "job_id": None, "started_ms": None},
        cost={"estimate_text": "unknown", "last_text": "unknown", "session_text": "unknown",
              "estimate_usd": None, "last_usd": None, "session_usd": None},
        capabilities={**GPT_IMAGE_2_CAPS, "lifecycle_message": "model gpt-image-2 shuts down on 2027-06-01"},
        conversation={"thread": "thr_a", "selected": "t1", "turns": [
            {"id": "t1", "turn": 1, "prompt": "a fox", "action": "generate", "thread": "thr_a",
             "thumb": jpeg((64, 64), (200, 120, 60))}]},
    )


def low(measured: dict[str, list[dict[str, Any]] | None]) -> dict[str, list[str]]:
    """The measured texts below 4.5:1, by label (each as 'ratio:1 text')."""
    missing = [label for label, found in measured.items() if not found]
    assert not missing, f"not visible, so not measured: {missing}"
    return {label: [f"{m['ratio']}:1 {m['text']!r}" for m in found or [] if m["ratio"] < TEXT_RATIO]
            for label, found in measured.items() if any(m["ratio"] < TEXT_RATIO for m in found or [])}


@pytest.mark.parametrize("theme", list(THEMES))
def test_text_contrast_in_jupyterlab_themes(harness: Harness, theme: str) -> None:
    apply_theme(harness.page, theme)
    scene(harness)
    assert low(contrast(harness.page, MEASURED)) == {}
    # the status line of a run that went well, too
    harness.set_trait("status", {"state": "done", "message": "1 image in 0.8 s", "job_id": None, "started_ms": None})
    assert low(contrast(harness.page, {"status": ".iw-state-message"})) == {}


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_text_contrast_without_jupyterlab_variables(harness: Harness, scheme: str) -> None:
    """Hosts that define no --jp-* variables: the widget's own fallbacks, by the system's colour scheme."""
    harness.page.emulate_media(color_scheme=scheme)  # type: ignore[arg-type]
    harness.page.add_style_tag(content="body { background: Canvas !important; color-scheme: light dark; }")
    scene(harness)
    assert low(contrast(harness.page, MEASURED)) == {}


def full_scene(harness: Harness) -> None:
    """As much of the widget as can be on screen at once: inputs and mask, a run, results, history,
    a problem, the error banner and a notice."""
    harness.mount(
        options={**DEFAULT_OPTIONS, "mode": "edit", "prompt": "add a red scarf", "n": 2},
        inputs=[{"id": "a", "name": "fox.png", "width": 320, "height": 240, "thumb": jpeg((120, 90), (200, 120, 60))}],
        mask_base=png((320, 240)),
        results=fake_results(2),
        history=[{"run_id": "r1", "prompt": "a fox", "created": "2026-11-20T10:00:00Z", "model": "gpt-image-2",
                  "items": [{"id": "h1", "thumb": jpeg((64, 64), (10, 10, 200))}]}],
        problems={"quality": "quality 'ultra' is not one of low, medium, high, auto"},
        error=ERROR,
        conversation={"thread": "thr_a", "selected": "t1", "turns": [
            {"id": "t1", "turn": 1, "prompt": "a fox", "action": "generate", "thread": "thr_a",
             "thumb": jpeg((64, 64), (200, 120, 60))},
            {"id": "t2", "turn": 2, "prompt": "make it night", "action": "edit", "thread": "thr_a",
             "thumb": jpeg((64, 64), (20, 20, 60))}]},
        status={"state": "running", "message": "Making 2 images…", "job_id": "j",
                "started_ms": int(time.time() * 1000)},
    )
    page = harness.page
    page.wait_for_selector('.iw-mask[data-ready="1"]')
    page.click('.iw-history-run[data-run-id="r1"]')
    harness.fire({"type": "notice", "level": "warning", "message": "A generation is already running"})
    page.wait_for_selector(".iw-notice")


@pytest.mark.parametrize("theme", list(THEMES))
def test_axe_finds_no_serious_violations(harness: Harness, theme: str) -> None:
    apply_theme(harness.page, theme)
    full_scene(harness)
    found = serious(axe(harness.page))
    assert not found, "\n".join(found)
    # the compare panel, in its slider view
    page = harness.page
    page.click('.iw-result[data-result-id="img-0"] [data-action="compare"]')
    page.click('.iw-result[data-result-id="img-1"] [data-action="compare"]')
    page.wait_for_selector('.image-widget[data-compare="open"]')
    page.click('[data-role="compare"] button[data-mode="slider"]')
    found = serious(axe(harness.page))
    assert not found, "\n".join(found)
