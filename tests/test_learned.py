"""Estimates learned from the folder's own records, kept per user, and the classroom budget."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import image_widget as iw
from image_widget.base.errors import BudgetError
from image_widget.client import api
from image_widget.emulator import Emulator
from image_widget.money import classroom, learned, user_runs

KEY = "sk-test-learned-0123456789"
MODEL = "gpt-image-2.6-sunburst"


@pytest.fixture
def run(emulator: Emulator, tmp_path: Path) -> dict[str, Any]:
    return {"base_url": emulator.url, "api_key": KEY, "store": tmp_path / "images"}


@pytest.fixture(autouse=True)
def _own_user_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(user_runs.ENV_DIR, str(tmp_path / "user"))
    monkeypatch.setenv(user_runs.ENV_OFF, "1")  # the suite turns it off elsewhere (conftest)
    classroom.reset()


def ask(size: str = "1024x1024", **more: Any) -> dict[str, Any]:
    return {"model": MODEL, "quality": "low", "size": size, **more}


def test_no_runs_says_how_it_is_learned(run: dict[str, Any]) -> None:
    found = learned.estimate(ask(), run["store"])
    assert (found.value, found.origin) == (None, "unknown")
    assert found.text == "unknown — one run of this model teaches it"


def test_after_one_run_the_estimate_is_numeric_and_learned(run: dict[str, Any]) -> None:
    result = api.generate("a fox", **ask(), **run)
    found = learned.estimate(ask(), run["store"])
    assert found.origin == "learned"
    assert found.runs == 1
    assert found.value == pytest.approx(result.cost.usd)
    assert "learned from 1 run" in found.text
    assert found.text.startswith("≈ $")
    assert learned.estimate(ask(n=3), run["store"]).value == pytest.approx(3 * result.cost.usd, rel=0.05)


def test_the_next_run_records_the_learned_estimate(run: dict[str, Any]) -> None:
    api.generate("a fox", **ask(), **run)
    second = api.generate("an owl", **ask(), **run)
    assert "learned from 1 run" in second.estimate.text


def test_a_custom_size_is_scaled_by_area_from_the_nearest_learned_size(run: dict[str, Any]) -> None:
    one = api.generate("a fox", **ask(), **run)
    found = learned.estimate(ask("2048x1024"), run["store"])
    assert found.origin == "scaled"
    assert "at 1024x1024, scaled by pixel area ×2.00" in found.text
    out = one.records[0]["usage"]["output_tokens"]
    assert found.value is not None
    assert found.value > one.cost.usd
    assert found.value == pytest.approx(one.cost.usd + out * 30e-6, rel=0.02)  # output doubled, input the same


def test_emulator_runs_never_inform_a_billed_estimate(run: dict[str, Any]) -> None:
    api.generate("a fox", **ask(), **run)  # a custom base_url: counted as billed
    assert learned.estimate(ask(), run["store"], synthetic=True).origin == "unknown"
    assert learned.estimate(ask(), run["store"], synthetic=False).origin == "learned"


def test_a_new_folder_starts_informed_from_the_user_dir_unless_turned_off(run: dict[str, Any], tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    api.generate("a fox", **ask(), **run)
    fresh = tmp_path / "other"
    found = learned.estimate(ask(), fresh)
    assert found.origin == "user"
    assert "in your other folders" in found.text
    assert learned.estimate(ask(), fresh, user=False).origin == "unknown"
    monkeypatch.setenv(user_runs.ENV_OFF, "0")
    assert learned.estimate(ask(), fresh).origin == "unknown"


def test_published_figures_cite_their_source(run: dict[str, Any]) -> None:
    found = learned.estimate({"model": "gpt-image-1-mini", "quality": "low", "size": "1024x1024"}, run["store"])
    assert found.origin == "published"
    assert "published price: https://developers.openai.com/api/docs/models/gpt-image-1-mini" in found.text


def test_estimates_read_the_index_not_the_sidecars(run: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    api.generate("a fox", **ask(), **run)
    learned.estimate(ask(), run["store"])  # the index is current after this

    def forbidden(*_: object, **__: object) -> None:
        raise AssertionError("an estimate read the folder")

    monkeypatch.setattr("image_widget.store.scan.read_folder", forbidden)
    assert learned.estimate(ask(), run["store"]).origin == "learned"


def test_classroom_budget_refuses_naming_budget_and_what_is_left(emulator: Emulator, run: dict[str, Any],
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    first = api.generate("a fox", **ask(), **run)
    classroom.reset()
    classroom.charge(first.cost.usd)
    monkeypatch.setenv(classroom.ENV_VAR, f"{first.cost.usd * 1.5:.6f}")
    before = len(emulator.log)
    with pytest.raises(BudgetError) as caught:
        api.generate("an owl", **ask(), **run)
    message = str(caught.value)
    assert f"{classroom.ENV_VAR}=$" in message
    assert "spent" in message
    assert "left" in message
    assert "nothing was sent" in message
    assert len(emulator.log) == before
    assert first.records[0]["session"] == classroom.SESSION_ID


def test_classroom_budget_refuses_an_unknown_cost_and_says_how_to_teach_it(run: dict[str, Any],
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(classroom.ENV_VAR, "5")
    with pytest.raises(BudgetError, match="run one request of this model first"):
        api.generate("a fox", **ask(), **run)


def test_a_bad_budget_value_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(classroom.ENV_VAR, "lots")
    with pytest.raises(ValueError, match="IMAGE_WIDGET_BUDGET_USD='lots' must be an amount in USD"):
        classroom.budget_usd()


def test_a_budget_on_an_unknown_estimate_learns_from_one_run_only_when_asked(emulator: Emulator,
                                                                             run: dict[str, Any]) -> None:
    from image_widget.sweeps import run as sweeps

    with pytest.raises(BudgetError, match="learn=True"):
        sweeps.sweep("a {animal}", animal=["fox", "owl", "cat"], **ask(), max_cost=1.0, progress=False, **run)
    assert sum("/images/" in e.path for e in emulator.log) == 0
    result = sweeps.sweep("a {animal}", animal=["fox", "owl", "cat"], **ask(), max_cost=1.0, learn=True,
                          progress=False, **run)
    assert all(c.ok for c in result.cells)
    assert result.notes[0].startswith("learn=True: ran one cell of gpt-image-2.6-sunburst first")
    assert "spent $" in result.notes[-1]
    assert "on 3 of 3 cells" in result.notes[-1]


def test_a_max_cost_sweep_on_sunburst_runs_and_stops_before_the_budget(emulator: Emulator,
                                                                       run: dict[str, Any]) -> None:
    from image_widget.sweeps import run as sweeps

    for animal in ("newt", "hare", "mole", "crow", "toad"):  # five runs teach a median and a range
        api.generate(f"a {animal}", **ask(), **run)
    taught = learned.estimate(ask(), run["store"])
    assert taught.low is not None
    assert taught.high is not None
    assert taught.low < taught.high
    animals = ["fox", "owl", "cat", "dog", "elk", "bee", "ant", "yak"]
    budget = len(animals) * taught.low * 1.001  # the low end fits (so it runs); the upper end does not (so it stops)
    before = sum("/images/" in e.path for e in emulator.log)
    result = sweeps.sweep("a {animal}", animal=animals, **ask(), max_cost=budget, concurrency=1,
                          progress=False, **run)
    ran = [c for c in result.cells if c.ok]
    skipped = [c for c in result.cells if c.error and c.error.startswith("skipped")]
    spent = sum(c.result.cost.usd or 0.0 for c in ran if c.result is not None)
    assert skipped
    assert len(ran) + len(skipped) == len(animals)
    assert spent <= budget
    assert sum("/images/" in e.path for e in emulator.log) - before == len(ran)
    assert f"skipped {len(skipped)} that would have passed the budget" in result.notes[-1]
    assert "learned" in result.estimate.text


def test_models_show_each_price_source_and_date() -> None:
    from image_widget.client.models import model_rows

    rows = {row.id: row for row in model_rows(None)}
    sunburst, flare = rows["gpt-image-2.6-sunburst"], rows["gpt-image-2.6-flare"]
    assert sunburst.price_source is not None
    assert sunburst.price_source.startswith("OpenAI, https://developers.openai.com/")
    assert sunburst.price_read_on == "2026-11-29"
    assert flare.price_source is not None
    assert flare.price_source.startswith("third-party figure, not OpenAI's page")  # labelled, never passed off
    assert "price read 2026-11-29" in repr(sunburst)


def test_a_batch_budget_uses_the_learned_estimate_at_the_batch_price(run: dict[str, Any]) -> None:
    from image_widget.client.backend import resolve_backend
    from image_widget.sweeps.batch.submit import plan_run

    backend = resolve_backend(base_url=run["base_url"], api_key=KEY)
    with pytest.raises(BudgetError, match="Teach it with one direct run"):
        plan_run("a {animal}", run["store"], backend, max_cost=1.0, animal=["fox", "owl"], **ask())
    one = api.generate("a fox", **ask(), **run)
    planned = plan_run("a {animal}", run["store"], backend, max_cost=1.0, animal=["fox", "owl"], **ask())
    assert "Batch API price; learned" in planned.estimate_text
    assert planned.estimate_usd == pytest.approx(one.cost.usd, rel=0.01)  # two cells at half price
    with pytest.raises(BudgetError, match="over max_cost"):
        plan_run("a {animal}", run["store"], backend, max_cost=(one.cost.usd or 0) * 0.9, animal=["fox", "owl"],
                 **ask())


def test_the_mcp_server_estimates_and_reserves_from_learned_runs(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from image_widget.mcp.session import Session
    from image_widget.mcp.tools import estimate_cost

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    folder = tmp_path / "mcp"
    session = Session.start(str(folder), [], 1.0, working=tmp_path)
    before, _ = estimate_cost(session, ask(), "generate", None)
    assert before["estimate"] == "unknown — one run of this model teaches it"
    for animal in ("fox", "owl", "cat"):
        api.generate(f"a {animal}", **ask(), store=folder)  # the emulator, as the server uses it
    after, _ = estimate_cost(session, ask(), "generate", None)
    taught = learned.estimate(ask(), folder, synthetic=True)
    assert "learned from 3 emulator runs" in after["estimate"]
    assert after["reserved_usd"] >= (taught.high or 0)  # the upper end (plus the prompt, counted pessimistically)
    assert after["within_budget"] is True


def test_the_widget_refuses_past_the_class_budget(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from image_widget.widget import ImageWidget

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.setenv(classroom.ENV_VAR, "0")
    w = ImageWidget(folder=tmp_path / "w", model="gpt-image-2")
    try:
        with pytest.raises(BudgetError, match=r"IMAGE_WIDGET_BUDGET_USD=\$0\.000 for this session"):
            w.generate("a fox")
        assert "$0.000 left" in w.error["message"]  # the page shows the same message
        assert not list((tmp_path / "w").glob("*.png"))
    finally:
        w.close()


def test_the_widget_learns_variation_estimates_from_variation_runs(emulator: Emulator, tmp_path: Path) -> None:
    """Vary and Expand runs are recorded as their own calls: the widget's estimate in those modes reads them."""
    from image_widget import ImageWidget
    from support.images import png

    photo = png((256, 256))
    iw.vary(photo, model="gpt-image-2", size="1024x1024", quality="low", base_url=emulator.url, api_key="sk-test",
            store=tmp_path)
    w = ImageWidget(base_url=emulator.url, api_key="sk-test", folder=tmp_path)
    try:
        w.add_inputs(photo)
        w.options = {**w.options, "mode": "variation", "model": "gpt-image-2", "size": "1024x1024",
                     "quality": "low"}
        assert "learned" in w.cost["estimate_text"]
    finally:
        w.close()


def test_each_run_is_read_once_and_a_deleted_run_no_longer_counts(run: dict[str, Any],
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Every request estimates: the runs it has read before are not parsed again (issue 22, item 3), and what
    is gone from the folder drops out of the estimate."""
    results = [api.generate(f"a fox {i}", **ask(), **run) for i in range(3)]
    assert learned.estimate(ask(), run["store"]).runs == 3
    read: list[object] = []
    real = learned.sample_of
    monkeypatch.setattr(learned, "sample_of", lambda *a: read.append(a) or real(*a))
    assert learned.estimate(ask(), run["store"]).runs == 3
    assert read == []
    api.generate("a fox 3", **ask(), **run)
    assert learned.estimate(ask(), run["store"]).runs == 4
    assert len(read) == 1
    gone = Path(results[0].paths[0])
    gone.unlink()
    gone.with_suffix(".json").unlink()
    assert learned.estimate(ask(), run["store"]).runs == 3


def test_the_user_file_is_parsed_again_only_when_another_process_changed_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    user_runs.remember({"model": MODEL, "call": "generate", "count": 1, "width": 1024, "height": 1024,
                        "params": {"quality": "low", "size": "1024x1024"},
                        "usage": {"input_tokens": 10, "output_tokens": 200}})
    first = user_runs.load(MODEL, "generate", "low", "1024x1024", "png", synthetic=False)
    assert len(first) == 1
    parsed: list[str] = []
    real = user_runs.json.loads
    monkeypatch.setattr(user_runs.json, "loads", lambda text: parsed.append(text) or real(text))
    assert user_runs.load(MODEL, "generate", "low", "1024x1024", "png", synthetic=False) == first
    assert parsed == []
    other = user_runs.path()  # another process appends a run: the next load sees it
    data = real(other.read_text(encoding="utf-8"))
    key = next(iter(data))
    data[key].append([12, 0, 300.0, 1024, 1024])
    other.write_text(user_runs.json.dumps(data) + " ", encoding="utf-8")
    again = user_runs.load(MODEL, "generate", "low", "1024x1024", "png", synthetic=False)
    assert [s.out_each for s in again] == [200.0, 300.0]
    assert len(parsed) == 1


def test_runs_of_other_models_never_push_out_the_runs_an_estimate_reads(run: dict[str, Any],
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(learned, "LIMIT", 3)  # the per-folder bound is 10x LIMIT runs: 30
    for i in range(3):
        api.generate(f"a fox {i}", **ask(), **run)
    for i in range(31):
        api.generate(f"an owl {i}", **{**ask(), "model": "gpt-image-2"}, **run)
    api.generate("a fox 3", **ask(), **run)
    assert learned.estimate(ask(), run["store"]).runs == 3  # the latest 3 of this model, none pushed out


def test_a_same_size_rewrite_by_another_process_is_seen(tmp_path: Path) -> None:
    """Another process replaced the file with one of the same size and time: a new inode says it changed."""
    import json
    import os

    target = user_runs.path()
    target.parent.mkdir(parents=True, exist_ok=True)
    key = f"billed|{MODEL}|generate|low|1024x1024|png"
    target.write_text(json.dumps({key: [[10, 0, 200.0, 1024, 1024]]}), encoding="utf-8")
    def kept() -> list[float]:
        return [s.out_each for s in user_runs.load(MODEL, "generate", "low", "1024x1024", "png", synthetic=False)]

    assert kept() == [200.0]
    before = target.stat()
    other = target.with_name("other.json")
    other.write_text(json.dumps({key: [[10, 0, 300.0, 1024, 1024]]}), encoding="utf-8")
    os.replace(other, target)
    os.utime(target, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert target.stat().st_size == before.st_size
    assert kept() == [300.0]


def test_a_burst_of_runs_rewrites_the_user_file_once_and_load_sees_them_all(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rewriting the file after every run cost ~0.5 ms of CPU a run while the next request decoded."""
    user_runs.settle()  # runs an earlier test left queued are not this test's writes
    monkeypatch.setattr(user_runs, "WRITE_EVERY_S", 3600.0)
    monkeypatch.setattr(user_runs, "_last_write", float("-inf"))
    writes: list[int] = []
    real = user_runs.json.dumps
    monkeypatch.setattr(user_runs.json, "dumps", lambda data, **kw: writes.append(1) or real(data, **kw))

    def run(out: int) -> dict[str, Any]:
        return {"model": MODEL, "call": "generate", "count": 1, "width": 1024, "height": 1024,
                "params": {"quality": "low", "size": "1024x1024"}, "usage": {"input_tokens": 10, "output_tokens": out}}

    user_runs.remember(run(100))  # the first run is written at once
    user_runs.settle()
    assert len(writes) == 1
    for out in (200, 300, 400):
        user_runs.remember(run(out))
    assert len(writes) == 1  # queued, not written
    kept = user_runs.load(MODEL, "generate", "low", "1024x1024", "png", synthetic=False)
    assert [s.out_each for s in kept] == [100.0, 200.0, 300.0, 400.0]
    assert len(writes) == 2  # one write for the three
    on_disk = user_runs.json.loads(user_runs.path().read_text(encoding="utf-8"))
    assert [row[2] for row in on_disk[f"billed|{MODEL}|generate|low|1024x1024|png"]] == [100, 200, 300, 400]
