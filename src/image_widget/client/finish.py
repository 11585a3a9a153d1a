"""What happens to each returned image of an edit that must line up with its input, before it is saved.

The API's image is kept as it came (`Store.save_raw`, on disk first: it was paid for), then brought to
the input's geometry — resized back from `size="match"`, pasted into the detail box, or laid onto the
expanded canvas — and, where there is a mask, composited so the unmasked pixels stay the original's
(`images.composite.hold`). The composite is saved as PNG: a lossy format would change held pixels.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PIL import Image

from image_widget.images import ImageInputError, composite, decode_image
from image_widget.images.geometry import Box, Sides

if TYPE_CHECKING:
    from image_widget.store import Store

COMPOSITE_FORMAT = "png"


@dataclass(frozen=True, eq=False)
class Finish:
    """How to bring the API's image back to the input: where it goes in `base` and what is held.

    `base` is the original (or the expanded canvas with the original in it); `box` is where the API's
    image lands in it; `edit` (L, 255 = edit, the box's size) is the area the result may change, grown
    by `feather` — None pastes the whole box (`keep_unmasked=False`).
    """

    base: Image.Image
    box: Box
    edit: Image.Image | None
    feather: int
    keep_unmasked: bool
    masked: bool
    """Whether a mask was involved (an expand's new area counts): the record then says `composite`."""
    detail_box: Box | None = None
    expand: Sides | None = None

    def apply(self, raw: Image.Image) -> Image.Image:
        """The API's image at the input's geometry, with the unmasked pixels held."""
        x0, y0, x1, y1 = self.box
        if self.edit is None:
            fitted = composite.fit(raw, (x1 - x0, y1 - y0))
            if self.box == (0, 0, *self.base.size):
                return fitted
            return composite.hold(self.base, fitted, None, self.feather, at=(x0, y0))
        out = composite.hold(self.base, raw, self.edit, self.feather, at=(x0, y0))
        if out.mode == "RGBA" and "A" not in raw.getbands() and self.base_opaque():
            alpha = out.getchannel("A").getextrema()
            if alpha[0] == 255:
                return out.convert("RGB")
        return out

    def preview(self, partial: Image.Image) -> Image.Image:
        """A streamed preview brought to the input like the result; as it came if that fails (it is only
        a preview: the final image's own finish reports any problem)."""
        try:
            return self.apply(partial)
        except (OSError, ValueError):
            return partial

    def base_opaque(self) -> bool:
        """Whether the original itself had no transparency (an expanded canvas is transparent around it)."""
        if self.expand is None:
            return "A" not in self.base.getbands()
        inner = self.base.crop((self.expand.left, self.expand.top, self.base.width - self.expand.right,
                                self.base.height - self.expand.bottom))
        return "A" not in inner.getbands() or inner.getchannel("A").getextrema()[0] == 255

    def fields(self) -> dict[str, Any]:
        """The record's `composite`, `detail_box` and `expand` for this finish."""
        return {
            "composite": {"feather": self.feather, "keep_unmasked": self.keep_unmasked} if self.masked else None,
            "detail_box": list(self.detail_box) if self.detail_box is not None else None,
            "expand": self.expand.as_dict() if self.expand is not None else None,
        }

    def cache_part(self) -> dict[str, Any]:
        """What distinguishes this finish in the cache key (two feathers are two results)."""
        return {**self.fields(), "size": list(self.base.size), "box": list(self.box)}


def finish_and_save(finish: Finish, disk: Store, data: bytes, fmt: str,
                    record: dict[str, Any]) -> tuple[Path, Image.Image | ImageInputError]:
    """Keep the raw image, then save the finished one with a record linking it; (path, finished image).

    If finishing fails, the raw image is saved as the result (with a note saying why): nothing paid
    for is lost, and the run still completes. An image that cannot even be decoded is saved so too,
    with its record, and its error comes back in place of the image (reported as a problem, as on the
    plain path).
    """
    raw_path = disk.save_raw(data)
    record["raw_path"] = str(raw_path)
    try:
        raw = decode_image(data)
    except ImageInputError as exc:
        _add_note(record, f"the API's image could not be decoded ({exc}); saved as it came")
        return disk.save(data, fmt, record), exc
    try:
        final = finish.apply(raw)
    except (OSError, ValueError) as exc:
        _add_note(record, f"could not composite the result ({exc}); saved the API's image as it came")
        return disk.save(data, fmt, record), raw
    buffer = io.BytesIO()
    final.save(buffer, "PNG", compress_level=1)
    return disk.save(buffer.getvalue(), COMPOSITE_FORMAT, record), final


def _add_note(record: dict[str, Any], note: str) -> None:
    record["note"] = f"{record['note']}; {note}" if record.get("note") else note
