"""What every benchmark shares: a figure with its baseline, target and verdict, and the machine it ran on."""

from __future__ import annotations

import os
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
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
