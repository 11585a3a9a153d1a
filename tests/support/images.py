"""Test pictures built in memory, shared by every test that needs one: a photo-like picture, noise, a flat
colour, an edit mask as the browser paints it, and their encoded bytes.

Every builder is deterministic: the same arguments give the same pixels (and so the same bytes), so a test
may build a picture twice and compare.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np
from PIL import Image

Size = tuple[int, int]
Colour = tuple[int, ...]


def encode(img: Image.Image, fmt: str = "PNG", **options: Any) -> bytes:
    """`img` saved as `fmt` (any Pillow format and save options)."""
    out = io.BytesIO()
    img.save(out, fmt, **options)
    return out.getvalue()


def decode(data: bytes) -> Image.Image:
    """An encoded image, opened and fully loaded (so a truncated file fails here, not later)."""
    img = Image.open(io.BytesIO(data))
    img.load()
    return img


def photo(size: Size = (256, 256), shift: int = 0) -> Image.Image:
    """An RGB picture with no flat areas: red rises downwards, green across, blue is flat at 40 + `shift`
    (so two pictures of one size can differ). Scaling, cropping or turning it shows in its pixels."""
    ramp = Image.linear_gradient("L").resize(size)
    return Image.merge("RGB", (ramp, ramp.transpose(Image.Transpose.ROTATE_90).resize(size),
                               Image.new("L", size, (40 + shift) % 256)))


def noise(size: Size, mode: str = "RGB", seed: int = 0) -> Image.Image:
    """Random pixels (incompressible) in an 8-bit-per-channel `mode` such as "L", "RGB" or "RGBA"."""
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 256, (size[1], size[0], len(mode)), dtype=np.uint8)
    return Image.fromarray(pixels[..., 0] if len(mode) == 1 else pixels, mode)


def png(size: Size = (64, 64), colour: Colour | None = None, mode: str = "RGB") -> bytes:
    """PNG bytes of `photo(size)`, or of a flat `colour` when given, in `mode`."""
    img = photo(size) if colour is None else Image.new("RGB", size, colour[:3])
    return encode(img if mode == "RGB" else img.convert(mode))


def jpeg(size: Size = (64, 64), colour: Colour = (200, 10, 10), quality: int = 85) -> bytes:
    """JPEG bytes of a flat `colour`."""
    return encode(Image.new("RGB", size, colour), "JPEG", quality=quality)


def mask_png(size: Size, box: tuple[int, int, int, int]) -> bytes:
    """An edit mask as the browser paints it: an RGBA PNG, black, transparent (alpha 0 = edit here) inside
    `box` = (left, top, right, bottom) with right and bottom excluded, opaque everywhere else."""
    rgba = np.zeros((size[1], size[0], 4), dtype=np.uint8)
    rgba[..., 3] = 255
    left, top, right, bottom = box
    rgba[top:bottom, left:right, 3] = 0
    return encode(Image.fromarray(rgba, "RGBA"))
