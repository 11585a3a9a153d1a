"""Keep what the person did not paint: the API's image laid onto the original only where the mask says.

GPT image models treat the mask as guidance and change pixels outside it too. `hold` pastes the API's
result onto the original through the mask, widened by a feather that fades the edit out over
`feather` pixels, so every pixel farther than that from the mask is the original's, bit for bit.
Pillow only (box blurs and `paste` with a mask run in C); the work is limited to the mask's bounding
box plus the feather, so a small edit on a 4K photo costs little.
"""

from __future__ import annotations

from PIL import Image, ImageChops, ImageFilter

from image_widget.images.geometry import Box

DEFAULT_FEATHER = 8
MAX_FEATHER = 64


def check_feather(feather: object) -> int:
    """`feather` as a whole number of pixels 0..64; ValueError naming it otherwise."""
    if isinstance(feather, bool) or not isinstance(feather, int) or not 0 <= feather <= MAX_FEATHER:
        raise ValueError(f"feather must be a whole number of pixels from 0 (a hard edge) to {MAX_FEATHER}, "
                         f"got {feather!r}")
    return feather


def edit_area(mask: Image.Image) -> Image.Image:
    """L image, 255 where the API mask (RGBA, alpha 0 = edit) says edit, 0 elsewhere."""
    return mask.getchannel("A").point(lambda a: 255 if a == 0 else 0)


def feather_weight(edit: Image.Image, feather: int) -> Image.Image:
    """How much of the edit each pixel takes: 255 on the mask, falling to 0 within `feather` px outside it.

    The mask is first grown by half the feather (a box blur that is non-zero wherever the box reaches the
    mask), then blurred by the other half, so the ramp starts at the mask's edge and ends within `feather`
    pixels (Chebyshev distance): beyond that the weight is exactly 0.
    """
    if feather <= 0:
        return edit
    grow, soften = (feather + 1) // 2, feather // 2
    grown = edit.filter(ImageFilter.BoxBlur(grow)).point(lambda v: 255 if v > 0 else 0)
    ramp = grown.filter(ImageFilter.BoxBlur(soften)) if soften else grown
    return ImageChops.lighter(ramp, edit)


def _mode(*images: Image.Image) -> str:
    return "RGBA" if any("A" in img.getbands() or "transparency" in img.info for img in images) else "RGB"


def fit(result: Image.Image, size: tuple[int, int]) -> Image.Image:
    """The API's image brought to `size` (the original's, or the detail box's) for compositing."""
    if result.size == size:
        return result
    return result.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)


def hold(base: Image.Image, result: Image.Image, edit: Image.Image | None, feather: int,
         at: tuple[int, int] = (0, 0)) -> Image.Image:
    """`base` with `result` pasted at `at` through `edit` (L, 255 = edit, `result`'s size) and the feather.

    `edit=None` pastes all of `result` (nothing held inside its box). Outside the box, and inside it
    farther than `feather` from the edit area, every pixel is `base`'s unchanged. Returns a new image
    (RGBA when either has transparency, else RGB).
    """
    mode = _mode(base, result)
    out = base.convert(mode) if base.mode != mode else base.copy()
    result = result.convert(mode) if result.mode != mode else result
    if edit is None:
        out.paste(result, at)
        return out
    marked = edit.getbbox()
    if marked is None:
        return out
    window = _pad(marked, feather, edit.size)
    weight = feather_weight(edit.crop(window), feather)
    out.paste(result.crop(window), (at[0] + window[0], at[1] + window[1]), weight)
    return out


def _pad(box: Box, by: int, size: tuple[int, int]) -> Box:
    """`box` grown by `by` on each side (plus the blur's own reach), clipped to `size`."""
    margin = by + 2
    x0, y0, x1, y1 = box
    return max(0, x0 - margin), max(0, y0 - margin), min(size[0], x1 + margin), min(size[1], y1 + margin)
