"""A run's images reach the page as soon as the kernel has saved them (issue 22, click → page): the
`results_saved` message carries them full size as base64, the page draws them as `data:` URLs at once, says so
(`results_shown`, which lets the kernel's decodes and thumbnails go on), keeps them when the run's thumbnails
arrive in the `results` trait, and shows thumbnails again for another run's results."""

from __future__ import annotations

import base64

import pytest
from widget_harness import Harness, fake_results

from support.images import png

pytestmark = pytest.mark.browser


def saved_message(ids: list[str], job_id: str = "job-7") -> dict[str, object]:
    items = [{"id": image_id, "width": 64, "height": 48, "format": "png", "prompt": f"prompt {i}",
              "model": "gpt-image-2", "size": "64x48", "quality": "low", "cost_text": "$0.011",
              "mime": "image/png", "b64": base64.b64encode(png((64, 48))).decode("ascii")}
             for i, image_id in enumerate(ids)]
    return {"type": "results_saved", "job_id": job_id, "items": items}


def srcs(harness: Harness) -> list[str]:
    return list(harness.page.evaluate(
        "() => [...document.querySelectorAll('.iw-result img')].map((img) => img.getAttribute('src') || '')"))


def test_saved_images_show_full_size_at_once_and_stay_when_their_thumbnails_arrive(harness: Harness) -> None:
    harness.mount()
    page = harness.page
    harness.set_trait("results", fake_results(2))  # the previous run, as thumbnails
    page.wait_for_selector('.image-widget[data-results="2"]')
    assert all(src.startswith("blob:") for src in srcs(harness))

    harness.fire(saved_message(["img-a", "img-b", "img-c"]))
    page.wait_for_selector('.image-widget[data-results="3"]')
    assert all(src.startswith("data:image/png;base64,") for src in srcs(harness))
    page.wait_for_function("() => [...document.querySelectorAll('.iw-result img')].every((i) => i.naturalWidth === 64)")
    (shown,) = [m["content"] for m in harness.wait_sent("results_shown")]
    assert shown == {"type": "results_shown", "job_id": "job-7"}
    assert page.locator('.iw-result[data-result-id="img-b"] [data-action="copy-code"]').is_disabled()  # no code yet
    page.click('.iw-result[data-result-id="img-b"] [data-action="edit"]')  # the saved image is usable at once
    assert harness.wait_sent("use_as_input")[-1]["content"] == {"type": "use_as_input", "id": "img-b", "role": "edit"}

    thumbs = fake_results(3)
    for item, image_id in zip(thumbs, ["img-a", "img-b", "img-c"], strict=True):
        item["id"] = image_id
    harness.set_trait("results", thumbs)  # the same run's thumbnails: the full images stay
    page.wait_for_selector('.iw-result[data-result-id="img-b"] [data-action="copy-code"]:not([disabled])')
    assert all(src.startswith("data:image/png;base64,") for src in srcs(harness))

    harness.set_trait("results", fake_results(1))  # another run's results: thumbnails again
    page.wait_for_selector('.image-widget[data-results="1"]')
    assert all(src.startswith("blob:") for src in srcs(harness))


def test_a_run_that_ends_without_its_results_brings_the_results_back(harness: Harness) -> None:
    harness.mount()
    page = harness.page
    harness.set_trait("results", fake_results(2))
    page.wait_for_selector('.image-widget[data-results="2"]')
    harness.set_trait("status", {"state": "running", "message": "", "job_id": "job-7", "started_ms": 1})
    harness.fire(saved_message(["img-a"]))
    page.wait_for_selector('.image-widget[data-results="1"]')
    harness.set_trait("status", {"state": "error", "message": "Failed", "job_id": "job-7", "started_ms": 1})
    page.wait_for_selector('.image-widget[data-results="2"]')  # the kernel's results, which never changed
    assert all(src.startswith("blob:") for src in srcs(harness))
