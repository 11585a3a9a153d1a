"""Edits whose result must line up with the input: held pixels, `size="match"`, detail edits, expands.

Each builder returns the `Request` the API will see (for a detail edit the crop, for an expand the
transparent canvas) plus the `Finish` that brings every returned image back to the input and holds
what the person did not paint. Every parameter is checked here, before anything is sent.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from PIL import Image

from image_widget import images
from image_widget.client.finish import Finish
from image_widget.client.wire import PartialCallback, Request, edit_request, image_size
from image_widget.facts import capabilities
from image_widget.facts.capabilities import FileTuple, Problem, ValidationError, caps_for
from image_widget.images import composite
from image_widget.images.common import is_file_tuple
from image_widget.images.geometry import (
    MATCH,
    MAX_CANVAS_PIXELS,
    SIDES,
    Sides,
    check_sides,
    detail_box,
    match_size,
    parse_wh,
    sides_for_aspect,
)
from image_widget.images.loading import decode_once


def _refuse(param: str, message: str) -> ValidationError:
    return ValidationError([Problem(param, message)])


def _checked(keep_unmasked: object, feather: object, detail: object) -> int:
    for name, value in (("keep_unmasked", keep_unmasked), ("detail", detail)):
        if not isinstance(value, bool):
            raise _refuse(name, f"{name} must be True or False, got {value!r}")
    try:
        return composite.check_feather(feather)
    except ValueError as exc:
        raise _refuse("feather", str(exc)) from None


def _first(image: Any) -> Any:
    return image[0] if isinstance(image, list | tuple) and not is_file_tuple(image) and image else image


def _original(image: Any) -> Image.Image:
    """The first input at full resolution, upright (its conversion warnings were given by the upload)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", images.ImageInputWarning)
        return images.load_image(_first(image), param="image")


def _png_upload(img: Image.Image, param: str) -> FileTuple:
    buffer = io.BytesIO()
    img.save(buffer, "PNG", compress_level=1)
    return images.to_upload(("image.png", buffer.getvalue(), "image/png"), param=param)


def _size_for(rule_model: str, size: object, shape: tuple[int, int]) -> str:
    """The size to send: `match` resolved for `shape`, anything else as given (validation checks it)."""
    return match_size(caps_for(rule_model).sizes, shape) if size in (None, MATCH) else str(size)


@dataclass(frozen=True)
class Holding:
    """`aedit`'s keywords for lining up: hold the unmasked pixels, the feather, edit a detail crop."""

    keep_unmasked: bool = True
    feather: int = composite.DEFAULT_FEATHER
    detail: bool = False
    resize_mask: str = "scale"
    """How a mask of another size is fitted (`images.masks.RESIZE_MASK`): by default only one of the same shape."""


def lined_up_edit(image: images.ImageInput | Sequence[images.ImageInput], prompt: str,
                  mask: images.MaskInput | None, markup: images.ImageInput | None, model: str | None,
                  on_partial: PartialCallback | None, options: dict[str, Any], holding: Holding) -> Request:
    """An edit request; with a mask (or `size="match"`, or `detail`) it carries the `Finish` that lines the
    results up with the first image and holds the unmasked pixels. `options` holds the API fields."""
    keep_unmasked, detail = holding.keep_unmasked, holding.detail
    feather = _checked(keep_unmasked, holding.feather, detail)
    input_fidelity = options.pop("input_fidelity", None)
    size = options.get("size")
    if detail and mask is None:
        raise _refuse("detail", "detail=True needs a mask: the detail box is cropped around the masked area")
    if mask is None and size != MATCH:
        return edit_request(image, prompt, mask, markup, input_fidelity, model, on_partial, options,
                            mask_fit=holding.resize_mask)
    name = model or capabilities.DEFAULT_MODEL
    with decode_once():  # the upload and the finish read the same first image: decode it once
        request = edit_request(image, prompt, mask, markup, input_fidelity, model, on_partial,
                               {**options, "size": None}, mask_fit=holding.resize_mask)
        original = _original(image)
    edit = None
    if "mask" in request.files:
        edit = composite.edit_area(images.decode_image(request.files["mask"][1]).convert("RGBA"))
        if edit.size != original.size:  # the upload was downscaled: hold at the original's resolution
            edit = edit.resize(original.size, Image.Resampling.NEAREST)
    full = (0, 0, *original.size)
    if not detail or edit is None:
        request.params["size"] = _size_for(name, size, image_size(request.files["image"][0]))
        request.finish = Finish(original, full, edit if keep_unmasked else None, feather, keep_unmasked,
                                masked=edit is not None)
        return request
    return _detail(request, original, edit, name, size, feather, keep_unmasked)


def _detail(request: Request, original: Image.Image, edit: Image.Image, model: str, size: object,
            feather: int, keep_unmasked: bool) -> Request:
    """Send a padded crop around the mask instead of the whole image; the finish pastes it back."""
    marked = edit.getbbox()
    assert marked is not None  # prepare_mask refuses a mask that marks nothing
    loose = detail_box(marked, original.size, feather)
    wanted = parse_wh(_size_for(model, size, (loose[2] - loose[0], loose[3] - loose[1])))
    box = detail_box(marked, original.size, feather, wanted[0] / wanted[1] if wanted else None)
    crop_size = (box[2] - box[0], box[3] - box[1])
    request.sources = {"image": request.uploads("image"), "mask": request.uploads("mask")}
    crop_edit = edit.crop(box)
    request.files["image"] = [_png_upload(original.crop(box), "image"), *request.uploads("image")[1:]]
    request.files["mask"] = images.prepare_mask(crop_edit, crop_size)
    request.params["size"] = f"{wanted[0]}x{wanted[1]}" if wanted else _size_for(model, size, crop_size)
    request.finish = Finish(original, box, crop_edit if keep_unmasked else None, feather, keep_unmasked,
                            masked=True, detail_box=box)
    return request


def resolve_sides(size: tuple[int, int], sides: dict[str, object], aspect: str | None, anchor: str) -> Sides:
    """The pixels to add per side: given, or from `aspect` and `anchor`; errors name the parameter."""
    given = {k: v for k, v in sides.items() if v not in (None, 0)}
    if aspect is not None and given:
        raise _refuse("aspect", f"give either aspect or pixel amounts ({', '.join(sorted(given))}), not both")
    try:
        if aspect is not None:
            found = sides_for_aspect(size, aspect, anchor)
            if not any(found.as_dict().values()):
                raise _refuse("aspect", f"the image is already {aspect} ({size[0]}x{size[1]}): nothing to add")
            return found
    except ValueError as exc:
        if isinstance(exc, ValidationError):
            raise
        raise _refuse("anchor" if "anchor" in str(exc) else "aspect", str(exc)) from None
    try:
        return check_sides(sides)
    except ValueError as exc:
        param = next((side for side in SIDES if str(exc).startswith(side)), "left")
        raise _refuse(param, str(exc)) from None


def expand_request(image: images.ImageInput | Sequence[images.ImageInput], prompt: str, where: dict[str, Any],
                   feather: int, model: str | None, on_partial: PartialCallback | None,
                   options: dict[str, Any]) -> Request:
    """Outpainting: the image on a larger transparent canvas, the new area (and a `feather`-wide band into
    the original, so the seam blends) masked; the finish holds the rest of the original.

    `where`: the pixels per side (left, right, top, bottom), or `aspect` with `anchor`."""
    feather = _checked(True, feather, False)
    anchor, aspect = where.pop("anchor", "center"), where.pop("aspect", None)
    sides: dict[str, object] = where
    if not isinstance(anchor, str):
        raise _refuse("anchor", f"anchor must be a string such as 'center' or 'left', got {anchor!r}")
    name = model or capabilities.DEFAULT_MODEL
    size = options.pop("size", None)
    request = edit_request(image, prompt, None, None, options.pop("input_fidelity", None), model, on_partial,
                           options)
    original = _original(image)
    added = resolve_sides(original.size, sides, aspect, anchor)
    width, height = added.canvas(original.size)
    if width * height > MAX_CANVAS_PIXELS:
        raise _refuse("aspect" if aspect else "left", f"the expanded picture would be {width}x{height}; at most "
                      f"{MAX_CANVAS_PIXELS:,} pixels are allowed (e.g. 4096x4096)")
    canvas = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    canvas.paste(original.convert("RGBA"), (added.left, added.top))
    new_area = Image.new("L", (width, height), 255)
    new_area.paste(0, (added.left, added.top, added.left + original.width, added.top + original.height))
    masked = composite.feather_weight(new_area, feather).point(lambda v: 255 if v else 0)
    request.sources = {"image": request.uploads("image")}
    request.files["image"] = [_png_upload(canvas, "image"), *request.uploads("image")[1:]]
    request.files["mask"] = images.prepare_mask(masked, (width, height))
    request.params["size"] = _size_for(name, size, (width, height))
    request.finish = Finish(canvas, (0, 0, width, height), new_area, feather, True, masked=True, expand=added)
    request.call = "expand"
    return request
