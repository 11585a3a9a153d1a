"""A folder of many small runs, written by the store itself, for the history strip's paging and search."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

from PIL import Image

from image_widget.store import Store


def prompt_of(i: int) -> str:
    """Run i's prompt: every third run (i = 0, 3, 6, …) is a fox, the others owls."""
    return f"{'a red FOX' if i % 3 == 0 else 'an owl'} #{i}"


def images_of(i: int) -> int:
    """Run i's image count: every fourth run has two."""
    return 2 if i % 4 == 0 else 1


def make_runs(folder: Path, runs: int) -> Path:
    """`runs` runs a minute apart (run i is newer than run i - 1), saved through `Store.save`."""
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (30, 90, 200)).save(buf, "PNG")
    store, data = Store(folder), buf.getvalue()
    for i in range(runs):
        shared = {"run_id": f"{i:032x}", "created": f"2026-11-{1 + i // 60:02d}T10:{i % 60:02d}:00+00:00",
                  "prompt": prompt_of(i), "model": "gpt-image-2", "count": images_of(i)}
        for index in range(images_of(i)):
            store.save(data, "png", {**shared, "index": index})
    return folder


def newest(runs: int, count: int, keep: Callable[[int], bool] = lambda _i: True) -> list[str]:
    """The prompts of the newest `count` runs of `make_runs(…, runs)` that `keep` accepts, newest first."""
    return [prompt_of(i) for i in range(runs - 1, -1, -1) if keep(i)][:count]
