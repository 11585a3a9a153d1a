"""The cleanup `render` returns leaves nothing behind: handlers, timers, object URLs, listeners."""

from __future__ import annotations

import time

import pytest
from widget_harness import DEFAULT_OPTIONS, Harness

from support.images import jpeg, png

pytestmark = pytest.mark.browser


def test_cleanup_removes_everything(harness: Harness) -> None:
    harness.mount(
        options={**DEFAULT_OPTIONS, "mode": "edit", "prompt": "x"},
        inputs=[{"id": "a", "name": "a.png", "width": 300, "height": 200, "thumb": jpeg((60, 40), (1, 2, 3))}],
        mask_base=png((300, 200)),
        results=[
            {
                "id": "r1",
                "width": 64,
                "height": 64,
                "format": "png",
                "thumb": png((64, 64)),
                "prompt": "x",
                "code": "generate('x')",
            }
        ],
        history=[{"run_id": "h", "prompt": "old", "items": [{"id": "r0", "thumb": png((32, 32))}]}],
        status={"state": "running", "message": "", "job_id": "j", "started_ms": int(time.time() * 1000)},
        preview=png((32, 32)),
    )
    page = harness.page
    page.wait_for_selector('.iw-mask[data-ready="1"]')
    box = page.eval_on_selector(
        ".iw-mask-paint", "c => { const r = c.getBoundingClientRect(); return [r.left, r.top]; }"
    )
    page.mouse.click(box[0] + 50, box[1] + 50)
    harness.wait_sets("mask", 1)
    page.click(".iw-history-run")
    page.click('[data-action="enlarge"]')  # lightbox: one more object URL
    harness.fire({"type": "notice", "level": "info", "message": "hello"})  # a pending timeout
    page.fill(".iw-prompt", "typing")  # a pending debounce timeout

    before = page.evaluate("() => window.__h.instr()")
    assert before["liveUrls"] >= 4
    assert before["timers"] >= 2
    assert page.evaluate("() => window.__h.handlerCount()") > 0

    page.evaluate("() => window.__h.cleanup()")
    after = page.evaluate("() => window.__h.instr()")
    assert page.evaluate("() => window.__h.handlerCount()") == 0, "model.off for every handler"
    assert after["timers"] == 0, "every timeout and interval cleared"
    assert after["liveUrls"] == 0, "every object URL revoked"
    assert after["revoked"] == after["created"]
    assert page.locator(".image-widget").count() == 0
    # the pending prompt edit was written before the handlers went
    assert harness.sets("options")[-1]["prompt"] == "typing"

    # Trait changes and messages after cleanup reach no handler and start no timer.
    sent_before = len(harness.sent())
    harness.set_trait("status", {"state": "running", "message": "", "job_id": "k", "started_ms": 1})
    harness.fire({"type": "notice", "message": "late"})
    assert page.evaluate("() => window.__h.instr().timers") == 0
    assert len(harness.sent()) == sent_before
    assert page.evaluate("() => window.__h.instr().ticksAfterCleanup") == 0


def test_cleanup_detaches_dom_listeners(harness: Harness) -> None:
    harness.mount()
    page = harness.page
    # keep a reference to the root and its prompt, clean up, then press Ctrl+Enter inside it
    page.evaluate("() => { window.__root = document.querySelector('.image-widget'); }")
    page.evaluate("() => window.__h.cleanup()")
    page.evaluate(
        """() => {
            document.body.append(window.__root);
            const t = window.__root.querySelector('textarea');
            t.focus();
            for (const type of ['keydown', 'input', 'change', 'blur'])
                t.dispatchEvent(new KeyboardEvent(type, {key: 'Enter', ctrlKey: true, bubbles: true}));
            window.__root.querySelector('[data-action="generate"]').click();
        }"""
    )
    # only the view's own word to the kernel that it was shown and went (views/live.ts)
    assert [m["content"]["shown"] for m in harness.sent()] == [True, False]
    assert harness.sets("options") == []
