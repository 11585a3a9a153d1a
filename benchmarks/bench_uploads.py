"""Bytes uploaded for an edit sweep (issue 19): 40 cells over the same 4 reference photos of ~8 MB each.

Ours: `iw.sweep(..., image=refs)` uploads each reference once (Files API, purpose `vision`) and names it by
`file_id` in every cell's JSON edit. Baseline: the same 40 edits as multipart (what every edit sent before,
and what the SDK's `images.edit` sends), each carrying the 4 photos again. Both are counted from the
emulator's request log (the size of every file part and every JSON body that reached it).

    python benchmarks/run.py --only uploads
"""

from __future__ import annotations

import io
import json
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

import image_widget as iw
from common import Figure
from image_widget.emulator import Emulator

KEY = "sk-bench-uploads"


def _photo(seed: int, side: int = 1640) -> bytes:
    """A PNG of about 8 MB: noise barely compresses."""
    pixels = np.random.default_rng(seed).integers(0, 256, (side, side, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels, "RGB").save(buffer, "PNG", compress_level=1)
    return buffer.getvalue()


def _sent_bytes(emulator: Emulator) -> int:
    """What reached the emulator: every Files upload (its stored size) plus every edit's image parts —
    the uploads of a multipart edit, or the references of a JSON edit (a few hundred bytes)."""
    uploaded = sum(f["bytes"] for f in emulator.batches_runner.disk.list_files("vision"))
    edits = 0
    for entry in emulator.log:
        if entry.endpoint != "edit":
            continue
        if "refs" in entry.params:
            edits += len(json.dumps(entry.params["refs"]))
            continue
        for key in ("image", "mask"):
            value = entry.params.get(key)
            items = value if isinstance(value, list) else [value] if value else []
            edits += sum(int(item["bytes"]) for item in items if isinstance(item, dict))
    return uploaded + edits


def edit_sweep_uploads(cells: int = 40, refs: int = 4) -> list[Figure]:
    photos = [_photo(seed) for seed in range(refs)]
    reference_bytes = sum(len(p) for p in photos)
    things = [f"thing {i}" for i in range(cells)]
    with Emulator(api_key=KEY) as emulator, tempfile.TemporaryDirectory() as folder:
        options = {"base_url": emulator.url, "api_key": KEY, "model": "gpt-image-2", "size": "1024x1024",
                   "quality": "low"}
        sweep = iw.sweep("a {thing}", thing=things, image=photos, store=Path(folder) / "ours", progress=False,
                         **options)
        assert not sweep.failures, sweep.failures
        ours = _sent_bytes(emulator)
        emulator.clear_log()
        emulator.batches_runner.disk.clear()
        for thing in things:  # the baseline: each cell's edit as multipart, photos and all
            iw.edit(photos, f"a {thing}", store=Path(folder) / "multipart", **options)
        baseline = _sent_bytes(emulator)
    ratio = ours / reference_bytes
    detail = {"references": f"{refs} PNGs, {reference_bytes / 1e6:.1f} MB together", "cells": cells,
              "ours": f"{ours / 1e6:.1f} MB", "multipart every cell": f"{baseline / 1e6:.1f} MB",
              "ratio to the references": f"{ratio:.3f}x (multipart: {baseline / reference_bytes:.1f}x)"}
    return [Figure(f"bytes uploaded, {cells}-cell edit sweep over {refs} ~8 MB references", ours / 1e6, "MB",
                   baseline / 1e6, "multipart every cell", "<= 1.1x the references' size",
                   ratio <= 1.1, detail)]


if __name__ == "__main__":
    for figure in edit_sweep_uploads():
        print(figure.line(), figure.detail)
