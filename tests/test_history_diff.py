"""History updates as diffs (issue 22, item 1): with 100 or 1,000 runs in the folder, one new run sends one
`history_diff` message holding that run — the same few kilobytes either way — and never the strip again."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from image_widget import ImageWidget
from image_widget.emulator import Emulator
from image_widget.widget.history_diff import diff_runs
from image_widget.widget.serialization import HISTORY_RUNS
from support import waiting
from support.gallery import make_runs

KEY = "sk-test"


def sent_for_one_run(emulator: Emulator, folder: Path) -> tuple[list[dict[str, Any]], list[int]]:
    """(the history_diff messages, the sizes of any whole `history` sends) for one new run in `folder`."""
    w = ImageWidget(base_url=emulator.url, api_key=KEY, folder=folder)
    try:
        waiting.wait_until(lambda: bool(w.history is not None and w.history.shown), "the first page", 30)
        captured: list[tuple[dict[str, Any], list[bytes]]] = []
        w.comm.send = lambda data=None, metadata=None, buffers=None: captured.append(  # type: ignore[method-assign]
            (data or {}, [bytes(b) for b in buffers or []]))
        w.generate("a lighthouse", quality="low")
    finally:
        w.close()
    diffs = [{"content": d["content"], "bytes": len(json.dumps(d["content"])) + sum(len(b) for b in bufs)}
             for d, bufs in captured if d.get("method") == "custom" and d["content"].get("type") == "history_diff"]
    whole = [len(json.dumps(d.get("state", {}).get("history"), default=str)) + sum(len(b) for b in bufs)
             for d, bufs in captured if d.get("method") == "update" and "history" in d.get("state", {})]
    return diffs, whole


def test_one_new_run_sends_a_diff_that_does_not_grow_with_the_folder(emulator: Emulator, tmp_path: Path) -> None:
    sizes = {}
    for runs in (100, 1000):
        diffs, whole = sent_for_one_run(emulator, make_runs(tmp_path / f"out-{runs}", runs))
        assert whole == [], "the strip is not sent again"
        (diff,) = diffs
        (added,) = diff["content"]["added"]
        assert added["index"] == 0
        assert added["run"]["prompt"] == "a lighthouse"
        assert diff["content"]["removed"] == [] or len(diff["content"]["removed"]) == 1
        sizes[runs] = diff["bytes"]
    assert sizes[1000] <= sizes[100] * 1.05 + 64, sizes
    assert sizes[1000] < 16_000, "one run's entry and its thumbnail"


def test_diff_runs() -> None:
    a, b, c = ({"run_id": x, "items": []} for x in "abc")
    grown = {"run_id": "b", "items": [{"id": "b1", "thumb": b""}]}
    assert diff_runs([b, c], [a, grown]) == {"removed": ["c"], "added": [(0, a)], "changed": [(1, grown)]}
    assert diff_runs([a, b], [a, b]) == {"removed": [], "added": [], "changed": []}


def test_a_run_that_pushes_one_off_the_strip_says_older_runs_exist(emulator: Emulator, tmp_path: Path) -> None:
    """The diff replaces the trait's value quietly; `history_state.more` (what lets the page ask for older
    runs) must still turn true when the new run pushes the oldest shown one off the strip."""
    w = ImageWidget(base_url=emulator.url, api_key=KEY, folder=make_runs(tmp_path / "out", HISTORY_RUNS))
    try:
        waiting.wait_until(lambda: bool(w.history is not None and w.history.shown), "the first page", 30)
        assert w.history_state["more"] is False
        w.generate("a lighthouse", quality="low")
        waiting.wait_until(lambda: w.history.shown[0]["prompt"] == "a lighthouse", "the new run in front", 30)
        assert w.history.more is True
        assert w.history_state["more"] is True
    finally:
        w.close()
