"""The `mask` and `history` trait values carry what their serializers send, and chunked uploads.

Why these exist: the history serializer used to ignore its value (the thumbnails lived on the widget,
so `send_state("history")` was called by hand) and the mask's `validate` wrote private widget state.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from image_widget.emulator import Emulator
from image_widget.store import History
from image_widget.widget import ImageWidget
from image_widget.widget.inputs import MAX_CHUNKED_BYTES, ChunkedUploads, UploadTooLargeError
from image_widget.widget.serialization import MaskImage, WidgetHistory, history_to_json, mask_to_json

KEY = "sk-test-SERIALIZE0123456789"


def mask_png(size: tuple[int, int], painted: bool = True) -> bytes:
    rgba = np.zeros((size[1], size[0], 4), dtype=np.uint8)
    rgba[..., 3] = 255
    if painted:
        rgba[:4, :4, 3] = 0
    out = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def widget(emulator: Emulator, tmp_path: Path) -> Iterator[tuple[ImageWidget, list[dict[str, Any]]]]:
    w = ImageWidget(base_url=emulator.url, api_key=KEY, folder=tmp_path, prompt="a fox")
    sent: list[dict[str, Any]] = []
    w.comm.send = lambda data=None, metadata=None, buffers=None: sent.append(data or {})
    yield w, sent
    w.close()


_START_LOADS = ("image-widget-spend", "image-widget-conversation", "image-widget-batches-list", "image-widget-models")


def test_validating_a_mask_changes_nothing_on_the_widget(widget: tuple[ImageWidget, Any]) -> None:
    w, _ = widget
    for thread in threading.enumerate():  # what the constructor reads in the background lands first
        if thread.name in _START_LOADS:
            thread.join(30)
    before = dict(vars(w))
    value = ImageWidget.mask.validate(w, mask_png((16, 16)))
    assert isinstance(value, MaskImage)
    assert dict(vars(w)) == before
    assert w.mask is None


def test_the_mask_value_carries_its_png(widget: tuple[ImageWidget, Any]) -> None:
    w, _ = widget
    png = mask_png((16, 16))
    w.mask = png
    assert isinstance(w.mask, MaskImage)
    assert w.mask.has_edit
    assert mask_to_json(w.mask, None) == png
    assert w.get_state("mask")["mask"] == png
    w.mask = mask_png((16, 16), painted=False)
    assert not w.mask.has_edit
    assert "mask" not in w._plan().wire  # nothing painted: the edit goes without a mask
    w.mask = None
    assert mask_to_json(w.mask, None) == b""


def test_the_history_serializer_reads_its_value(widget: tuple[ImageWidget, Any], tmp_path: Path) -> None:
    w, sent = widget
    assert w._history_ready.wait(30)
    run = {"run_id": "r1", "prompt": "p", "created": "", "model": "m", "items": [{"id": "a", "thumb": b"x"}]}
    value = WidgetHistory(tmp_path).with_loaded([run])
    assert history_to_json(value, w) == [run]
    assert history_to_json(None, w) == []
    assert history_to_json(History(tmp_path), w) == []  # an empty folder: no runs
    sent.clear()
    w.history = value  # assigning is what sends it
    updates = [m["state"] for m in sent if m.get("method") == "update"]
    assert [list(u) for u in updates] == [["history"]]
    assert updates[0]["history"][0]["run_id"] == "r1"


def test_a_run_replaces_the_history_value(widget: tuple[ImageWidget, Any]) -> None:
    w, _ = widget
    assert w._history_ready.wait(30)
    before = w.history
    w.generate()
    assert w.history is not before
    assert len(w.history) == 1
    assert isinstance(w.history, WidgetHistory)
    assert [item["id"] for item in w.history.shown[0]["items"]] == [r["id"] for r in w.results]


def test_chunked_uploads_are_reassembled_in_order_and_bounded() -> None:
    chunks = ChunkedUploads()
    assert chunks.add("u", 1, 2, "a.png", b"world") is None
    assert chunks.add("u", 0, 2, "a.png", b"hello ") == ("a.png", b"hello world")
    with pytest.raises(UploadTooLargeError):
        chunks.add("big", 0, 2, "big.png", b"\0" * (MAX_CHUNKED_BYTES + 1))
    assert chunks.add("big", 1, 2, "big.png", b"x") is None  # its earlier part was dropped
