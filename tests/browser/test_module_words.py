"""Words in the right place (issue 23, item 8): what is in preview for which model is said next to
Background, and only while that value is chosen — not as a standing note under the model's options."""

from __future__ import annotations

import pytest
from widget_harness import DEFAULT_OPTIONS, Harness

from image_widget.facts import capabilities

pytestmark = pytest.mark.browser


def test_the_preview_note_is_beside_background_and_only_when_it_applies(harness: Harness) -> None:
    caps = capabilities.describe("gpt-image-2")
    assert caps["note"] == ""
    assert caps["previews"] == {"background": ["transparent"]}
    harness.mount(options={**DEFAULT_OPTIONS, "background": "auto"}, capabilities={**caps})
    page = harness.page
    hint = page.locator('[data-field="background"] [data-role="background-preview"]')
    assert hint.is_hidden()
    assert page.locator('[data-role="model-note"]').is_hidden()
    harness.set_options(background="transparent")
    assert hint.is_visible()
    assert hint.text_content() == "A transparent background is a preview on gpt-image-2."
    harness.set_options(background="opaque")
    assert hint.is_hidden()


def test_models_without_the_preview_say_nothing(harness: Harness) -> None:
    caps = capabilities.describe("gpt-image-2.6-flare")
    assert caps["previews"] == {}
    harness.mount(options={**DEFAULT_OPTIONS, "model": "gpt-image-2.6-flare", "background": "transparent"},
                  capabilities={**caps})
    assert harness.page.locator('[data-role="background-preview"]').is_hidden()


def test_mask_applies_here_is_said_only_in_edit_mode(harness: Harness) -> None:
    from support.images import jpeg

    inputs = [{"id": "a", "name": "fox.png", "width": 64, "height": 64, "thumb": jpeg((32, 32), (200, 100, 40))}]
    harness.mount(options={**DEFAULT_OPTIONS, "mode": "edit"}, inputs=inputs)
    badge = harness.page.locator('[data-input-id="a"] .iw-badge')
    assert badge.text_content() == "mask applies here"
    harness.set_options(mode="generate")
    assert badge.count() == 0, "an edit-only hint is cleared outside Edit"
    harness.set_options(mode="expand")
    assert badge.count() == 0
