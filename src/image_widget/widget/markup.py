"""The `markup` trait: guidance strokes drawn over the first image, for models that take markup.

Same wire format as `mask` (a PNG at the image's native size, RGBA, transparent where nothing is
drawn; empty bytes = none), the way `serialization.MaskTrait` does it: the browser's PNG is kept and sent
back unchanged, and Python sees a PIL RGBA image (or None). Unlike a mask, the colours matter: the
strokes are what the model reads, so nothing is thresholded.
"""

from __future__ import annotations

import io
from typing import Any, cast

import traitlets
from PIL import Image as PILImage

__all__ = ["MarkupImage", "MarkupTrait", "markup_png", "markup_to_json"]


class MarkupImage(PILImage.Image):
    """The drawn markup in Python: an RGBA image plus `png` (the exact bytes it came from) and
    `has_marks` (any pixel drawn). Compared by identity, like `MaskImage`."""

    png: bytes
    has_marks: bool
    __eq__ = object.__eq__
    __hash__ = object.__hash__

    @classmethod
    def adopt(cls, img: PILImage.Image, png: bytes) -> MarkupImage:
        if type(img) is not PILImage.Image:
            img = img.copy()
        img.__class__ = cls
        markup = cast("MarkupImage", img)
        markup.png = png
        low_high = cast("tuple[int, int]", img.getchannel("A").getextrema())
        markup.has_marks = low_high[1] > 0
        return markup


def _decode(png: bytes) -> PILImage.Image:
    img = PILImage.open(io.BytesIO(png))
    if (img.format or "").upper() != "PNG":
        raise ValueError(f"markup must be a PNG, got {img.format or 'unknown data'}")
    img.load()
    return img.convert("RGBA")


class MarkupTrait(traitlets.TraitType[Any, Any]):
    """PNG bytes on the wire, a `MarkupImage` (or None) in Python.

    From Python: a PIL image (RGBA; an image without alpha is taken as drawn everywhere), a path or PNG
    bytes; its size must be the first input's (the validation names a mismatch as a problem).
    """

    default_value = None
    allow_none = True
    info_text = "PNG bytes (RGBA, transparent where nothing is drawn), a PIL image, a path or None"

    def validate(self, obj: Any, value: Any) -> MarkupImage | None:
        if isinstance(value, MarkupImage) and value is obj._trait_values.get(self.name):
            return value
        if value is None or (isinstance(value, bytes | bytearray | memoryview) and len(value) == 0):
            return None
        try:
            if isinstance(value, bytes | bytearray | memoryview):
                png = bytes(value)
                img = _decode(png)
            else:
                from image_widget import images

                img = images.load_image(value, param="markup").convert("RGBA")
                buffer = io.BytesIO()
                img.save(buffer, "PNG", optimize=True)
                png = buffer.getvalue()
        except (OSError, ValueError) as exc:
            raise traitlets.TraitError(f"markup: {exc}") from exc
        return MarkupImage.adopt(img, png)


def markup_to_json(value: MarkupImage | None, _widget: Any) -> bytes:
    """The PNG the markup was made from; empty bytes for none."""
    return value.png if value is not None else b""


def markup_png(value: MarkupImage | None) -> bytes | None:
    """The markup PNG to send, or None when nothing is drawn."""
    return value.png if value is not None and value.has_marks else None
