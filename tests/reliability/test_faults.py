"""Every fault the emulator can inject, through the public request path (generate / edit, streamed or not).

For each fault the test checks four promises:
* it ends in a clear `APIRequestError` or in a successful retry;
* the number of paid requests (images requests in `emulator.log`) is exactly what the retry policy
  allows — one, plus at most `max_retries` for 429s (refused before any work, never billed) — and never
  more: a 408, 409, 5xx, timeout or dropped connection may have reached the server and is not re-sent;
* every image that arrived whole is on disk with its record, and no temp, empty or half-written file
  is left in the folder;
* the next, ordinary request succeeds (the library, and the widget, stay usable).

The module ends with `faults: N injected, N survived, 0 images lost, 0 duplicate paid requests`.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

import image_widget as iw
from image_widget.base.errors import APIRequestError
from image_widget.base.runtime import run_sync
from image_widget.client.api import Result
from image_widget.client.options import DEFAULT_MAX_RETRIES
from image_widget.emulator import Emulator, Fault
from image_widget.store import History
from support.figures import broken, figure_fixture
from support.held import release
from support.images import png

from .figures import audit_folder

KEY = "sk-test-faults-0123456789abcdef"
FAST = 10  # retry-after-ms on 5xx answers: keeps the SDK's back-off short without changing the policy
SLOW_S = 4.0  # how long a "slow" fault stalls; the client gives up after TIMEOUT_S
TIMEOUT_S = 1.0
MODEL, SIZE = "gpt-image-2", "256x256"  # a custom-size model: small images keep every case fast

faults = figure_fixture(
    "faults",
    lambda c: (f"faults: {c['injected']} injected, {c['survived']} survived, {c['lost']} images lost, "
               f"{c['duplicates']} duplicate paid requests"),
    lambda c: broken(c, lost="images lost", duplicates="duplicate paid requests")
    + ([f"only {c['survived']} of {c['injected']} faults survived"] if c["survived"] != c["injected"] else []),
)


@dataclass(frozen=True)
class Case:
    """One injected fault and what must follow from it."""

    id: str
    faults: tuple[Fault, ...]
    paid: int  # images requests the emulator must see — no more, no fewer
    error: str | None = None  # None: the call succeeds (after retries); else a phrase of the message
    retried: bool = False  # whether the policy allows retries for this failure
    arrived: int | None = None  # images that arrived whole (default: n on success, 0 on error)
    endpoint: str = "generate"
    stream: bool = False
    n: int = 1
    options: dict[str, Any] = field(default_factory=dict)
    note: str | None = None  # a phrase the saved record's `note` must hold
    use_async: bool = False


def status(code: int, **kw: Any) -> Fault:
    return Fault(status=code, retry_after_ms=FAST, **kw) if code >= 500 else Fault(status=code, **kw)


SLOW = Fault(kind="slow", seconds=SLOW_S)
CASES = [
    # -- HTTP errors: a 429 waited out (once by default), all others reported, never sent again
    Case("429-retry-after-then-ok", (Fault.rate_limit(retry_after=0.01),), paid=2, retried=True),
    Case("429-twice", (Fault.rate_limit(retry_after=0.01),) * 2, paid=2, retried=True, error="rate limited"),
    Case("429-retry-after-too-long", (Fault.rate_limit(retry_after=600),), paid=1, error="rate limited"),
    Case("429-max-retries-2", (Fault.rate_limit(retry_after=0.01),) * 2, paid=3, retried=True,
         options={"max_retries": 2}),
    Case("429-max-retries-0", (Fault.rate_limit(retry_after=0.01),), paid=1, error="rate limited",
         options={"max_retries": 0}),
    Case("429-streamed-then-ok", (Fault.rate_limit(retry_after=0.01),), paid=2, retried=True, stream=True),
    Case("429-edit-async-then-ok", (Fault.rate_limit(retry_after=0.01),), paid=2, retried=True, endpoint="edit",
         use_async=True),
    Case("408", (Fault(status=408, retry_after_ms=FAST),), paid=1, error="try again"),
    Case("409", (Fault(status=409, retry_after_ms=FAST),), paid=1, error="try again"),
    Case("500", (status(500),), paid=1, error="the server failed"),
    Case("503", (status(503),), paid=1, error="the server failed"),
    Case("500-should-retry-false", (status(500, should_retry=False),), paid=1, error="the server failed"),
    Case("500-max-retries-2", (status(500),), paid=1, error="the server failed", options={"max_retries": 2}),
    Case("500-streamed", (status(500),), paid=1, error="the server failed", stream=True),
    Case("500-edit", (status(500),), paid=1, error="the server failed", endpoint="edit"),
    Case("503-async", (status(503),), paid=1, error="the server failed", use_async=True),
    Case("400", (Fault(status=400),), paid=1, error="fix the parameter"),
    Case("401", (Fault(status=401),), paid=1, error="OPENAI_API_KEY"),
    Case("403", (Fault.unverified(),), paid=1, error="verification"),
    Case("404", (Fault(status=404),), paid=1, error="model name"),
    Case("422", (Fault(status=422),), paid=1, error="fix the request"),
    Case("400-moderation-blocked", (Fault.moderation_blocked(),), paid=1, error="rephrase the prompt"),
    # -- timeouts
    Case("timeout", (SLOW,), paid=1, error="timed out", options={"timeout": TIMEOUT_S}),
    Case("timeout-edit-max-retries-0", (SLOW,), paid=1, error="timed out", endpoint="edit",
         options={"timeout": TIMEOUT_S, "max_retries": 0}),
    # -- the connection dropped, before the body or mid-stream: the server had the request, so never re-sent
    Case("drop", (Fault(kind="drop"),), paid=1, error="Connection error"),
    Case("drop-edit", (Fault(kind="drop"),), paid=1, error="Connection error", endpoint="edit"),
    Case("drop-mid-stream", (Fault(kind="drop", after=1),), paid=1, error="stream broke", stream=True),
    Case("drop-mid-stream-after-first-image", (Fault(kind="drop", after=2),), paid=1, error="stream broke",
         stream=True, n=2, arrived=1),
    Case("cut-inside-the-last-event", (Fault(kind="cut_last_event"),), paid=1, error="stream broke", stream=True,
         n=2, arrived=1),
    Case("cut-last-event-not-streamed", (Fault(kind="cut_last_event"),), paid=1, error="Connection error"),
    # -- an error event mid-stream (without streaming the emulator answers 500, which is not re-sent)
    Case("error-event-mid-stream", (Fault(kind="error_event"),), paid=1, error="Image generation failed",
         stream=True),
    Case("error-event-after-first-image", (Fault(kind="error_event", after=2),), paid=1,
         error="Image generation failed", stream=True, n=2, arrived=1),
    Case("error-event-mid-stream-edit", (Fault(kind="error_event"),), paid=1, error="Image generation failed",
         stream=True, endpoint="edit"),
    Case("error-event-not-streamed", (Fault(kind="error_event"),), paid=1, error="the server failed"),
    # -- malformed events / bodies: the answer has arrived (200), so retrying would pay twice
    Case("malformed-event", (Fault(kind="malformed_event"),), paid=1, error="malformed", stream=True),
    Case("malformed-event-after-first-image", (Fault(kind="malformed_event", after=2),), paid=1,
         error="malformed", stream=True, n=2, arrived=1),
    Case("malformed-body", (Fault(kind="malformed_event"),), paid=1, error="malformed"),
    Case("malformed-event-async", (Fault(kind="malformed_event"),), paid=1, error="malformed", stream=True,
         use_async=True),
    # -- truncated base64: the emulator cuts every image of the response in half
    Case("truncated-b64-n2", (Fault(kind="truncated_b64"),), paid=1, error="corrupt", n=2),
    Case("truncated-b64-n2-streamed", (Fault(kind="truncated_b64"),), paid=1, error="corrupt", n=2, stream=True),
    Case("truncated-b64-edit", (Fault(kind="truncated_b64"),), paid=1, error="corrupt", endpoint="edit"),
    # -- an image of the wrong size is kept (it was paid for) and the record says so
    Case("wrong-size", (Fault(kind="wrong_size"),), paid=1, options={"size": "256x512"},
         note="asked for 256x512, got 128x256"),
    Case("wrong-size-streamed", (Fault(kind="wrong_size"),), paid=1, stream=True, options={"size": "512x256"},
         note="asked for 512x256, got 256x128"),
    Case("wrong-size-edit", (Fault(kind="wrong_size"),), paid=1, endpoint="edit", options={"size": "256x256"},
         note="asked for 256x256, got 128x128"),
    # -- empty `data` / a stream without a completed event
    Case("empty-data", (Fault(kind="empty_data"),), paid=1, error="no images"),
    Case("empty-data-streamed", (Fault(kind="empty_data"),), paid=1, error="without a final image", stream=True),
    Case("empty-data-edit", (Fault(kind="empty_data"),), paid=1, error="no images", endpoint="edit"),
]


# ------------------------------------------------------------------------------------------- helpers


def paid_requests(emulator: Emulator) -> int:
    """Images requests that reached the emulator (each may be billed by the real API)."""
    return sum(1 for entry in emulator.log if entry.endpoint is not None)




def call(case: Case, emulator: Emulator, folder: Path) -> Result:
    options: dict[str, Any] = {"base_url": emulator.url, "api_key": KEY, "store": folder, "n": case.n,
                               "model": MODEL, "quality": "low", **case.options}
    if case.stream:
        options["partial_images"] = 1
        emulator.configure(partial_interval_s=0.005)
    if case.endpoint == "edit":
        options.setdefault("size", "64x64")
        if case.use_async:
            return run_sync(iw.aedit(png(), "add a red scarf", **options))
        return iw.edit(png(), "add a red scarf", **options)
    options.setdefault("size", SIZE)
    if case.use_async:
        return run_sync(iw.agenerate("a watercolor fox", **options))
    return iw.generate("a watercolor fox", **options)


@pytest.fixture(scope="module")
def _faulty_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    """A server of this module's own: requests stalled by `slow` faults outlive the client's timeout,
    and must not show up as in-flight requests in other modules' tests. One request warms it up, so
    font loading and SDK imports do not count against a case's short timeout."""
    with Emulator() as server:
        iw.generate("warm up", base_url=server.url, api_key=KEY, store=tmp_path_factory.mktemp("warm"),
                    model=MODEL, size=SIZE)
        yield server
        release(server)  # cut short what slow faults still stall: a clean shutdown


@pytest.fixture
def emulator(_faulty_server: Emulator) -> Iterator[Emulator]:
    """This module's server with an empty log, no pending faults and the default configuration."""
    _faulty_server.reset()
    yield _faulty_server
    _faulty_server.reset()


# ------------------------------------------------------------------------------------------- the cases


def test_every_fault_kind_is_covered() -> None:
    """The table exercises every kind the emulator knows, streamed and not, generate and edit."""
    from image_widget.emulator.server import FAULT_KINDS

    kinds = {f.kind for case in CASES for f in case.faults}
    assert kinds == set(FAULT_KINDS)
    assert {c.endpoint for c in CASES} == {"generate", "edit"}
    assert {c.stream for c in CASES} == {True, False}
    assert {c.use_async for c in CASES} == {True, False}


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_fault(case: Case, emulator: Emulator, tmp_path: Path, faults: Counter[str]) -> None:
    faults["injected"] += 1
    folder = tmp_path / "out"
    emulator.inject(*case.faults)
    outcome: Result | APIRequestError
    try:
        outcome = call(case, emulator, folder)
    except APIRequestError as exc:
        outcome = exc

    # 1. paid requests: exactly what the policy allows
    paid = paid_requests(emulator)
    allowed = 1 + int(case.options.get("max_retries", DEFAULT_MAX_RETRIES)) if case.retried else 1
    faults["duplicates"] += max(0, paid - allowed)
    assert paid == case.paid <= allowed, f"{paid} paid requests, the policy allows {allowed}"
    assert emulator.pending_faults == [], "a fault was not consumed"

    # 2. a clear error, or a successful retry
    if case.error is None:
        assert isinstance(outcome, Result), f"expected success, got {outcome!r}"
        assert len(outcome.images) == case.n
    else:
        assert isinstance(outcome, APIRequestError), f"expected an error, got {outcome!r}"
        message = str(outcome)
        assert case.error in message
        assert KEY not in message
        assert " — " in message, "the error should say what to do next"
        client_error = outcome.status is not None and 400 <= outcome.status < 500 and outcome.status != 429
        assert outcome.retry_may_bill is not client_error, "a retry of anything but a refused request may bill"

    # 3. every image that arrived is on disk, whole, and nothing else is
    arrived = case.arrived if case.arrived is not None else (case.n if case.error is None else 0)
    whole, problems = audit_folder(folder)
    faults["lost"] += max(0, arrived - len(whole))
    assert problems == []
    assert len(whole) == arrived
    if isinstance(outcome, Result):
        assert sorted(outcome.paths) == sorted(whole)
        assert [im.size for im in outcome.images] == [Image.open(p).size for p in outcome.paths]
    elif arrived:
        assert "saved in" in str(outcome)
        assert sorted(outcome.saved) == sorted(whole)
        records = [json.loads(p.with_suffix(".json").read_text()) for p in whole]
        assert all(r["count"] == case.n for r in records), "a broken run must not look complete"
        assert History(folder).runs()[0].complete is False
    if case.note is not None:
        notes = [json.loads(p.with_suffix(".json").read_text())["note"] for p in whole]
        assert notes
        assert all(case.note in (n or "") for n in notes)

    # 4. still usable: an ordinary request right after works and pays once
    again = iw.generate("after the fault", base_url=emulator.url, api_key=KEY, store=folder, model=MODEL,
                        size=SIZE)
    assert paid_requests(emulator) == paid + 1
    assert len(again.images) == 1
    assert again.paths[0].is_file()
    assert audit_folder(folder)[1] == []
    faults["survived"] += 1


def test_widget_stays_usable_after_faults(emulator: Emulator, tmp_path: Path, faults: Counter[str]) -> None:
    """The widget shows each failure, keeps nothing half-done, and the next Generate works."""
    from image_widget.widget import ImageWidget

    folder = tmp_path / "widget"
    widget = ImageWidget(base_url=emulator.url, api_key=KEY, folder=folder, prompt="a fox", model=MODEL,
                         size=SIZE)
    try:
        for injected, phrase in [((status(500),), "the server failed"),
                                 ((Fault(kind="empty_data"),), "no images"),
                                 ((Fault(kind="truncated_b64"),), "corrupt")]:
            faults["injected"] += 1
            before = paid_requests(emulator)
            emulator.inject(*injected)
            with pytest.raises(APIRequestError, match=phrase):
                widget.generate()
            assert paid_requests(emulator) - before == len(injected)
            assert phrase in json.dumps(widget.error).lower()
            assert widget.status.get("state") != "running"
            result = widget.generate()
            assert len(result.images) == 1
            assert widget.error in ({}, None) or not widget.error.get("message")
            assert audit_folder(folder)[1] == []
            faults["survived"] += 1
    finally:
        widget.close()
