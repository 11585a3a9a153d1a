"""Looking for a secret everywhere it could hide: plain, UTF-16, or base64 at any alignment."""

from __future__ import annotations

import base64


def needles(secret: str) -> list[bytes]:
    """The key as it could appear in bytes: UTF-8, UTF-16, and base64 at each of the 3 alignments."""
    raw = secret.encode()
    found = [raw, secret.encode("utf-16-le")]
    for shift in range(3):
        encoded = base64.b64encode(b"\x00" * shift + raw)
        found.append(encoded[4:-4])  # the part that does not depend on the neighbouring bytes
    return found


class Canary:
    """A recognisable fake key and a search for it."""

    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.needles = needles(secret)

    def sighted(self, blob: str | bytes) -> bool:
        data = blob.encode("utf-8", "surrogatepass") if isinstance(blob, str) else bytes(blob)
        return any(needle in data for needle in self.needles)
