"""What the history strip's cards say made each run (issue 23, item 6): the kernel's side of the payload."""

from __future__ import annotations

import pytest

from image_widget.widget.payloads import call_kind, history_run


@pytest.mark.parametrize(("record", "kind"), [
    ({"call": "generate"}, "generate"),
    ({"call": "edit"}, "edit"),
    ({"call": "expand"}, "expand"),
    ({"call": "vary"}, "variation"),
    ({"endpoint": "variation"}, "variation"),  # a record from before `call` existed
    ({"call": "generate", "from_batch": True}, "batch"),
    ({"call": "refine", "turn": 3}, "turn 3"),
])
def test_call_kind(record: dict[str, object], kind: str) -> None:
    assert call_kind(record) == kind
    assert history_run([{"run_id": "r", **record}], [b""])["call"] == kind
