"""What every benchmark shares: a figure with its baseline, target and verdict, the machine it ran on, and the
folder of 100,000 saved images the store and widget-open figures measure (`make_folder`).

Benchmark modules import only this module (and `lab.py` for JupyterLab), never each other; `run.py` calls them all.
"""

from __future__ import annotations

import io
import multiprocessing
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any


@dataclass
class Figure:
    """One measured figure: our median against a baseline measured in the same run."""

    name: str
    value: float
    unit: str
    baseline: float | None = None
    baseline_name: str = ""
    target: str = ""
    met: bool | None = None
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        return self.value / self.baseline if self.baseline else None

    def line(self) -> str:
        parts = [f"{self.name}: {self.value:.4g} {self.unit}"]
        if self.baseline is not None:
            parts.append(f"vs {self.baseline_name} {self.baseline:.4g} {self.unit}")
        if self.ratio is not None:
            parts.append(f"ratio {self.ratio:.3f}x")
        if self.target:
            verdict = "met" if self.met else ("NOT met" if self.met is False else "n/a")
            parts.append(f"target {self.target}: {verdict}")
        return " | ".join(parts)


def median_seconds(fn: Callable[[], Any], repeat: int, warmup: int = 2) -> float:
    """Median wall time of `fn` over `repeat` runs after `warmup` untimed runs."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def interleaved_medians(a: Callable[[], Any], b: Callable[[], Any], repeat: int,
                        warmup: int = 2) -> tuple[float, float]:
    """Medians of a and b measured alternately, so drift on a shared machine hits both alike."""
    for _ in range(warmup):
        a()
        b()
    ta: list[float] = []
    tb: list[float] = []
    for _ in range(repeat):
        start = time.perf_counter()
        a()
        ta.append(time.perf_counter() - start)
        start = time.perf_counter()
        b()
        tb.append(time.perf_counter() - start)
    return statistics.median(ta), statistics.median(tb)


def machine() -> dict[str, str]:
    """Where the figures came from."""
    import openai
    import PIL

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = ""
    try:
        import psutil

        mem = f"{psutil.virtual_memory().total / 2**30:.0f} GiB"
    except ImportError:
        pass
    return {
        "cpu": cpu, "cores": str(os.cpu_count()), "memory": mem,
        "os": f"{platform.system()} {platform.release()}", "python": platform.python_version(),
        "openai": openai.__version__, "pillow": PIL.__version__,
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }


def ms_spread(values: list[float]) -> str:
    """The range of a browser figure's runs, in ms."""
    return f"min {min(values):.0f} / max {max(values):.0f} ms over {len(values)} runs"


# ---------------------------------------------------------------- a big folder (bench_store, bench_widget_open)

SRC = Path(__file__).resolve().parents[1] / "src"
NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)
SUBJECTS = ["a red fox", "an owl", "a lighthouse", "a coffee mug", "a city street", "a mountain lake", "a robot",
            "a bowl of ramen", "a sailing boat", "a cat on a sofa", "a forest path", "a desert canyon"]
STYLES = ["in watercolor", "as pixel art", "in ink", "as a photo", "in the snow", "at night", "isometric",
          "as a poster", "in oil paint", "as a sticker"]
MODELS = ["gpt-image-2", "gpt-image-2", "gpt-image-1.5", "gpt-image-2.6-flare"]
SHAPES = [(12, 8), (8, 12), (8, 8)]  # landscape, portrait, square


def _png(size: tuple[int, int]) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", size, (180, 60, 20)).save(buf, "PNG")
    return buf.getvalue()


def _write(args: tuple[str, int, int, int]) -> int:
    """One writer process: `count` images in runs, through Store.save (fsync off, see the module doc)."""
    folder, start, count, seed = args
    sys.path.insert(0, str(SRC))
    import image_widget.store.store as store_module
    from image_widget.store import Store

    store_module.sync_later = lambda *paths: None  # type: ignore[assignment]
    rng = random.Random(seed)
    pngs = [_png(shape) for shape in SHAPES]
    store = Store(folder)
    written = 0
    while written < count:
        n = min(rng.choice([1, 1, 1, 2, 4]), count - written)
        shape = rng.randrange(len(SHAPES))
        prompt = f"{rng.choice(SUBJECTS)} {rng.choice(STYLES)} #{start + written}"
        model = rng.choice(MODELS)
        cost = rng.choice([0.005, 0.011, 0.041, 0.167, None])
        params = {"prompt": prompt, "model": model, "size": "1024x1024", "quality": "low", "n": n}
        shared = {
            "run_id": f"{rng.getrandbits(128):032x}", "count": n,
            "call": rng.choice(["generate"] * 6 + ["edit", "vary"]),
            "created": (NOW - timedelta(seconds=rng.uniform(0, 90 * 86400))).isoformat(timespec="microseconds"),
            "endpoint": "generate", "model": model, "prompt": prompt, "params": params, "input_hashes": [],
            "usage": {"input_tokens": 12, "output_tokens": 272 * n, "total_tokens": 12 + 272 * n},
            "cost_estimate_usd": cost, "cost_usd": cost, "run_cost_usd": None if cost is None else cost * n,
            "price_source": "official", "request_id": f"req_{start + written}", "elapsed_s": 1.5,
            "backend": {"kind": "emulator", "label": "emulator", "synthetic": True},
            "cache_key": f"{rng.getrandbits(256):064x}", "response": {"size": "1024x1024", "quality": "low"},
            "partials": 0, "note": None, "revised_prompt": None,
        }
        if rng.random() < 0.2:
            shared["batch_id"] = f"batch-{rng.randrange(50)}"
        for index in range(n):
            store.save(pngs[shape], "png", {**shared, "index": index})
        written += n
    return written


def make_folder(folder: Path, records: int, workers: int = 2) -> float:
    """Write `records` images into `folder` with `workers` processes at once; seconds taken."""
    per = [records // workers + (1 if k < records % workers else 0) for k in range(workers)]
    starts = [sum(per[:k]) for k in range(workers)]
    started = time.perf_counter()
    with multiprocessing.get_context("spawn").Pool(workers) as pool:
        done = pool.map(_write, [(str(folder), starts[k], per[k], k) for k in range(workers)])
    assert sum(done) == records
    return time.perf_counter() - started
