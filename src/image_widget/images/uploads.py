"""Inputs as the files the API accepts: an allowed format, under the byte and pixel limits.

Bytes that are already fine are sent unchanged (no re-encode, only private JPEG metadata dropped);
everything else is re-encoded, lossy and then smaller only as far as the limit needs, and the caller
is told what was done.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Sequence
from typing import Any

from PIL import Image

from image_widget.base.formats import MB, FileTuple, sniff_format
from image_widget.facts.table import INPUT_FORMATS
from image_widget.images.common import (
    REENCODE_QUALITY,
    ImageInput,
    ImageInputError,
    encode,
    has_transparency,
    is_file_tuple,
    resize,
    size_text,
    warn_notes,
)
from image_widget.images.loading import Loaded, load

MAX_INPUT_PIXELS = 4096 * 4096
"""Inputs above this many pixels are downscaled: well above the largest output (3840x2160), so nothing
the model could use is lost, but a 100 MP scan is not uploaded."""

_ENCODABLE = ("png", "webp", "jpeg")
_LOSSY_QUALITY = 90
_MIN_SIDE = 16


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
    if has_transparency(img):
        warn_notes(param, ["has transparent pixels, which the API treats as a mask (transparent = area to edit); "
                           "flatten it (e.g. img.convert('RGB')) if that is not meant"])


def sha256(data: bytes) -> str:
    """Hex SHA-256 of file bytes (for cache keys and history records)."""
    return hashlib.sha256(bytes(data)).hexdigest()


def _prepare(src: object, param: str, max_bytes: int,
             allowed: Sequence[str]) -> tuple[FileTuple, Image.Image]:
    """The upload for one input and the image it shows (for the transparency check)."""
    formats = _allowed_formats(allowed)
    loaded = load(src, param, formats, MAX_INPUT_PIXELS)
    img, notes = loaded.image, [n for n in (loaded.rotated, *loaded.notes) if n]
    fw, fh = loaded.full_size
    if loaded.data is not None and not notes and _sendable(loaded, formats, max_bytes):
        return _file_tuple(param, strip_private_metadata(loaded.data)), img
    if img.width * img.height > MAX_INPUT_PIXELS or img.size != loaded.full_size:
        img = resize(img, _fit_pixels(img.size, MAX_INPUT_PIXELS))
        notes.append(f"downscaled {fw}x{fh} ({fw * fh / 1e6:.0f} MP) → {img.width}x{img.height} "
                     f"(inputs are capped at {MAX_INPUT_PIXELS / 1e6:.1f} MP)")
    fmt = _pick_format(loaded.fmt, formats, has_transparency(img), param)
    if loaded.data is not None and loaded.fmt not in formats:
        notes.append(f"{(loaded.fmt or '?').upper()} is not accepted (allowed: {', '.join(formats)}); "
                     f"re-encoded as {fmt.upper()}")
    elif loaded.data is not None and notes:
        notes.append(f"re-encoded as {fmt.upper()}")
    unchanged = loaded.data is not None and loaded.fmt == fmt and img.size == loaded.full_size
    known = len(loaded.data) if unchanged and loaded.data is not None else None
    data, size_note = _fit(img, fmt, max_bytes, formats, param, loaded.icc, known)
    warn_notes(param, [*notes, size_note] if size_note else notes)
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


def _sendable(loaded: Loaded, formats: Sequence[str], max_bytes: int) -> bool:
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
        data = encode(img, fmt, quality=REENCODE_QUALITY, icc=icc)
        if len(data) < max_bytes:
            return data, None
        known_size = len(data)
    lossy = _lossy_format(formats, has_transparency(img))
    target, base, scale, size = lossy or fmt, img, 1.0, known_size
    if lossy is not None:
        data = encode(img, lossy, quality=_LOSSY_QUALITY, icc=icc)
        size = len(data)
    while size >= max_bytes:
        scale *= max(0.5, min(0.9, 0.95 * math.sqrt(max_bytes / size)))
        new = (round(base.width * scale), round(base.height * scale))
        if min(new) < _MIN_SIDE:
            raise ImageInputError(f"{param} cannot be made smaller than {size_text(max_bytes)} "
                                  f"({base.width}x{base.height}, {size_text(known_size)})")
        img = resize(base, new)
        data = encode(img, target, quality=_LOSSY_QUALITY, icc=icc)
        size = len(data)
    how = f"re-encoded as {target.upper()}" + (f" (quality {_LOSSY_QUALITY})" if lossy else "")
    if scale < 1:
        how += f", downscaled {base.width}x{base.height} → {img.width}x{img.height}"
    return data, (f"{size_text(known_size)} is over the {size_text(max_bytes)} limit: {how}, "
                  f"now {size_text(size)}")


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


def _file_tuple(param: str, data: bytes) -> FileTuple:
    """`(name, bytes, content type)` with the name and type taken from the bytes' real format."""
    fmt = sniff_format(data)
    if fmt is None:
        raise ImageInputError(f"{param} is in no format the API knows")
    stem = re.sub(r"[^A-Za-z0-9_]+", "-", param).strip("-") or "image"
    return (f"{stem}.{'jpg' if fmt == 'jpeg' else fmt}", data, f"image/{fmt}")


def _fit_pixels(size: tuple[int, int], max_pixels: int) -> tuple[int, int]:
    """The largest size with the same aspect ratio and at most `max_pixels` pixels."""
    scale = min(1.0, math.sqrt(max_pixels / (size[0] * size[1])))
    return max(1, math.floor(size[0] * scale)), max(1, math.floor(size[1] * scale))


def _as_list(srcs: object) -> tuple[list[Any], bool]:
    """(inputs, whether a single input was given); tuples and lists are lists unless a FileTuple."""
    if isinstance(srcs, list | tuple) and not is_file_tuple(srcs):
        return list(srcs), False
    return [srcs], True
