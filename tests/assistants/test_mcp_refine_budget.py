"""`refine_image` under `--max-cost` reserves a bound, not the plain estimate: a turn's mainline tokens are a
forecast from the thread, so a turn that fits only by its estimate must not take the session past its cap."""

from __future__ import annotations

from pathlib import Path

import pytest

from image_widget.chat import Chat
from image_widget.emulator import Emulator
from image_widget.mcp import refine
from image_widget.mcp.session import BudgetRefused, Session

OPTIONS = {"size": "1024x1024", "quality": "low"}


@pytest.fixture
def session_of(emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> type[Session]:
    monkeypatch.setenv("OPENAI_BASE_URL", emulator.url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-refine-budget")
    monkeypatch.chdir(tmp_path)
    return Session


async def test_a_turn_that_fits_only_by_its_estimate_is_refused(session_of: type[Session],
                                                                emulator: Emulator) -> None:
    first, _ = await refine.refine(session_of.start("store", [], None), "a red fox in snow", None, None, None,
                                   dict(OPTIONS), False)
    capped = session_of.start("store", [], max_cost=1.0)
    turn = Chat.resume(folder=capped.store, thread=first["thread"]).estimate("make it night", **OPTIONS)
    assert turn.cost.usd is not None
    capped.budget.limit = turn.cost.usd * 1.05
    sent = len(emulator.log)
    with pytest.raises(BudgetRefused, match="nothing was sent"):
        await refine.refine(capped, "make it night", first["thread"], None, None, dict(OPTIONS), False)
    assert len(emulator.log) == sent


async def test_the_reservation_covers_what_the_turn_cost(session_of: type[Session]) -> None:
    first, _ = await refine.refine(session_of.start("store", [], None), "a red fox in snow", None, None, None,
                                   dict(OPTIONS), False)
    capped = session_of.start("store", [], max_cost=1.0)
    second, _ = await refine.refine(capped, "make it night", first["thread"], None, None, dict(OPTIONS), False)
    assert second["reserved_usd"] >= capped.budget.committed > 0
