"""Kernel-side figures: request overhead, import cost, sweep concurrency, memory per result, the store at scale."""

from __future__ import annotations

import base64
import contextlib
import gc
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import image_widget as iw
from common import Figure, interleaved_medians
from image_widget.emulator import Emulator

KEY = "sk-bench-not-a-real-key"
SRC = Path(__file__).resolve().parents[1] / "src"


@contextlib.contextmanager
def _emulator_process() -> Iterator[str]:
    """The emulator in its own process, as a real server would be: in this process its thread would
    compete for the GIL with the client's own threads (saves and decodes) and skew the comparison."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.Popen([sys.executable, "-m", "image_widget.emulator", "--port", "0"], env=env,
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        if not url.startswith("http://127.0.0.1:"):
            raise RuntimeError(f"the emulator did not start: {url!r}")
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


def request_overhead(repeat: int = 31) -> list[Figure]:
    """1. image_widget.generate (validation, store writes, decode) vs a bare SDK call + PIL decode, interleaved, 31
    times each (the median of 15 moved by ±0.1x between runs on this shared 2-core machine)."""
    import openai
    from PIL import Image

    figures = []
    with _emulator_process() as url, tempfile.TemporaryDirectory() as folder:
        bare_client = openai.OpenAI(base_url=url, api_key=KEY, max_retries=0)

        for size in ("1024x1024", "1536x1024"):
            for n in (1, 4):
                def bare(size: str = size, n: int = n) -> None:
                    response = bare_client.images.generate(prompt="a fox", model="gpt-image-2", size=size, n=n)
                    for item in response.data or []:
                        Image.open(io.BytesIO(base64.b64decode(item.b64_json or ""))).load()

                def ours(size: str = size, n: int = n) -> None:
                    iw.generate("a fox", model="gpt-image-2", size=size, n=n, base_url=url, api_key=KEY,
                                store=folder)

                t_ours, t_bare = interleaved_medians(ours, bare, repeat)
                ratio = t_ours / t_bare
                figures.append(Figure(
                    f"request overhead n={n} {size}", t_ours * 1000, "ms", t_bare * 1000, "bare SDK + PIL decode",
                    "<= 1.10x (store writes included)", ratio <= 1.10))
        bare_client.close()
    return figures


def import_cost(repeat: int = 7) -> list[Figure]:
    """6. `import image_widget` vs `import openai`, each in a fresh interpreter; what it drags in."""
    def timed(stmt: str) -> float:
        code = f"import time; t=time.perf_counter(); {stmt}; print(time.perf_counter()-t)"
        runs = [float(subprocess.check_output([sys.executable, "-c", code], text=True)) for _ in range(repeat)]
        return sorted(runs)[len(runs) // 2]

    ours = timed("import image_widget")
    base = timed("import openai")
    probe = ("import sys, image_widget; print(','.join(m for m in ('openai','uvicorn','starlette','PIL','anywidget')"
             " if m in sys.modules))")
    loaded = subprocess.check_output([sys.executable, "-c", probe], text=True).strip()
    return [Figure("import image_widget", ours * 1000, "ms", base * 1000, "import openai",
                   "imports none of openai/uvicorn/starlette until first use", loaded == "",
                   {"heavy modules loaded at import": loaded or "none"})]


def sweep_concurrency(cells: int = 40, latency_s: float = 2.0) -> list[Figure]:
    """7. A 40-cell sweep with 2 s simulated latency vs running the same cells one by one."""
    with Emulator(latency_s=latency_s) as emu, tempfile.TemporaryDirectory() as folder:
        common = {"base_url": emu.url, "api_key": KEY, "store": folder, "model": "gpt-image-2",
                  "size": "1024x1024", "quality": "low"}
        start = time.perf_counter()
        for i in range(cells):
            iw.generate(f"one by one {i}", **common)
        sequential = time.perf_counter() - start
        start = time.perf_counter()
        result = iw.sweep("sweep {i}", i=list(range(cells)), progress=False, cache=False, **common)
        concurrent = time.perf_counter() - start
        ok = not result.failures
    return [Figure(f"sweep {cells} cells, {latency_s:g} s latency", concurrent, "s", sequential, "one by one",
                   "faster than one by one (concurrency 4 → about 4x)", ok and concurrent < sequential / 3)]


def kernel_memory_per_result(results: int = 200) -> list[Figure]:
    """5a. Kernel memory growth per result with 200 results in history (full images live on disk). The emulator runs
    in its own process: in this one its render caches (bounded, up to 72 MB) filled with each new prompt and were
    counted as the widget's (0.2-0.4 MB a result in session 12, where the widget's own is ~0.03)."""
    import psutil

    from image_widget.widget import ImageWidget

    proc = psutil.Process()
    with _emulator_process() as url, tempfile.TemporaryDirectory() as folder:
        w = ImageWidget(base_url=url, api_key=KEY, folder=folder)
        w.options = {**w.options, "prompt": "warm up", "size": "1024x1024", "n": 1}
        w.generate()
        gc.collect()
        before = proc.memory_info().rss
        for i in range(results):
            w.options = {**w.options, "prompt": f"result {i}"}
            w.generate()
        gc.collect()
        after = proc.memory_info().rss
        state_bytes = len(json.dumps(w.get_state(), default=lambda b: "x" * len(bytes(b))))
    per = (after - before) / results / 1e6
    return [Figure(f"kernel memory growth per result ({results} results)", per, "MB", None, "",
                   "< 1 MB per result", per < 1.0, {"widget state bytes": state_bytes})]


def run_all(quick: bool = False) -> list[Figure]:
    figures: list[Figure] = []
    figures += request_overhead(repeat=5 if quick else 31)
    figures += import_cost(repeat=3 if quick else 7)
    figures += sweep_concurrency(cells=8 if quick else 40, latency_s=0.5 if quick else 2.0)
    try:
        figures += kernel_memory_per_result(results=20 if quick else 200)
    except ImportError as exc:  # the widget module is optional for this figure while it is being built
        print(f"skipped kernel memory: {exc}", file=sys.stderr)
    return figures


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    for figure in run_all(quick="--quick" in sys.argv):
        print(figure.line())
