"""numpy arrays as PIL images, by their dtype and value range.

numpy is optional: it is imported only here, and only when an array is passed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PIL import Image

from image_widget.images.common import ImageInputError

if TYPE_CHECKING:
    import numpy.typing as npt


def array_to_image(arr: Any, param: str) -> tuple[Image.Image, str | None]:
    """A numpy array (HxW, HxWx1..4) as an 8-bit PIL image."""
    import numpy as np

    a = np.asarray(arr)
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[:, :, 0]
    if a.size == 0 or a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] not in (2, 3, 4)):
        raise ImageInputError(f"{param} is an array of shape {a.shape}; expected HxW, HxWx3 or HxWx4")
    a8, note = _array_to_uint8(a, param)
    return Image.fromarray(np.ascontiguousarray(a8)), note


def _array_to_uint8(a: npt.NDArray[Any], param: str) -> tuple[npt.NDArray[Any], str | None]:
    """uint8 as is, bool → 0/255, uint16 → /257, floats 0..1 → ×255, other ints by their range."""
    import numpy as np

    kind = a.dtype.kind
    if kind == "b":
        return a.astype(np.uint8) * 255, None
    if a.dtype == np.uint8:
        return a, None
    if kind in "iu":
        low, high = int(a.min()), int(a.max())
        if low < 0 or high > 65535:
            raise ImageInputError(f"{param} has integer values from {low} to {high}; expected 0..255 "
                                  "(8-bit) or 0..65535 (16-bit)")
        if a.dtype == np.uint16 or high > 255:
            scaled = ((a.astype(np.uint32) + 128) // 257).astype(np.uint8)
            return scaled, None if a.dtype == np.uint16 else f"{a.dtype} values read as 16-bit"
        return a.astype(np.uint8), None
    if kind == "f":
        if not np.isfinite(a).all():
            raise ImageInputError(f"{param} contains NaN or infinite values")
        low_f, high_f = float(a.min()), float(a.max())
        if low_f >= 0 and high_f <= 1:
            return np.rint(a * 255).astype(np.uint8), None
        if low_f >= 0 and high_f <= 255:
            return np.rint(a).astype(np.uint8), "float values above 1 read as 0..255 (expected 0..1)"
        raise ImageInputError(f"{param} has float values from {low_f:g} to {high_f:g}; expected 0..1")
    raise ImageInputError(f"{param} has dtype {a.dtype}; use uint8, uint16, float (0..1) or bool")
