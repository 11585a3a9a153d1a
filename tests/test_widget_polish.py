"""Issue 14, item 11 on the kernel side: plain cost texts (the page says once that the emulator bills
nothing) and `w.mask_base_image`, the PIL counterpart of `w.mask`."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from image_widget.widget import ImageWidget
from support.images import png


def test_cost_texts_are_the_amounts_alone(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    w = ImageWidget(folder=tmp_path, model="gpt-image-2.6-flare")  # no published estimate: "unknown"
    try:
        assert w.backend["synthetic"] is True
        w.generate("a fox")
        assert w.cost["estimate_text"] == "unknown"
        texts = [w.cost[k] for k in ("estimate_text", "last_text", "session_text")]
        assert all(t and "emulator" not in t and "billed" not in t for t in texts), texts
        assert w.cost["last_text"] == w.cost["session_text"]
    finally:
        w.close()


def test_mask_base_image_is_a_pil_image(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    w = ImageWidget(folder=tmp_path)
    try:
        assert w.mask_base_image is None
        w.add_inputs(png((320, 200)), png((64, 64)))
        base = w.mask_base_image
        assert isinstance(base, Image.Image)
        assert base.size == (320, 200)
        assert isinstance(w.mask_base, bytes)  # the wire form is unchanged
        w.mask = Image.new("L", (320, 200), 255)  # painted everywhere: same size as the base
        assert w.mask is not None
        assert w.mask.size == base.size
    finally:
        w.close()
