"""What every step of input handling shares: the input types, the errors, encoding and small pixel tests.

Loading, uploads, masks and thumbnails each need these; keeping them in one place means a message
format, an encoder setting or a transparency test cannot drift between them.
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TypeAlias

from PIL import Image

from image_widget.base.formats import MB, FileTuple

if TYPE_CHECKING:
    import numpy.typing as npt

ImageInput: TypeAlias = "Image.Image | npt.NDArray[Any] | bytes | bytearray | str | os.PathLike[str] | FileTuple"
"""Anything `load_image` reads. A `FileTuple` (as the openai SDK takes) is read from its bytes."""
MaskInput: TypeAlias = "ImageInput"
"""An image with alpha (alpha 0 = edit), or a greyscale / bool image or array (white / True = edit)."""

ALPHA_MODES = frozenset({"RGBA", "LA", "La", "RGBa", "PA"})
REENCODE_QUALITY = 95


class ImageInputError(ValueError):
    """An input cannot be used; the message names the parameter ("image[2]", "mask") and what is allowed.

    `reason` (optional) says the same about the file in a person's words, to follow its name: the widget
    shows "photo.txt is not an image (PNG, JPEG or WebP)" where the message says "image[0] is not a
    recognised image (starts with b'...')".
    """

    def __init__(self, message: str, *, reason: str = "") -> None:
        super().__init__(message)
        self.reason = reason


class ImageInputWarning(UserWarning):
    """An input was changed to be usable; the message says what was done (downscaled, re-encoded, …)."""


def encode(img: Image.Image, fmt: str, *, quality: int = REENCODE_QUALITY, icc: bytes | None = None,
           optimize: bool = False) -> bytes:
    """Image → bytes in png / jpeg / webp (JPEG drops alpha, which callers only do for opaque images)."""
    if fmt == "jpeg" and img.mode not in ("L", "RGB"):
        img = img.convert("RGB")
    options: dict[str, Any] = {"optimize": optimize} if fmt == "png" else {"quality": quality}
    if icc and img.mode in ("RGB", "RGBA"):
        options["icc_profile"] = icc
    buffer = io.BytesIO()
    img.save(buffer, {"png": "PNG", "jpeg": "JPEG", "webp": "WEBP"}[fmt], **options)
    return buffer.getvalue()


def has_transparency(img: Image.Image) -> bool:
    """Whether any pixel is less than fully opaque (alpha band, or palette/colour-key transparency)."""
    if img.mode not in ALPHA_MODES:
        if "transparency" not in img.info:
            return False
        img = img.convert("RGBA")
    return extrema(img.getchannel(len(img.getbands()) - 1))[0] < 255


def extrema(img: Image.Image) -> tuple[float, float]:
    """(min, max) of a single-band image."""
    low, high = img.getextrema()
    return float(low), float(high)  # type: ignore[arg-type]


def resize(img: Image.Image, size: tuple[int, int]) -> Image.Image:
    """High-quality downscale (Lanczos; integer pre-reduction keeps big images fast)."""
    return img.resize(size, Image.Resampling.LANCZOS, reducing_gap=2.0)


def size_text(n: int) -> str:
    return f"{n / MB:.1f} MB" if n >= MB else f"{n / 1024:.0f} KB" if n >= 1024 else f"{n} bytes"


def is_file_tuple(src: object) -> bool:
    return (isinstance(src, tuple) and len(src) == 3 and isinstance(src[0], str)
            and isinstance(src[1], bytes | bytearray) and isinstance(src[2], str) and "/" in src[2])


def warn_notes(param: str, notes: Sequence[str]) -> None:
    """One `ImageInputWarning` for all notes, attributed to the user's line (also from the loop thread)."""
    if notes:
        from image_widget.base.warn import warn_at_caller

        warn_at_caller(f"{param}: {'; '.join(notes)}", ImageInputWarning)
