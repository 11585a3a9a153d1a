"""Opening the widget on a big folder (issue 13): `ImageWidget(folder=...)` on 100,000 images against an
empty folder, in fresh interpreters (as after a kernel restart), and the time until its history strip's
first page (the newest runs, with thumbnails) is in the `history` trait.

    python benchmarks/bench_widget_open.py                 # makes a 100,000-image folder first (~2-3 min)
    python benchmarks/bench_widget_open.py --folder PATH   # reuses (or makes) the folder at PATH

`run.py` hands these to `bench_store.store_at_scale`, which runs them on its own folder, so they are reported too.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from common import SRC, Figure, make_folder, median_seconds

OPEN_WIDGET = r"""
import json, sys, time
from image_widget.widget import ImageWidget
from image_widget.widget.serialization import history_to_json
t0 = time.perf_counter()
w = ImageWidget(folder=sys.argv[1])
t1 = time.perf_counter()
assert w._history_ready.wait(60)
t2 = time.perf_counter()
payload = history_to_json(w.history, w)
size = sum(len(item["thumb"]) for run in payload for item in run["items"])
print(json.dumps({"open": t1 - t0, "first_page": t2 - t0, "runs": len(payload), "thumb_bytes": size,
                  "images": len(w.history)}))
w.close()
"""


def _fresh(folder: Path) -> dict[str, Any]:
    """One widget open in a new interpreter (the widget's modules imported first, untimed: the same for any
    folder). No key: the widget starts the offline emulator, as a first widget without a key does."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")])}
    env.pop("OPENAI_API_KEY", None)
    out = subprocess.check_output([sys.executable, "-c", OPEN_WIDGET, str(folder)], env=env, text=True,
                                  stderr=subprocess.DEVNULL)
    return json.loads(out.strip().splitlines()[-1])  # type: ignore[no-any-return]


def widget_open(folder: Path, empty: Path, repeat: int = 7) -> list[Figure]:
    """Median open and first-page times on `folder` and on the empty folder `empty`, runs interleaved."""
    big, none = [], []
    for _ in range(repeat):
        big.append(_fresh(folder))
        none.append(_fresh(empty))
    label = f"{big[0]['images']:,}"
    open_s = statistics.median(r["open"] for r in big)
    empty_s = statistics.median(r["open"] for r in none)
    page_s = statistics.median(r["first_page"] for r in big)
    page_empty_s = statistics.median(r["first_page"] for r in none)
    return [
        Figure(f"ImageWidget() open, {label} images (fresh process)", open_s * 1000, "ms", empty_s * 1000,
               "empty folder", "< 1 s and ≤ 1.2× the empty folder", open_s < 1.0 and open_s <= 1.2 * empty_s,
               {"runs (ms, this folder / empty)": ", ".join(f"{a['open'] * 1000:.0f}/{b['open'] * 1000:.0f}"
                                                            for a, b in zip(big, none, strict=True)),
                "measured": "the first ImageWidget(folder=...) of a new interpreter (its modules already "
                            "imported), no key: the offline emulator starts in both"}),
        Figure(f"widget's first history page, {label} images (fresh process)", page_s * 1000, "ms",
               page_empty_s * 1000, "empty folder (nothing to show)", "reported", None,
               {"first page": f"{big[0]['runs']} runs, {big[0]['thumb_bytes'] / 1000:.0f} KB of thumbnails, "
                              "read from the index and thumbnailed off the kernel's thread",
                "measured": "from the constructor's start until the `history` trait holds the first page"}),
    ]


def live_poll(folder: Path, repeat: int = 50) -> Figure:
    """What the shared gallery's once-a-second poll costs on `folder`: nothing new, then one run another
    `Store` (as another process) saved. The run is left in the folder."""
    import io

    from PIL import Image

    from image_widget.store import History, Store
    from image_widget.widget.payloads import HISTORY_RUNS

    history = History(folder)
    last = history.last_row_id
    quiet = median_seconds(lambda: history.changed_runs(last, HISTORY_RUNS), repeat)
    buf = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buf, "PNG")
    Store(folder).save(buf.getvalue(), "png", {"prompt": "saved by another process", "model": "gpt-image-2"})
    found: list[int] = []
    one = median_seconds(lambda: found.append(len(history.changed_runs(last, HISTORY_RUNS)[0])), repeat)
    assert set(found) == {1}
    label = f"{len(history):,}"
    return Figure(f"live gallery poll, {label} images", quiet * 1000, "ms", None, "", "reported (once a second)",
                  None, {"with one new run": f"{one * 1000:.2f} ms", "query": "History.changed_runs(last row, 30): "
                         "rows after the last one seen, by the index's row ids (no folder scan)"})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--folder", type=Path, help="a folder of images to open (made with 100,000 if missing)")
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="iw-open-") as tmp:
        folder = args.folder or Path(tmp) / "big"
        if not folder.is_dir():
            print(f"writing {args.records:,} images into {folder}…", flush=True)
            make_folder(folder, args.records)
        empty = Path(tmp) / "empty"
        empty.mkdir()
        for figure in [*widget_open(folder, empty, args.repeat), live_poll(folder)]:
            print(figure.line())
            for key, value in figure.detail.items():
                print(f"  {key}: {value}")


if __name__ == "__main__":
    main()
