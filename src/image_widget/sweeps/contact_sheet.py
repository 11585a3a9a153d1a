"""A labelled grid of thumbnails (PIL), for sweeps and comparisons — no plotting library needed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL.Image import Image

PAD = 8
BACKGROUND = (255, 255, 255)
INK = (30, 30, 30)
FAILED = (200, 40, 40)


def _fit(text: str, width_px: int, char_px: int = 6) -> str:
    limit = max(4, width_px // char_px)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def font_px(thumb: int) -> int:
    """Label size for a tile size: about 1/16 of the tile (16 px at 256), never under 11 px, so labels
    stay readable when a sheet of big tiles is shown at full size (issue 23)."""
    return max(11, round(thumb / 16))


def contact_sheet(tiles: Sequence[Sequence[Sequence[Image] | str]], row_labels: Sequence[str],
                  col_labels: Sequence[str], *, thumb: int = 256, title: str = "") -> Image:
    """Draw `tiles[row][col]` (a list of images, or an error string) with labels on both axes."""
    from PIL import Image as PILImage
    from PIL import ImageDraw, ImageFont

    size = font_px(thumb)
    font = ImageFont.load_default(size=size)
    char_px = max(6, round(size * 0.6))
    label_h = size + 10
    per_cell = max((len(t) for row in tiles for t in row if not isinstance(t, str)), default=1)
    cell_w = per_cell * thumb + (per_cell - 1) * 2
    label_w = (min(220 * size // 11, max((len(r) for r in row_labels), default=0) * char_px + PAD)
               if any(row_labels) else 0)
    top = label_h * (2 if title else 1)
    width = label_w + len(col_labels) * (cell_w + PAD) + PAD
    height = top + len(tiles) * (thumb + PAD) + PAD
    sheet = PILImage.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(sheet)
    if title:
        draw.text((PAD, 4), _fit(title, width - 2 * PAD, char_px), fill=INK, font=font)
    for c, label in enumerate(col_labels):
        draw.text((label_w + PAD + c * (cell_w + PAD), top - label_h + 4), _fit(label, cell_w, char_px), fill=INK,
                  font=font)
    for r, row in enumerate(tiles):
        y = top + r * (thumb + PAD)
        if row_labels[r]:
            draw.text((PAD, y + thumb // 2 - size // 2), _fit(row_labels[r], label_w - PAD, char_px), fill=INK,
                      font=font)
        for c, cell in enumerate(row):
            x = label_w + PAD + c * (cell_w + PAD)
            if isinstance(cell, str):
                draw.rectangle((x, y, x + thumb - 1, y + thumb - 1), outline=FAILED)
                draw.text((x + 6, y + thumb // 2 - size // 2), _fit(cell, thumb - 12, char_px), fill=FAILED, font=font)
                continue
            for i, image in enumerate(cell):
                small = image.convert("RGB")
                small.thumbnail((thumb, thumb))
                sheet.paste(small, (x + i * (thumb + 2), y))
    return sheet
