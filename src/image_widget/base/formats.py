"""What a file is, read from its bytes: the format, the size in pixels, whether it has alpha.

Validation, input normalising, the store and the request path all ask these questions, and a file's
name or declared content type is never trusted, so the answers live here, below all of them.
"""

from __future__ import annotations

import io

FileTuple = tuple[str, bytes, str]
"""How files travel: (filename, bytes, content type) — never bare bytes (octet-stream)."""
MB = 1024 * 1024

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
    (b"%PDF", "pdf"),
    (b"BM", "bmp"),
    (b"II*\x00", "tiff"),
    (b"MM\x00*", "tiff"),
)


def sniff_format(data: bytes | bytearray) -> str | None:
    """The real format of image bytes from their signature (png, jpeg, webp, gif, svg, …), or None."""
    head = bytes(data[:64])
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    for magic, name in _MAGIC:
        if head.startswith(magic):
            return name
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith((b"<svg", b"<?xml")):
        return "svg"
    return None


def content_type(data: bytes | bytearray) -> str:
    """The upload's content type from its bytes (`image/png`, …), as the client sends each file."""
    fmt = sniff_format(data)
    return f"image/{fmt}" if fmt in ("png", "jpeg", "webp", "gif") else "application/octet-stream"


def image_info(data: bytes | bytearray) -> tuple[tuple[int, int], bool] | None:
    """((width, height), has_alpha) read from image bytes without decoding pixels; None if unreadable."""
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as img:
            has_alpha = img.mode in ("RGBA", "LA", "PA") or "transparency" in img.info
            return img.size, has_alpha
    except Exception:  # noqa: BLE001 - any unreadable image is simply "no info"
        return None
