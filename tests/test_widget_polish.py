"""Issue 14, item 11 outside the page: plain cost texts (the page says once that the emulator bills
nothing), `w.mask_base_image` (the PIL counterpart of `w.mask`), and docs that say how to slow the
emulator for a demo."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from PIL import Image

from image_widget.emulator import Emulator
from image_widget.widget import ImageWidget
from support.images import png

ROOT = Path(__file__).resolve().parents[1]


def test_cost_texts_are_the_amounts_alone(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    w = ImageWidget(folder=tmp_path, model="gpt-image-2.6-flare")  # no published estimate: "unknown"
    try:
        assert w.backend["synthetic"] is True
        assert w.cost["estimate_text"] == "unknown — one run of this model teaches it"
        w.generate("a fox")
        # the estimate is now learned from that run, and says it was an emulator run (never a bill)
        assert w.cost["estimate_text"].startswith("≈ $")
        assert "learned from 1 emulator run" in w.cost["estimate_text"]
        texts = [w.cost[k] for k in ("last_text", "session_text")]
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


DEMO_CALL = re.compile(r"shared_emulator\(\)\.configure\(([^)]*)\)")


@pytest.mark.parametrize("doc", ["README.md", "notebooks/quickstart.ipynb", "notebooks/teaching.ipynb"])
def test_the_docs_say_how_to_slow_the_emulator(doc: str) -> None:
    """Teachers find how to slow the emulator (to show previews and Cancel), and the call shown works."""
    text = (ROOT / doc).read_text(encoding="utf-8")
    if doc.endswith(".ipynb"):
        text = "\n".join("".join(cell["source"]) for cell in json.loads(text)["cells"])
    assert "from image_widget.emulator import shared_emulator" in text
    calls = DEMO_CALL.findall(text)
    assert calls, f"{doc} does not show shared_emulator().configure(...)"
    with Emulator() as emulator:  # a private one: the shared emulator is other tests' backend
        for args in calls:
            config = eval(f"dict({args})", {})  # our own documentation
            assert config["latency_s"] >= 1
            emulator.configure(**config)
            assert emulator.config.latency_s == config["latency_s"]
            emulator.reset()
            assert emulator.config.latency_s == 0
