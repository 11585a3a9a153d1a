"""Turn whatever a notebook user holds into uploads the Images API accepts, and build edit masks.

The API wants `(filename, bytes, content_type)` files in png, webp or jpeg, under a byte limit, and a mask
that is an RGBA PNG the size of the first image in which alpha 0 marks the area to edit. People hold PIL
images, numpy arrays, bytes and paths in every mode Pillow knows, so this module converts once, here, and
says what it changed (`ImageInputWarning`) or why it cannot (`ImageInputError`, naming the parameter).

Conventions
-----------
* Formats are sniffed from the bytes (`capabilities.sniff_format`); file extensions are never trusted.
* Bytes already in an allowed format, upright and under the limits, are sent unchanged (no re-encode).
* numpy arrays: HxW, HxWx1, HxWx2, HxWx3 or HxWx4; uint8 as is, uint16 scaled from 0..65535, float in
  0..1 (0..255 is accepted with a warning), bool as 0/255, other integers read as 8-bit (0..255) or
  16-bit (up to 65535).
* Masks: an image with alpha is used as is (alpha below 128 = EDIT); an image without alpha, a greyscale
  array or a bool array marks the area to edit in white / True (value 128 or more = EDIT).
* Pillow's decompression-bomb limit (`PIL.Image.MAX_IMAGE_PIXELS`) is respected, never changed: encoded
  images above twice that limit are refused; every upload above `MAX_INPUT_PIXELS` is downscaled.
* numpy is optional: it is imported only when an array is passed.

Everything here is a pure function: no global state, no network.
"""

from __future__ import annotations

import hashlib
import io
import math
import os
import re
import sys
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

from image_widget.capabilities import INPUT_FORMATS, MB, FileTuple, sniff_format

if TYPE_CHECKING:
    import numpy.typing as npt

ImageInput: TypeAlias = "Image.Image | npt.NDArray[Any] | bytes | bytearray | str | os.PathLike[str] | FileTuple"
"""Anything `load_image` reads. A `FileTuple` (as the openai SDK takes) is read from its bytes."""
MaskInput: TypeAlias = "ImageInput"
"""An image with alpha (alpha 0 = edit), or a greyscale / bool image or array (white / True = edit)."""

MAX_INPUT_PIXELS = 4096 * 4096
"""Inputs above this many pixels are downscaled: well above the largest output (3840x2160), so nothing
the model could use is lost, but a 100 MP scan is not uploaded."""
EDIT_THRESHOLD = 128
"""Mask pixels with alpha below this (or, without alpha, grey at or above it) are edited."""

_ENCODABLE = ("png", "webp", "jpeg")
_RASTER = ("png", "webp", "jpeg", "gif", "bmp", "tiff")
_NOT_RASTER = {"svg": "an SVG (vector) image", "pdf": "a PDF"}
_ALPHA_MODES = frozenset({"RGBA", "LA", "La", "RGBa", "PA"})
_RGB_MODES = frozenset({"RGB", "RGBA", "RGBX", "P", "PA"})
_REENCODE_QUALITY = 95
_LOSSY_QUALITY = 90
_MIN_SIDE = 16


class ImageInputError(ValueError):
    """An input cannot be used; the message names the parameter ("image[2]", "mask") and what is allowed."""


class ImageInputWarning(UserWarning):
    """An input was changed to be usable; the message says what was done (downscaled, re-encoded, …)."""


@dataclass
class _Loaded:
    """A decoded input plus what is needed to decide whether its original bytes can be sent as they are."""

    image: Image.Image
    data: bytes | None = None
    fmt: str | None = None
    full_size: tuple[int, int] = (0, 0)
    icc: bytes | None = None
    rotated: str | None = None
    notes: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------------------------------- public


def load_image(src: ImageInput, *, param: str = "image") -> Image.Image:
    """A loaded, upright (EXIF-transposed) PIL image in mode RGB, RGBA or L; first frame of animations.

    Lossy conversions (CMYK, 16-bit, animation → first frame) are reported with `ImageInputWarning`.
    """
    loaded = _load(src, param, INPUT_FORMATS, None)
    _warn(param, loaded.notes)
    return loaded.image.copy() if loaded.image is src else loaded.image


def to_upload(src: ImageInput, *, param: str = "image", max_bytes: int = 50 * MB,
              allowed: Sequence[str] = INPUT_FORMATS) -> FileTuple:
    """One input as a `(filename, bytes, content_type)` upload in an allowed format, under `max_bytes`."""
    return _prepare(src, param, max_bytes, allowed)[0]


def prepare_images(srcs: ImageInput | Sequence[ImageInput], *, max_images: int = 16,
                   max_bytes: int = 50 * MB, allowed: Sequence[str] = INPUT_FORMATS) -> list[FileTuple]:
    """Uploads for the `image` parameter (one input or a list), warning if the first is transparent.

    A single input is named "image" in messages, items of a list "image[0]", "image[1]", ….
    """
    items, single = _as_list(srcs)
    if not items:
        raise ImageInputError("image: no input images given; pass at least one")
    if len(items) > max_images:
        raise ImageInputError(f"image: {len(items)} input images given; at most {max_images} are allowed")
    uploads: list[FileTuple] = []
    for index, src in enumerate(items):
        param = "image" if single else f"image[{index}]"
        upload, image = _prepare(src, param, max_bytes, allowed)
        if index == 0:
            warn_if_transparent(image, param)
        uploads.append(upload)
    return uploads


def warn_if_transparent(img: Image.Image, param: str) -> None:
    """Warn when the edited (first) image has transparent pixels: the API reads them as a mask."""
    if _has_transparency(img):
        _warn(param, ["has transparent pixels, which the API treats as a mask (transparent = area to edit); "
                      "flatten it (e.g. img.convert('RGB')) if that is not meant"])


def prepare_mask(mask: MaskInput, size: tuple[int, int], *, max_bytes: int = 4 * MB) -> FileTuple:
    """The `mask` upload: an RGBA PNG of `size` (the first image's), black, alpha 0 = EDIT, 255 = keep.

    Input conventions: an image with alpha (RGBA PNG/PIL, HxWx4 array) is used as is, alpha below 128
    meaning edit. Without alpha (L/RGB image, HxW array) white means edit; in a bool array True means
    edit. The mask is resized with nearest-neighbour (with a warning) and thresholded to alpha 0 or 255.
    Raises `ImageInputError` when nothing is marked for editing or the PNG is not under `max_bytes`.
    """
    width, height = _check_size(size)
    loaded = _load(mask, "mask", INPUT_FORMATS, None)
    notes = [n for n in (loaded.rotated, *loaded.notes) if n]
    edit = _edit_area(loaded.image)
    if edit.size != (width, height):
        notes.append(f"resized {edit.width}x{edit.height} → {width}x{height} (the first image's size) "
                     "with nearest-neighbour")
        edit = edit.resize((width, height), Image.Resampling.NEAREST)
    if _extrema(edit)[1] == 0:
        how = "transparent (alpha 0)" if loaded.image.mode == "RGBA" else "white / True"
        raise ImageInputError(f"mask marks nothing to edit: no pixel is {how}; the area to edit must be "
                              "transparent in an RGBA mask, or white / True in a greyscale or bool mask")
    data = _encode(_mask_image(edit), "png", optimize=True)
    if len(data) >= max_bytes:
        raise ImageInputError(f"mask is {_size_text(len(data))} as an optimised PNG; it must be under "
                              f"{_size_text(max_bytes)}: use fewer, simpler shapes")
    _warn("mask", notes)
    return ("mask.png", data, "image/png")


def mask_from_png(png: bytes) -> Image.Image:
    """The widget's painted mask (PNG bytes) as a binary RGBA image at its own size, alpha 0 = edit.

    Same conventions as `prepare_mask` (alpha if present, else white = edit); an empty mask is allowed
    here (nothing painted yet) — `prepare_mask` rejects it when the request is built.
    """
    return _mask_image(_edit_area(_load(png, "mask", INPUT_FORMATS, None).image))


def decode_image(data: bytes) -> Image.Image:
    """API output bytes → a loaded PIL image (an animated GIF is loaded at frame 0 and can still seek).

    SVG output is not a raster image: it raises `ImageInputError`; keep SVG as bytes and show it as is.
    No EXIF transposition or mode conversion is applied: this is the image exactly as returned.
    """
    return _decode(bytes(data), "image data", _RASTER, None)[0]


def thumbnail_bytes(img_or_bytes: ImageInput, max_side: int = 160) -> bytes:
    """A small upright preview for the browser: PNG when it has transparency, else JPEG."""
    img = _load(img_or_bytes, "thumbnail", _RASTER, max_side * max_side * 4).image
    scale = min(1.0, max_side / max(img.size))
    if scale < 1:
        img = _resize(img, (max(1, round(img.width * scale)), max(1, round(img.height * scale))))
    if _has_transparency(img):
        return _encode(img, "png", optimize=True)
    return _encode(img, "jpeg", quality=80)


def sha256(data: bytes) -> str:
    """Hex SHA-256 of file bytes (for cache keys and history records)."""
    return hashlib.sha256(bytes(data)).hexdigest()


# ---------------------------------------------------------------------------------------------- loading


def _load(src: object, param: str, formats: Sequence[str], max_pixels: int | None) -> _Loaded:
    """Decode any accepted input; `max_pixels` only lets big JPEGs decode at a reduced size (draft)."""
    numpy = sys.modules.get("numpy")
    if isinstance(src, Image.Image):
        fmt = (src.format or "").lower() or None
        return _finish(_loaded_pil(src, param), _Loaded(src, fmt=fmt, full_size=src.size))
    if numpy is not None and isinstance(src, numpy.ndarray):
        img, note = _array_to_image(src, param)
        return _finish(img, _Loaded(img, full_size=img.size, notes=[note] if note else []))
    if _is_file_tuple(src):
        data = bytes(src[1])  # type: ignore[index]
    elif isinstance(src, bytes | bytearray | memoryview):
        data = bytes(src)
    elif isinstance(src, str | os.PathLike):
        data = _read_path(src, param)
    else:
        raise ImageInputError(f"{param} is a {type(src).__name__}; pass a PIL image, a numpy array, "
                              "bytes or a file path")
    img, fmt, full = _decode(data, param, formats, max_pixels)
    return _finish(img, _Loaded(img, data=data, fmt=fmt, full_size=full))


def _finish(img: Image.Image, loaded: _Loaded) -> _Loaded:
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


def _decode(data: bytes, param: str, formats: Sequence[str],
            max_pixels: int | None) -> tuple[Image.Image, str, tuple[int, int]]:
    """Open and fully load image bytes: (image, sniffed format, size in the file)."""
    allowed = f"allowed: {', '.join(formats)} images"
    if not data:
        raise ImageInputError(f"{param} is empty (0 bytes); {allowed}")
    sniffed = sniff_format(data)
    if sniffed in _NOT_RASTER:
        raise ImageInputError(f"{param} is {_NOT_RASTER[sniffed]}; {allowed}; convert it to PNG first")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
            full = img.size
            _draft(img, max_pixels)
            img.load()
    except Image.DecompressionBombError as exc:
        raise ImageInputError(f"{param} is too large to decode safely ({exc}); downscale it first, or raise "
                              "PIL.Image.MAX_IMAGE_PIXELS if you trust the file") from exc
    except Exception as exc:
        if sniffed is None and isinstance(exc, UnidentifiedImageError):
            raise ImageInputError(f"{param} is not a recognised image (starts with {data[:12]!r}); "
                                  f"{allowed}") from exc
        what = (sniffed or "image").upper()
        raise ImageInputError(f"{param} is a {what} that cannot be decoded, truncated or corrupt ({exc}); "
                              f"{allowed}") from exc
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
    if mode in _ALPHA_MODES or (mode in ("1", "L", "P", "RGB") and "transparency" in img.info):
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
    scale = 1.0 if img.mode == "I" and _extrema(wide)[1] <= 255 else 1 / 257
    return wide.point(lambda v: v * scale + 0.5).convert("L")


def _float_to_l(img: Image.Image) -> Image.Image:
    """Mode F → L: values in 0..1 are scaled by 255, larger ones read as 0..255 (clipped)."""
    scale = 255.0 if _extrema(img)[1] <= 1.0 else 1.0
    return img.point(lambda v: v * scale + 0.5).convert("L")


def _array_to_image(arr: Any, param: str) -> tuple[Image.Image, str | None]:
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


# ---------------------------------------------------------------------------------------------- uploads


def _prepare(src: object, param: str, max_bytes: int,
             allowed: Sequence[str]) -> tuple[FileTuple, Image.Image]:
    """The upload for one input and the image it shows (for the transparency check)."""
    formats = _allowed_formats(allowed)
    loaded = _load(src, param, formats, MAX_INPUT_PIXELS)
    img, notes = loaded.image, [n for n in (loaded.rotated, *loaded.notes) if n]
    fw, fh = loaded.full_size
    if loaded.data is not None and not notes and _sendable(loaded, formats, max_bytes):
        return _file_tuple(param, strip_private_metadata(loaded.data)), img
    if img.width * img.height > MAX_INPUT_PIXELS or img.size != loaded.full_size:
        img = _resize(img, _fit_pixels(img.size, MAX_INPUT_PIXELS))
        notes.append(f"downscaled {fw}x{fh} ({fw * fh / 1e6:.0f} MP) → {img.width}x{img.height} "
                     f"(inputs are capped at {MAX_INPUT_PIXELS / 1e6:.1f} MP)")
    fmt = _pick_format(loaded.fmt, formats, _has_transparency(img), param)
    if loaded.data is not None and loaded.fmt not in formats:
        notes.append(f"{(loaded.fmt or '?').upper()} is not accepted (allowed: {', '.join(formats)}); "
                     f"re-encoded as {fmt.upper()}")
    elif loaded.data is not None and notes:
        notes.append(f"re-encoded as {fmt.upper()}")
    unchanged = loaded.data is not None and loaded.fmt == fmt and img.size == loaded.full_size
    known = len(loaded.data) if unchanged and loaded.data is not None else None
    data, size_note = _fit(img, fmt, max_bytes, formats, param, loaded.icc, known)
    _warn(param, [*notes, size_note] if size_note else notes)
    return _file_tuple(param, data), img


_PRIVATE_JPEG_SEGMENTS = (0xE1, 0xED)
"""APP1 (EXIF, XMP) and APP13 (IPTC): camera serial, GPS location, names. APP0/APP2/APP14 (JFIF, the ICC
profile, Adobe colour transform) are kept: they change how the pixels look."""


def strip_private_metadata(data: bytes) -> bytes:
    """A JPEG without its EXIF/XMP/IPTC segments, pixels untouched (no re-encoding); other bytes as given.

    Photos carry GPS location and camera details that the Images API does not need. Orientation is
    already applied before this (a rotated JPEG is re-encoded upright), so dropping EXIF changes nothing
    about how the image looks.
    """
    if not data.startswith(b"\xff\xd8"):
        return data
    out = bytearray(b"\xff\xd8")
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            return data  # not a segment boundary: leave the file alone rather than guess
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in (0xDA, 0xD9):  # start of scan / end of image: the rest is image data
            return bytes(out + data[pos:])
        length = int.from_bytes(data[pos + 2:pos + 4], "big")
        end = pos + 2 + length
        if length < 2 or end > len(data):
            return data
        if marker not in _PRIVATE_JPEG_SEGMENTS:
            out += data[pos:end]
        pos = end
    return data


def _sendable(loaded: _Loaded, formats: Sequence[str], max_bytes: int) -> bool:
    """Whether the original bytes can go unchanged: allowed format, under both limits."""
    data = loaded.data or b""
    w, h = loaded.full_size
    return (sniff_format(data) == loaded.fmt and loaded.fmt in formats and len(data) < max_bytes
            and w * h <= MAX_INPUT_PIXELS)


def _fit(img: Image.Image, fmt: str, max_bytes: int, formats: Sequence[str], param: str,
         icc: bytes | None, known_size: int | None) -> tuple[bytes, str | None]:
    """Encode under `max_bytes`: as is, then lossy (JPEG, or WebP to keep alpha), then smaller and smaller.

    `known_size` is the size of bytes already known to be this image in `fmt` (skips one encode).
    """
    if known_size is None or known_size < max_bytes:
        data = _encode(img, fmt, quality=_REENCODE_QUALITY, icc=icc)
        if len(data) < max_bytes:
            return data, None
        known_size = len(data)
    lossy = _lossy_format(formats, _has_transparency(img))
    target, base, scale, size = lossy or fmt, img, 1.0, known_size
    if lossy is not None:
        data = _encode(img, lossy, quality=_LOSSY_QUALITY, icc=icc)
        size = len(data)
    while size >= max_bytes:
        scale *= max(0.5, min(0.9, 0.95 * math.sqrt(max_bytes / size)))
        new = (round(base.width * scale), round(base.height * scale))
        if min(new) < _MIN_SIDE:
            raise ImageInputError(f"{param} cannot be made smaller than {_size_text(max_bytes)} "
                                  f"({base.width}x{base.height}, {_size_text(known_size)})")
        img = _resize(base, new)
        data = _encode(img, target, quality=_LOSSY_QUALITY, icc=icc)
        size = len(data)
    how = f"re-encoded as {target.upper()}" + (f" (quality {_LOSSY_QUALITY})" if lossy else "")
    if scale < 1:
        how += f", downscaled {base.width}x{base.height} → {img.width}x{img.height}"
    return data, (f"{_size_text(known_size)} is over the {_size_text(max_bytes)} limit: {how}, "
                  f"now {_size_text(size)}")


def _allowed_formats(allowed: Sequence[str]) -> tuple[str, ...]:
    """Lower-case format names, `jpg` read as `jpeg`."""
    names = [allowed] if isinstance(allowed, str) else list(allowed)
    return tuple("jpeg" if f.lower() == "jpg" else f.lower() for f in names)


def _pick_format(source: str | None, formats: Sequence[str], alpha: bool, param: str) -> str:
    """The format to re-encode into: the source's if allowed (not JPEG for alpha), else PNG, else any."""
    candidates = [f for f in _ENCODABLE if f in formats]
    if not candidates:
        raise ImageInputError(f"{param} needs re-encoding but allowed formats ({', '.join(formats)}) "
                              "include none of png, webp, jpeg")
    if source in candidates and not (source == "jpeg" and alpha):
        return source
    keeps_alpha = [f for f in candidates if f != "jpeg"] if alpha else []
    return (keeps_alpha or ["png" if "png" in candidates else candidates[0]])[0]


def _lossy_format(formats: Sequence[str], alpha: bool) -> str | None:
    """JPEG for opaque images (WebP if JPEG is not allowed), WebP when alpha must be kept."""
    order = ("webp",) if alpha else ("jpeg", "webp")
    return next((f for f in order if f in formats), None)


def _encode(img: Image.Image, fmt: str, *, quality: int = _REENCODE_QUALITY, icc: bytes | None = None,
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


def _file_tuple(param: str, data: bytes) -> FileTuple:
    """`(name, bytes, content type)` with the name and type taken from the bytes' real format."""
    fmt = sniff_format(data)
    if fmt is None:
        raise ImageInputError(f"{param} is in no format the API knows")
    stem = re.sub(r"[^A-Za-z0-9_]+", "-", param).strip("-") or "image"
    return (f"{stem}.{'jpg' if fmt == 'jpeg' else fmt}", data, f"image/{fmt}")


# ---------------------------------------------------------------------------------------------- masks


def _edit_area(img: Image.Image) -> Image.Image:
    """L image, 255 where the mask says edit: alpha < 128 with alpha, else grey >= 128 (white / True)."""
    if img.mode == "RGBA":
        return img.getchannel("A").point(lambda v: 255 if v < EDIT_THRESHOLD else 0)
    return img.convert("L").point(lambda v: 255 if v >= EDIT_THRESHOLD else 0)


def _mask_image(edit: Image.Image) -> Image.Image:
    """The API's mask: black RGBA, alpha 0 where `edit` is 255, alpha 255 elsewhere."""
    mask = Image.new("RGBA", edit.size, (0, 0, 0, 255))
    mask.putalpha(ImageOps.invert(edit))
    return mask


def _check_size(size: tuple[int, int]) -> tuple[int, int]:
    """A (width, height) pair of positive ints, or an error naming the mask."""
    try:
        width, height = (int(v) for v in size)
    except (TypeError, ValueError):
        raise ImageInputError(f"mask size must be (width, height), got {size!r}") from None
    if width <= 0 or height <= 0:
        raise ImageInputError(f"mask size must be positive, got {width}x{height}")
    return width, height


# ---------------------------------------------------------------------------------------------- small helpers


def _has_transparency(img: Image.Image) -> bool:
    """Whether any pixel is less than fully opaque (alpha band, or palette/colour-key transparency)."""
    if img.mode not in _ALPHA_MODES:
        if "transparency" not in img.info:
            return False
        img = img.convert("RGBA")
    return _extrema(img.getchannel(len(img.getbands()) - 1))[0] < 255


def _extrema(img: Image.Image) -> tuple[float, float]:
    """(min, max) of a single-band image."""
    low, high = img.getextrema()
    return float(low), float(high)  # type: ignore[arg-type]


def _fit_pixels(size: tuple[int, int], max_pixels: int) -> tuple[int, int]:
    """The largest size with the same aspect ratio and at most `max_pixels` pixels."""
    scale = min(1.0, math.sqrt(max_pixels / (size[0] * size[1])))
    return max(1, math.floor(size[0] * scale)), max(1, math.floor(size[1] * scale))


def _resize(img: Image.Image, size: tuple[int, int]) -> Image.Image:
    """High-quality downscale (Lanczos; integer pre-reduction keeps big images fast)."""
    return img.resize(size, Image.Resampling.LANCZOS, reducing_gap=2.0)


def _size_text(n: int) -> str:
    return f"{n / MB:.1f} MB" if n >= MB else f"{n / 1024:.0f} KB" if n >= 1024 else f"{n} bytes"


def _is_file_tuple(src: object) -> bool:
    return (isinstance(src, tuple) and len(src) == 3 and isinstance(src[0], str)
            and isinstance(src[1], bytes | bytearray) and isinstance(src[2], str) and "/" in src[2])


def _as_list(srcs: object) -> tuple[list[Any], bool]:
    """(inputs, whether a single input was given); tuples and lists are lists unless a FileTuple."""
    if isinstance(srcs, list | tuple) and not _is_file_tuple(srcs):
        return list(srcs), False
    return [srcs], True


def _warn(param: str, notes: Sequence[str]) -> None:
    """One `ImageInputWarning` for all notes, attributed to the user's line (also from the loop thread)."""
    if notes:
        from image_widget.warn import warn_at_caller

        warn_at_caller(f"{param}: {'; '.join(notes)}", ImageInputWarning)
