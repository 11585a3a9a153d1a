"""The widget as people use it (issue 14): honest values, plain words, uploads that show progress, and a
widget that says when it lost its kernel. Module tests in Chromium with the fake model."""

from __future__ import annotations

import pytest
from widget_harness import Harness, fake_results

pytestmark = pytest.mark.browser


def control(name: str) -> str:
    return f'.iw-compose [data-option="{name}"]'


# ------------------------------------------------------------------------------- item 6: copy code


def test_copy_code_copies_the_runnable_snippet(harness: Harness) -> None:
    snippet = "import image_widget as iw\n\n# the key comes from OPENAI_API_KEY\niw.generate('prompt 0', base_url='http://h/v1')"
    results = fake_results(1)
    results[0]["snippet"] = snippet
    harness.mount(results=results)
    page = harness.page
    page.click('.iw-result[data-result-id="img-0"] [data-action="copy-code"]')
    box = page.locator('.iw-result[data-result-id="img-0"] textarea.iw-code')
    box.wait_for()
    assert box.input_value() == snippet
