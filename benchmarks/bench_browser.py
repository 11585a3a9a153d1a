"""Browser figures (Chromium + JupyterLab + the kernel's emulator): to the screen, first pixels, mask, memory.

Every time is measured inside the page (`performance.now()` / `Date.now()`), with in-page waiters that
react to DOM mutations and image `load` events, so Playwright's round trips are not part of any figure.
Each figure opens its own notebook (a fresh kernel) in one shared JupyterLab server.

    python benchmarks/bench_browser.py [--quick]
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import Figure, ms_spread
from lab import WIDGET, Lab, Notebook, lab_session
from mask_timing import MASK_OBSERVER, mask_one_size, setup_cells
from page_js import ARM_WIDGET_JS, BASELINE_JS, READY_WIDGET_JS

PROMPT = "a lighthouse on a cliff at dusk"
MODEL, SIZE, QUALITY = "gpt-image-2", "1024x1024", "low"


def _set_options(nb: Notebook, **options: Any) -> None:
    """Set widget options from Python and wait until the page shows them."""
    nb.run_cell(f"w.options = {{**w.options, **{options!r}}}\nprint(w.problems)")
    if "prompt" in options:
        nb.page.wait_for_function(
            "([sel, p]) => document.querySelector(sel + \" textarea[data-option='prompt']\").value === p",
            arg=[WIDGET, options["prompt"]], timeout=nb.deadline.ms())
    if "n" in options:
        nb.page.wait_for_function(
            "([sel, n]) => document.querySelector(sel + \" input[data-option='n']\").value === String(n)",
            arg=[WIDGET, options["n"]], timeout=nb.deadline.ms())
    nb.wait_kernel_idle()


def _click_and_measure(nb: Notebook, n: int, previews: bool = False, step: float = 60) -> dict[str, Any]:
    """One Generate click, timed in the page; waits for the run to be `done` and the kernel idle."""
    nb.wait_kernel_idle()
    nb.page.evaluate(READY_WIDGET_JS, WIDGET)
    nb.page.evaluate(ARM_WIDGET_JS, [WIDGET, n, previews, nb.deadline.ms(step)])
    nb.widget.locator("button[data-action='generate']").click(timeout=nb.deadline.ms())
    result = nb.page.evaluate("() => window.__bench")
    state = nb.wait_state("done", "error", "cancelled", step=step)
    if state != "done":
        raise RuntimeError(f"the widget run ended {state}")
    nb.wait_kernel_idle()
    return dict(result)


# ------------------------------------------------------------------------------------------- 2


def to_the_screen(lab: Lab, runs: int = 5, n: int = 4, size: str = SIZE) -> list[Figure]:
    """2. Generate click → every result image decoded in the page, vs SDK + IPython.display in a cell."""
    folder = Path(tempfile.mkdtemp(prefix="iw-bench-screen-", dir=lab.base))
    baseline_setup = (
        "import base64, openai\nfrom IPython.display import Image, display\n"
        "_client = openai.OpenAI(base_url=shared_emulator().url, api_key='sk-emulator-offline', max_retries=0)\n"
        "print('baseline ready')")
    baseline_code = (
        f"_r = _client.images.generate(model={MODEL!r}, prompt={PROMPT!r}, size={size!r}, quality={QUALITY!r}, n={n})\n"
        "for _d in _r.data:\n"
        "    display(Image(data=base64.b64decode(_d.b64_json)))")
    nb = lab.notebook("bench_screen.ipynb", setup_cells(folder, baseline_setup), emulator_cell=1)
    try:
        _set_options(nb, prompt=PROMPT, model=MODEL, size=size, quality=QUALITY, n=n, partial_images=0)
        ours: list[float] = []
        base: list[float] = []
        base_info: dict[str, Any] = {}
        phases: list[tuple[float, float]] = []
        for i in range(runs + 1):  # run 0 warms both paths up and is not counted
            measured_widget = _click_and_measure(nb, n)
            widget_ms = measured_widget["final_ms"]
            if i > 0 and measured_widget["running_ms"] is not None and measured_widget["inserted_ms"] is not None:
                phases.append((measured_widget["running_ms"], measured_widget["inserted_ms"]))
            index = nb.append_cell(baseline_code)
            measured = nb.page.evaluate(BASELINE_JS, [index, n, nb.deadline.ms(60)])
            nb.wait_kernel_idle()
            nb.delete_cell(index)  # keep the page the same size for every run
            base_info = measured
            if i > 0:
                ours.append(widget_ms)
                base.append(float(measured["ms"]))
        thumbs = nb.page.evaluate(
            "(sel) => [...document.querySelectorAll(sel + ' .iw-result img')].map(i => [i.naturalWidth, "
            "i.naturalHeight])", WIDGET)
        errors = nb.real_page_errors()
    finally:
        nb.close()
    value, baseline = statistics.median(ours), statistics.median(base)
    detail = {
        "widget": ms_spread(ours), "baseline": ms_spread(base),
        "what the page shows": f"widget: {n} result images, natural sizes {thumbs}; baseline: {n} full images "
                               f"{base_info.get('sizes')} as base64 data URLs ({base_info.get('src_kb')} KB)",
        "widget phases (median)": (
            f"click → state running {statistics.median([p[0] for p in phases]):.0f} ms, → result <img>s inserted "
            f"{statistics.median([p[1] for p in phases]):.0f} ms, → decoded {value:.0f} ms") if phases else "n/a",
        "runs": ", ".join(f"{a:.0f}/{b:.0f}" for a, b in zip(ours, base, strict=True)) + " ms (widget/baseline)",
    }
    if errors:
        detail["page errors"] = errors[:3]
    return [Figure(f"to the screen n={n} {size} (click → images decoded)", value, "ms", baseline,
                   "openai SDK + IPython.display cell", "faster than the baseline", value < baseline, detail)]


# ------------------------------------------------------------------------------------------- 3


def first_pixels(lab: Lab, runs: int = 5, interval_s: float = 0.5, partials: int = 2) -> list[Figure]:
    """3. partial_images=2, the emulator spacing events 0.5 s apart: click → first preview vs → final."""
    folder = Path(tempfile.mkdtemp(prefix="iw-bench-first-", dir=lab.base))
    nb = lab.notebook("bench_first_pixels.ipynb", setup_cells(folder), emulator_cell=1)
    try:
        _set_options(nb, prompt=PROMPT, model=MODEL, size=SIZE, quality=QUALITY, n=1, partial_images=partials)
        nb.control("/_emulator/config", {"partial_interval_s": interval_s})
        firsts: list[float] = []
        finals: list[float] = []
        counts: list[int] = []
        for i in range(runs + 1):
            measured = _click_and_measure(nb, 1, previews=True, step=30)
            if i > 0:
                firsts.append(float(measured["preview_ms"]))
                finals.append(float(measured["final_ms"]))
                counts.append(int(measured["previews"]))
        nb.control("/_emulator/config", {"partial_interval_s": 0.05})
    finally:
        nb.close()
    first, final = statistics.median(firsts), statistics.median(finals)
    schedule_first, schedule_final = 1000 * interval_s, 1000 * interval_s * (partials + 1)
    detail = {
        "first preview": ms_spread(firsts), "final image": ms_spread(finals),
        "emulator schedule": f"first partial event at {schedule_first:.0f} ms, final at {schedule_final:.0f} ms "
                             f"after the request starts",
        "widget's own share": f"first +{first - schedule_first:.0f} ms, final +{final - schedule_final:.0f} ms "
                              "over the emulator's schedule",
        "previews shown per run": counts,
    }
    return [
        Figure(f"time to first pixels (partial_images={partials}, {interval_s:g} s apart)", first, "ms", final,
               "time to the final image", "first preview ≤ 0.5× the final image", first <= 0.5 * final, detail),
    ]


# ------------------------------------------------------------------------------------------- 4

def mask_latency(lab: Lab, strokes: int = 5, sizes: tuple[tuple[int, int], ...] = ((1024, 1024), (1536, 1024),
                                                                                    (3840, 2160))) -> list[Figure]:
    """4. Pointer-up → the mask in the kernel (the trait observer fired), at three input sizes."""
    folder = Path(tempfile.mkdtemp(prefix="iw-bench-mask-", dir=lab.base))
    stamps_file = folder / "mask-stamps.txt"
    # `stamps` as the brief describes (the trait observer), written to a file too so the benchmark reads
    # them without running a cell (a cell would queue behind, or in front of, the mask message). A comm
    # hook also notes when the update message reached the kernel and when the browser created it
    # (its header date), to split the time into page, wire and kernel.
    observer = MASK_OBSERVER.replace("STAMPS_PATH", repr(str(stamps_file)))
    nb = lab.notebook("bench_mask.ipynb", setup_cells(folder / "out", observer), emulator_cell=1)
    figures: list[Figure] = []
    try:
        nb.page.set_viewport_size({"width": 1280, "height": 1600})
        for width, height in sizes:
            figures.append(mask_one_size(nb, folder, stamps_file, width, height, strokes))
    finally:
        nb.close()
    return figures


def _heap(page: Any) -> dict[str, float]:
    """JS heap after a forced GC (CDP), plus the DOM node count."""
    cdp = page.context.new_cdp_session(page)
    try:
        cdp.send("HeapProfiler.enable")
        for _ in range(2):
            cdp.send("HeapProfiler.collectGarbage")
        cdp.send("Performance.enable")
        metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
    finally:
        cdp.detach()
    return {"heap_mb": metrics["JSHeapUsedSize"] / 1e6, "nodes": metrics.get("Nodes", 0.0)}


def _saved(path: Path) -> dict[str, Any]:
    data = json.loads(path.read_text())
    state = data.get("metadata", {}).get("widgets", {}).get("application/vnd.jupyter.widget-state+json", {})
    models = state.get("state", {})
    ours = [m for m in models.values() if m.get("model_name") == "AnyModel"]
    source = sum(len(json.dumps(m.get("state", {}).get(k, ""))) for m in ours for k in ("_esm", "_css"))
    buffers = sum(len(json.dumps(m.get("buffers", []))) for m in ours)
    return {"bytes": path.stat().st_size, "widget_state_bytes": len(json.dumps(state)) if state else 0,
            "models": len(models), "image_widget_models": len(ours), "source_bytes": source,
            "buffer_bytes": buffers}


def memory_and_size(lab: Lab, results: int = 200, saved_after: int = 50) -> list[Figure]:
    """5. The page's JS heap with `results` results made (history included); the saved notebook's size."""
    folder = Path(tempfile.mkdtemp(prefix="iw-bench-memory-", dir=lab.base))
    nb = lab.notebook("bench_memory.ipynb", setup_cells(folder), emulator_cell=1)
    try:
        _set_options(nb, prompt=PROMPT, model=MODEL, size=SIZE, quality=QUALITY, n=1, partial_images=0)
        before = _heap(nb.page)
        empty = _saved(nb.save())
        loop = ("t = time.perf_counter()\n"
                "for i in range({start}, {stop}):\n"
                "    w.generate(f'result {{i}}', n=1)\n"
                "print(f'{{time.perf_counter() - t:.1f}}')")
        took = [float(nb.run_cell(loop.format(start=0, stop=saved_after), step=600).strip())]
        nb.wait_state("done")
        nb.wait_kernel_idle()
        after50 = _saved(nb.save())
        took.append(float(nb.run_cell(loop.format(start=saved_after, stop=results), step=900).strip()))
        nb.wait_state("done")
        nb.wait_kernel_idle()
        nb.page.wait_for_timeout(500)  # let the last renders finish (not part of a figure)
        after = _heap(nb.page)
        shown = nb.page.evaluate(
            "(sel) => ({imgs: document.querySelectorAll(sel + ' img').length, "
            "history: document.querySelectorAll(sel + ' [data-run-id]').length})", WIDGET)
        count = nb.run_cell("print(len(w.history.runs()) if w.history is not None else 0)").strip()
        errors = nb.real_page_errors()
    finally:
        nb.close()
    heap_detail: dict[str, Any] = {
        "before (0 results)": f"{before['heap_mb']:.1f} MB, {before['nodes']:.0f} DOM nodes",
        f"after {results} results": f"{after['heap_mb']:.1f} MB, {after['nodes']:.0f} DOM nodes",
        "widget <img>s in the page": shown["imgs"],
        "history runs listed in the page": f"{shown['history']} (text rows; thumbnails only for a selected run)",
        "runs on disk": count,
        "generate loop": f"{took[0]:.1f} s for {saved_after}, {took[1]:.1f} s for {results - saved_after}",
        "how": "CDP HeapProfiler.collectGarbage, then Performance.getMetrics JSHeapUsedSize (whole JupyterLab "
               "page); blob: image bytes live outside the JS heap and are not counted",
    }
    if errors:
        heap_detail["page errors"] = errors[:3]
    growth = after["heap_mb"] - before["heap_mb"]
    size_detail = {
        "widget state in the notebook": f"{after50['widget_state_bytes'] // 1024} KB "
                                        f"({after50['models']} widget models, "
                                        f"{after50['image_widget_models']} image widget)",
        "of which": f"the front end's own source (_esm + _css, stored by anywidget) "
                    f"{after50['source_bytes'] // 1024} KB, image buffers (thumbnails, base64) "
                    f"{after50['buffer_bytes'] // 1024} KB",
        "same notebook saved with 0 results": f"{empty['bytes'] // 1024} KB",
        "saveState": "on (@jupyter-widgets/jupyterlab-manager:plugin)",
    }
    if not after50["widget_state_bytes"]:
        size_detail["warning"] = "no widget state was saved into the notebook: the figure undercounts"
    return [
        Figure(f"page JS heap with {results} results", after["heap_mb"], "MB", before["heap_mb"],
               "same page with 0 results", f"reported (growth {growth:+.1f} MB)", None, heap_detail),
        Figure(f"saved notebook after {saved_after} results", after50["bytes"] / 1024, "KB", empty["bytes"] / 1024,
               "saved with 0 results", "< 500 KB", after50["bytes"] < 500 * 1024, size_detail),
    ]


# ------------------------------------------------------------------------------------------- all

FIGURES = {
    "screen": lambda lab, quick: to_the_screen(lab, runs=5 if quick else 9),
    "first_pixels": lambda lab, quick: first_pixels(lab, runs=3 if quick else 7),
    "mask": lambda lab, quick: mask_latency(lab, strokes=3 if quick else 7),
    "memory": lambda lab, quick: memory_and_size(lab, results=60 if quick else 200, saved_after=50),
}
BrowserFigure = Callable[[Lab, bool], list[Figure]]


def run_all(quick: bool = False, only: str | None = None, total_s: float = 780,
            extra: Mapping[str, BrowserFigure] | None = None) -> list[Figure]:
    """Every browser figure in one JupyterLab server (fresh notebook and kernel per figure); `extra` adds other
    modules' browser figures (run.py passes bench_canvas's), so benchmark modules never import each other."""
    table = {**FIGURES, **(extra or {})}
    chosen = [k for k in table if only is None or only in k]
    if not chosen:
        return []
    figures: list[Figure] = []
    with lab_session(total_s=total_s) as lab:
        for key in chosen:
            started = time.monotonic()
            try:
                got = table[key](lab, quick)
            except Exception as exc:  # noqa: BLE001 - one broken figure must not hide the others
                got = [Figure(f"{key} (browser)", float("nan"), "", None, "", "measured", False,
                              {"not measured": f"{type(exc).__name__}: {str(exc)[:400]}"})]
            for figure in got:
                figure.detail.setdefault("took", f"{time.monotonic() - started:.0f} s")
                print(figure.line(), flush=True)
            figures += got
    return figures


if __name__ == "__main__":
    quick = "--quick" in sys.argv
    only = sys.argv[sys.argv.index("--only") + 1] if "--only" in sys.argv else None
    for fig in run_all(quick=quick, only=only):
        print(fig.line(), json.dumps(fig.detail, default=str))
