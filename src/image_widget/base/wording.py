"""Words for people: how the widget names options, formats and lists of choices.

Python errors keep their exact, code-like text (tests and scripts match it); a `Problem` or an
`ImageInputError` can also carry a sentence in the words of the widget's controls, built with these.
"""

from __future__ import annotations

from collections.abc import Sequence

#: The label each option has in the widget (docs/PROTOCOL.md `options`).
LABELS = {
    "prompt": "Prompt", "mode": "Mode", "model": "Model", "size": "Size", "quality": "Quality",
    "n": "Images (n)", "background": "Background", "output_format": "Format",
    "output_compression": "Compression", "moderation": "Moderation", "input_fidelity": "Input fidelity",
    "partial_images": "Partial previews", "image": "Input images", "mask": "Mask",
}
FORMAT_NAMES = {"png": "PNG", "jpeg": "JPEG", "jpg": "JPEG", "webp": "WebP", "gif": "GIF", "svg": "SVG",
                "pdf": "PDF", "bmp": "BMP", "tiff": "TIFF"}
MODE_NAMES = {"generate": "Generate", "edit": "Edit", "variation": "Variation"}


def label(param: str) -> str:
    return LABELS.get(param, param)


def fmt_name(fmt: object) -> str:
    """`png` → `PNG`; anything unknown as it is."""
    return FORMAT_NAMES.get(str(fmt).lower(), str(fmt))


def either(items: Sequence[str]) -> str:
    """`a`, `a or b`, `a, b or c`."""
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} or {items[-1]}"


def formats_text(formats: Sequence[str]) -> str:
    """`["webp", "png", "jpeg"]` → `PNG, JPEG or WebP`: each name once, in the order of `FORMAT_NAMES`."""
    order = list(FORMAT_NAMES)
    ranked = sorted(formats, key=lambda f: order.index(f.lower()) if f.lower() in order else len(order))
    return either(list(dict.fromkeys(fmt_name(f) for f in ranked)))


def images_text(n: int) -> str:
    return f"{n} image{'' if n == 1 else 's'}"


def value_text(param: str, value: object) -> str:
    """How a value shows in the widget: formats by name, everything else as it is."""
    return fmt_name(value) if param == "output_format" else str(value)
