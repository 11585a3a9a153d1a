"""What the `mask` and `markup` traits share: a PNG on the wire, a PIL RGBA image in Python.

The browser's PNG is kept with the image and sent back out unchanged, so the page recognises its own
write as an echo; empty bytes mean none. Each trait says how a value becomes (PNG, image) and what it
notes about the pixels (`PngLayer.describe`).
"""

from __future__ import annotations

from typing import Any, Self, cast

import traitlets
from PIL import Image as PILImage

__all__ = ["PngLayer", "PngLayerTrait", "layer_to_json"]


class PngLayer(PILImage.Image):
    """An RGBA image plus `png`, the exact bytes it came from.

    Compared by identity: PIL's `==` compares every byte (~30 ms for a 1536x1024 layer on each stroke),
    and a new value is always a new object anyway. `copy()` and other PIL operations return plain
    images, so a user's edited copy never claims the old PNG.
    """

    png: bytes
    __eq__ = object.__eq__
    __hash__ = object.__hash__

    @classmethod
    def adopt(cls, img: PILImage.Image, png: bytes) -> Self:
        """`img` (RGBA, freshly decoded from `png`) as this class; no pixel is copied."""
        if type(img) is not PILImage.Image:
            img = img.copy()  # a format-specific subclass (PngImageFile…): turn into a plain image first
        img.__class__ = cls
        layer = cast("Self", img)
        layer.png = png
        layer.describe()
        return layer

    def describe(self) -> None:
        """Note what the pixels say (set attributes); called once, when adopted."""


class PngLayerTrait(traitlets.TraitType[Any, Any]):
    """PNG bytes on the wire, a `layer` (or None) in Python. Validation only builds the value."""

    default_value = None
    allow_none = True
    layer: type[PngLayer] = PngLayer

    def validate(self, obj: Any, value: Any) -> PngLayer | None:
        if isinstance(value, self.layer) and value is obj._trait_values.get(self.name):
            return value  # traitlets re-validates after set_state (cross-validation): nothing to redo
        if value is None or (isinstance(value, bytes | bytearray | memoryview) and len(value) == 0):
            return None
        try:
            png, img = self.decode(obj, value)
        except (OSError, ValueError) as exc:  # ImageInputError is a ValueError
            raise traitlets.TraitError(f"{self.name}: {exc}") from exc
        return self.layer.adopt(img if img.mode == "RGBA" else img.convert("RGBA"), png)

    def decode(self, obj: Any, value: Any) -> tuple[bytes, PILImage.Image]:
        """(the PNG to keep, its image) for a value that is neither None nor empty."""
        raise NotImplementedError


def layer_to_json(value: PngLayer | None, _widget: Any) -> bytes:
    """The PNG the layer was made from; empty bytes for none."""
    return value.png if value is not None else b""
