"""Where edits happen and at what size: `size="match"`, the detail box, and the expanded canvas.

Pure arithmetic on sizes and boxes, read from the model's `SizeRule` (never a model name), so the
request path and the widget agree on what will be sent before anything is.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from image_widget.facts.table import SizeRule

Box = tuple[int, int, int, int]
"""x0, y0, x1, y1 (x1, y1 exclusive), as PIL's `crop` and `getbbox` use."""

MATCH = "match"
"""`size="match"`: the allowed size closest to the first image's aspect (see `match_size`)."""
MATCH_MIN_PIXELS = 1024 * 1024
"""Smaller inputs are matched at about this many pixels: below the models' usual resolution detail is lost."""
ANCHORS = ("center", "left", "right", "top", "bottom", "top-left", "top-right", "bottom-left", "bottom-right")
SIDES = ("left", "right", "top", "bottom")
MAX_CANVAS_PIXELS = 4096 * 4096
"""An expanded canvas above this is refused (it is the input cap: larger would be downscaled anyway)."""
_ASPECT_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*[:x/]\s*(\d+(?:\.\d+)?)\s*$")
_ASPECT_STEP = 0.004
"""Aspect errors closer than this (0.4 %) count as equal, so the pixel count decides between them."""


def match_size(rule: SizeRule, size: tuple[int, int]) -> str:
    """The size `rule` allows that is closest to `size`'s aspect, at a resolution near its own.

    Custom-size models: any WxH on the rule's grid (multiples of 16, within the aspect and pixel limits),
    at the input's pixel count clamped to [1 MP, the largest non-experimental size]. Fixed-size models:
    the listed size with the nearest aspect (ties: the nearest pixel count).
    """
    width, height = size
    aspect = width / height
    if rule.custom:
        low = max(rule.min_pixels, MATCH_MIN_PIXELS)
        high = min(rule.max_pixels, rule.experimental_above_pixels)
        cap = max(high, low)
        target = min(max(width * height, low), cap)
        found = _best_custom(rule, aspect, target, cap)
        if found is not None:
            return f"{found[0]}x{found[1]}"
    fixed = [_parse(s) for s in rule.fixed]
    options = [wh for wh in fixed if wh is not None]
    if not options:
        return "auto"
    best = min(options, key=lambda wh: (_aspect_error(wh, aspect), abs(math.log(wh[0] * wh[1] / (width * height)))))
    return f"{best[0]}x{best[1]}"


def _best_custom(rule: SizeRule, aspect: float, target: float, cap: float) -> tuple[int, int] | None:
    """Never above `cap` pixels: a closer aspect must not buy an experimental (and dearer) size."""
    step = max(1, rule.multiple_of)
    aspect = min(max(aspect, 1 / rule.max_aspect), rule.max_aspect)
    ideal = math.sqrt(target / aspect)
    near = range(max(step, math.floor(ideal / 1.6 / step) * step), min(rule.max_edge, math.ceil(ideal * 1.6)) + 1, step)
    return (_best_in(rule, aspect, target, near, cap)
            or _best_in(rule, aspect, target, range(step, rule.max_edge + 1, step), cap))


def _best_in(rule: SizeRule, aspect: float, target: float, heights: range, cap: float) -> tuple[int, int] | None:
    step = max(1, rule.multiple_of)
    best: tuple[tuple[float, float], tuple[int, int]] | None = None
    for h in heights:
        exact_w = h * aspect
        for w in {max(step, math.floor(exact_w / step) * step), max(step, math.ceil(exact_w / step) * step)}:
            if not _allowed(rule, w, h) or w * h > cap:
                continue
            score = (round(_aspect_error((w, h), aspect) / _ASPECT_STEP), abs(math.log(w * h / target)))
            if best is None or score < best[0]:
                best = (score, (w, h))
    return None if best is None else best[1]


def _allowed(rule: SizeRule, w: int, h: int) -> bool:
    return (max(w, h) <= rule.max_edge and w * h <= rule.max_pixels and w * h >= rule.min_pixels
            and max(w, h) / min(w, h) <= rule.max_aspect)


def _aspect_error(wh: tuple[int, int], aspect: float) -> float:
    return abs(math.log(wh[0] / wh[1] / aspect))


def _parse(size: str) -> tuple[int, int] | None:
    w, _, h = size.partition("x")
    return (int(w), int(h)) if w.isdigit() and h.isdigit() else None


def parse_wh(size: str) -> tuple[int, int] | None:
    """"1536x1024" → (1536, 1024); anything else (auto, match) → None."""
    return _parse(size)


# ---------------------------------------------------------------------------------------------- detail


def detail_box(bbox: Box, image: tuple[int, int], feather: int, aspect: float | None = None) -> Box:
    """A padded box around the mask's bounding box, inside the image, for a detail edit.

    The padding (a quarter of the mask's longer side, at least 32 px, and more than the feather) gives the
    model context and keeps the feathered seam inside the crop. With `aspect`, the box is grown (never
    shrunk) towards it, so the crop is not stretched when it is edited at an allowed size.
    """
    x0, y0, x1, y1 = bbox
    width, height = image
    pad = max(32, feather + 16, round(max(x1 - x0, y1 - y0) / 4))
    box = (max(0, x0 - pad), max(0, y0 - pad), min(width, x1 + pad), min(height, y1 + pad))
    if aspect is None:
        return box
    bw, bh = box[2] - box[0], box[3] - box[1]
    if bw / bh < aspect:
        return _grow(box, 0, min(width, round(bh * aspect)), width)
    return _grow(box, 1, min(height, round(bw / aspect)), height)


def _grow(box: Box, axis: int, length: int, limit: int) -> Box:
    """`box` grown along `axis` (0 = x, 1 = y) to `length`, centred, shifted to stay within 0..limit."""
    lo, hi = box[axis], box[axis + 2]
    length = max(length, hi - lo)
    start = max(0, min(lo - (length - (hi - lo)) // 2, limit - length))
    out = list(box)
    out[axis], out[axis + 2] = start, start + length
    return out[0], out[1], out[2], out[3]


# ---------------------------------------------------------------------------------------------- expand


@dataclass(frozen=True)
class Sides:
    """Pixels added on each side of an image by an expand."""

    left: int = 0
    right: int = 0
    top: int = 0
    bottom: int = 0

    def canvas(self, size: tuple[int, int]) -> tuple[int, int]:
        return size[0] + self.left + self.right, size[1] + self.top + self.bottom

    def as_dict(self) -> dict[str, int]:
        return {"left": self.left, "right": self.right, "top": self.top, "bottom": self.bottom}


def parse_aspect(aspect: str) -> float:
    """"16:9" (also "16x9", "16/9", "1.5:1") → 1.777…; ValueError naming `aspect` otherwise."""
    found = _ASPECT_RE.match(aspect) if isinstance(aspect, str) else None
    if found is None or float(found.group(1)) <= 0 or float(found.group(2)) <= 0:
        raise ValueError(f"aspect must be like '16:9' (width:height, both above 0), got {aspect!r}")
    return float(found.group(1)) / float(found.group(2))


def sides_for_aspect(size: tuple[int, int], aspect: str, anchor: str = "center") -> Sides:
    """The sides to add so `size` becomes `aspect`, with the image at `anchor` (e.g. "left": it keeps its
    left edge and the new area is on the right). An image already at that aspect gets nothing added."""
    ratio = parse_aspect(aspect)
    if anchor not in ANCHORS:
        raise ValueError(f"anchor must be one of {', '.join(ANCHORS)}, got {anchor!r}")
    width, height = size
    extra_w = max(0, round(height * ratio) - width)
    extra_h = max(0, round(width / ratio) - height) if not extra_w else 0
    left = 0 if "left" in anchor else extra_w if "right" in anchor else extra_w // 2
    top = 0 if "top" in anchor else extra_h if "bottom" in anchor else extra_h // 2
    return Sides(left, extra_w - left, top, extra_h - top)


def check_sides(values: dict[str, object]) -> Sides:
    """Whole pixel amounts ≥ 0 per side, at least one above 0; ValueError naming the side otherwise."""
    checked: dict[str, int] = {}
    for side in SIDES:
        value = values.get(side, 0)
        if value is None:
            value = 0
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"{side} must be a whole number of pixels ≥ 0, got {value!r}")
        checked[side] = value
    sides = Sides(**checked)
    if not any(checked.values()):
        raise ValueError("expand needs at least one of left, right, top, bottom above 0 (or an aspect that "
                         "differs from the image's)")
    return sides
