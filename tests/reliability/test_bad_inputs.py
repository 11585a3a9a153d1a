"""Bad inputs through the public functions: each is refused before anything is sent, with an error that
names the parameter — or converted by a documented rule, with an `ImageInputWarning` that says what was
done, and the converted bytes are what was uploaded.

"Sent" is read from the emulator's log, "uploaded" from the store's `inputs/` copy of each upload
(matched to the log by sha256). The module ends with
`bad inputs: N tried, N handled (R refused before sending, C converted safely), 0 requests sent for refused inputs`.
"""

from __future__ import annotations

import re
import warnings
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

import image_widget as iw
from image_widget.emulator import Emulator
from image_widget.facts.capabilities import ValidationError
from image_widget.images import ImageInputError, ImageInputWarning
from image_widget.store import Store
from support.figures import broken, figure_fixture
from support.images import decode, encode, mask_png, photo, png

KEY = "sk-test-inputs-0123456789abcdef"
MODEL, SIZE = "gpt-image-2", "256x256"

bad_inputs = figure_fixture(
    "bad_inputs",
    lambda c: (f"bad inputs: {c['tried']} tried, {c['handled']} handled ({c['refused']} refused before sending, "
               f"{c['converted']} converted safely), {c['sent_for_refused']} requests sent for refused inputs"),
    lambda c: broken(c, sent_for_refused="requests sent for refused inputs")
    + ([f"only {c['handled']} of {c['tried']} handled"] if c["handled"] != c["tried"] else []),
)

# ------------------------------------------------------------------------------------------- inputs


def zero_byte_file(tmp: Path) -> Path:
    path = tmp / "empty.png"
    path.write_bytes(b"")
    return path


def corrupt_png() -> bytes:
    good = png()
    return good[:40] + bytes(range(256)) * 4  # a real signature and header, then garbage


def truncated_jpeg() -> bytes:
    data = encode(photo(), "JPEG")
    return data[: len(data) // 2]


SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><rect width="9"/></svg>'
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def cmyk_jpeg() -> bytes:
    img = Image.new("CMYK", (64, 64), (0, 0, 0, 255))  # black …
    img.paste((0, 0, 0, 0), (0, 0, 32, 32))  # … with a white (= edit, as a mask) square
    return encode(img, "JPEG")


def png_16bit() -> bytes:
    values = np.linspace(0, 65535, 64 * 64).reshape(64, 64).astype(np.uint16)
    data = encode(Image.fromarray(values), "PNG")
    assert decode(data).mode == "I;16"
    return data


def palette_png_with_transparency() -> bytes:
    img = Image.new("P", (64, 64), 0)
    img.putpalette([255, 0, 0, 0, 255, 0] + [0] * 762)
    img.paste(1, (0, 0, 32, 32))  # palette entry 1 is transparent
    return encode(img, "PNG", transparency=1)


def animated_gif() -> bytes:
    frames = [Image.new("RGB", (64, 64), colour) for colour in ("red", "lime", "blue")]
    return encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)


def exif_rotated_jpeg() -> bytes:
    """Stored 64 wide x 32 high, EXIF orientation 6: a viewer shows it 32 wide x 64 high."""
    exif = Image.Exif()
    exif[0x0112] = 6
    return encode(photo((64, 32)), "JPEG", exif=exif.tobytes())


def huge_image() -> Image.Image:
    return Image.new("L", (10000, 10000), 128)


def huge_mask_png() -> bytes:
    mask = Image.new("1", (10000, 10000), 0)
    mask.paste(1, (0, 0, 5000, 5000))  # white (= edit) top-left quarter
    return encode(mask, "PNG")


# ------------------------------------------------------------------------------------------- cases

Call = Callable[[Path, dict[str, Any]], Any]


def gen(prompt: Any = "a watercolor fox", **options: Any) -> Call:
    return lambda _tmp, opts: iw.generate(prompt, **{**opts, **options})


def edit(image: Callable[[Path], Any] | None = None, *, mask: Callable[[Path], Any] | None = None,
         prompt: Any = "add a red scarf", **options: Any) -> Call:
    def run(tmp: Path, opts: dict[str, Any]) -> Any:
        source = image(tmp) if image is not None else png()
        if mask is not None:
            options["mask"] = mask(tmp)
        return iw.edit(source, prompt, **{**opts, **options})
    return run


def vary(model: str) -> Call:
    return lambda _tmp, opts: iw.vary(png(), **{**opts, "model": model})


def image_is(mode: str, size: tuple[int, int], fmt: str) -> Callable[[bytes], None]:
    def check(data: bytes) -> None:
        img = decode(data)
        assert (img.mode, img.size, img.format) == (mode, size, fmt.upper())
    return check


def mask_is(size: tuple[int, int], edit_box: tuple[int, int, int, int]) -> Callable[[bytes], None]:
    """An RGBA PNG of `size` whose alpha is 0 exactly inside `edit_box` and 255 elsewhere."""
    def check(data: bytes) -> None:
        img = decode(data)
        assert (img.mode, img.size, img.format) == ("RGBA", size, "PNG")
        expected = decode(mask_png(size, edit_box)).getchannel("A")
        assert np.array_equal(np.asarray(img.getchannel("A")), np.asarray(expected))
    return check


def first_frame_red(data: bytes) -> None:
    img = decode(data)
    assert (img.format, img.size, getattr(img, "n_frames", 1)) == ("PNG", (64, 64), 1)
    assert img.convert("RGB").getpixel((10, 10)) == (255, 0, 0)


def unchanged(original: Callable[[], bytes]) -> Callable[[bytes], None]:
    def check(data: bytes) -> None:
        assert data == original()
    return check


@dataclass(frozen=True)
class Bad:
    """One bad input: refused (`error`), or converted (`error=None`, `check` inspects the upload)."""

    id: str
    call: Call
    param: str  # the parameter the message must name
    phrase: str  # part of the error message, or of the warning ("" = a silent, documented conversion)
    error: type[Exception] | None = ValidationError
    check: Callable[[bytes], None] | None = None
    upload: str = "image"  # the upload `check` inspects


CASES: list[Bad] = [
    # -- files given as the image to edit
    Bad("image-empty-list", edit(lambda t: []), "image", "no input images", ImageInputError),
    Bad("image-zero-byte-file", edit(zero_byte_file), "image", "is empty (0 bytes)", ImageInputError),
    Bad("image-zero-byte-bytes", edit(lambda t: b""), "image", "is empty (0 bytes)", ImageInputError),
    Bad("image-corrupt-png", edit(lambda t: corrupt_png()), "image", "cannot be decoded", ImageInputError),
    Bad("image-truncated-jpeg", edit(lambda t: truncated_jpeg()), "image", "truncated or corrupt", ImageInputError),
    Bad("image-not-an-image", edit(lambda t: b"hello, world"), "image", "not a recognised image", ImageInputError),
    Bad("image-missing-file", edit(lambda t: t / "nope.png"), "image", "file not found", ImageInputError),
    Bad("image-a-folder", edit(lambda t: t), "image", "is a folder", ImageInputError),
    Bad("image-a-url", edit(lambda t: "https://example.com/cat.png"), "image", "could not be downloaded",
        ImageInputError),  # a URL is a reference now (issue 19): read once for the checks, here unreachable
    Bad("image-wrong-type", edit(lambda t: 42), "image", "is a int", ImageInputError),
    Bad("image-svg", edit(lambda t: SVG), "image", "SVG (vector) image", ImageInputError),
    Bad("image-pdf", edit(lambda t: PDF), "image", "is a PDF", ImageInputError),
    Bad("image-17-inputs", edit(lambda t: [png((16, 16))] * 17), "image", "at most 16", ImageInputError),
    Bad("image-array-5-channels", edit(lambda t: np.zeros((8, 8, 5), np.uint8)), "image", "shape (8, 8, 5)",
        ImageInputError),
    Bad("image-array-nan", edit(lambda t: np.full((8, 8), np.nan)), "image", "NaN", ImageInputError),
    Bad("image-second-corrupt", edit(lambda t: [png(), b"\x89PNG\r\n\x1a\nbroken"]), "image[1]",
        "cannot be decoded", ImageInputError),
    # -- images converted by a documented rule, with a warning
    Bad("image-10000x10000", edit(lambda t: huge_image()), "image", "downscaled 10000x10000", None,
        image_is("L", (4096, 4096), "png")),
    Bad("image-cmyk-jpeg", edit(lambda t: cmyk_jpeg()), "image", "CMYK converted to RGB", None,
        image_is("RGB", (64, 64), "jpeg")),
    Bad("image-16-bit-png", edit(lambda t: png_16bit()), "image", "I;16 greyscale scaled to 8-bit", None,
        image_is("L", (64, 64), "png")),
    Bad("image-palette-png-with-transparency", edit(lambda t: palette_png_with_transparency()), "image",
        "has transparent pixels, which the API treats as a mask", None, unchanged(palette_png_with_transparency)),
    Bad("image-animated-gif", edit(lambda t: animated_gif()), "image", "only the first frame is used", None,
        first_frame_red),
    Bad("image-exif-rotated-jpeg", edit(lambda t: exif_rotated_jpeg()), "image", "EXIF orientation 6 applied",
        None, image_is("RGB", (32, 64), "jpeg")),
    # -- masks
    Bad("mask-nothing-to-edit", edit(mask=lambda t: Image.new("L", (64, 64), 0)), "mask", "marks nothing to edit",
        ImageInputError),
    Bad("mask-fully-opaque-rgba", edit(mask=lambda t: Image.new("RGBA", (64, 64), (0, 0, 0, 255))), "mask",
        "no pixel is transparent", ImageInputError),
    Bad("mask-svg", edit(mask=lambda t: SVG), "mask", "SVG (vector) image", ImageInputError),
    Bad("mask-pdf", edit(mask=lambda t: PDF), "mask", "is a PDF", ImageInputError),
    Bad("mask-corrupt", edit(mask=lambda t: corrupt_png()), "mask", "cannot be decoded", ImageInputError),
    Bad("mask-zero-byte", edit(mask=lambda t: b""), "mask", "is empty (0 bytes)", ImageInputError),
    Bad("mask-array-5-channels", edit(mask=lambda t: np.ones((8, 8, 5), np.uint8)), "mask", "shape (8, 8, 5)",
        ImageInputError),
    Bad("mask-wrong-type", edit(mask=lambda t: 3.5), "mask", "is a float", ImageInputError),
    Bad("mask-wrong-size", edit(mask=lambda t: np.pad(np.ones((16, 16), bool), ((0, 16), (0, 16)))), "mask",
        "32x32 scaled (same shape) to 64x64", None, mask_is((64, 64), (0, 0, 32, 32)), "mask"),
    Bad("mask-10000x10000-png", edit(mask=lambda t: huge_mask_png()), "mask",
        "10000x10000 scaled (same shape) to 64x64", None, mask_is((64, 64), (0, 0, 32, 32)), "mask"),
    Bad("mask-cmyk-jpeg", edit(mask=lambda t: cmyk_jpeg()), "mask", "CMYK converted to RGB", None,
        mask_is((64, 64), (0, 0, 32, 32)), "mask"),
    Bad("mask-16-bit-png", edit(mask=lambda t: png_16bit()), "mask", "I;16 greyscale scaled to 8-bit", None,
        mask_is((64, 64), (0, 32, 64, 64)), "mask"),  # the ramp's brighter half is white = edit
    Bad("mask-jpeg-not-png", edit(mask=lambda t: encode(Image.new("L", (64, 64), 255), "JPEG")), "mask", "",
        None, mask_is((64, 64), (0, 0, 64, 64)), "mask"),
    Bad("mask-palette-png-with-transparency", edit(mask=lambda t: palette_png_with_transparency()), "mask", "",
        None, mask_is((64, 64), (0, 0, 32, 32)), "mask"),
    # -- prompts
    Bad("prompt-empty", gen(""), "prompt", "prompt is empty"),
    Bad("prompt-whitespace-only", gen(" \n\t\u3000 "), "prompt", "prompt is empty"),
    Bad("prompt-over-long", gen("a" * 32_001), "prompt", "at most 32,000"),
    Bad("prompt-nul", gen("a cat\x00 in a hat"), "prompt", "NUL character"),
    Bad("prompt-none", gen(None), "prompt", "prompt is required"),
    Bad("prompt-not-text", gen(42), "prompt", "must be text"),
    Bad("prompt-empty-edit", edit(prompt="   "), "prompt", "prompt is empty"),
    Bad("prompt-nul-edit", edit(prompt="\x00"), "prompt", "NUL character"),
    # -- n
    Bad("n-0", gen(n=0), "n", "n=0 is out of range"),
    Bad("n-11", gen(n=11), "n", "n=11 is out of range"),
    Bad("n-string-3", gen(n="3"), "n", "must be a whole number"),
    Bad("n-2.5", gen(n=2.5), "n", "must be a whole number"),
    Bad("n-true", gen(n=True), "n", "must be a whole number"),
    Bad("n-negative", gen(n=-1), "n", "out of range"),
    Bad("n-2-with-svg", gen(n=2, output_format="svg"), "n", "allowed: 1 to 1"),
    # -- sizes
    Bad("size-no-height", gen(size="1024"), "size", "size='1024' is not allowed"),
    Bad("size-trailing-x", gen(size="1024x"), "size", "size='1024x' is not allowed"),
    Bad("size-capital-x", gen(size="1024X1024", model="gpt-image-1.5"), "size", "allowed: auto, 1024x1024"),
    Bad("size-leading-space", gen(size=" 1024x1024"), "size", "is not allowed"),
    Bad("size-zero", gen(size="0x0"), "size", "size='0x0' is not allowed"),
    Bad("size-negative", gen(size="-1024x1024"), "size", "is not allowed"),
    Bad("size-int", gen(size=1024), "size", "must be a string"),
    Bad("size-tuple", gen(size=(1024, 1024)), "size", "must be a string"),
    Bad("size-not-offered", gen(size="1000x1000", model="gpt-image-1.5"), "size", "allowed: auto, 1024x1024"),
    Bad("size-not-multiple-of-16", gen(size="1024x1000"), "size", "divisible by 16"),
    Bad("size-aspect-over-3", gen(size="3840x1024"), "size", "aspect ratio"),
    Bad("size-too-large", gen(size="4096x4096"), "size", "not allowed for model gpt-image-2"),
    # -- options the chosen model lacks
    Bad("input-fidelity-on-gpt-image-2", edit(input_fidelity="high"), "input_fidelity", "not supported"),
    Bad("markup-on-gpt-image-1.5", edit(markup=png(), model="gpt-image-1.5"), "markup", "markup is not supported"),
    Bad("moderation-on-edit", edit(moderation="low"), "moderation", "not a parameter of the edit endpoint"),
    Bad("quality-xhigh-on-gpt-image-1.5", gen(model="gpt-image-1.5", quality="xhigh"), "quality",
        "quality='xhigh' is not allowed"),
    Bad("transparent-jpeg", gen(background="transparent", output_format="jpeg"), "background", "png or webp"),
    Bad("compression-with-png", gen(output_compression=50), "output_compression", "webp or jpeg"),
    Bad("partial-images-4", gen(partial_images=4), "partial_images", "partial_images=4 is out of range"),
    Bad("style-legacy-param", gen(style="vivid"), "style", "legacy DALL·E parameter"),
    Bad("unknown-option", gen(colour="red"), "colour", "not a parameter of the generate endpoint"),
    # -- retired or unusable models
    Bad("retired-gpt-image-1", gen(model="gpt-image-1"), "model", "gpt-image-2.5-sunburst or gpt-image-2.5-flare"),
    Bad("retired-dall-e-3", gen(model="dall-e-3"), "model", "is retired"),
    Bad("retired-dall-e-2-vary", vary("dall-e-2"), "model", "is retired"),
    Bad("model-empty-name", gen(model=" "), "model", "must be a model name"),
]


def test_the_table_is_broad() -> None:
    """At least 40 inputs, every kind the issue lists, and no id twice."""
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids))
    assert len(CASES) >= 40
    for kind in ("image-zero-byte", "image-corrupt", "image-10000x10000", "image-cmyk-jpeg", "image-16-bit-png",
                 "image-palette", "image-animated-gif", "image-exif", "image-svg", "image-pdf", "mask-wrong-size",
                 "mask-cmyk", "mask-jpeg", "prompt-empty", "prompt-whitespace", "prompt-over-long", "prompt-nul",
                 "n-0", "n-11", "n-string-3", "size-", "input-fidelity", "retired-"):
        assert any(i.startswith(kind) for i in ids), kind


def images_requests(emulator: Emulator) -> list[Any]:
    return [entry for entry in emulator.log if entry.endpoint is not None]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(case: Bad, emulator: Emulator, tmp_path: Path, bad_inputs: Counter[str]) -> None:
    bad_inputs["tried"] += 1
    opts = {"base_url": emulator.url, "api_key": KEY, "store": tmp_path / "out", "model": MODEL}
    if case.id.startswith(("image-", "mask-")):
        opts["size"] = SIZE
    if case.error is not None:
        with pytest.raises((ValidationError, ImageInputError, TypeError)) as info:
            case.call(tmp_path, opts)
        error = info.value
        assert isinstance(error, case.error), f"{type(error).__name__}: {error}"
        message = str(error)
        assert case.param in message, f"the message does not name {case.param!r}: {message}"
        assert case.phrase in message
        if isinstance(error, ValidationError):
            assert case.param in error.params
        sent = len(images_requests(emulator))
        bad_inputs["sent_for_refused"] += sent
        assert sent == 0, "a refused input reached the server"
        assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
        bad_inputs["refused"] += 1
    else:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = case.call(tmp_path, opts)
        said = [str(w.message) for w in caught if issubclass(w.category, ImageInputWarning)]
        if case.phrase:
            assert any(re.search(rf"^{re.escape(case.param)}: .*{re.escape(case.phrase)}", s) for s in said), said
        else:
            assert said == [], "this conversion is silent by design (see images.prepare_mask)"
        (sent,) = images_requests(emulator)
        assert sent.status == 200
        logged = sent.params[case.upload]
        logged = logged[0] if isinstance(logged, list) else logged
        uploaded = Store(tmp_path / "out").load_input(logged["sha256"])  # the bytes that were sent
        assert case.check is not None
        case.check(uploaded)
        assert len(result.images) == 1
        bad_inputs["converted"] += 1
    bad_inputs["handled"] += 1
