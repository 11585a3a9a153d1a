"""Synthetic images for the emulator: deterministic, cheap to make, and easy to check in tests.

A generated image is a diagonal gradient between two colours hashed from (seed, prompt) with a central
ellipse and `index + 1` marker squares, so every (prompt, index, size, seed) gives its own picture.
Edits start from the first input image and change the area to edit (alpha 0 in the mask); like the
real models they also shift the colours outside it a little (`leak.py`, off with `mask_leak=False`),
so a test can see the raw result leak and the composite hold. Everything is Pillow's vectorised C code,
and results are kept in a small LRU cache so repeated requests answer in milliseconds.
"""

from __future__ import annotations

import colorsys
import hashlib
import html
import io
import threading
from base64 import b64encode
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

from PIL import Image, ImageChops, ImageDraw, ImageOps

from image_widget.emulator.leak import leaked

Kind = Literal["generate", "edit", "variation"]
RGB = tuple[int, int, int]

#: Palette slots: 0‥251 are the gradient, the rest are the drawn shapes.
_RAMP_TOP = 251
_SHAPE, _MARKER, _OUTLINE = 252, 253, 254
_DEFAULT_QUALITY = 90


@dataclass(frozen=True)
class Spec:
    """Everything that decides the pixels of one output image (and so its cache key)."""

    prompt: str
    index: int
    size: tuple[int, int]
    seed: int = 0
    fmt: str = "png"
    transparent: bool = False
    compression: int | None = None
    frame_count: int = 9
    frame_duration_ms: int = 200
    leak: bool = False
    """Edits with a mask also change the pixels outside it a little, as the real models do."""


@dataclass(frozen=True, eq=False)
class Inputs:
    """Uploaded files of an edit or variation; `key` (hashes) stands in for the bytes in cache keys."""

    images: tuple[bytes, ...]
    mask: bytes | None = None
    markup: bytes | None = None
    key: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        parts = [*self.images, self.mask or b"", self.markup or b""]
        object.__setattr__(self, "key", tuple(hashlib.sha256(p).hexdigest() for p in parts))


class _LRU:
    """A byte-budgeted, thread-safe LRU cache of rendered results."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[object, tuple[object, int]] = OrderedDict()
        self._total = 0
        self._lock = threading.Lock()

    def get_or_make(self, key: object, make: Callable[[], object], cost: Callable[[object], int]) -> object:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
                return found[0]
        value = make()  # outside the lock: renders for different keys run in parallel
        size = cost(value)
        with self._lock:
            if key not in self._items and size <= self.max_bytes:
                self._items[key] = (value, size)
                self._total += size
                while self._total > self.max_bytes:
                    _, (_, dropped) = self._items.popitem(last=False)
                    self._total -= dropped
        return value


_CACHE = _LRU(max_bytes=32 * 1024 * 1024)
"""Encoded answers (a 1024² PNG is ~75 KB): repeats of a request are fast. The offline emulator runs in the
user's kernel, so its caches are small: at 256 MB for both, 200 results grew the kernel by 1.07 MB each."""
_CANVASES = _LRU(max_bytes=40 * 1024 * 1024)
"""Decoded pixels (3 MB for 1024², 33 MB for 3840x2160 with alpha): a request's partials and final share one
canvas, so the largest standard canvas must fit."""


def _image_cost(value: object) -> int:
    if isinstance(value, Image.Image):
        return value.width * value.height * len(value.getbands())
    return 64


def _bytes_cost(value: object) -> int:
    return len(value) if isinstance(value, bytes) else 64


# ---------------------------------------------------------------------------------------------- colours


def colors(prompt: str, seed: int = 0) -> tuple[RGB, RGB, RGB]:
    """Three distinct colours hashed from the prompt: gradient start, gradient end, shape."""
    d = hashlib.sha256(f"{seed}\x1f{prompt}".encode()).digest()
    hue = d[0] / 256

    def hsv(h: float, s: float, v: float) -> RGB:
        r, g, b = colorsys.hsv_to_rgb(h % 1.0, s, v)
        return round(r * 255), round(g * 255), round(b * 255)

    return (
        hsv(hue, 0.45 + d[1] / 640, 0.55 + d[2] / 640),
        hsv(hue + 0.30 + d[3] / 1280, 0.50 + d[4] / 640, 0.60 + d[5] / 800),
        hsv(hue + 0.62, 0.85, 0.95),
    )


def _palette(prompt: str, seed: int) -> list[int]:
    c1, c2, c3 = colors(prompt, seed)
    pal: list[int] = []
    for i in range(_RAMP_TOP + 1):
        t = i / _RAMP_TOP
        pal += [round(a + (b - a) * t) for a, b in zip(c1, c2, strict=True)]
    pal += [*c3, 250, 250, 250, 24, 24, 24, 0, 0, 0]
    return pal


_BASE_RAMP = ImageChops.add(
    Image.linear_gradient("L"), Image.linear_gradient("L").transpose(Image.Transpose.ROTATE_90), scale=2.0
)


def _ramp(size: tuple[int, int], index: int) -> Image.Image:
    """A diagonal 0‥251 gradient whose direction depends on the index."""
    ramp = _BASE_RAMP
    if index % 2:
        ramp = ImageOps.mirror(ramp)
    if (index // 2) % 2:
        ramp = ImageOps.flip(ramp)
    ramp = ramp.point([v * _RAMP_TOP // 255 for v in range(256)])
    return ramp.resize(size, Image.Resampling.BILINEAR)


def _shape_box(size: tuple[int, int]) -> tuple[int, int, int, int]:
    w, h = size
    return w // 4, h // 4, w - w // 4 - 1, h - h // 4 - 1


def _generate_canvas(spec: Spec) -> Image.Image:
    """The synthetic picture for a prompt: RGB, or RGBA with alpha 0 outside the ellipse."""
    w, h = spec.size
    pic = _ramp(spec.size, spec.index).convert("P")
    pic.putpalette(_palette(spec.prompt, spec.seed))
    draw = ImageDraw.Draw(pic)
    box = _shape_box(spec.size)
    draw.ellipse(box, outline=_OUTLINE, width=max(1, min(w, h) // 128))
    x0, y0, x1, y1 = box
    dx, dy = (x1 - x0) // 4, (y1 - y0) // 4
    draw.ellipse((x0 + dx, y0 + dy, x1 - dx, y1 - dy), fill=_SHAPE)
    side = max(2, min(w, h) // 32)
    for i in range(min(spec.index + 1, 16)):
        x = side + i * side * 3 // 2
        draw.rectangle((x, side, x + side - 1, 2 * side - 1), fill=_MARKER)
    if not spec.transparent:
        return pic.convert("RGB")
    alpha = Image.new("L", spec.size, 0)
    ImageDraw.Draw(alpha).ellipse(box, fill=255)
    out = pic.convert("RGBA")
    out.putalpha(alpha)
    return out


# ---------------------------------------------------------------------------------------------- edits


def _open(data: bytes) -> Image.Image:
    img = Image.open(io.BytesIO(data))
    img.load()
    return img


def _edit_region(inputs: Inputs, size: tuple[int, int]) -> Image.Image | None:
    """L image, 255 where the edit may change pixels: alpha 0 in the mask, or drawn-on markup pixels."""
    if inputs.mask is not None:
        alpha = _open(inputs.mask).convert("RGBA").getchannel("A")
        region = alpha.point([255 if a == 0 else 0 for a in range(256)])
    elif inputs.markup is not None:
        alpha = _open(inputs.markup).convert("RGBA").getchannel("A")
        region = alpha.point([255 if a > 0 else 0 for a in range(256)])
    else:
        return None
    return region if region.size == size else region.resize(size, Image.Resampling.NEAREST)


def _edit_canvas(spec: Spec, inputs: Inputs) -> Image.Image:
    """First input resized to the output size; the area to edit is inverted and tinted by the prompt's
    colours, and with several inputs the extra ones fill vertical strips of that area's bounding box
    (the first strip stays the inverted first image). Pixels outside the area are left untouched."""
    first = _open(inputs.images[0]).convert("RGBA")
    if first.size != spec.size:
        first = first.resize(spec.size, Image.Resampling.BILINEAR)
    base_rgb, base_alpha = first.convert("RGB"), first.getchannel("A")
    synthetic = _generate_canvas(replace(spec, transparent=True))
    edited = Image.blend(ImageChops.invert(base_rgb), synthetic.convert("RGB"), 0.25)
    region = _edit_region(inputs, spec.size)
    extras = inputs.images[1:]
    box = (0, 0, *spec.size) if region is None else region.getbbox()
    if extras and box:
        x0, y0, x1, y1 = box
        band = max(1, (x1 - x0) // (len(extras) + 1))
        for i, data in enumerate(extras, start=1):
            strip = ImageOps.fit(_open(data).convert("RGB"), (band, y1 - y0), Image.Resampling.BILINEAR)
            edited.paste(strip, (x0 + i * band, y0))
    kept = leaked(base_rgb, spec.prompt, spec.index) if spec.leak and inputs.mask is not None else base_rgb
    out = edited if region is None else Image.composite(edited, kept, region)
    if not spec.transparent:
        return out
    shape_alpha = synthetic.getchannel("A")
    alpha = shape_alpha if region is None else Image.composite(shape_alpha, base_alpha, region)
    out = out.convert("RGBA")
    out.putalpha(alpha)
    return out


def _variation_canvas(spec: Spec, inputs: Inputs) -> Image.Image:
    """Legacy DALL·E 2 variation: the input with its hue shifted (differently for each index)."""
    img = _open(inputs.images[0]).convert("RGB")
    if img.size != spec.size:
        img = img.resize(spec.size, Image.Resampling.BILINEAR)
    hue, sat, val = img.convert("HSV").split()
    shift = (64 + 41 * spec.index + spec.seed) % 256
    hue = hue.point([(v + shift) % 256 for v in range(256)])
    return Image.merge("HSV", (hue, sat, val)).convert("RGB")


def canvas(kind: Kind, spec: Spec, inputs: Inputs | None = None) -> Image.Image:
    """The full-quality picture (cached) before encoding."""
    key = ("canvas", kind, replace(spec, fmt="", compression=None), inputs.key if inputs else None)

    def make() -> Image.Image:
        if kind == "generate":
            return _generate_canvas(spec)
        if inputs is None or not inputs.images:
            raise ValueError(f"{kind} needs at least one input image")
        return _edit_canvas(spec, inputs) if kind == "edit" else _variation_canvas(spec, inputs)

    result = _CANVASES.get_or_make(key, make, _image_cost)
    assert isinstance(result, Image.Image)
    return result


# ---------------------------------------------------------------------------------------------- encoding


def _quality(compression: int | None) -> int:
    return _DEFAULT_QUALITY if compression is None else max(1, min(95, compression))


def _svg(kind: Kind, spec: Spec, img: Image.Image) -> bytes:
    """A small SVG: vector shapes for generations, the edited raster embedded for edits."""
    w, h = spec.size
    c1, c2, c3 = (f"#{r:02x}{g:02x}{b:02x}" for r, g, b in colors(spec.prompt, spec.seed))
    title = html.escape(spec.prompt[:200])
    if kind != "generate":
        png = io.BytesIO()
        img.save(png, "PNG", compress_level=1)
        body = (f'<image width="{w}" height="{h}" href="data:image/png;base64,'
                f'{b64encode(png.getvalue()).decode()}"/>')
    else:
        x0, y0, x1, y1 = _shape_box(spec.size)
        body = (f'<defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="{c1}"/>'
                f'<stop offset="1" stop-color="{c2}"/></linearGradient></defs>'
                f'<rect width="{w}" height="{h}" fill="url(#g)"/>'
                f'<ellipse cx="{(x0 + x1) / 2}" cy="{(y0 + y1) / 2}" rx="{(x1 - x0) / 4}" ry="{(y1 - y0) / 4}" '
                f'fill="{c3}"/>')
    doc = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}">'
           f"<title>{title}</title>{body}</svg>\n")
    return doc.encode()


def _gif(spec: Spec, img: Image.Image) -> bytes:
    """An animated GIF: the picture scrolling sideways over `frame_count` frames."""
    base = img.convert("RGB").quantize(colors=255, method=Image.Quantize.FASTOCTREE)
    count = max(1, spec.frame_count)
    step = max(1, spec.size[0] // count)
    frames = [base] + [ImageChops.offset(base, i * step, 0) for i in range(1, count)]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=spec.frame_duration_ms,
                   loop=0, optimize=False, disposal=1)
    return out.getvalue()


def encode(img: Image.Image, spec: Spec, kind: Kind = "generate") -> bytes:
    """Bytes in the requested format; alpha only for transparent png/webp."""
    out = io.BytesIO()
    fmt = spec.fmt
    if fmt == "png":
        img.save(out, "PNG", compress_level=1)
    elif fmt == "jpeg":
        img.convert("RGB").save(out, "JPEG", quality=_quality(spec.compression))
    elif fmt == "webp":
        img.save(out, "WEBP", quality=_quality(spec.compression), method=0)
    elif fmt == "gif":
        return _gif(spec, img)
    elif fmt == "svg":
        return _svg(kind, spec, img)
    else:
        raise ValueError(f"unsupported output format {fmt!r}")
    return out.getvalue()


def render(kind: Kind, spec: Spec, inputs: Inputs | None = None) -> bytes:
    """The final image bytes for one output index (cached)."""
    key = ("final", kind, spec, inputs.key if inputs else None)
    result = _CACHE.get_or_make(key, lambda: encode(canvas(kind, spec, inputs), spec, kind), _bytes_cost)
    assert isinstance(result, bytes)
    return result


def render_partial(kind: Kind, spec: Spec, inputs: Inputs | None, partial_index: int, count: int) -> bytes:
    """A coarser, blurrier preview of the final image: partial 0 is the roughest."""
    key = ("partial", kind, spec, inputs.key if inputs else None, partial_index, count)

    def make() -> bytes:
        img = canvas(kind, spec, inputs)
        factor = 2 ** max(1, count - partial_index + 2)
        w, h = img.size
        small = img.resize((max(1, w // factor), max(1, h // factor)), Image.Resampling.BOX)
        preview = small.resize((w, h), Image.Resampling.BILINEAR)
        return encode(preview, spec, kind)

    result = _CACHE.get_or_make(key, make, _bytes_cost)
    assert isinstance(result, bytes)
    return result


def render_all(kind: Kind, specs: Sequence[Spec], inputs: Inputs | None = None) -> list[bytes]:
    """Final images for several indices."""
    return [render(kind, spec, inputs) for spec in specs]
