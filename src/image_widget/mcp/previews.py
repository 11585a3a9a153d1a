"""Small previews for tool results: MCP clients choke on multi-megabyte inline images.

A preview is at most `PREVIEW_SIDE` pixels on its longer side, JPEG for opaque images and PNG when there
is transparency (flattened to JPEG if that PNG would still be big), and always well under `PREVIEW_LIMIT`.
The full image goes out only when asked for, and only up to `FULL_LIMIT`; its path is always given.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

PREVIEW_SIDE = 512
PREVIEW_LIMIT = 700 * 1024
FULL_LIMIT = 8 * 1024 * 1024
"""The largest image sent inline on request (about 11 MB as base64); bigger ones are refused with their path."""
_MIME = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp", "gif": "image/gif"}


@dataclass(frozen=True)
class Preview:
    """Encoded bytes for an `ImageContent`, with what a person reading the result needs to know."""

    data: bytes
    mime_type: str
    width: int
    height: int


def preview(path: Path, side: int = PREVIEW_SIDE) -> Preview:
    """A small JPEG (or PNG with transparency) of the image at `path`, at most `side` px a side."""
    side = max(16, min(int(side), 1024))
    with Image.open(path) as img:
        img.seek(0)
        img.load()
        small = img.copy()
    small.thumbnail((side, side))
    alpha = small.mode in ("RGBA", "LA", "PA") or (small.mode == "P" and "transparency" in small.info)
    if alpha:
        rgba = small.convert("RGBA")
        data = _encode(rgba, "png")
        if len(data) <= PREVIEW_LIMIT:
            return Preview(data, _MIME["png"], *rgba.size)
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
        small = flat
    rgb = small.convert("RGB")
    quality = 85
    data = _encode(rgb, "jpeg", quality)
    while len(data) > PREVIEW_LIMIT and quality > 40:
        quality -= 15
        data = _encode(rgb, "jpeg", quality)
    return Preview(data, _MIME["jpeg"], *rgb.size)


def full_image(path: Path, fmt: str) -> Preview:
    """The saved file itself, when a client asks for it; `ValueError` (naming the path) above `FULL_LIMIT`."""
    size = path.stat().st_size
    if size > FULL_LIMIT:
        raise ValueError(f"the full image is {size / 1024 / 1024:.1f} MB, more than the {FULL_LIMIT // 1024 // 1024} "
                         f"MB sent inline; read it from {path}, or ask for a preview")
    mime = _MIME.get(fmt)
    if mime is None:
        raise ValueError(f"full: the image is {fmt}, which is not sent inline; read it from {path}")
    data = path.read_bytes()
    with Image.open(io.BytesIO(data)) as img:
        width, height = img.size
    return Preview(data, mime, width, height)


def _encode(img: Image.Image, fmt: str, quality: int = 85) -> bytes:
    out = io.BytesIO()
    if fmt == "jpeg":
        img.save(out, "JPEG", quality=quality, optimize=True)
    else:
        img.save(out, "PNG", optimize=True)
    return out.getvalue()
