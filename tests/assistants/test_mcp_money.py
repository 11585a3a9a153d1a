"""The MCP server's `--max-cost` against what is really sent: the budget is checked on the exact request that
goes out (a masked edit is sent at the size that matches the image, not at the API default), an edit whose
input images have no published token rule reserves a pessimistic amount for them, and a failed call is not
retried behind the budget's back (a retry may be billed while only one call is counted).

The tools run in this process against the emulator, the way `server.py` calls them.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from image_widget.base.errors import APIRequestError
from image_widget.client.backend import resolve_backend
from image_widget.emulator import Emulator, Fault
from image_widget.facts import cost as pricing
from image_widget.mcp import refine, tools
from image_widget.mcp.paths import AllowedRoots
from image_widget.mcp.session import Budget, BudgetRefused, Session
from image_widget.store import Store

KEY = "sk-test-mcp-money-0123456789"
RECT = {"x": 1000, "y": 800, "width": 1200, "height": 900}


def _session(emulator: Emulator, work: Path, monkeypatch: pytest.MonkeyPatch, limit: float | None) -> Session:
    monkeypatch.setenv("OPENAI_BASE_URL", emulator.url)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    store = Store(work / "store")
    return Session(store, AllowedRoots.of(work, store.folder), resolve_backend(), Budget(limit))


def _edits(emulator: Emulator) -> list[dict[str, object]]:
    return [entry.params for entry in emulator.log if entry.endpoint == "edit"]


@pytest.fixture
def big_photo(tmp_path: Path) -> Path:
    work = tmp_path / "work"
    work.mkdir()
    Image.new("RGB", (4000, 3000), (40, 120, 200)).save(work / "big.png")
    return work


async def test_a_masked_edit_is_budgeted_at_the_size_it_is_sent(emulator: Emulator, big_photo: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """The reproduction from the review: a 4000x3000 photo, a rectangle, quality high, a $0.25 cap."""
    session = _session(emulator, big_photo, monkeypatch, 0.25)
    with pytest.raises(BudgetRefused, match="max_cost"):
        await tools.edit(session, "a red door", "big.png", RECT, None, {"quality": "high"}, False)
    assert _edits(emulator) == [], "an edit over the budget was sent"
    assert session.budget.committed == 0.0

    roomy = _session(emulator, big_photo, monkeypatch, 5.0)
    summary, _ = await tools.edit(roomy, "a red door", "big.png", RECT, None, {"quality": "high"}, False)
    (sent,) = _edits(emulator)
    width, height = (int(side) for side in str(sent["size"]).split("x"))
    assert abs(width / height - 4 / 3) < 0.1, f"sent at {sent['size']}, not at the size that matches 4000x3000"
    at_sent_size = pricing.estimate(str(summary["model"]), quality="high", size=str(sent["size"]), n=1, endpoint="edit",
                                    inputs=[(4000, 3000)])
    assert summary["estimate_usd"] == pytest.approx(at_sent_size.usd), "estimated at another size than was sent"
    assert summary["cost_usd"] is not None
    # the reservation covered the request that went out: what it cost is within what was reserved
    assert summary["reserved_usd"] >= summary["cost_usd"]
    assert roomy.budget.committed == pytest.approx(summary["cost_usd"])


async def test_an_edit_without_an_input_rule_reserves_for_its_inputs(emulator: Emulator, big_photo: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """gpt-image-2 publishes no input-image token rule: under a cap the estimate is "+ input images", and
    the reservation adds a pessimistic amount for them, so the actual bill stays within it."""
    session = _session(emulator, big_photo, monkeypatch, 5.0)
    summary, _ = await tools.edit(session, "a red door", "big.png", None, None,
                                  {"quality": "low", "size": "1024x1024"}, False)
    assert "+ input images" in summary["estimate"]
    assert summary["reserved_usd"] > summary["estimate_usd"]
    assert summary["reserved_usd"] >= summary["cost_usd"]


async def test_a_failed_call_is_not_retried_and_keeps_its_reservation(emulator: Emulator, big_photo: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """A 500 may come after the work was billed: the server must not send it again on its own, and the
    reservation stays (the assistant may call again, and the budget then sees the second call)."""
    session = _session(emulator, big_photo, monkeypatch, 1.0)
    emulator.inject(Fault(status=500, should_retry=True))
    with pytest.raises(APIRequestError):
        await tools.generate(session, "a fox", {"size": "1024x1024", "quality": "low"}, False)
    assert [e.endpoint for e in emulator.log if e.endpoint == "generate"] == ["generate"], "the call was retried"
    assert session.budget.committed > 0

    emulator.inject(Fault(status=500, should_retry=True))
    with pytest.raises(APIRequestError):
        await tools.edit(session, "a red door", "big.png", RECT, None, {"quality": "low"}, False)
    assert len(_edits(emulator)) == 1, "the edit was retried"


async def test_a_refused_call_gives_its_reservation_back(emulator: Emulator, big_photo: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """A 4xx is the server refusing before any work: never billed, so the budget gets the reservation back
    (a 500 keeps it: see above). Both for images and for conversation turns."""
    session = _session(emulator, big_photo, monkeypatch, 1.0)
    emulator.inject(Fault(status=400, message="Invalid value for 'quality'.", param="quality"))
    with pytest.raises(APIRequestError):
        await tools.generate(session, "a fox", {"size": "1024x1024", "quality": "low"}, False)
    assert session.budget.committed == 0
    emulator.inject(Fault(status=429, retry_after=0.01))
    with pytest.raises(APIRequestError):
        await refine.refine(session, "a red fox in snow", None, None, None, {"quality": "low"}, False)
    assert session.budget.committed == 0
    emulator.inject(Fault(status=500))
    with pytest.raises(APIRequestError):
        await refine.refine(session, "a red fox in snow", None, None, None, {"quality": "low"}, False)
    assert session.budget.committed > 0
