"""Turn whatever a notebook user holds into uploads the Images API accepts, and build edit masks.

The API wants `(filename, bytes, content_type)` files in png, webp or jpeg, under a byte limit, and a mask
that is an RGBA PNG the size of the first image in which alpha 0 marks the area to edit. People hold PIL
images, numpy arrays, bytes and paths in every mode Pillow knows, so this module converts once, here, and
says what it changed (`ImageInputWarning`) or why it cannot (`ImageInputError`, naming the parameter).

Conventions
-----------
* Formats are sniffed from the bytes (`formats.sniff_format`); file extensions are never trusted.
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

Modules: `loading` (any input → an upright 8-bit PIL image, `decode_image`), `arrays` (numpy),
`uploads` (files the API accepts, `strip_private_metadata`, `sha256`), `masks`, `thumbnails`,
`composite` (the result laid onto the original outside the mask, feathered), `geometry` (`size="match"`,
the detail box, an expand's sides), and
`common` (the errors, encoding and pixel tests they share). Import from `image_widget.images`.
"""

from __future__ import annotations

from image_widget.images.common import ImageInput, ImageInputError, ImageInputWarning, MaskInput
from image_widget.images.loading import decode_image, load_image
from image_widget.images.masks import EDIT_THRESHOLD, mask_from_png, prepare_mask
from image_widget.images.thumbnails import thumbnail_bytes
from image_widget.images.uploads import (
    MAX_INPUT_PIXELS,
    prepare_images,
    sha256,
    strip_private_metadata,
    to_upload,
    warn_if_transparent,
)

__all__ = [
    "EDIT_THRESHOLD",
    "MAX_INPUT_PIXELS",
    "ImageInput",
    "ImageInputError",
    "ImageInputWarning",
    "MaskInput",
    "decode_image",
    "load_image",
    "mask_from_png",
    "prepare_images",
    "prepare_mask",
    "sha256",
    "strip_private_metadata",
    "thumbnail_bytes",
    "to_upload",
    "warn_if_transparent",
]
