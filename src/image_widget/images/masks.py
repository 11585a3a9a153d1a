"""Edit masks in the API's convention: a black RGBA PNG the size of the first image, alpha 0 = edit.

People paint or compute masks in every convention (alpha, white = edit, bool arrays); this turns each
into the one the API reads, and refuses a mask that marks nothing, before a paid request is sent.
"""

from __future__ import annotations

from PIL import Image, ImageOps

from image_widget.base.formats import MB, FileTuple
from image_widget.facts.table import INPUT_FORMATS
from image_widget.images.common import ImageInputError, MaskInput, encode, extrema, size_text, warn_notes
from image_widget.images.loading import load

EDIT_THRESHOLD = 128
"""Mask pixels with alpha below this (or, without alpha, grey at or above it) are edited."""
RESIZE_MASK = ("scale", "stretch", "crop", "pad")
"""How a mask of another size is fitted to the image (`resize_mask=`): `scale` only when the shapes match
(the default), `stretch` to any shape, `crop` the mask's middle to the image's shape, `pad` it with keep."""
ASPECT_TOLERANCE = 0.01
"""Two shapes whose aspect ratios differ by less than this (relative) are the same shape."""


def prepare_mask(mask: MaskInput, size: tuple[int, int], *, max_bytes: int = 4 * MB,
                 resize: str = "scale") -> FileTuple:
    """The `mask` upload: an RGBA PNG of `size` (the first image's), black, alpha 0 = EDIT, 255 = keep.

    Input conventions: an image with alpha (RGBA PNG/PIL, HxWx4 array) is used as is, alpha below 128
    meaning edit. Without alpha (L/RGB image, HxW array) white means edit; in a bool array True means
    edit. A mask of another size is fitted as `resize` says (`RESIZE_MASK`; with a warning saying what was
    done) — by default only scaled, and refused when its shape differs: a stretched mask marks the wrong
    place, and the paid edit would run with it. Thresholded to alpha 0 or 255. Raises `ImageInputError`
    when nothing is marked for editing or the PNG is not under `max_bytes`.
    """
    width, height = _check_size(size)
    if resize not in RESIZE_MASK:
        raise ImageInputError(f"resize_mask must be one of {', '.join(map(repr, RESIZE_MASK))}, got {resize!r}")
    loaded = load(mask, "mask", INPUT_FORMATS, None)
    notes = [n for n in (loaded.rotated, *loaded.notes) if n]
    edit = _edit_area(loaded.image)
    if edit.size != (width, height):
        edit, note = _fit(edit, (width, height), resize)
        notes.append(note)
    if extrema(edit)[1] == 0:
        how = "transparent (alpha 0)" if loaded.image.mode == "RGBA" else "white / True"
        raise ImageInputError(f"mask marks nothing to edit: no pixel is {how}; the area to edit must be "
                              "transparent in an RGBA mask, or white / True in a greyscale or bool mask")
    data = encode(_mask_image(edit), "png", optimize=True)
    if len(data) >= max_bytes:
        raise ImageInputError(f"mask is {size_text(len(data))} as an optimised PNG; it must be under "
                              f"{size_text(max_bytes)}: use fewer, simpler shapes")
    warn_notes("mask", notes)
    return ("mask.png", data, "image/png")


def mask_from_png(png: bytes) -> Image.Image:
    """The widget's painted mask (PNG bytes) as a binary RGBA image at its own size, alpha 0 = edit.

    Same conventions as `prepare_mask` (alpha if present, else white = edit); an empty mask is allowed
    here (nothing painted yet) — `prepare_mask` rejects it when the request is built.
    """
    return _mask_image(_edit_area(load(png, "mask", INPUT_FORMATS, None).image))


def _fit(edit: Image.Image, size: tuple[int, int], how: str) -> tuple[Image.Image, str]:
    """The edit area at `size`, and a note saying what was done (see `RESIZE_MASK`)."""
    (mw, mh), (w, h) = edit.size, size
    same_shape = abs((mw / mh) / (w / h) - 1) < ASPECT_TOLERANCE
    if not same_shape and how == "scale":
        raise ImageInputError(
            f"mask is {mw}x{mh} but the image is {w}x{h}: a different shape (aspect {mw / mh:.3f} vs {w / h:.3f}), "
            "so scaling would stretch it onto the wrong place; nothing was sent. Ways out: crop or pad the mask "
            "to the image's shape yourself, or pass resize_mask='crop' (its middle), 'pad' (keep around it) or "
            "'stretch' (distort it)")
    if how == "crop" and not same_shape:
        keep_w, keep_h = (round(mh * w / h), mh) if mw / mh > w / h else (mw, round(mw * h / w))
        left, top = (mw - keep_w) // 2, (mh - keep_h) // 2
        edit = edit.crop((left, top, left + keep_w, top + keep_h))
    elif how == "pad" and not same_shape:
        pad_w, pad_h = (mw, round(mw * h / w)) if mw / mh > w / h else (round(mh * w / h), mh)
        canvas = Image.new("L", (pad_w, pad_h), 0)  # 0 = keep
        canvas.paste(edit, ((pad_w - mw) // 2, (pad_h - mh) // 2))
        edit = canvas
    done = {"scale": "scaled (same shape)", "stretch": "stretched", "crop": "cropped to the image's shape, then scaled",
            "pad": "padded (kept) to the image's shape, then scaled"}[how if not same_shape else "scale"]
    return edit.resize(size, Image.Resampling.NEAREST), f"{mw}x{mh} {done} to {w}x{h} (the first image's size)"


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
