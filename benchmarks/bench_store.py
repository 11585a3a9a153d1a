"""The store at scale (issue 13): a folder of 100,000 records, then opening, querying and rebuilding its index,
and opening the widget on it (bench_widget_open).

The folder is written by `Store.save` itself (records shaped like `generate`'s, tiny PNGs of three shapes,
runs of 1–4 images, 90 days of times), in two processes at once, with the background fsync switched off:
durability is not what is measured, and 200,000 fsyncs would make the fixture take longer than the
figures. Opens and memory are measured in fresh interpreters, as after a kernel restart.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from common import NOW, SRC, Figure, make_folder, median_seconds


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


def store_at_scale(records: int = 100_000, repeat: int = 7, *,
                   widget_open: Callable[[Path, Path, int], list[Figure]] | None = None,
                   live_poll: Callable[[Path], Figure] | None = None) -> list[Figure]:
    """Issue 13's figures on a folder of `records` images (and, for comparison, on an empty folder); with
    `widget_open` / `live_poll` (bench_widget_open's, passed in by run.py) the widget's figures on it too."""
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
        widget = widget_open(folder, empty, repeat) if widget_open is not None else []

        size = sum(f.stat().st_size for f in (folder / INDEX_FOLDER).iterdir())
        shutil.rmtree(folder / INDEX_FOLDER)
        rebuild = _fresh(REBUILD, str(folder))
        assert rebuild["n"] == records
        poll = [live_poll(folder)] if live_poll is not None else []  # last: it saves one more image

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
        *poll,
    ]


if __name__ == "__main__":
    for figure in store_at_scale(records=int(sys.argv[1]) if len(sys.argv) > 1 else 100_000):  # run.py adds the widget
        print(figure.line())
        for key, value in figure.detail.items():
            print(f"  {key}: {value}")
