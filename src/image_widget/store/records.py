"""The record kept with each image: JSON encoding, times, run completeness, the cache key, StoredImage.

Pure helpers with no file I/O (except `StoredImage.data`), shared by the writer (`Store`), the folder
scan (`FolderIndex`) and the views over it (`History`, `Run`).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from PIL import Image

#: Request fields that do not change the image (streaming only changes how it travels).
NON_REQUEST_KEYS = frozenset({"stream", "partial_images"})

#: Sort key for records with no readable time: older than everything.
EPOCH = datetime.min.replace(tzinfo=UTC)


def json_default(value: object) -> Any:
    """Make a record JSON-safe without failing: a record must never stop an image from being saved."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, bytes | bytearray):
        return {"bytes": len(value), "sha256": hashlib.sha256(value).hexdigest()}
    if isinstance(value, set | frozenset):
        return sorted(value, key=repr)
    dump = getattr(value, "model_dump", None)  # SDK objects such as ImageUsage
    if callable(dump):
        return dump()
    return repr(value)


def dumps(record: Mapping[str, Any], *, indent: int | None = None) -> str:
    """A record as JSON text, never failing on odd values (see `json_default`)."""
    return json.dumps(record, ensure_ascii=False, default=json_default, indent=indent)


def parse_time(value: object) -> datetime | None:
    """An aware UTC datetime from an ISO 8601 string (naive means UTC); None if unreadable."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return None
    else:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def now_iso() -> str:
    """The current UTC time as a record's `created` (milliseconds are enough to order saves)."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def expected_count(record: Mapping[str, Any]) -> int:
    """How many images the run of `record` has: `count`, else params["n"], else 1."""
    params = record.get("params")
    for value in (record.get("count"), params.get("n") if isinstance(params, Mapping) else None):
        if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
            return value
    return 1


def index_of(record: Mapping[str, Any]) -> int:
    """The image's index in its run; 0 for a missing or nonsensical value, so old records still load."""
    index = record.get("index", 0)
    return index if isinstance(index, int) and not isinstance(index, bool) and index >= 0 else 0


def is_complete(indices: set[int], record: Mapping[str, Any]) -> bool:
    """Whether a run holding images `indices` has all of 0 … count-1 (only complete runs are served)."""
    return set(range(expected_count(record))) <= indices


def cache_key(endpoint: str, params: Mapping[str, Any], file_hashes: Sequence[str]) -> str:
    """sha256 of the canonical JSON of everything that determines the images of a request.

    Included: the endpoint, every parameter except `stream`/`partial_images` (they change how the
    image travels, not the image) and None values (not sent), and the input/mask file hashes in
    order. Bytes that slip into `params` are hashed, so the key never depends on object identity.
    """
    canonical = {
        "endpoint": endpoint,
        "params": {k: v for k, v in params.items() if k not in NON_REQUEST_KEYS and v is not None},
        "files": list(file_hashes),
    }
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      default=json_default)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True, repr=False)
class StoredImage:
    """One image on disk and its record. Holds no pixels: `data()`/`image()` read the file."""

    id: str
    path: Path
    record: dict[str, Any]

    def data(self) -> bytes:
        return self.path.read_bytes()

    def image(self) -> Image.Image:
        """The image, fully loaded, with no file left open (SVG cannot be opened by Pillow)."""
        from PIL import Image as PILImage

        img = PILImage.open(io.BytesIO(self.data()))
        img.load()
        return img

    @property
    def created(self) -> datetime | None:
        return parse_time(self.record.get("created"))

    @property
    def run_id(self) -> str:
        return str(self.record.get("run_id", ""))

    @property
    def index(self) -> int:
        return index_of(self.record)

    @property
    def prompt(self) -> str:
        prompt = self.record.get("prompt")
        return prompt if isinstance(prompt, str) else ""

    @property
    def model(self) -> str:
        return str(self.record.get("model") or "")

    def __repr__(self) -> str:
        prompt = self.prompt if len(self.prompt) <= 40 else self.prompt[:39] + "…"
        return f"StoredImage(id={self.id!r}, model={self.model!r}, prompt={prompt!r})"


def stored_at(stem: str, path: Path, record: dict[str, Any]) -> StoredImage:
    """A StoredImage whose record points at where the file is now (the folder may have moved)."""
    record["id"], record["path"] = stem, str(path)
    return StoredImage(stem, path, record)
