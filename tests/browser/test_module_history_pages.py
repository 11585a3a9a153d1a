"""The history strip in Chromium: scrolling to its end loads the next page, the search box shows only the
runs whose prompt matches, and emptying it brings the newest runs back.

The page is the real bundle on the fake model; what it sends (`history_more`, `history_search`) is handed
to a real `ImageWidget` over a folder of runs, and the `history` / `history_state` traits that widget
writes are put back into the page — the kernel's half without Jupyter.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from widget_harness import Harness

from image_widget.emulator import Emulator
from image_widget.widget import ImageWidget
from image_widget.widget.payloads import HISTORY_RUNS
from support import waiting
from support.gallery import make_runs, newest

pytestmark = pytest.mark.browser

RUNS = 75
WAIT_S = 30.0
TRAITS = ("history", "history_state")


class Kernel:
    """A real widget standing in for the kernel: messages from the page in, its history traits back out."""

    def __init__(self, harness: Harness, widget: ImageWidget) -> None:
        self.harness, self.widget = harness, widget
        self.handled = 0

    def sync(self) -> None:
        for name in TRAITS:
            self.harness.set_trait(name, self.widget.get_state(name)[name])

    def answer(self, type_: str, settled: Callable[[ImageWidget], bool]) -> None:
        """Hand the page's next history command (which must be a `type_`) to the widget, wait until
        `settled(widget)`, then put its traits back into the page."""
        self.harness.page.wait_for_function(
            "n => window.__h.sent().filter(m => m.content.type.startsWith('history_')).length > n", arg=self.handled)
        asked = [m["content"] for m in self.harness.sent() if m["content"]["type"].startswith("history_")]
        content = asked[self.handled]
        assert content["type"] == type_, content
        self.handled += 1
        self.widget._handle_custom_msg(content, [])
        waiting.wait_until(lambda: settled(self.widget), f"the widget to answer {content}", WAIT_S)
        self.sync()


def shows(runs: int, query: str = "") -> Callable[[ImageWidget], bool]:
    """The widget holds `runs` runs for `query` and is not loading."""
    return lambda w: w.history.query == query and len(w.history.shown) == runs and not w.history_state["loading"]


@pytest.fixture
def kernel(harness: Harness, emulator: Emulator, tmp_path: Path) -> Iterator[Kernel]:
    widget = ImageWidget(base_url=emulator.url, api_key="sk-test-STRIP0123456789",
                         folder=make_runs(tmp_path / "out", RUNS))
    widget.comm.send = lambda *_args, **_kwargs: None
    assert widget._history_ready.wait(WAIT_S)
    harness.mount(history=widget.get_state("history")["history"], history_state=widget.history_state)
    yield Kernel(harness, widget)
    widget.close()


def run_prompts(harness: Harness) -> list[str]:
    return list(harness.page.locator(".iw-history-run .iw-history-prompt").all_inner_texts())


def test_scrolling_to_the_end_of_the_strip_loads_the_next_page(kernel: Kernel) -> None:
    harness = kernel.harness
    assert run_prompts(harness) == newest(RUNS, HISTORY_RUNS)
    assert harness.sent("history_more") == []  # the end is out of view: nothing asked yet
    harness.page.locator(".iw-history-runs").evaluate("el => { el.scrollLeft = el.scrollWidth; }")
    kernel.answer("history_more", shows(2 * HISTORY_RUNS))
    harness.page.wait_for_function(f"() => document.querySelectorAll('.iw-history-run').length === {2 * HISTORY_RUNS}")
    assert run_prompts(harness) == newest(RUNS, 2 * HISTORY_RUNS)
    assert harness.page.locator(".iw-history-strip").get_attribute("data-older") == "1"

    harness.page.locator(".iw-history-runs").evaluate("el => { el.scrollLeft = el.scrollWidth; }")
    kernel.answer("history_more", shows(RUNS))
    harness.page.wait_for_function(f"() => document.querySelectorAll('.iw-history-run').length === {RUNS}")
    assert run_prompts(harness) == newest(RUNS, RUNS)
    assert harness.page.locator(".iw-history-strip").get_attribute("data-older") == "0"
    harness.page.locator(".iw-history-runs").evaluate("el => { el.scrollLeft = 0; el.scrollLeft = el.scrollWidth; }")
    harness.page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")  # scrolled
    assert len(harness.sent("history_more")) == 2  # nothing older: the end of the strip asks no more


def test_the_search_box_shows_only_matching_runs_and_emptying_it_the_newest(kernel: Kernel) -> None:
    harness = kernel.harness
    box = harness.page.get_by_role("searchbox", name="Search the prompts of earlier runs")
    box.fill("fox")
    foxes = newest(RUNS, HISTORY_RUNS, lambda i: i % 3 == 0)
    kernel.answer("history_search", shows(len(foxes), "fox"))
    harness.page.wait_for_function(f"() => document.querySelectorAll('.iw-history-run').length === {len(foxes)}")
    assert run_prompts(harness) == foxes
    assert all("fox" in prompt.lower() for prompt in run_prompts(harness))

    box.fill("zebra")
    kernel.answer("history_search", shows(0, "zebra"))
    status = harness.page.locator(".iw-history-status")
    status.wait_for(state="visible")
    assert status.inner_text() == "No run’s prompt contains “zebra”."
    assert run_prompts(harness) == []

    box.press("Escape")  # clears the box: back to the newest runs
    kernel.answer("history_search", shows(HISTORY_RUNS))
    harness.page.wait_for_function(f"() => document.querySelectorAll('.iw-history-run').length === {HISTORY_RUNS}")
    assert run_prompts(harness) == newest(RUNS, HISTORY_RUNS)
    assert [m["content"]["query"] for m in harness.sent("history_search")] == ["fox", "zebra", ""]
