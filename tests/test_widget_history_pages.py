"""The widget's history strip on the index: the newest page at open, the next page on `history_more`, a
search on `history_search` — holding the pages asked for, never the folder — and the shared live gallery:
runs another process saves appear while a view is shown, and polling stops when no view is.

The page is stood in for by its commands (`view`, `history_more`, `history_search`) sent straight to the
handler; background loads are awaited with bounded waits on the traits they write.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from image_widget.emulator import Emulator
from image_widget.store import History, Store
from image_widget.store import scan as scan_mod
from image_widget.widget import ImageWidget, live, presence, thumbs
from image_widget.widget.payloads import HISTORY_RUNS
from support import waiting
from support.gallery import images_of, make_runs, newest, prompt_of
from support.images import png

KEY = "sk-test-GALLERY0123456789"
WAIT_S = 30.0
RUNS = 100  # runs in the folder: three pages and a bit
PNG = png((8, 8))


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return make_runs(tmp_path / "out", RUNS)


@pytest.fixture
def make_widget(emulator: Emulator) -> Iterator[Callable[[Path], ImageWidget]]:
    made: list[ImageWidget] = []

    def make(folder: Path) -> ImageWidget:
        w = ImageWidget(base_url=emulator.url, api_key=KEY, folder=folder)
        w.comm.send = lambda *_args, **_kwargs: None
        made.append(w)
        return w

    yield make
    for w in made:
        w.close()


def send(w: ImageWidget, content: dict[str, Any]) -> None:
    w._handle_custom_msg(content, [])


def shown_prompts(w: ImageWidget) -> list[str]:
    return [run["prompt"] for run in w.get_state("history")["history"]]


def settled(w: ImageWidget, runs: int) -> Callable[[], bool]:
    return lambda: len(w.history.shown) == runs and not w.history_state["loading"]


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """How many thumbnails were made and how often the folder was scanned (instead of the index asked)."""
    counts = {"thumbs": 0, "scans": 0}
    real_thumb, real_scan = thumbs.history_thumb, scan_mod.read_folder

    def thumb(stored: Any) -> bytes:
        counts["thumbs"] += 1
        return real_thumb(stored)

    def scan(*args: Any) -> Any:
        counts["scans"] += 1
        return real_scan(*args)

    monkeypatch.setattr(thumbs, "history_thumb", thumb)
    monkeypatch.setattr(scan_mod, "read_folder", scan)
    return counts


def images_in(w: ImageWidget) -> int:
    return sum(len(run["items"]) for run in w.history.shown)


# ------------------------------------------------------------------------------------------- pages


def test_the_widget_opens_with_the_newest_page_only(folder: Path, make_widget: Callable[[Path], ImageWidget],
                                                     counted: dict[str, int]) -> None:
    w = make_widget(folder)
    assert w._history_ready.wait(WAIT_S)
    from_index = [run.record["prompt"] for run in History(folder).runs(HISTORY_RUNS)]
    assert shown_prompts(w) == from_index == newest(RUNS, HISTORY_RUNS)
    assert w.history_state == {"query": "", "more": True, "loading": False}
    assert all(item["thumb"] for run in w.get_state("history")["history"] for item in run["items"])
    assert counted == {"thumbs": images_in(w), "scans": 0}  # one page of thumbnails, the index not rebuilt
    assert len(w.history) == sum(images_of(i) for i in range(RUNS))  # still the whole folder in Python


def test_history_more_brings_the_next_page_and_holds_only_the_pages_asked_for(
        folder: Path, make_widget: Callable[[Path], ImageWidget], counted: dict[str, int]) -> None:
    w = make_widget(folder)
    assert w._history_ready.wait(WAIT_S)
    for pages in (2, 3):
        send(w, {"type": "history_more"})
        waiting.wait_until(settled(w, pages * HISTORY_RUNS), f"page {pages}", WAIT_S)
        assert shown_prompts(w) == newest(RUNS, pages * HISTORY_RUNS)
        assert w.history_state["more"] is True
        assert counted["thumbs"] == images_in(w)  # each page's thumbnails once, nothing beyond the pages
    assert len(w.history.shown) < RUNS
    send(w, {"type": "history_more"})  # the last, short page: nothing older is left
    waiting.wait_until(settled(w, RUNS), "the last page", WAIT_S)
    assert w.history_state == {"query": "", "more": False, "loading": False}
    assert shown_prompts(w)[-1] == prompt_of(0)
    send(w, {"type": "history_more"})  # nothing more to ask for: no load starts
    assert w.history_state["loading"] is False
    assert counted["scans"] == 0


def test_history_search_filters_by_prompt_pages_and_clears_back_to_the_newest(
        folder: Path, make_widget: Callable[[Path], ImageWidget]) -> None:
    w = make_widget(folder)
    assert w._history_ready.wait(WAIT_S)
    foxes = newest(RUNS, RUNS, lambda i: i % 3 == 0)  # 34 runs: a page and a bit
    send(w, {"type": "history_search", "query": "  fox "})
    waiting.wait_until(lambda: w.history.query == "fox" and not w.history_state["loading"], "the search", WAIT_S)
    assert shown_prompts(w) == foxes[:HISTORY_RUNS]
    assert w.history_state == {"query": "fox", "more": True, "loading": False}
    send(w, {"type": "history_more"})  # the next page of the same search
    waiting.wait_until(settled(w, len(foxes)), "the second page of the search", WAIT_S)
    assert shown_prompts(w) == foxes
    assert w.history_state["more"] is False

    send(w, {"type": "history_search", "query": "zebra"})
    waiting.wait_until(settled(w, 0), "a search nothing matches", WAIT_S)
    assert w.history_state == {"query": "zebra", "more": False, "loading": False}

    send(w, {"type": "history_search", "query": ""})
    waiting.wait_until(lambda: w.history.query == "" and settled(w, HISTORY_RUNS)(), "the newest page", WAIT_S)
    assert shown_prompts(w) == newest(RUNS, HISTORY_RUNS)
    assert w.history_state == {"query": "", "more": True, "loading": False}


def test_the_latest_search_wins(folder: Path, make_widget: Callable[[Path], ImageWidget]) -> None:
    w = make_widget(folder)
    for query in ("fox", "owl #9", "owl #1"):  # sent faster than any of them loads
        send(w, {"type": "history_search", "query": query})
    waiting.wait_until(lambda: w.history.query == "owl #1" and not w.history_state["loading"], "the search", WAIT_S)
    assert shown_prompts(w) == newest(RUNS, RUNS, lambda i: i % 3 != 0 and str(i).startswith("1"))


def test_a_run_made_during_a_search_joins_only_when_it_matches(
        folder: Path, make_widget: Callable[[Path], ImageWidget]) -> None:
    w = make_widget(folder)
    send(w, {"type": "history_search", "query": "fox"})
    waiting.wait_until(lambda: w.history.query == "fox" and not w.history_state["loading"], "the search", WAIT_S)
    w.generate("a lighthouse")
    assert "a lighthouse" not in shown_prompts(w)
    w.generate("a fox at sea")
    assert shown_prompts(w)[0] == "a fox at sea"


# ------------------------------------------------------------------------------------------- live gallery


def generate_elsewhere(emulator: Emulator, folder: Path, prompt: str) -> None:
    """Another process (a script, another kernel) generates into the same folder."""
    code = ("import sys, image_widget as iw; "
            "iw.generate(sys.argv[1], base_url=sys.argv[2], api_key=sys.argv[3], store=sys.argv[4])")
    subprocess.run([sys.executable, "-c", code, prompt, emulator.url, KEY, str(folder)], check=True, timeout=120)


def test_runs_another_process_saves_appear_while_a_view_is_shown(
        emulator: Emulator, tmp_path: Path, make_widget: Callable[[Path], ImageWidget]) -> None:
    folder = tmp_path / "shared"
    w = make_widget(folder)
    assert w._history_ready.wait(WAIT_S)
    assert not w._live.polling  # nothing shown yet: nothing polls
    send(w, {"type": "view", "view_id": "view-1", "shown": True})
    assert w._live.polling
    generate_elsewhere(emulator, folder, "a lighthouse from another process")
    waiting.wait_until(lambda: shown_prompts(w)[:1] == ["a lighthouse from another process"],
                       "the other process's run in the history", 10.0)
    run = w.get_state("history")["history"][0]
    assert run["items"]
    assert all(item["thumb"] for item in run["items"])
    assert len(w.history) == 1  # the Python history has it too

    send(w, {"type": "view", "view_id": "view-1", "shown": False})  # the last view went away
    waiting.wait_until(lambda: not w._live.polling, "the poller to stop", 10.0)


def test_a_run_saved_elsewhere_before_the_first_poll_is_not_missed(
        tmp_path: Path, make_widget: Callable[[Path], ImageWidget]) -> None:
    w = make_widget(tmp_path / "early")
    assert w._history_ready.wait(WAIT_S)
    Store(tmp_path / "early").save(PNG, "png", {"prompt": "saved elsewhere first", "model": "gpt-image-2"})
    w.generate("made here later")  # its rows come after the other process's
    assert w._live.poll() == 1
    assert shown_prompts(w) == ["made here later", "saved elsewhere first"]  # by time, newest first


def test_own_runs_are_not_added_twice_and_closing_stops_the_poller(
        tmp_path: Path, make_widget: Callable[[Path], ImageWidget]) -> None:
    w = make_widget(tmp_path / "own")
    assert w._history_ready.wait(WAIT_S)
    send(w, {"type": "view", "view_id": "v", "shown": True})
    w.generate("made here")
    assert w._live.poll() == 0  # the run this kernel added itself is skipped
    assert shown_prompts(w) == ["made here"]
    w.close()
    waiting.wait_until(lambda: not w._live.polling, "the poller to stop at close", 10.0)
    send(w, {"type": "view", "view_id": "v2", "shown": True})  # a closed widget never polls again
    assert not w._live.polling


def test_a_view_that_stops_saying_it_is_shown_stops_the_poller(
        tmp_path: Path, make_widget: Callable[[Path], ImageWidget], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(live, "VIEW_TIMEOUT_S", 0.2)  # a closed browser tab: no cleanup, no more heartbeats
    monkeypatch.setattr(live, "POLL_S", 0.05)
    w = make_widget(tmp_path / "quiet")
    send(w, {"type": "view", "view_id": "tab", "shown": True})
    assert w._live.polling
    waiting.wait_until(lambda: not w._live.polling, "the poller to give up on a silent view", 10.0)
    send(w, {"type": "view", "view_id": "tab", "shown": True})  # the view is back: polling again
    assert w._live.polling


def test_while_searching_only_matching_runs_from_elsewhere_join(
        folder: Path, make_widget: Callable[[Path], ImageWidget]) -> None:
    w = make_widget(folder)
    send(w, {"type": "history_search", "query": "fox"})
    waiting.wait_until(lambda: w.history.query == "fox" and not w.history_state["loading"], "the search", WAIT_S)
    before = shown_prompts(w)
    make_runs_elsewhere = Store(folder)  # another process's store
    for prompt in ("an owl from elsewhere", "a fox from elsewhere"):
        make_runs_elsewhere.save(PNG, "png", {"prompt": prompt, "model": "gpt-image-2"})
    assert w._live.poll() == 1
    assert shown_prompts(w) == ["a fox from elsewhere", *before][:HISTORY_RUNS]
    send(w, {"type": "history_search", "query": ""})  # cleared: the newest page has both
    waiting.wait_until(lambda: w.history.query == "" and settled(w, HISTORY_RUNS)(), "the newest page", WAIT_S)
    assert shown_prompts(w)[:2] == ["a fox from elsewhere", "an owl from elsewhere"]


def test_silence_while_a_cell_runs_is_not_a_view_gone(
        tmp_path: Path, make_widget: Callable[[Path], ImageWidget], monkeypatch: pytest.MonkeyPatch) -> None:
    """A long cell in this kernel (a sweep, a batch) holds the page's heartbeats in the kernel's queue: the
    gallery keeps polling through it, and a view that stays silent once the kernel is idle again is gone."""
    monkeypatch.setattr(live, "VIEW_TIMEOUT_S", 0.2)
    monkeypatch.setattr(live, "POLL_S", 0.02)
    monkeypatch.setattr(presence.CELLS, "idle_since", presence.CELLS.idle_since)  # restored after the test
    monkeypatch.setattr(presence.CELLS, "running", True)  # as IPython's pre_run_cell event sets it
    w = make_widget(tmp_path / "busy")
    polls = {"n": 0}
    real_poll = w._live.poll

    def counted_poll() -> int:
        polls["n"] += 1
        return real_poll()

    monkeypatch.setattr(w._live, "poll", counted_poll)
    send(w, {"type": "view", "view_id": "v", "shown": True})
    waiting.wait_until(lambda: polls["n"] >= 25, "25 polls (well past the view timeout)", 10.0)
    assert w._live.polling
    Store(tmp_path / "busy").save(PNG, "png", {"prompt": "saved during a long cell", "model": "gpt-image-2"})
    waiting.wait_until(lambda: shown_prompts(w)[:1] == ["saved during a long cell"], "the run during the cell", 10.0)
    presence.CELLS._ended()  # post_run_cell: the kernel is idle, the view's heartbeats could come now
    waiting.wait_until(lambda: not w._live.polling, "the poller to stop for a view silent while idle", 10.0)
