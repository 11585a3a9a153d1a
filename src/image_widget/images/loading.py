"""Decode any accepted input into an upright 8-bit PIL image, recording what had to change.

Uploads, masks and thumbnails all start here, so every input type, EXIF orientation, animation and odd
Pillow mode is handled once. What changed comes back as notes on `Loaded`, and the caller decides what
to warn about: an upload may still be re-encoded, and then says so in the same one warning.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import math
import os
import sys
import warnings
from collections.abc import Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path

from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

from image_widget.base.formats import sniff_format
from image_widget.base.wording import fmt_name, formats_text
from image_widget.facts.table import INPUT_FORMATS
from image_widget.images.arrays import array_to_image
from image_widget.images.common import ALPHA_MODES, ImageInput, ImageInputError, extrema, is_file_tuple, warn_notes

RASTER = ("png", "webp", "jpeg", "gif", "bmp", "tiff")
_NOT_RASTER = {"svg": "an SVG (vector) image", "pdf": "a PDF"}
_RGB_MODES = frozenset({"RGB", "RGBA", "RGBX", "P", "PA"})


@dataclass
class Loaded:
    """A decoded input plus what is needed to decide whether its original bytes can be sent as they are."""

    image: Image.Image
    data: bytes | None = None
    fmt: str | None = None
    full_size: tuple[int, int] = (0, 0)
    icc: bytes | None = None
    rotated: str | None = None
    notes: list[str] = field(default_factory=list)


_DECODED: ContextVar[dict[int, tuple[object, int | None, Loaded]] | None] = ContextVar("image_widget_decoded",
                                                                                       default=None)
"""Inputs already decoded inside a `decode_once` block, by the identity of the object passed in: (the object,
the `max_pixels` it was decoded for, what it gave)."""


@contextlib.contextmanager
def decode_once() -> Iterator[None]:
    """Inside this block the same input object (bytes, file tuple or path) is decoded once: an edit that lines
    up with its input reads it for the upload and again for the finish, and a 4K PNG costs ~100 ms a read."""
    token = _DECODED.set({})
    try:
        yield
    finally:
        _DECODED.reset(token)


def load_image(src: ImageInput, *, param: str = "image") -> Image.Image:
    """A loaded, upright (EXIF-transposed) PIL image in mode RGB, RGBA or L; first frame of animations.

    Lossy conversions (CMYK, 16-bit, animation → first frame) are reported with `ImageInputWarning`.
    """
    loaded = load(src, param, INPUT_FORMATS, None)
    warn_notes(param, loaded.notes)
    return loaded.image.copy() if loaded.image is src else loaded.image


def decode_image(data: bytes) -> Image.Image:
    """API output bytes → a loaded PIL image (an animated GIF is loaded at frame 0 and can still seek).

    SVG output is not a raster image: it raises `ImageInputError`; keep SVG as bytes and show it as is.
    No EXIF transposition or mode conversion is applied: this is the image exactly as returned.
    """
    return decode_bytes(bytes(data), "image data", RASTER, None)[0]


def load(src: object, param: str, formats: Sequence[str], max_pixels: int | None) -> Loaded:
    """Decode any accepted input; `max_pixels` only lets big JPEGs decode at a reduced size (draft)."""
    numpy = sys.modules.get("numpy")
    if isinstance(src, Image.Image):
        fmt = (src.format or "").lower() or None
        return _finish(_loaded_pil(src, param), Loaded(src, fmt=fmt, full_size=src.size))
    if numpy is not None and isinstance(src, numpy.ndarray):
        img, note = array_to_image(src, param)
        return _finish(img, Loaded(img, full_size=img.size, notes=[note] if note else []))
    decoded = _DECODED.get()
    seen = decoded.get(id(src)) if decoded is not None else None
    if seen is not None and seen[0] is src and _big_enough(seen[2], seen[1], max_pixels):
        return dataclasses.replace(seen[2], notes=list(seen[2].notes))
    if is_file_tuple(src):
        data = bytes(src[1])  # type: ignore[index]
    elif isinstance(src, bytes | bytearray | memoryview):
        data = bytes(src)
    elif isinstance(src, str | os.PathLike):
        data = _read_path(src, param)
    else:
        raise ImageInputError(f"{param} is a {type(src).__name__}; pass a PIL image, a numpy array, "
                              "bytes or a file path")
    img, fmt, full = decode_bytes(data, param, formats, max_pixels)
    loaded = _finish(img, Loaded(img, data=data, fmt=fmt, full_size=full))
    if decoded is not None:
        decoded[id(src)] = (src, max_pixels, dataclasses.replace(loaded, notes=list(loaded.notes)))
    return loaded


def _big_enough(loaded: Loaded, decoded_for: int | None, max_pixels: int | None) -> bool:
    """Whether an earlier decode serves a caller asking for `max_pixels`: it was not drafted smaller, or it
    was drafted for at least as many pixels as now asked."""
    if loaded.image.size == loaded.full_size:
        return True
    return max_pixels is not None and decoded_for is not None and decoded_for >= max_pixels


def _finish(img: Image.Image, loaded: Loaded) -> Loaded:
    """First frame, upright, 8-bit RGB/RGBA/L — recording what changed."""
    img, frame_note = _first_frame(img)
    loaded.icc = img.info.get("icc_profile") if img.mode in _RGB_MODES else None
    before = img.size
    img, loaded.rotated = _upright(img)
    if img.size != before:
        loaded.full_size = (loaded.full_size[1], loaded.full_size[0])
    img, mode_note = _normalise_mode(img)
    loaded.notes += [n for n in (frame_note, mode_note) if n]
    loaded.image = img
    return loaded


def _loaded_pil(img: Image.Image, param: str) -> Image.Image:
    """A user's PIL image with its pixels loaded (lazy images can still be truncated or closed)."""
    try:
        img.load()
    except Exception as exc:
        raise ImageInputError(f"{param} is a PIL image whose pixels cannot be read: {exc}") from exc
    return img


def _read_path(src: str | os.PathLike[str], param: str) -> bytes:
    """The bytes of a file path, with errors that name the path."""
    text = os.fspath(src)
    if text.startswith(("http://", "https://", "data:")):
        raise ImageInputError(f"{param}: {text[:80]!r} is a URL, not a file path; download it and pass the "
                              "bytes or a path")
    path = Path(text).expanduser()
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise ImageInputError(f"{param}: file not found: {str(path)[:300]}") from None
    except IsADirectoryError:
        raise ImageInputError(f"{param}: {path} is a folder, not an image file") from None
    except OSError as exc:
        raise ImageInputError(f"{param}: cannot read {path}: {exc}") from exc


def decode_bytes(data: bytes, param: str, formats: Sequence[str],
                 max_pixels: int | None) -> tuple[Image.Image, str, tuple[int, int]]:
    """Open and fully load image bytes: (image, sniffed format, size in the file)."""
    allowed = f"allowed: {', '.join(formats)} images"
    kinds = formats_text(formats)
    if not data:
        raise ImageInputError(f"{param} is empty (0 bytes); {allowed}", reason=f"is empty — not an image ({kinds})")
    sniffed = sniff_format(data)
    if sniffed in _NOT_RASTER:
        raise ImageInputError(f"{param} is {_NOT_RASTER[sniffed]}; {allowed}; convert it to PNG first",
                              reason=f"is {_NOT_RASTER[sniffed]} — convert it to PNG first")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
            full = img.size
            _draft(img, max_pixels)
            img.load()
    except Image.DecompressionBombError as exc:
        raise ImageInputError(f"{param} is too large to decode safely ({exc}); downscale it first, or raise "
                              "PIL.Image.MAX_IMAGE_PIXELS if you trust the file",
                              reason="has too many pixels to open safely — make it smaller first") from exc
    except Exception as exc:
        if sniffed is None and isinstance(exc, UnidentifiedImageError):
            raise ImageInputError(f"{param} is not a recognised image (starts with {data[:12]!r}); "
                                  f"{allowed}", reason=f"is not an image ({kinds})") from exc
        what = (sniffed or "image").upper()
        raise ImageInputError(f"{param} is a {what} that cannot be decoded, truncated or corrupt ({exc}); "
                              f"{allowed}", reason=f"is a damaged or incomplete {fmt_name(sniffed or 'image')} "
                                                   "file") from exc
    return img, sniffed or (img.format or "unknown").lower(), full


def _draft(img: Image.Image, max_pixels: int | None) -> None:
    """Let a big JPEG decode at 1/2, 1/4 or 1/8 scale when it will be downscaled anyway (much faster)."""
    pixels = img.width * img.height
    if img.format == "JPEG" and max_pixels and pixels > max_pixels:
        scale = math.sqrt(max_pixels / pixels)
        img.draft(None, (math.ceil(img.width * scale), math.ceil(img.height * scale)))


def _first_frame(img: Image.Image) -> tuple[Image.Image, str | None]:
    """Frame 0 of an animation, without moving a caller's image off its current frame."""
    frames = int(getattr(img, "n_frames", 1))
    if frames <= 1 or img.format == "MPO":  # MPO: a camera JPEG with a preview, not an animation
        return img, None
    current = img.tell()
    img.seek(0)
    first = img.copy()
    img.seek(current)
    return first, f"animated {img.format or 'image'} with {frames} frames: only the first frame is used"


def _upright(img: Image.Image) -> tuple[Image.Image, str | None]:
    """Apply the EXIF orientation tag, so the pixels are stored the way a viewer shows them."""
    orientation = img.getexif().get(ExifTags.Base.Orientation, 1)
    if orientation not in range(2, 9):
        return img, None
    upright = ImageOps.exif_transpose(img)
    return upright or img, f"EXIF orientation {orientation} applied (turned upright)"


def _normalise_mode(img: Image.Image) -> tuple[Image.Image, str | None]:
    """RGB, RGBA or L; lossless changes are silent, lossy ones return a note."""
    mode = img.mode
    if mode in ("RGB", "RGBA", "L") and "transparency" not in img.info:
        return img, None
    if mode in ALPHA_MODES or (mode in ("1", "L", "P", "RGB") and "transparency" in img.info):
        return img.convert("RGBA"), None
    if mode in ("1", "P", "RGBX"):
        return img.convert("L" if mode == "1" else "RGB"), None
    if mode == "CMYK":
        return img.convert("RGB"), "CMYK converted to RGB"
    if mode.startswith("I"):
        return _int_to_l(img), f"{mode} greyscale scaled to 8-bit"
    if mode == "F":
        return _float_to_l(img), "32-bit float greyscale scaled to 8-bit"
    return img.convert("RGB"), f"mode {mode} converted to RGB"


def _int_to_l(img: Image.Image) -> Image.Image:
    """16-bit (I;16*) → 8-bit scaling 0..65535 to 0..255; mode I is read as 8-bit when it fits in 0..255."""
    wide = img if img.mode == "I" else img.convert("I")
    scale = 1.0 if img.mode == "I" and extrema(wide)[1] <= 255 else 1 / 257
    return wide.point(lambda v: v * scale + 0.5).convert("L")


def _float_to_l(img: Image.Image) -> Image.Image:
    """Mode F → L: values in 0..1 are scaled by 255, larger ones read as 0..255 (clipped)."""
    scale = 255.0 if extrema(img)[1] <= 1.0 else 1.0
    return img.point(lambda v: v * scale + 0.5).convert("L")
