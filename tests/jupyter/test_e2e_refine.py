"""The refine box end to end in JupyterLab (issue 20): turns from the page go through the Responses API
(the kernel's emulator), the strip of thumbnails grows, clicking an earlier turn and sending branches from
it, and a new widget on the same folder shows the strip again (it is read from the store)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tests.jupyter.conftest import NotebookPage

pytestmark = pytest.mark.jupyter


def refine(lab: NotebookPage, prompt: str, turns: int) -> None:
    box = lab.widget.locator("[data-role='refine']")
    field = box.locator(".iw-refine-input")
    field.fill(prompt)
    field.press("Enter")  # the keyboard path: Enter submits the form
    lab.page.wait_for_function(  # the strip's newest turn is this one (a branch may keep the count)
        """([n, prompt]) => {
             const box = document.querySelector(".image-widget[data-ready='1'] [data-role='refine']");
             const last = box ? [...box.querySelectorAll(".iw-refine-turn")].pop() : null;
             return box?.dataset.turns === String(n) && !!last && last.title.includes(prompt);
           }""",
        arg=[turns, prompt], timeout=lab.deadline.ms(30),
    )
    assert lab.finish() == "done"


def test_refine_three_turns_then_branch_from_the_first(lab: NotebookPage) -> None:
    refine(lab, "a red fox in snow", 1)
    refine(lab, "make it night", 2)
    strip = lab.widget.locator(".iw-refine-turn")
    assert strip.count() == 2
    assert strip.nth(1).get_attribute("aria-pressed") == "true"  # the latest turn is where the next continues

    strip.nth(0).click()
    lab.page.wait_for_function(
        """() => document.querySelector(".image-widget[data-ready='1'] .iw-refine-turn[data-turn='1']")
                   ?.getAttribute("aria-pressed") === "true" """,
        timeout=lab.deadline.ms(),
    )
    assert "branches from turn 1" in (lab.widget.locator(".iw-refine-where").text_content() or "")
    refine(lab, "make it autumn", 2)  # turn 1 of the first thread, then the branch's own turn 2

    out, _state = lab.run_cell(
        "import json\n"
        "h = iw.History(w.folder).filter(call='refine', sort='oldest')\n"
        "print(json.dumps([{k: s.record.get(k) for k in ('prompt', 'turn', 'thread', 'previous_response_id',"
        " 'response_id', 'thread_parent')} for s in h]))"
    )
    turns = json.loads(out.strip().splitlines()[-1])
    fox, night, autumn = turns
    assert [t["prompt"] for t in turns] == ["a red fox in snow", "make it night", "make it autumn"]
    assert night["previous_response_id"] == fox["response_id"]
    assert autumn["previous_response_id"] == fox["response_id"]
    assert autumn["turn"] == 2
    assert autumn["thread"] != fox["thread"]
    assert autumn["thread_parent"]["thread"] == fox["thread"]

    out, _state = lab.run_cell(
        "w2 = ImageWidget(folder=w.folder)\n"
        "import time\n"
        "deadline = time.monotonic() + 20\n"
        "while not w2.conversation['turns'] and time.monotonic() < deadline: time.sleep(0.05)\n"
        "print([t['turn'] for t in w2.conversation['turns']], w2.conversation['thread'] == "
        f"{autumn['thread']!r})"
    )
    assert out.strip().splitlines()[-1] == "[1, 2] True"  # the branch, with the turn it grew from
