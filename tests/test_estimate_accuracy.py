"""The accuracy figure of learned estimates, on the emulator's usage (which varies request to request, as
the real service's does): median |estimate − actual| / actual over held-out runs, after 1, 5 and 20 runs
of one model/size/quality have taught the estimate."""

from __future__ import annotations

import statistics
from collections import Counter
from pathlib import Path

from image_widget.client import api
from image_widget.emulator import Emulator
from image_widget.money import learned
from support.figures import figure_fixture

KEY = "sk-test-accuracy-0123456789"
MODEL, SIZE, QUALITY = "gpt-image-2.6-sunburst", "1024x1024", "low"
AFTER = (1, 5, 20)
HELD_OUT = 12


def _render(c: Counter[str]) -> str:
    errors = ", ".join(f"after {k} run{'s' if k > 1 else ''} {c[f'after_{k}_bp'] / 100:.1f}%" for k in AFTER)
    return (f"estimate accuracy ({MODEL} {SIZE} {QUALITY}, emulator usage, {c['held_out']} held-out runs): "
            f"median |estimate − actual| / actual {errors}")


def _broken(c: Counter[str]) -> list[str]:
    if not c["measured"]:
        return []
    return [f"after {k} runs the median error is {c[f'after_{k}_bp'] / 100:.1f}%, over 30%" for k in AFTER
            if c[f"after_{k}_bp"] > 3000]


accuracy = figure_fixture("accuracy", _render, _broken)


def test_learned_estimates_get_closer_with_more_runs(emulator: Emulator, tmp_path: Path,
                                                    accuracy: Counter[str]) -> None:
    folder = tmp_path / "images"
    options = {"model": MODEL, "size": SIZE, "quality": QUALITY, "base_url": emulator.url, "api_key": KEY}
    held_out = [api.generate(f"held out {i}", **options, store=tmp_path / "held").cost.usd for i in range(HELD_OUT)]
    assert all(usd is not None for usd in held_out)
    assert len(set(held_out)) > HELD_OUT // 2  # the emulator's usage varies, or the figure means nothing
    taught = 0
    for k in AFTER:
        while taught < k:
            api.generate(f"teaching run {taught}", **options, store=folder)
            taught += 1
        found = learned.estimate({"model": MODEL, "size": SIZE, "quality": QUALITY}, folder)
        assert found.origin == "learned"
        assert found.runs == k
        assert found.value is not None
        error = statistics.median(abs(found.value - usd) / usd for usd in held_out if usd)
        accuracy[f"after_{k}_bp"] = round(error * 10_000)
    accuracy["held_out"] = HELD_OUT
    accuracy["measured"] = 1
