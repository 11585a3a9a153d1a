"""Make the README's "Edits that hold" figures with the offline emulator: docs/img/held.png and
docs/img/expand.png.

    python scripts/edit_figures.py

held.png: a picture, the painted mask, the edit, and two maps of which pixels changed (brightened
×40 so a change of a few levels shows): the API's own image, which — like the real models — changed
pixels all over, and the saved result, which changed only the masked area and its feather.
expand.png: a square picture and the same picture expanded to 16:9 (`iw.expand`), the original's
place outlined. The emulator's images are synthetic (gradients and shapes), not photographs.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from PIL import Image, ImageChops, ImageDraw, ImageOps

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import image_widget as iw  # noqa: E402
from image_widget.emulator import Emulator  # noqa: E402

OUT = ROOT / "docs" / "img"
PANEL = 240
LABEL_H = 22


def _panel(img: Image.Image, label: str) -> Image.Image:
    """`img` scaled to PANEL wide with a caption above it."""
    scaled = ImageOps.contain(img.convert("RGB"), (PANEL, PANEL * 2))
    out = Image.new("RGB", (PANEL, scaled.height + LABEL_H), (255, 255, 255))
    out.paste(scaled, (0, LABEL_H))
    ImageDraw.Draw(out).text((4, 5), label, fill=(20, 20, 20))
    return out


def _row(panels: list[Image.Image], gap: int = 8) -> Image.Image:
    height = max(p.height for p in panels)
    out = Image.new("RGB", (sum(p.width for p in panels) + gap * (len(panels) - 1), height), (255, 255, 255))
    x = 0
    for panel in panels:
        out.paste(panel, (x, 0))
        x += panel.width + gap
    return out


def _changed(after: Image.Image, before: Image.Image) -> Image.Image:
    """Which pixels differ, brightened ×40 (a change of 5 levels shows as mid grey)."""
    diff = ImageChops.difference(after.convert("RGB"), before.convert("RGB")).convert("L")
    return diff.point(lambda v: min(255, v * 40))


def held_figure(opts: dict[str, object]) -> Image.Image:
    photo = iw.generate("a lighthouse on a cliff at dusk", size="1536x1024", quality="low", **opts).images[0]
    mask = Image.new("L", photo.size, 0)
    ImageDraw.Draw(mask).ellipse((620, 330, 980, 690), fill=255)  # white = edit
    result = iw.edit(photo, "a full moon", mask=mask, **opts)
    raw = Image.open(result.record["raw_path"]).convert("RGB").resize(photo.size)
    overlay = Image.composite(Image.new("RGB", photo.size, (220, 40, 160)), photo.convert("RGB"),
                              mask.point(lambda v: v // 2))
    return _row([_panel(photo, "picture"), _panel(overlay, "painted mask"), _panel(result.images[0], "result"),
                 _panel(_changed(raw, photo), "changed: API's own image"),
                 _panel(_changed(result.images[0], photo), "changed: saved result")])


def expand_figure(opts: dict[str, object]) -> Image.Image:
    square = iw.generate("a hot air balloon over fields", size="1024x1024", quality="low", **opts).images[0]
    wide = iw.expand(square, "more sky and fields", aspect="16:9", **opts)
    shown = wide.images[0].convert("RGB")
    left, top = wide.record["expand"]["left"], wide.record["expand"]["top"]
    ImageDraw.Draw(shown).rectangle((left, top, left + square.width - 1, top + square.height - 1),
                                    outline=(255, 255, 255), width=4)
    small = _panel(square, "picture (1024x1024)")
    big = ImageOps.contain(shown, (PANEL * 3, PANEL * 2))
    framed = Image.new("RGB", (big.width, big.height + LABEL_H), (255, 255, 255))
    framed.paste(big, (0, LABEL_H))
    ImageDraw.Draw(framed).text((4, 5), f"iw.expand(aspect='16:9') -> {shown.width}x{shown.height}, "
                                        "original outlined", fill=(20, 20, 20))
    return _row([small, framed])


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with Emulator() as emulator, tempfile.TemporaryDirectory() as folder:
        opts: dict[str, object] = {"base_url": emulator.url, "api_key": "sk-figures", "store": folder}
        for name, make in (("held.png", held_figure), ("expand.png", expand_figure)):
            path = OUT / name
            make(opts).save(path, optimize=True)
            print(f"wrote {path} ({path.stat().st_size // 1024} KB)")


if __name__ == "__main__":
    main()
