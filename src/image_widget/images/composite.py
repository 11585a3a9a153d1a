"""Keep what the person did not paint: the API's image laid onto the original only where the mask says.

GPT image models treat the mask as guidance and change pixels outside it too. `hold` pastes the API's
result onto the original through the mask, widened by a feather that fades the edit out over
`feather` pixels, so every pixel farther than that from the mask is the original's, bit for bit.
Pillow only (box blurs and `paste` with a mask run in C); the work is limited to the mask's bounding
box plus the feather, so a small edit on a 4K photo costs little.
"""

from __future__ import annotations

from PIL import Image, ImageChops, ImageFilter

from image_widget.base import runtime
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

    One box blur of radius `feather` reaches exactly `feather` px (Chebyshev distance) beyond the mask and
    no further, so the weight there is exactly 0; doubled and clipped, the blurred edge becomes a ramp that
    starts near 255 at the mask's edge and ends at `feather` px. Inside the mask the weight is 255.
    """
    if feather <= 0:
        return edit
    ramp = edit.filter(ImageFilter.BoxBlur(feather)).point(_DOUBLE)
    return ImageChops.lighter(ramp, edit)


_DOUBLE = [min(255, 2 * v) for v in range(256)]


def _mode(*images: Image.Image) -> str:
    return "RGBA" if any("A" in img.getbands() or "transparency" in img.info for img in images) else "RGB"


def fit(result: Image.Image, size: tuple[int, int], window: Box | None = None) -> Image.Image:
    """The API's image brought to `size` (the original's, or the detail box's) for compositing; with
    `window` (a box in `size`'s pixels) only that part of it, which is all a small mask needs."""
    if window is None:
        window = (0, 0, *size)
    if result.size == size:
        return result if window == (0, 0, *size) else result.crop(window)
    scale = (result.width / size[0], result.height / size[1])
    out = (window[2] - window[0], window[3] - window[1])
    if out[0] * out[1] < _SPLIT_PX or result.mode not in ("RGB", "RGBA", "L", "LA"):
        return _resize(result, window, scale)
    mid = window[1] + out[1] // 2
    upper, lower = runtime.side_by_side(lambda: _resize(result, (window[0], window[1], window[2], mid), scale),
                                        lambda: _resize(result, (window[0], mid, window[2], window[3]), scale))
    whole = Image.new(result.mode, out)
    whole.info = result.info.copy()  # as `resize` keeps it: an ICC profile, a colour-key transparency
    whole.paste(upper, (0, 0))
    whole.paste(lower, (0, upper.height))
    return whole


_SPLIT_PX = 1_500_000
"""A window this large is scaled in two halves side by side (Pillow frees the GIL while it resamples): a 4K
upscale is ~100 ms on one core, ~55 on two."""


def _resize(result: Image.Image, window: Box, scale: tuple[float, float]) -> Image.Image:
    sx, sy = scale
    upscale = sx < 1 and sy < 1  # bicubic is as good as Lanczos for enlarging, and much faster
    how = Image.Resampling.BICUBIC if upscale else Image.Resampling.LANCZOS
    return result.resize((window[2] - window[0], window[3] - window[1]), how,
                         box=(window[0] * sx, window[1] * sy, window[2] * sx, window[3] * sy))


def hold(base: Image.Image, result: Image.Image, edit: Image.Image | None, feather: int,
         at: tuple[int, int] = (0, 0)) -> Image.Image:
    """`base` with `result` pasted at `at` through `edit` (L, 255 = edit) and the feather.

    `result` is scaled to `edit`'s size (only the part the edit reaches is scaled). `edit=None` pastes all
    of `result` as it is (nothing held inside its box). Outside the box, and inside it farther than
    `feather` from the edit area, every pixel is `base`'s unchanged. Returns a new image (RGBA when
    either has transparency, else RGB).
    """
    mode = _mode(base, result)
    out = base.convert(mode) if base.mode != mode else base.copy()
    if edit is None:
        out.paste(result.convert(mode) if result.mode != mode else result, at)
        return out
    marked = edit.getbbox()
    if marked is None:
        return out
    window = _pad(marked, feather, edit.size)
    scaled = fit(result, edit.size, window)  # once: many small resizes cost more than one
    scaled = scaled.convert(mode) if scaled.mode != mode else scaled
    for box, inside in _runs(edit, window, feather):
        part = scaled.crop((box[0] - window[0], box[1] - window[1], box[2] - window[0], box[3] - window[1]))
        if inside:  # every pixel of the box is on the mask: the result as it is
            out.paste(part, (at[0] + box[0], at[1] + box[1]))
            continue
        padded = _pad(box, feather, edit.size)
        weight = feather_weight(edit.crop(padded), feather)
        inner = (box[0] - padded[0], box[1] - padded[1], box[2] - padded[0], box[3] - padded[1])
        out.paste(part, (at[0] + box[0], at[1] + box[1]), weight.crop(inner))
    return out


_BLOCK = 16
"""Blocks of 16x16: small enough that `reduce` (a rounded mean) is 255 only when every pixel is on the mask
and 0 only when none is (one pixel of 256 moves the mean by 1), so the classification is exact."""


def _runs(edit: Image.Image, window: Box, feather: int) -> list[tuple[Box, bool]]:
    """The parts of `window` to paste, row of blocks by row: (box, True) where every pixel is on the mask
    (pasted as is), (box, False) where the feathered edge may reach (blended). Blocks the edge cannot
    reach are left out, so only the ring around the mask's edge is blurred."""
    small = edit.crop(window).reduce(_BLOCK)
    reach = 2 * (-(-(feather + 2) // _BLOCK)) + 1
    near = small.point(lambda v: 255 if v else 0).filter(ImageFilter.MaxFilter(reach)) if feather else small
    full, touched = small.load(), near.load()
    assert full is not None
    assert touched is not None
    runs: list[tuple[Box, bool]] = []
    for j in range(small.height):
        y0, y1 = window[1] + j * _BLOCK, min(window[3], window[1] + (j + 1) * _BLOCK)
        kind, start = None, 0
        for i in range(small.width + 1):
            here = None if i == small.width else ("in" if full[i, j] == 255 else "edge" if touched[i, j] else None)
            if here != kind:
                if kind is not None:
                    x1 = min(window[2], window[0] + i * _BLOCK)
                    runs.append(((window[0] + start * _BLOCK, y0, x1, y1), kind == "in"))
                kind, start = here, i
    return runs


def _pad(box: Box, by: int, size: tuple[int, int]) -> Box:
    """`box` grown by `by` on each side (plus the blur's own reach), clipped to `size`."""
    margin = by + 2
    x0, y0, x1, y1 = box
    return max(0, x0 - margin), max(0, y0 - margin), min(size[0], x1 + margin), min(size[1], y1 + margin)
