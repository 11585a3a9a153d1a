"""Helpers for the front-end module tests: default traits, fake results and the page harness (test
images come from support.images).

Bytes cross the page boundary as {"__bytes__": base64}; the page turns them into DataViews with a
non-zero byteOffset, the way ipywidgets may hand them to the widget.
"""

from __future__ import annotations

import base64
from typing import Any

import numpy as np
from playwright.sync_api import Locator, Page

from image_widget.widget import options as widget_options
from support.images import jpeg

GPT_IMAGE_2_CAPS: dict[str, Any] = {
    "model": "gpt-image-2",
    "known": True,
    "status": "current",
    "note": "",
    "previews": {"background": ["transparent"]},
    "replacement": None,
    "endpoints": ["edit", "generate"],
    "sizes": ["auto", "1024x1024", "1536x1024", "1024x1536"],
    "custom_size": True,
    "qualities": ["low", "medium", "high", "auto"],
    "output_formats": ["png", "webp", "jpeg", "gif", "svg"],
    "backgrounds": ["transparent", "opaque", "auto"],
    "n_max": 10,
    "prompt_max": 32000,
    "max_input_images": 16,
    "mask": True,
    "markup": False,
    "input_fidelity": [],
    "moderation": True,
    "streaming": True,
    "max_partial_images": 3,
    "compressible_formats": ["webp", "jpeg"],
    "transparent_formats": ["png", "webp"],
}

DALLE_3_CAPS: dict[str, Any] = {
    "model": "dall-e-3",
    "known": True,
    "status": "retired",
    "note": "This model was retired on May 12, 2026",
    "replacement": "a GPT image model (e.g. gpt-image-2)",
    "endpoints": ["generate"],
    "sizes": ["1024x1024", "1792x1024", "1024x1792"],
    "custom_size": False,
    "qualities": ["standard", "hd"],
    "output_formats": ["png"],
    "backgrounds": [],
    "n_max": 1,
    "prompt_max": 4000,
    "max_input_images": 1,
    "mask": True,
    "markup": False,
    "input_fidelity": [],
    "moderation": False,
    "streaming": False,
    "max_partial_images": 0,
    "compressible_formats": ["webp", "jpeg"],
    "transparent_formats": ["png", "webp"],
}

DEFAULT_OPTIONS: dict[str, Any] = dict(widget_options.DEFAULT_OPTIONS)
"""The kernel's own defaults (widget/options.py): the one place they live; the page has none."""


def default_state() -> dict[str, Any]:
    return {
        "options": dict(DEFAULT_OPTIONS),
        "models": ["gpt-image-2", "gpt-image-1.5", "gpt-image-1-mini", "dall-e-3"],
        "capabilities": dict(GPT_IMAGE_2_CAPS),
        "problems": {},
        "inputs": [],
        "mask_base": b"",
        "mask": b"",
        "status": {"state": "idle", "message": "", "job_id": None, "started_ms": None},
        "preview": b"",
        "error": {},
        "results": [],
        "history": [],
        "backend": {"kind": "emulator", "label": "Emulator (127.0.0.1)", "synthetic": True},
        "cost": {
            "estimate_text": "$0.01",
            "last_text": "",
            "session_text": "$0.00",
            "estimate_usd": 0.01,
            "last_usd": None,
            "session_usd": 0.0,
        },
    }


# ---------------------------------------------------------------------------------------- codec


def _enc(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"__bytes__": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, dict):
        return {k: _enc(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_enc(v) for v in value]
    return value


def _dec(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"__bytes__"}:
            return base64.b64decode(value["__bytes__"])
        return {k: _dec(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_dec(v) for v in value]
    return value


class Harness:
    """The fake-model page, from Python."""

    def __init__(self, page: Page) -> None:
        self.page = page

    @property
    def root(self) -> Locator:
        return self.page.locator(".image-widget")

    def mount(self, **traits: Any) -> Harness:
        state = default_state()
        state.update(traits)
        self.page.evaluate("s => window.__h.mount(s)", _enc(state))
        self.page.wait_for_selector('.image-widget[data-ready="1"]')
        return self

    def set_trait(self, name: str, value: Any) -> None:
        self.page.evaluate("([k, v]) => window.__h.setTrait(k, v)", [name, _enc(value)])

    def set_options(self, **patch: Any) -> None:
        options = self.state("options")
        options.update(patch)
        self.set_trait("options", options)

    def fire(self, msg: dict[str, Any], buffers: list[bytes] | None = None) -> None:
        b64 = [base64.b64encode(b).decode("ascii") for b in (buffers or [])]
        self.page.evaluate("([m, b]) => window.__h.fire(m, b)", [msg, b64])

    def sets(self, key: str) -> list[Any]:
        return [_dec(s["value"]) for s in self.page.evaluate("k => window.__h.sets(k)", key)]

    def count_sets(self, key: str) -> int:
        return int(self.page.evaluate("k => window.__h.sets(k).length", key))

    def wait_sets(self, key: str, count: int) -> list[Any]:
        """Wait until the widget has written `key` at least `count` times; return all writes."""
        self.page.wait_for_function("([k, n]) => window.__h.sets(k).length >= n", arg=[key, count])
        return self.sets(key)

    def sent(self, type_: str | None = None) -> list[dict[str, Any]]:
        out = []
        for m in self.page.evaluate("t => window.__h.sent(t)", type_):
            out.append({"content": m["content"], "buffers": [base64.b64decode(b) for b in m["buffers"]]})
        return out

    def wait_sent(self, type_: str, count: int = 1) -> list[dict[str, Any]]:
        self.page.wait_for_function("([t, n]) => window.__h.sentCount(t) >= n", arg=[type_, count])
        return self.sent(type_)

    def sent_meta(self, type_: str) -> list[dict[str, Any]]:
        """Messages with buffer sizes and checksums (see `checksum`) instead of the bytes."""
        return list(self.page.evaluate("t => window.__h.sentMeta(t)", type_))

    def state(self, name: str) -> Any:
        return _dec(self.page.evaluate("k => window.__h.state(k)", name))

    def writes(self) -> list[str]:
        """Trait writes and messages in the order the widget made them: "set options", "send add_inputs"."""
        return list(self.page.evaluate("() => window.__h.writes()"))

    def calls(self) -> list[str]:
        return list(self.page.evaluate("() => window.__h.calls()"))


def checksum(data: bytes) -> int:
    """Sum of byte * (i % 251 + 1) mod 2**32 — the fake page's cheap buffer checksum."""
    arr = np.frombuffer(data, np.uint8).astype(np.uint64)
    weights = (np.arange(len(arr), dtype=np.uint64) % 251) + 1
    return int((arr * weights).sum() % (2**32))


def fake_results(n: int) -> list[dict[str, object]]:
    """`n` entries of the `results` trait, each with its own colour, as the kernel would send them."""
    colours = [(200, 60, 60), (60, 160, 90), (70, 90, 200), (200, 170, 40)]
    return [
        {
            "id": f"img-{i}",
            "width": 1024,
            "height": 1024,
            "format": "png",
            "thumb": jpeg((160, 160), colours[i % len(colours)]),
            "prompt": f"prompt {i}",
            "model": "gpt-image-2",
            "size": "1024x1024",
            "quality": "low",
            "cost_text": "$0.011",
            "code": f"image_widget.generate('prompt {i}')",
        }
        for i in range(n)
    ]
