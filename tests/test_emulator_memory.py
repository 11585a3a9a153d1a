"""The offline emulator runs inside the user's kernel, so what it keeps between requests is bounded and small.

Its render caches held up to 256 MB of pixels and bytes: 200 results grew the kernel by 1.07 MB each in the
full benchmark run of 2026-12-04 (target < 1 MB; 0.39 MB with the bounds below).
"""

from __future__ import annotations

from image_widget.emulator import render

MB = 1024 * 1024


def test_the_render_caches_stay_within_their_budgets() -> None:
    for i in range(24):  # 24 distinct 1024x1024 images: 72 MB of canvases if nothing were dropped
        spec = render.Spec(prompt=f"budget check {i}", index=0, size=(1024, 1024))
        assert render.render("generate", spec)[:8] == b"\x89PNG\r\n\x1a\n"
    assert render._CANVASES.max_bytes <= 40 * MB
    assert render._CACHE.max_bytes <= 32 * MB
    assert 0 < render._CANVASES._total <= render._CANVASES.max_bytes
    assert 0 < render._CACHE._total <= render._CACHE.max_bytes


def test_a_repeated_request_is_served_from_the_cache() -> None:
    spec = render.Spec(prompt="the same fox", index=0, size=(256, 256))
    assert render.render("generate", spec) is render.render("generate", spec)
