"""A batch sweep's estimate is priced once per option set, not once per prompt.

Planning 50,000 requests took 51 s in the full benchmark run of 2026-12-04 (0.9 s before): each line's key
held its prompt, so every line read the folder's runs again for its learned estimate.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from image_widget.facts.prices import PRICES
from image_widget.money import learned
from image_widget.sweeps.batch import plan


def test_prompts_share_one_estimate_per_option_set(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[dict[str, Any]] = []
    real = learned.estimate

    def counted(options: dict[str, Any], *args: Any, **kwargs: Any) -> learned.Estimate:
        calls.append(dict(options))
        return real(options, *args, **kwargs)

    monkeypatch.setattr(plan.learned, "estimate", counted)
    total = plan.EstimateSum(PRICES, folder=tmp_path)
    for i in range(300):
        quality = "low" if i % 3 else "high"
        total.add({"prompt": f"a fox number {i}", "model": "gpt-image-2", "quality": quality, "size": "1024x1024"})
    assert len(calls) == 2
    assert all("prompt" not in options for options in calls)
    low = plan.EstimateSum(PRICES, folder=tmp_path)
    low.add({"prompt": "one", "model": "gpt-image-2", "quality": "low", "size": "1024x1024"})
    high = plan.EstimateSum(PRICES, folder=tmp_path)
    high.add({"prompt": "one", "model": "gpt-image-2", "quality": "high", "size": "1024x1024"})
    assert total.usd == pytest.approx(200 * low.usd + 100 * high.usd)


def test_edits_with_inputs_of_other_sizes_are_priced_apart(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[Any] = []
    real = learned.estimate

    def counted(options: dict[str, Any], *args: Any, **kwargs: Any) -> learned.Estimate:
        seen.append(kwargs.get("inputs"))
        return real(options, *args, **kwargs)

    monkeypatch.setattr(plan.learned, "estimate", counted)
    total = plan.EstimateSum(PRICES, folder=tmp_path)
    options = {"model": "gpt-image-2", "quality": "low", "size": "1024x1024"}
    total.add({"prompt": "a", **options}, [(512, 512)])
    total.add({"prompt": "b", **options}, [(512, 512)])
    total.add({"prompt": "c", **options}, [(2048, 2048)])
    assert seen == [[(512, 512)], [(2048, 2048)]]
