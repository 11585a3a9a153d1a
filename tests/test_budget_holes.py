"""Budgets that a money audit could pass or misreport, and a batch paid twice, against the emulator (the audit's
repros, cut down).

The invariant every budget keeps: what was spent never passes it, and what the user is told about what was sent
is true. Each test here failed on the code before its fix.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

import image_widget as iw
from image_widget.base.errors import APIRequestError, BudgetError
from image_widget.client.backend import resolve_backend
from image_widget.emulator import Emulator, Fault
from image_widget.mcp import tools
from image_widget.mcp.paths import AllowedRoots
from image_widget.mcp.session import Budget, BudgetRefused, Session
from image_widget.money import classroom, user_runs
from image_widget.store import Store
from image_widget.sweeps import run as sweeps
from support.full_disk import full_disk_for
from support.images import png

KEY = "sk-test-budget-holes-0123456789"
UNPRICED = "gpt-image-2.6-sunburst"  # no published output-token count: its cost is learned from runs
PRICED = "gpt-image-2"  # published rates, no published input-image rule ("+ input images")


@pytest.fixture
def run(emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.setenv(user_runs.ENV_DIR, str(tmp_path / "user"))
    classroom.reset()
    return {"base_url": emulator.url, "api_key": KEY, "store": tmp_path / "images"}


def _images_sent(emulator: Emulator) -> int:
    return sum(e.method == "POST" and "/images/" in e.path for e in emulator.log)


def _paid(folder: Path) -> float:
    return sum(json.loads(p.read_text())["cost_usd"] or 0.0 for p in folder.glob("*.json"))


def test_a_teaching_cell_over_the_budget_is_said_and_the_rest_are_skipped(emulator: Emulator,
                                                                          run: dict[str, Any]) -> None:
    """It raised "nothing was sent" after paying for the teaching cell (15x max_cost in the audit)."""
    with pytest.warns(UserWarning, match="not held to max_cost"):
        result = sweeps.sweep("a {a}", a=["fox", "owl", "cat"], model=UNPRICED, quality="high", n=2,
                              max_cost=0.001, learn=True, progress=False, **run)
    assert _images_sent(emulator) == 1
    assert [c.ok for c in result.cells].count(True) == 1
    skipped = [c.error for c in result.cells if not c.ok]
    assert len(skipped) == 2
    assert all("not sent" in (e or "") for e in skipped)
    assert "its price was unknown, so that cell was not held to max_cost=$0.00" in result.notes[0]
    assert not any("nothing was sent" in n for n in result.notes)


@pytest.mark.parametrize(("fault", "counted"), [(Fault(status=500), True), (Fault(status=400), False)],
                         ids=["5xx-may-have-billed", "400-refused"])
def test_a_cell_that_failed_after_sending_keeps_its_reservation(emulator: Emulator, run: dict[str, Any],
                                                                 fault: Fault, counted: bool) -> None:
    """A 5xx or a timeout may have been billed: it counted $0 against max_cost. A refused (4xx) one costs $0."""
    emulator.inject(fault)
    result = sweeps.sweep("a {a}", a=["fox"], model=PRICED, quality="low", size="1024x1024", max_cost=1.0,
                          progress=False, **run)
    assert not result.cells[0].ok
    assert ("spent $0.000 " not in result.notes[-1]) is counted, result.notes[-1]


def test_an_edit_sweep_never_spends_past_max_cost(emulator: Emulator, run: dict[str, Any]) -> None:
    """Edit cells were priced as generations (no input images): max_cost=0.025 spent $0.034 in the audit."""
    photo = png((1536, 1024))
    max_cost = 0.0125  # above two cells' generation estimate, below what two edits cost
    result = sweeps.sweep("a {a} on the table", a=["cup", "pen"], image=photo, model=PRICED, quality="low",
                          size="1024x1024", max_cost=max_cost, progress=False, **run)
    assert _paid(run["store"]) <= max_cost
    assert all("not sent" in (c.error or "") for c in result.cells if not c.ok)


def test_a_batch_edit_sweep_checks_its_input_images_against_max_cost(emulator: Emulator,
                                                                      run: dict[str, Any]) -> None:
    """The batch's check dropped "+ input images": 8 edits of 3 big images paid $0.042 under max_cost=0.025."""
    big = Image.new("RGB", (3000, 3000), (120, 80, 40))
    with pytest.raises(BudgetError, match="with the input images bounded") as caught:
        iw.sweep("a {a} on the table", a=[f"thing{i}" for i in range(8)], image=[big, big.rotate(90)],
                 model=PRICED, quality="low", size="1024x1024", batch=True, max_cost=0.025, **run)
    assert "nothing was uploaded" in str(caught.value)
    assert not [e for e in emulator.log if e.method == "POST"]


async def test_a_learned_edit_estimate_still_bounds_this_requests_inputs(emulator: Emulator, tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """An edit of one small picture taught the estimate; eight big ones then went under a $0.01 cap ($0.018)."""
    work = tmp_path / "work"
    work.mkdir()
    Image.new("RGB", (64, 64), (40, 120, 200)).save(work / "small.png")
    for i in range(4):
        Image.new("RGB", (3000, 3000), (40, 120 + i, 200)).save(work / f"big{i}.png")
    monkeypatch.setenv("OPENAI_BASE_URL", emulator.url)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv(user_runs.ENV_DIR, str(tmp_path / "user"))
    store = Store(work / "store")
    options = {"quality": "low", "size": "1024x1024"}

    def session(limit: float | None) -> Session:
        return Session(store, AllowedRoots.of(work, store.folder), resolve_backend(), Budget(limit))

    taught, _ = await tools.edit(session(None), "a red door", "small.png", None, None, dict(options), False)
    assert "learned" not in str(taught["estimate"])  # the first edit is priced from the table
    capped = session(0.01)
    before = len(emulator.log)
    with pytest.raises(BudgetRefused, match="input image"):
        await tools.edit(capped, "a red door", [f"big{i}.png" for i in range(4)], None, None, dict(options), False)
    assert len(emulator.log) == before
    assert capped.budget.committed == 0.0


def test_the_class_budget_holds_while_sweep_cells_run_side_by_side(emulator: Emulator, run: dict[str, Any],
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Four concurrent cells each passed the check on the same $0 spent: all four ran under a two-cell budget."""
    one = iw.estimate({"model": PRICED, "quality": "low", "size": "1024x1024"}, run["store"]).cost()
    assert one.usd is not None
    monkeypatch.setenv(classroom.ENV_VAR, str(round(one.usd * 2.2, 6)))
    result = sweeps.sweep("a {a}", a=["fox", "owl", "cat", "dog"], model=PRICED, quality="low", size="1024x1024",
                          concurrency=4, progress=False, **run)
    assert [c.ok for c in result.cells].count(True) == 2
    assert _images_sent(emulator) == 2
    assert classroom.spent() <= one.usd * 2.2


def test_a_request_that_may_have_been_billed_counts_against_the_class_budget(emulator: Emulator,
                                                                             run: dict[str, Any],
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(classroom.ENV_VAR, "1")
    emulator.inject(Fault(status=500))
    with pytest.raises(APIRequestError, match="may be billed"):
        iw.generate("a fox", model=PRICED, quality="low", size="1024x1024", **run)
    assert classroom.spent() > 0
    emulator.inject(Fault(status=400))
    before = classroom.spent()
    with pytest.raises(APIRequestError):
        iw.generate("a fox", model=PRICED, quality="low", size="1024x1024", **run)
    assert classroom.spent() == before  # refused before any work: never billed


def test_the_same_batch_sweep_run_twice_pays_once(emulator: Emulator, run: dict[str, Any]) -> None:
    """A notebook cell with `batch=True` run twice created and paid a second, identical batch."""
    asked = {"a": ["fox", "owl"], "model": PRICED, "quality": "low", "size": "1024x1024", "batch": True}
    first = iw.sweep("a {a}", **asked, **run)
    first.wait(progress=False)
    with pytest.warns(UserWarning, match="already made"):
        second = iw.sweep("a {a}", **asked, **run)
    second.wait(progress=False)
    creates = [e for e in emulator.log if e.method == "POST" and e.path.endswith("/batches")]
    assert len(creates) == 1
    assert second.run_id == first.run_id
    assert len(list(run["store"].glob("*.png"))) == 2
    again = iw.sweep("a {a}", **asked, again=True, **run)  # asked for: a new batch
    assert again.run_id != first.run_id
    assert len([e for e in emulator.log if e.method == "POST" and e.path.endswith("/batches")]) == 2
    changed = iw.sweep("a {a}", **{**asked, "a": ["fox", "cat"]}, **run)  # another sweep: its own batch
    assert changed.run_id not in (first.run_id, again.run_id)


def test_a_published_figure_cites_whose_figure_it_is_and_when_it_was_read(tmp_path: Path) -> None:
    """A third party's quote was credited to OpenAI's pricing page (the first word of the row's source)."""
    quoted = iw.estimate({"model": PRICED, "quality": "low", "size": "1024x1024"}, tmp_path)
    assert "third-party price: https://" in quoted.text
    assert "openai.com" not in quoted.text.split("third-party price:")[1]
    assert ", read 20" in quoted.text
    official = iw.estimate({"model": "gpt-image-1-mini", "quality": "low", "size": "1024x1024"}, tmp_path)
    assert "published price: https://developers.openai.com/api/docs/models/gpt-image-1-mini, read 20" in official.text


def test_a_shut_down_model_gets_no_price(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """gpt-image-1.5 was priced after its shutdown, and dall-e-3 said "one run of this model teaches it"."""
    monkeypatch.setenv("IMAGE_WIDGET_TODAY", "2026-12-04")
    for model in ("gpt-image-1.5", "dall-e-3"):
        found = iw.estimate({"model": model, "quality": "low", "size": "1024x1024"}, tmp_path)
        assert found.value is None
        assert "shut down on" in found.text
        assert "teaches" not in found.text


def test_the_widget_estimate_carries_its_source(emulator: Emulator, tmp_path: Path) -> None:
    from image_widget.widget import ImageWidget

    w = ImageWidget(base_url=emulator.url, api_key=KEY, folder=tmp_path, model=PRICED, quality="low",
                    size="1024x1024")
    try:
        assert "price: third-party figure" in w.cost["estimate_note"]
        assert "read 20" in w.cost["estimate_note"]
    finally:
        w.close()


async def test_images_that_arrived_before_a_cancel_are_saved(emulator: Emulator, run: dict[str, Any]) -> None:
    """Cancel during a stream (the widget's Cancel) lost the images that had already completed: paid for, gone."""
    import asyncio

    previews: list[int] = []
    task: asyncio.Task[Any] | None = None

    def on_partial(index: int, image: Any) -> None:
        previews.append(index)
        if len(previews) == 2 and task is not None:  # the second image's preview: the first has completed
            task.cancel()

    task = asyncio.ensure_future(iw.agenerate("a fox", n=2, partial_images=1, on_partial=on_partial, model=PRICED,
                                              quality="low", size="1024x1024", **run))
    with pytest.raises(asyncio.CancelledError):
        await task
    kept = list(run["store"].glob("*.png"))
    assert len(kept) == 1
    record = json.loads(kept[0].with_suffix(".json").read_text())
    assert record["count"] == 2  # the run reads as incomplete: never served from the cache
    assert record["cost_usd"] > 0


def test_a_half_sent_batch_run_again_checks_its_unsent_part_against_max_cost(
        emulator: Emulator, run: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """A sweep whose second file's upload failed, run again under a max_cost its unsent part passes: the earlier
    run was returned and its unsent part sent unchecked (found by a review)."""
    import httpx2
    import openai
    from openai.resources.files import AsyncFiles

    from image_widget.sweeps.batch import Limits

    real = AsyncFiles.create
    calls = [0]

    async def flaky(self: Any, *args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        if calls[0] == 2:
            raise openai.APIConnectionError(request=httpx2.Request("POST", f"{emulator.url}/files"))
        return await real(self, *args, **kwargs)

    monkeypatch.setattr(AsyncFiles, "create", flaky)
    asked = {"a": ["fox", "owl"], "model": PRICED, "quality": "high", "size": "1024x1024", "batch": True,
             "limits": Limits(max_lines=1)}

    def creates() -> int:
        return sum(e.method == "POST" and e.path.endswith("/batches") for e in emulator.log)

    with pytest.raises(APIRequestError):
        iw.sweep("a {a}", **asked, **run)
    assert creates() == 1
    with pytest.raises(BudgetError, match="its unsent 50%"):
        iw.sweep("a {a}", max_cost=0.001, **asked, **run)
    assert creates() == 1
    with pytest.warns(UserWarning, match="1 part\\(s\\) not sent yet are sent now"):
        handle = iw.sweep("a {a}", max_cost=1.0, **asked, **run)
    assert creates() == 2
    assert handle.unsubmitted == []


def test_a_conversation_turn_holds_its_input_images_against_the_class_budget(
        emulator: Emulator, run: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """A turn that edits a picture held only its '+ input images' estimate: a budget set just above it was passed
    (a direct edit under the same budget was refused). Found by a review."""
    photo = png((1536, 1024))
    chat = iw.Chat(folder=run["store"], base_url=run["base_url"], api_key=KEY, quality="low", size="1024x1024")
    turn = chat.estimate("add a hat", image=photo)
    assert turn.cost.partial  # the published figure leaves the input image out
    assert turn.high is not None
    assert turn.cost.usd is not None
    assert turn.high > turn.cost.usd  # the hold bounds it
    monkeypatch.setenv(classroom.ENV_VAR, str(round(turn.cost.usd * 1.05, 6)))
    with pytest.raises(BudgetError, match="class budget"):
        chat.send("add a hat", image=photo)
    assert classroom.spent() == 0.0


async def test_a_cancel_after_sending_counts_against_the_class_budget(emulator: Emulator, run: dict[str, Any],
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """A cancelled request may have been billed like a timed-out one: it counted $0 (found by a review)."""
    import asyncio

    monkeypatch.setenv(classroom.ENV_VAR, "1")
    task: asyncio.Task[Any] | None = None

    def on_partial(index: int, image: Any) -> None:
        if task is not None:
            task.cancel()  # the request is at the server: a preview of it came back

    task = asyncio.ensure_future(iw.agenerate("a fox", partial_images=1, on_partial=on_partial, model=PRICED,
                                              quality="low", size="1024x1024", **run))
    with pytest.raises(asyncio.CancelledError):
        await task
    assert classroom.spent() > 0


def test_an_edit_sweep_without_max_cost_needs_no_bound(emulator: Emulator, run: dict[str, Any]) -> None:
    """Every cell computed the budget's bound even with no budget, and a price without an input-image rate made
    a plain sweep raise 'cannot be bounded under a budget' (found by a review)."""
    rates = {PRICED: {"text_input": 5.0, "image_output": 30.0}}
    iw.edit(png((256, 256)), "a hat", model=PRICED, quality="low", prices=rates, **run)
    result = sweeps.sweep("a {a}", a=["hat", "cap"], image=png((256, 256)), model=PRICED, quality="low",
                          prices=rates, max_cost=None, progress=False, **run)
    assert all(c.ok for c in result.cells), [c.error for c in result.cells]


def disk_full_for_images(run: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Path:
    """The run's folder exists, and every image written into it fails as on a full disk (after the answer came)."""
    folder = Path(run["store"])
    folder.mkdir(parents=True, exist_ok=True)
    full_disk_for(monkeypatch, lambda path: path.parent == folder and path.suffix == ".png")
    return folder


async def test_a_cancel_while_a_429_is_waited_out_counts_nothing(emulator: Emulator, run: dict[str, Any],
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing was at the server (the 429 was turned away before any work, the retry not yet sent): a cancel then
    was charged the whole hold. Found in the notes of an earlier session."""
    import asyncio

    monkeypatch.setenv(classroom.ENV_VAR, "1")
    emulator.inject(Fault(status=429, retry_after=15))
    task = asyncio.ensure_future(iw.agenerate("a fox", model=PRICED, quality="low", size="1024x1024",
                                              max_retries=1, **run))
    for _ in range(2000):  # bounded: until the 429 is in the emulator's log
        if any(e.status == 429 for e in emulator.log):
            break
        await asyncio.sleep(0.005)
    assert any(e.status == 429 for e in emulator.log)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert _images_sent(emulator) == 1
    assert classroom.spent() == 0.0


@pytest.mark.parametrize("call", ["generate", "chat"])
def test_an_answer_that_could_not_be_saved_still_counts_what_it_cost(
        emulator: Emulator, run: dict[str, Any], monkeypatch: pytest.MonkeyPatch, call: str) -> None:
    """The disk filled up after the answer came: the images were paid for but the class budget counted $0."""
    monkeypatch.setenv(classroom.ENV_VAR, "1")
    folder = disk_full_for_images(run, monkeypatch)
    def send() -> object:
        if call == "generate":
            return iw.generate("a fox", model=PRICED, quality="low", size="1024x1024", **run)
        return iw.Chat(folder=folder, base_url=run["base_url"], api_key=KEY, quality="low",
                       size="1024x1024").send("a fox")

    with pytest.raises(OSError, match="No space left on device"):
        send()
    assert _images_sent(emulator) + sum(e.path.endswith("/responses") for e in emulator.log) == 1
    assert classroom.spent() > 0


def test_a_sweep_cell_whose_answer_could_not_be_saved_counts_what_it_cost(
        emulator: Emulator, run: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """A cell that paid for its answer and then hit a full disk counted $0 against max_cost."""
    disk_full_for_images(run, monkeypatch)
    result = sweeps.sweep("a {a}", a=["fox"], model=PRICED, quality="low", size="1024x1024", max_cost=1.0,
                          progress=False, **run)
    assert not result.cells[0].ok
    assert "No space left on device" in (result.cells[0].error or "")
    assert _images_sent(emulator) == 1
    assert "spent $0.000 " not in result.notes[-1], result.notes[-1]


def test_a_broken_stream_whose_images_could_not_be_saved_gives_its_hold_back(
        emulator: Emulator, run: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """The stream broke after an image arrived and saving that image hit a full disk: the hold was never given back
    (it blocked the rest of the session) and the paid image counted $0. Found by a review."""
    monkeypatch.setenv(classroom.ENV_VAR, "1")
    disk_full_for_images(run, monkeypatch)
    emulator.inject(Fault(kind="drop", after=4))  # after the first image's completed event
    with pytest.raises(OSError, match="No space left on device"):
        iw.generate("a bird", n=2, partial_images=1, model=PRICED, quality="low", size="1024x1024", **run)
    assert classroom.spent() > 0
    room = 1 - classroom.spent()  # all of it can be held again: nothing of the failed run is still held
    classroom.release(classroom.hold(room * 0.99, "the rest of the budget"))


def test_a_turn_whose_cost_could_not_be_worked_out_still_counts_its_hold(
        emulator: Emulator, run: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """The answer came, then working out its cost failed: the paid turn counted $0. Found by a review."""
    from image_widget.chat import money as chat_money

    monkeypatch.setenv(classroom.ENV_VAR, "1")

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a usage this release cannot read")

    monkeypatch.setattr(chat_money, "actual", broken)
    chat = iw.Chat(folder=run["store"], base_url=run["base_url"], api_key=KEY, quality="low", size="1024x1024")
    with pytest.raises(RuntimeError, match="cannot read"):
        chat.send("a fox")
    assert classroom.spent() > 0
