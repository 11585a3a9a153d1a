"""Big C work on two cores: `runtime.side_by_side` runs one half on the spare worker while the caller does the
other, and `composite.fit` scales a 4K window in two halves that way (a `size="match"` result brought back to a
4K photo: ~100 ms on one core). Speed is measured by benchmarks/bench_composite.py, not here."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from PIL import Image

from image_widget.base import runtime
from image_widget.images import composite


def test_the_second_half_runs_on_the_spare_worker_while_the_caller_does_the_first() -> None:
    both_running = threading.Barrier(2, timeout=10)  # each waits for the other: only side by side can pass

    def half(name: str) -> str:
        both_running.wait()
        return f"{name} on {threading.current_thread().name}"

    for _ in range(3):  # the spare is free again as soon as a call returns: the next one goes side by side too
        here, there = runtime.side_by_side(lambda: half("first"), lambda: half("second"))
        assert here == f"first on {threading.current_thread().name}"
        assert there.startswith("second on image-widget-spare")


def test_a_busy_spare_worker_means_both_halves_run_here_one_after_the_other() -> None:
    release = threading.Event()
    busy = threading.Event()

    def hold_the_spare() -> tuple[str, str]:
        return runtime.side_by_side(lambda: (release.wait(10), "outer")[1],
                                    lambda: (busy.set(), release.wait(10), "held")[2])

    outer_got: list[tuple[str, str]] = []
    outer = threading.Thread(target=lambda: outer_got.append(hold_the_spare()))
    outer.start()
    assert busy.wait(10)
    order: list[str] = []
    try:
        got = runtime.side_by_side(lambda: order.append(threading.current_thread().name) or "a",
                                   lambda: order.append(threading.current_thread().name) or "b")
    finally:
        release.set()
        outer.join(10)
    assert got == ("a", "b")
    assert outer_got == [("outer", "held")]
    assert order == [threading.current_thread().name] * 2  # not queued behind the other caller's half


def test_a_failing_half_is_raised_once_the_other_has_finished() -> None:
    finished = threading.Event()

    def slow_second() -> str:
        finished.wait(0.2)  # still running when the first half fails
        finished.set()
        return "done"

    def failing_first() -> str:
        raise ValueError("the first half failed")

    with pytest.raises(ValueError, match="the first half failed"):
        runtime.side_by_side(failing_first, slow_second)
    assert finished.is_set()


def test_a_big_window_is_scaled_in_two_halves_that_match_one_resize(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(7)
    small = Image.fromarray(rng.integers(0, 256, (720, 1280, 3), dtype=np.uint8), "RGB")
    smooth = small.filter(composite.ImageFilter.GaussianBlur(3))
    calls: list[int] = []
    real = runtime.side_by_side

    def counted(first, second):  # type: ignore[no-untyped-def]
        calls.append(1)
        return real(first, second)

    monkeypatch.setattr(composite.runtime, "side_by_side", counted)
    smooth.info["icc_profile"] = b"a profile"
    window = (40, 31, 1960, 1110)  # 2.07 MP, an odd height, not at the origin: over the split threshold
    halves = composite.fit(smooth, (2000, 1125), window)
    assert calls == [1]
    assert halves.size == (1920, 1079)
    assert halves.mode == "RGB"
    assert halves.info["icc_profile"] == b"a profile"  # kept, as one resize keeps it
    scale = 1280 / 2000
    one = smooth.resize((1920, 1079), Image.Resampling.BICUBIC,
                        box=(40 * scale, 31 * scale, 1960 * scale, 1110 * scale))
    difference = np.abs(np.asarray(halves, np.int16) - np.asarray(one, np.int16))
    assert difference.max() <= 2  # Pillow's fixed-point rounding differs by a box; the picture does not

    calls.clear()
    assert composite.fit(smooth, (1600, 900)).size == (1600, 900)  # 1.44 MP: one resize, here
    assert calls == []
