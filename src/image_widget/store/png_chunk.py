"""The record inside the PNG itself: an iTXt text chunk `image_widget`, written and read without Pillow.

A PNG saved with its record survives being copied away from its sidecar, and the folder scan recovers
PNGs whose sidecar was never written (process killed between the two writes) from this chunk.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterator
from typing import Any

CHUNK_KEY = "image_widget"
"""Keyword of the PNG text chunk that holds the record."""

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _png_chunks(data: bytes) -> Iterator[tuple[int, bytes, int, int]]:
    """(offset, type, data start, data end) of each chunk; stops at IEND or at damage."""
    if not data.startswith(_PNG_SIGNATURE):
        return
    pos = len(_PNG_SIGNATURE)
    while pos + 12 <= len(data):
        length = int.from_bytes(data[pos:pos + 4], "big")
        ctype = data[pos + 4:pos + 8]
        end = pos + 8 + length
        if end + 4 > len(data):
            return
        yield pos, ctype, pos + 8, end
        if ctype == b"IEND":
            return
        pos = end + 4


def png_with_record(data: bytes, text: str) -> bytes | None:
    """`data` with an iTXt chunk holding `text` inserted before the first IDAT; None if not a sound PNG.

    No re-encoding: every other byte, pixels included, stays as received. Before the pixel data, so
    `Image.open(path).text` shows the record without decoding the image.
    """
    body = CHUNK_KEY.encode("latin-1") + b"\x00" + b"\x00\x00" + b"\x00" + b"\x00" + text.encode("utf-8")
    for pos, ctype, _start, _end in _png_chunks(data):
        if ctype in (b"IDAT", b"IEND"):
            chunk = (len(body).to_bytes(4, "big") + b"iTXt" + body
                     + zlib.crc32(b"iTXt" + body).to_bytes(4, "big"))
            return data[:pos] + chunk + data[pos:]
    return None


def read_png_record(data: bytes) -> dict[str, Any] | None:
    """The record stored in a PNG's `image_widget` text chunk (iTXt or tEXt), or None."""
    found: dict[str, Any] | None = None
    for _pos, ctype, start, end in _png_chunks(data):
        if ctype not in (b"iTXt", b"tEXt"):
            continue
        body = data[start:end]
        key, sep, rest = body.partition(b"\x00")
        if not sep or key != CHUNK_KEY.encode("latin-1"):
            continue
        try:
            if ctype == b"tEXt":
                text = rest.decode("latin-1")
            else:
                compressed, rest = rest[0], rest[2:]
                _lang, _, rest = rest.partition(b"\x00")
                _translated, _, raw = rest.partition(b"\x00")
                text = (zlib.decompress(raw) if compressed else raw).decode("utf-8")
            value = json.loads(text)
        except (ValueError, IndexError, zlib.error):
            continue
        if isinstance(value, dict):
            found = value  # the last one wins, as in Pillow
    return found
