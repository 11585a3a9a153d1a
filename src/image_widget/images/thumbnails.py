"""Small previews for the browser: the widget keeps thumbnails in its state and full images on disk."""

from __future__ import annotations

from image_widget.images.common import ImageInput, encode, has_transparency, resize
from image_widget.images.loading import RASTER, load


def thumbnail_bytes(img_or_bytes: ImageInput, max_side: int = 160) -> bytes:
    """A small upright preview for the browser: PNG when it has transparency, else JPEG."""
    img = load(img_or_bytes, "thumbnail", RASTER, max_side * max_side * 4).image
    scale = min(1.0, max_side / max(img.size))
    if scale < 1:
        img = resize(img, (max(1, round(img.width * scale)), max(1, round(img.height * scale))))
    if has_transparency(img):
        return encode(img, "png", optimize=True)
    return encode(img, "jpeg", quality=80)
