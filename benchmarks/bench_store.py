"""The store at scale (issue 13): a folder of 100,000 records, then opening, querying and rebuilding its index,
and opening the widget on it (bench_widget_open).

The folder is written by `Store.save` itself (records shaped like `generate`'s, tiny PNGs of three shapes,
runs of 1–4 images, 90 days of times), in two processes at once, with the background fsync switched off:
durability is not what is measured, and 200,000 fsyncs would make the fixture take longer than the
figures. Opens and memory are measured in fresh interpreters, as after a kernel restart.
"""

from __future__ import annotations

import io
import json
import multiprocessing
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench_widget_open import live_poll, widget_open
from common import Figure, median_seconds

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


def _fresh(code: str, *args: str) -> dict[str, Any]:
    """Run `code` in a new interpreter (as after a kernel restart); it prints one JSON object."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")])}
    out = subprocess.check_output([sys.executable, "-c", code, *args], env=env, text=True)
    return json.loads(out.strip().splitlines()[-1])  # type: ignore[no-any-return]


OPEN = r"""
import json, sys, time
import image_widget as iw
iw.History  # the store modules are imported here, not timed (they are the same for any folder)
t0 = time.perf_counter(); history = iw.History(sys.argv[1]); t1 = time.perf_counter()
page = history[:50]; t2 = time.perf_counter()
n = len(history); t3 = time.perf_counter()
print(json.dumps({"open": t1 - t0, "page": t2 - t1, "len": t3 - t2, "n": n}))
"""

MEMORY = r"""
import gc, json, sys
from datetime import datetime, timedelta, UTC
import psutil
import image_widget as iw
iw.History
proc = psutil.Process(); gc.collect(); before = proc.memory_info().rss
history = iw.History(sys.argv[1])
page = history[:50]; runs = history.runs(limit=20); n = len(history)
found = history.filter(prompt="fox", orientation="landscape", sort="cheapest")[:20]
gc.collect(); after = proc.memory_info().rss
print(json.dumps({"mb": (after - before) / 1e6, "n": n}))
"""

REBUILD = r"""
import json, sys, time
import image_widget as iw
iw.History
t0 = time.perf_counter(); history = iw.History(sys.argv[1]); t1 = time.perf_counter()
print(json.dumps({"s": t1 - t0, "n": len(history)}))
"""


def _median(runs: list[dict[str, Any]], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def store_at_scale(records: int = 100_000, repeat: int = 7) -> list[Figure]:
    """Issue 13's figures on a folder of `records` images (and, for comparison, on an empty folder)."""
    from image_widget.store import INDEX_FOLDER, History

    with tempfile.TemporaryDirectory(prefix="iw-scale-") as tmp:
        folder, empty = Path(tmp) / "big", Path(tmp) / "empty"
        empty.mkdir()
        wrote = make_folder(folder, records)
        first = median_seconds(lambda: History(folder), 1, warmup=0)  # the writers left it to be checked
        opens = [_fresh(OPEN, str(folder)) for _ in range(repeat)]
        empties = [_fresh(OPEN, str(empty)) for _ in range(repeat)]
        assert all(r["n"] == records for r in opens)

        history = History(folder)
        since = NOW - timedelta(days=7)
        queries = {
            "20 cheapest landscapes with 'fox' from the last 7 days": lambda: history.filter(
                prompt="fox", orientation="landscape", since=since, until=NOW, sort="cheapest")[:20],
            "how many of them": lambda: len(history.filter(prompt="fox", orientation="landscape", since=since)),
            "page 1000 of 50": lambda: history.page(1000),
            "one model, cost 0.01-0.05, first 50": lambda: history.filter(model="gpt-image-1.5", min_cost=0.01,
                                                                          max_cost=0.05)[:50],
            "words anywhere ('ramen night'), first 50": lambda: history.filter(search="ramen night")[:50],
            "a prompt nobody wrote ('zebra'), count": lambda: len(history.filter(prompt="zebra")),
            "len(history)": lambda: len(history),
        }
        timed = {name: median_seconds(fn, 15) for name, fn in queries.items()}
        main_query = next(iter(timed.values()))
        found = len(queries["20 cheapest landscapes with 'fox' from the last 7 days"]())
        reload_s = median_seconds(history.reload, 1, warmup=0)
        memory = _fresh(MEMORY, str(folder))
        widget = widget_open(folder, empty, repeat)

        size = sum(f.stat().st_size for f in (folder / INDEX_FOLDER).iterdir())
        shutil.rmtree(folder / INDEX_FOLDER)
        rebuild = _fresh(REBUILD, str(folder))
        assert rebuild["n"] == records
        poll = live_poll(folder)  # last: it saves one more image

    label = f"{records:,}"
    open_s, page_s, empty_s = _median(opens, "open"), _median(opens, "page"), _median(empties, "open")
    return [
        Figure(f"iw.History() open, {label} images (fresh process)", open_s * 1000, "ms", empty_s * 1000,
               "empty folder", "< 100 ms", open_s < 0.100,
               {"first page of 50": f"{page_s * 1000:.1f} ms", "len()": f"{_median(opens, 'len') * 1000:.1f} ms",
                "runs": ", ".join(f"{r['open'] * 1000:.1f}" for r in opens) + " ms",
                "folder written": f"{wrote:.0f} s by Store.save in 2 processes ({records / wrote:.0f} images/s)",
                "first open after the writers": f"{first * 1000:.0f} ms (if their saves overlapped at the end, "
                                                "this one checks every sidecar's time)"}),
        Figure(f"filtered query, {label} images", main_query * 1000, "ms", None, "", "< 50 ms", main_query < 0.050,
               {"query": f"filter(prompt='fox', orientation='landscape', since=7 days ago, sort='cheapest')[:20] "
                         f"→ {found} images",
                **{name: f"{t * 1000:.1f} ms" for name, t in timed.items()}}),
        Figure(f"kernel memory for an open History, {label} images", memory["mb"], "MB", None, "",
               "< 50 MB", memory["mb"] < 50, {"measured": "RSS growth: open, first page, 20 runs, len, the query"}),
        Figure(f"full index rebuild from {label} sidecars", rebuild["s"], "s", None, "", "reported", None,
               {"index size": f"{size / 1e6:.0f} MB ({size / records:.0f} bytes per image)",
                "reload() (checks every sidecar's time, reads none)": f"{reload_s * 1000:.0f} ms"}),
        *widget,
        poll,
    ]


if __name__ == "__main__":
    for figure in store_at_scale(records=int(sys.argv[1]) if len(sys.argv) > 1 else 100_000):
        print(figure.line())
        for key, value in figure.detail.items():
            print(f"  {key}: {value}")
