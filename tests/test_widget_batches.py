"""The widget's `batches` trait: pending batch sweeps of its folder, polled only while a view is shown."""

from __future__ import annotations

from pathlib import Path

import pytest

import image_widget as iw
from image_widget.emulator import Emulator
from image_widget.store import History
from image_widget.widget import ImageWidget, batches
from support.waiting import wait_until


@pytest.fixture
def held(emulator: Emulator, tmp_path: Path) -> iw.BatchSweep:
    emulator.batch_faults(hold_after=1)
    return iw.sweep("a {animal} at dusk", animal=["fox", "owl", "cat"], quality="low", model="gpt-image-2",
                   batch=True, base_url=emulator.url, api_key="sk-test-widget-batches", store=tmp_path)


def _widget(emulator: Emulator, tmp_path: Path) -> ImageWidget:
    return ImageWidget(base_url=emulator.url, api_key="sk-test-widget-batches", folder=tmp_path)


def _batch_calls(emulator: Emulator) -> list[str]:
    return [e.path for e in emulator.log if e.endpoint == "batches" and e.method == "GET"]


def test_pending_batches_are_listed_without_asking_the_server(emulator: Emulator, tmp_path: Path,
                                                              held: iw.BatchSweep) -> None:
    emulator.clear_log()
    w = _widget(emulator, tmp_path)
    try:
        wait_until(lambda: bool(w.batches), "the batches trait", 10)
        (item,) = w.batches
        assert item["template"] == "a {animal} at dusk"
        assert item["total"] == 3
        assert item["run_id"] == held.run_id
        assert item["estimate"].endswith("(Batch API price)")
        assert "sk-test" not in repr(w.batches)
        assert _batch_calls(emulator) == []  # no view shown: nobody asked the server
    finally:
        w.close()


def test_a_shown_view_polls_and_a_finished_batch_is_saved_and_leaves_the_list(
        emulator: Emulator, tmp_path: Path, held: iw.BatchSweep, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(batches, "POLL_S", 0.05)
    w = _widget(emulator, tmp_path)
    try:
        wait_until(lambda: bool(w.batches), "the batches trait", 10)
        w._handle_custom_msg({"type": "batches_view", "view_id": "v1", "shown": True}, [])
        wait_until(lambda: w.batches and w.batches[0]["done"] == 1, "the first line counted", 30)
        emulator.release_batches()
        wait_until(lambda: w.batches == [], "the batch to end and leave the list", 30)
        assert len(History(tmp_path).filter(batch=held.batch_ids[0])) == 3  # saved while the kernel ran
        w._handle_custom_msg({"type": "batches_view", "view_id": "v1", "shown": False}, [])
        wait_until(lambda: w._batches._thread is None, "the poll to stop with no view shown", 10)
    finally:
        w.close()


def test_a_batch_submitted_while_the_widget_is_open_appears_in_it(emulator: Emulator, tmp_path: Path) -> None:
    w = _widget(emulator, tmp_path)
    try:
        emulator.batch_faults(hold_after=0)
        s = iw.sweep("a {k}", k=["x", "y"], quality="low", model="gpt-image-2", batch=True, base_url=emulator.url,
                     api_key="sk-test-widget-batches", store=tmp_path)
        wait_until(lambda: [b["run_id"] for b in w.batches] == [s.run_id], "the new batch in the widget", 10)
    finally:
        w.close()


def test_the_poll_never_submits_a_sweep_whose_submit_failed(emulator: Emulator, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """The money bug: a sweep that failed at create, then re-run by the user, must not be created by a
    widget on that folder — it is listed as not submitted, with how to resume or drop it."""
    import httpx
    import openai
    from openai.resources.batches import AsyncBatches

    async def down(*_: object, **__: object) -> object:
        raise openai.APIConnectionError(request=httpx.Request("POST", f"{emulator.url}/batches"))

    polls: list[bool] = []
    refresh = batches.BatchPoller.refresh
    monkeypatch.setattr(batches.BatchPoller, "refresh",
                        lambda self, *, ask_server: (polls.append(ask_server), refresh(self, ask_server=ask_server)))
    monkeypatch.setattr(batches, "POLL_S", 0.05)
    w = _widget(emulator, tmp_path)
    try:
        with monkeypatch.context() as patch:
            patch.setattr(AsyncBatches, "create", down)
            with pytest.raises(Exception, match="not submitted"):
                iw.sweep("a {k}", k=["x", "y"], quality="low", model="gpt-image-2", batch=True,
                         base_url=emulator.url, api_key="sk-test-widget-batches", store=tmp_path)
        wait_until(lambda: bool(w.batches), "the widget open meanwhile to list the failed sweep", 10)
        w._handle_custom_msg({"type": "batches_view", "view_id": "v1", "shown": True}, [])
        wait_until(lambda: polls.count(True) >= 3, "three polls of the server", 30)
        (item,) = w.batches
        assert item["state"] == "not submitted"
        assert item["hint"] == f"not sent: iw.batches({str(tmp_path)!r})[0].submit() sends it, .discard() drops it"
        assert [e for e in emulator.log if e.method == "POST" and e.path == "/v1/batches"] == []
        iw.batches(tmp_path, base_url=emulator.url, api_key="sk-test-widget-batches")[0].discard()
        wait_until(lambda: w.batches == [], "the discarded sweep to leave the list", 30)
    finally:
        w.close()
