"""History as queries over the folder's index: every filter, paging, sorting, pandas, changes since a row."""

from __future__ import annotations

import io
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from image_widget.store import History, Store
from image_widget.store import scan as scan_mod


def png(width: int = 8, height: int = 8) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(buf, "PNG")
    return buf.getvalue()


# (prompt, model, created, cost, size, call, batch)
ROWS: list[tuple[str, str, str, float | None, tuple[int, int], str, str | None]] = [
    ("A Red FOX in the snow", "gpt-image-2", "2026-10-30T23:59:00+00:00", 0.04, (16, 8), "generate", None),
    ("a blue owl", "gpt-image-1.5", "2026-11-01T08:00:00+00:00", 0.01, (8, 16), "edit", "batch-1"),
    ("red owl, 50% off_sale", "gpt-image-2", "2026-11-02T08:00:00+00:00", None, (8, 8), "vary", "batch-1"),
    ("Straße at night", "gpt-image-2", "2026-11-03T08:00:00+00:00", 0.02, (16, 8), "generate", "batch-2"),
    ('the "quoted" fox', "gpt-image-2", "2026-11-04T08:00:00+00:00", 0.10, (8, 8), "generate", None),
]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    store = Store(tmp_path / "out")
    for i, (prompt, model, created, cost, (w, h), call, batch) in enumerate(ROWS):
        record: dict[str, Any] = {"run_id": f"{i:08x}" * 4, "created": created, "prompt": prompt, "model": model,
                                  "call": call, "cost_usd": cost, "params": {"prompt": prompt, "n": 1}}
        if batch:
            record["batch_id"] = batch
        store.save(png(w, h), "png", record)
    return tmp_path / "out"


def prompts(found: Any) -> list[str]:
    return [img.prompt for img in found]


@pytest.fixture(params=[True, False], ids=["fts5", "scan"])
def history(folder: Path, request: pytest.FixtureRequest) -> History:
    """Each query both through the full-text index and through the fallback scan (SQLite without FTS5)."""
    history = History(folder)
    assert history._index.fts  # this SQLite has FTS5 with the trigram tokenizer
    history._index.fts = request.param
    return history


NEWEST = [r[0] for r in reversed(ROWS)]


def test_prompt_is_a_case_insensitive_substring(history: History) -> None:
    assert prompts(history.filter(prompt="red")) == ["red owl, 50% off_sale", "A Red FOX in the snow"]
    assert prompts(history.filter(prompt="OWL")) == ["red owl, 50% off_sale", "a blue owl"]
    assert prompts(history.filter(prompt="ed o")) == ["red owl, 50% off_sale"]  # spans words, like `in`
    assert prompts(history.filter(prompt="wl")) == ["red owl, 50% off_sale", "a blue owl"]  # short: scanned
    assert prompts(history.filter(prompt="STRASSE")) == ["Straße at night"]  # casefold, as Python's `in`
    assert prompts(history.filter(prompt='"quoted"')) == ['the "quoted" fox']
    assert prompts(history.filter(prompt="50% off_")) == ["red owl, 50% off_sale"]  # no LIKE wildcards
    assert prompts(history.filter(prompt="%")) == ["red owl, 50% off_sale"]
    assert history.filter(prompt="zebra") == []
    assert prompts(history.filter(prompt="")) == NEWEST  # empty means no filter, as before


def test_search_needs_every_word_in_any_order(history: History) -> None:
    assert prompts(history.filter(search="fox red")) == ["A Red FOX in the snow"]
    assert prompts(history.filter(search="  FOX  ")) == ['the "quoted" fox', "A Red FOX in the snow"]
    assert history.filter(search="fox owl") == []


def test_model_dates_cost_size_orientation_call_batch(history: History) -> None:
    assert prompts(history.filter(model="GPT-IMAGE-1.5")) == ["a blue owl"]
    assert prompts(history.filter(since=date(2026, 11, 3))) == NEWEST[:2]
    assert prompts(history.filter(until=date(2026, 11, 1))) == ["a blue owl", "A Red FOX in the snow"]  # whole day
    assert prompts(history.filter(since=datetime(2026, 11, 1, 8), until=datetime(2026, 11, 1, 8, tzinfo=UTC))) == [
        "a blue owl"]  # naive = UTC, bounds inclusive
    assert prompts(history.filter(min_cost=0.02)) == ['the "quoted" fox', "Straße at night", "A Red FOX in the snow"]
    assert prompts(history.filter(max_cost=0.02)) == ["Straße at night", "a blue owl"]  # unknown cost left out
    assert prompts(history.filter(min_cost=0.02, max_cost=0.04)) == ["Straße at night", "A Red FOX in the snow"]
    assert prompts(history.filter(size="16x8")) == ["Straße at night", "A Red FOX in the snow"]
    assert prompts(history.filter(size=(8, 16))) == ["a blue owl"]
    assert prompts(history.filter(orientation="landscape")) == ["Straße at night", "A Red FOX in the snow"]
    assert prompts(history.filter(orientation="portrait")) == ["a blue owl"]
    assert prompts(history.filter(orientation="square")) == ['the "quoted" fox', "red owl, 50% off_sale"]
    assert prompts(history.filter(call="edit")) == ["a blue owl"]
    assert prompts(history.filter(call="vary")) == ["red owl, 50% off_sale"]
    assert prompts(history.filter(batch="batch-1")) == ["red owl, 50% off_sale", "a blue owl"]
    assert history.filter(batch="nope") == []


def test_filters_add_up_and_views_chain(history: History) -> None:
    owls = history.filter(prompt="owl")
    assert isinstance(owls, History)
    assert prompts(owls.filter(model="gpt-image-2")) == ["red owl, 50% off_sale"]
    assert prompts(history.filter(prompt="fox", orientation="landscape", max_cost=0.05)) == ["A Red FOX in the snow"]
    assert len(owls) == 2
    assert len(history) == 5  # the view it came from is unchanged


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"size": "big"}, "size must look like"), ({"size": (1, 2, 3)}, "size must look like"),
    ({"call": "paint"}, "call must be one of"), ({"orientation": "round"}, "orientation must be one of"),
    ({"sort": "random"}, "sort must be one of"),
])
def test_bad_filters_are_refused_at_once(history: History, kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        history.filter(**kwargs)


def test_sorts(history: History) -> None:
    assert prompts(history.filter(sort="newest")) == NEWEST
    assert prompts(history.filter(sort="oldest")) == NEWEST[::-1]
    assert prompts(history.filter(sort="cheapest")) == [
        "a blue owl", "Straße at night", "A Red FOX in the snow", 'the "quoted" fox', "red owl, 50% off_sale"]
    assert prompts(history.filter(sort="prompt")) == [
        "a blue owl", "A Red FOX in the snow", "red owl, 50% off_sale", "Straße at night", 'the "quoted" fox']
    cheapest_owls = history.filter(sort="cheapest").filter(prompt="owl")  # the sort carries over
    assert prompts(cheapest_owls) == ["a blue owl", "red owl, 50% off_sale"]


def test_len_slices_and_pages(history: History) -> None:
    assert len(history) == 5
    assert prompts(history[:2]) == NEWEST[:2]
    assert prompts(history[1:3]) == NEWEST[1:3]
    assert prompts(history[3:]) == NEWEST[3:]
    assert prompts(history[-2:]) == NEWEST[-2:]
    assert prompts(history[::2]) == NEWEST[::2]
    assert prompts(history[::-1]) == NEWEST[::-1]
    assert prompts(history[3:0:-2]) == NEWEST[3:0:-2]
    assert history[10:] == []
    assert history[0].prompt == NEWEST[0]
    assert history[-1].prompt == NEWEST[-1]
    with pytest.raises(IndexError):
        history[5]
    with pytest.raises(IndexError):
        history[-6]
    assert prompts(history.page(0, size=2)) == NEWEST[:2]
    assert prompts(history.page(2, size=2)) == NEWEST[4:]
    assert history.page(3, size=2) == []
    assert prompts(history.filter(sort="cheapest").page(0, size=1)) == ["a blue owl"]
    with pytest.raises(ValueError, match="page"):
        history.page(-1)
    assert history[0] in history
    assert history[0] not in history.filter(prompt="zebra")
    assert history == history.entries
    assert history.entries == list(history)


def test_iteration_reads_in_chunks(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("image_widget.store.history._CHUNK", 2)
    history = History(folder)
    assert prompts(history) == NEWEST
    assert [len(run) for run in history.runs()] == [1] * 5
    assert [run.images[0].prompt for run in history.runs(limit=3)] == NEWEST[:3]


def test_to_pandas(history: History, monkeypatch: pytest.MonkeyPatch) -> None:
    frame = history.filter(sort="cheapest").to_pandas()
    assert list(frame.columns) == ["id", "run_id", "index", "created", "call", "model", "prompt", "width", "height",
                                   "cost_usd", "batch_id", "path", "params", "thread", "turn", "response_id",
                                   "previous_response_id"]
    assert list(frame["prompt"])[:2] == ["a blue owl", "Straße at night"]
    assert str(frame["created"].dt.tz) == "UTC"
    assert frame["created"].iloc[0] == datetime(2026, 11, 1, 8, tzinfo=UTC)
    assert Path(frame["path"].iloc[0]).is_file()
    assert frame["params"].iloc[0] == {"prompt": "a blue owl", "n": 1}
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ImportError, match="needs pandas"):
        history.to_pandas()


def test_changes_since_sees_saves_from_elsewhere(folder: Path) -> None:
    history = History(folder)
    last = history.last_row_id
    assert history.changes_since(last) == ([], last)
    other = Store(folder)  # another instance, as in another process
    other.save(png(), "png", {"prompt": "new fox", "model": "gpt-image-2"})
    other.save(png(), "png", {"prompt": "new owl", "model": "gpt-image-2"})
    new, last2 = history.changes_since(last)
    assert prompts(new) == ["new fox", "new owl"]  # in the order they were indexed
    assert last2 > last
    assert history.changes_since(last2) == ([], last2)
    foxes, last3 = history.filter(prompt="fox").changes_since(last)
    assert prompts(foxes) == ["new fox"]
    assert last3 == last2  # a filtered poller still moves past what it did not want
    assert len(history) == 5  # a snapshot: the new images join it on reload()
    assert len(history.reload()) == 7


def test_runs_after_a_run_follow_on_while_new_runs_arrive_in_front(history: History, folder: Path) -> None:
    first = history.runs(limit=2)
    assert [run.record["prompt"] for run in first] == NEWEST[:2]
    Store(folder).save(png(), "png", {"prompt": "a newer fox", "model": "gpt-image-2"})  # arrives in front
    rest = history.reload().runs(limit=2, after=first[-1].run_id)
    assert [run.record["prompt"] for run in rest] == NEWEST[2:4]
    assert [run.record["prompt"] for run in history.runs(after=rest[-1].run_id)] == NEWEST[4:]
    assert history.runs(after=history.runs()[-1].run_id) == []
    foxes = history.filter(prompt="fox")  # a search pages the same way
    assert [run.record["prompt"] for run in foxes.runs(limit=1, after=foxes.runs(limit=1)[0].run_id)] == [
        'the "quoted" fox']
    with pytest.raises(ValueError, match="after: no run 'nope'"):
        history.runs(after="nope")


def test_changed_runs_are_whole_newest_first_and_bounded(folder: Path) -> None:
    history = History(folder)
    last = history.last_row_id
    assert history.changed_runs(last, 10) == ([], last)
    other = Store(folder)  # another process writes a run of two, one image at a time, then another run
    pair = {"run_id": "r" * 32, "count": 2, "prompt": "fox pair", "created": "2026-11-20T08:00:00+00:00"}
    other.save(png(), "png", {**pair, "index": 0})
    runs, seen = history.changed_runs(last, 10)
    assert [(run.run_id, len(run)) for run in runs] == [("r" * 32, 1)]
    other.save(png(), "png", {**pair, "index": 1})
    other.save(png(), "png", {"run_id": "s" * 32, "prompt": "owl later", "created": "2026-11-21T08:00:00+00:00"})
    runs, seen2 = history.changed_runs(seen, 10)
    assert [(run.record["prompt"], len(run)) for run in runs] == [("owl later", 1), ("fox pair", 2)]  # whole
    assert history.changed_runs(seen, 1)[0][0].record["prompt"] == "owl later"  # the newest `limit` runs
    assert [run.record["prompt"] for run in history.filter(prompt="fox").changed_runs(seen, 10)[0]] == ["fox pair"]
    assert len(history) == 5  # a snapshot: `include` shows what a poller listed
    history.include(seen2)
    assert len(history) == 8


def test_open_reads_no_sidecar_when_the_index_is_current(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scan_mod, "read_folder", lambda *_: pytest.fail("the folder was scanned"))
    history = History(folder)
    assert len(history) == 5
    assert prompts(history.filter(prompt="owl", sort="cheapest")[:1]) == ["a blue owl"]
    assert history.runs(limit=1)[0].complete
    assert Store(folder).lookup("nothing") is None


@pytest.mark.parametrize("poll", ["changes_since", "changed_runs"])
def test_a_save_landing_during_a_poll_is_seen_by_the_next_one(folder: Path, monkeypatch: pytest.MonkeyPatch,
                                                              poll: str) -> None:
    """Another process commits a row while a poll runs: that poll may miss it, but must not skip past it."""
    history = History(folder)
    other = Store(folder)
    newest = History._newest_row
    racing = iter(["racing fox"])

    def newest_then_a_save(self: History) -> int:
        last = newest(self)
        for prompt in racing:  # once: right after the poll read where it stands
            other.save(png(), "png", {"prompt": prompt, "model": "gpt-image-2"})
        return last

    monkeypatch.setattr(History, "_newest_row", newest_then_a_save)

    def polled(since: int) -> tuple[list[str], int]:
        if poll == "changes_since":
            found, last = history.changes_since(since)
            return prompts(found), last
        runs, last = history.changed_runs(since, 10)
        return [run.record["prompt"] for run in runs], last

    first, seen = polled(history.last_row_id)
    second, _ = polled(seen)
    assert first + second == ["racing fox"]
