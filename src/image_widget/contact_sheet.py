"""A labelled grid of thumbnails (PIL), for sweeps and comparisons — no plotting library needed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL.Image import Image

PAD = 8
LABEL_H = 22
BACKGROUND = (255, 255, 255)
INK = (30, 30, 30)
FAILED = (200, 40, 40)


def _fit(text: str, width_px: int, char_px: int = 6) -> str:
    limit = max(4, width_px // char_px)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def contact_sheet(tiles: Sequence[Sequence[Sequence[Image] | str]], row_labels: Sequence[str],
                  col_labels: Sequence[str], *, thumb: int = 256, title: str = "") -> Image:
    """Draw `tiles[row][col]` (a list of images, or an error string) with labels on both axes."""
    from PIL import Image as PILImage
    from PIL import ImageDraw

    per_cell = max((len(t) for row in tiles for t in row if not isinstance(t, str)), default=1)
    cell_w = per_cell * thumb + (per_cell - 1) * 2
    label_w = min(220, max((len(r) for r in row_labels), default=0) * 7 + PAD) if any(row_labels) else 0
    top = LABEL_H * (2 if title else 1)
    width = label_w + len(col_labels) * (cell_w + PAD) + PAD
    height = top + len(tiles) * (thumb + PAD) + PAD
    sheet = PILImage.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(sheet)
    if title:
        draw.text((PAD, 4), _fit(title, width - 2 * PAD), fill=INK)
    for c, label in enumerate(col_labels):
        draw.text((label_w + PAD + c * (cell_w + PAD), top - LABEL_H + 4), _fit(label, cell_w), fill=INK)
    for r, row in enumerate(tiles):
        y = top + r * (thumb + PAD)
        if row_labels[r]:
            draw.text((PAD, y + thumb // 2 - 6), _fit(row_labels[r], label_w - PAD), fill=INK)
        for c, cell in enumerate(row):
            x = label_w + PAD + c * (cell_w + PAD)
            if isinstance(cell, str):
                draw.rectangle((x, y, x + thumb - 1, y + thumb - 1), outline=FAILED)
                draw.text((x + 6, y + thumb // 2 - 6), _fit(cell, thumb - 12), fill=FAILED)
                continue
            for i, image in enumerate(cell):
                small = image.convert("RGB")
                small.thumbnail((thumb, thumb))
                sheet.paste(small, (x + i * (thumb + 2), y))
    return sheet
