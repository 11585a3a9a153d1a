"""The `markup` trait: guidance strokes drawn over the first image, for models that take markup.

Same wire format as `mask` (a PNG at the image's native size, RGBA, transparent where nothing is drawn;
empty bytes = none); `png_layer.py` holds what the two share. Unlike a mask, the colours matter: the
strokes are what the model reads, so nothing is thresholded.
"""

from __future__ import annotations

import io
from typing import Any, cast

from PIL import Image as PILImage

from image_widget.widget.png_layer import PngLayer, PngLayerTrait, layer_to_json

__all__ = ["MarkupImage", "MarkupTrait", "markup_png", "markup_to_json"]


class MarkupImage(PngLayer):
    """The drawn markup in Python: an RGBA image plus `png` and `has_marks` (any pixel drawn)."""

    has_marks: bool

    def describe(self) -> None:
        low_high = cast("tuple[int, int]", self.getchannel("A").getextrema())
        self.has_marks = low_high[1] > 0


def _decode(png: bytes) -> PILImage.Image:
    img = PILImage.open(io.BytesIO(png))
    if (img.format or "").upper() != "PNG":
        raise ValueError(f"markup must be a PNG, got {img.format or 'unknown data'}")
    img.load()
    return img.convert("RGBA")


class MarkupTrait(PngLayerTrait):
    """PNG bytes on the wire, a `MarkupImage` (or None) in Python.

    From Python: a PIL image (RGBA; an image without alpha is taken as drawn everywhere), a path or PNG
    bytes; its size must be the first input's (the validation names a mismatch as a problem).
    """

    layer = MarkupImage
    info_text = "PNG bytes (RGBA, transparent where nothing is drawn), a PIL image, a path or None"

    def decode(self, obj: Any, value: Any) -> tuple[bytes, PILImage.Image]:
        if isinstance(value, bytes | bytearray | memoryview):
            return bytes(value), _decode(bytes(value))
        from image_widget import images

        img = images.load_image(value, param="markup").convert("RGBA")
        buffer = io.BytesIO()
        img.save(buffer, "PNG", optimize=True)
        return buffer.getvalue(), img


markup_to_json = layer_to_json
"""The PNG the markup was made from; empty bytes for none."""


def markup_png(value: MarkupImage | None) -> bytes | None:
    """The markup PNG to send, or None when nothing is drawn."""
    return value.png if value is not None and value.has_marks else None
