"""Reading the folder itself: the source of truth that the index is built from and checked against.

`read_folder` reads every sidecar (or, given what the index already holds, only the ones whose file changed) and
recovers PNGs whose sidecar was never written from their chunk. It never raises: damaged files are
counted and described. `read_one` does the same for a single image, for saves a crash left half done.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from image_widget.store.layout import OUR_NAME_RE, is_scratch
from image_widget.store.png_chunk import read_png_record
from image_widget.store.records import StoredImage, stored_at


@dataclass(frozen=True)
class Stamp:
    """Which file a record came from and how that file looked, so a later scan reads only what changed.

    Time and size, not inode numbers: `scandir` reports no inodes on Windows and other ones on some
    overlay filesystems, and any edit (in place or by replacing the file) changes the time.
    """

    source: str  # "sidecar", or "png" for a record recovered from the image's chunk
    mtime_ns: int
    size: int


@dataclass(frozen=True)
class Found:
    stored: StoredImage
    stamp: Stamp


@dataclass
class Scan:
    """What one read of the folder found, and what it had to pass over (never an exception).

    `images` holds what was read (unless a sink took it), `unchanged` the known ids whose files still
    match their stamp, `listed_mtime_ns` the folder's time just before it was listed.
    """

    images: list[Found] = field(default_factory=list)
    unchanged: set[str] = field(default_factory=set)
    skipped: int = 0
    recovered: int = 0
    problems: list[str] = field(default_factory=list)
    listed_mtime_ns: int | None = None


def folder_mtime(folder: Path) -> int | None:
    """The folder's modification time (changes whenever a file is added, removed or renamed in it)."""
    try:
        return os.stat(folder).st_mtime_ns
    except OSError:
        return None


def _listing(folder: Path, scan: Scan) -> tuple[dict[str, os.DirEntry[str]], dict[str, os.DirEntry[str]]]:
    sidecars: dict[str, os.DirEntry[str]] = {}
    images: dict[str, os.DirEntry[str]] = {}
    scan.listed_mtime_ns = folder_mtime(folder)
    try:
        entries = list(os.scandir(folder))
    except (FileNotFoundError, NotADirectoryError):
        return sidecars, images
    except OSError as exc:
        scan.problems.append(f"cannot list {folder}: {exc}")
        return sidecars, images
    for entry in entries:
        if is_scratch(entry.name):
            continue  # temp files of an interrupted save, hidden files
        stem, ext = entry.name.rsplit(".", 1)
        (sidecars if ext == "json" else images)[stem] = entry
    return sidecars, images


def _stat(entry: os.DirEntry[str]) -> tuple[int, int] | None:
    try:
        st = entry.stat()
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size


def read_folder(folder: Path, known: Mapping[str, Stamp] | None = None,
          sink: Callable[[Found], None] | None = None) -> Scan:
    """Read the sidecars in `folder` whose stamp differs from `known` (all of them without it); skip
    (and count) damaged ones, recover PNGs that lost their sidecar. Found images go to `sink` if given
    (a rebuild streams them into the index instead of holding 100,000 records at once)."""
    scan = Scan()
    known = known or {}
    keep = sink or scan.images.append
    sidecars, images = _listing(folder, scan)
    for stem in sorted(sidecars):
        entry, image = sidecars[stem], images.get(stem)
        stat = _stat(entry)
        if stat is None:
            continue  # removed while we listed
        stamp = Stamp("sidecar", *stat)
        if image is not None and known.get(stem) == stamp:
            scan.unchanged.add(stem)  # its image was whole when indexed and still has its name
            continue
        image_stat = _stat(image) if image is not None else None
        if image is None or image_stat is None or image_stat[1] == 0:
            scan.skipped += 1
            scan.problems.append(f"{entry.name}: its image is missing")
            continue
        record, problem = _read_sidecar(Path(entry.path))
        if record is None:
            scan.skipped += 1
            scan.problems.append(f"{entry.name}: {problem}")
        else:
            keep(Found(stored_at(stem, Path(image.path), record), stamp))
    for stem, image in images.items():
        if stem in sidecars or not OUR_NAME_RE.match(stem) or not image.name.endswith(".png"):
            continue
        stat = _stat(image)
        if stat is None or stat[1] == 0:
            continue  # a name reserved by a save that never wrote it
        stamp = Stamp("png", *stat)
        if known.get(stem) == stamp:
            scan.unchanged.add(stem)
            scan.recovered += 1
            continue
        found = _recover(stem, Path(image.path), stamp)
        if found is not None:  # an image whose sidecar was never written (process killed)
            scan.recovered += 1
            keep(found)
    return scan


def _read_sidecar(path: Path) -> tuple[dict[str, Any] | None, str]:
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return None, f"unreadable sidecar ({type(exc).__name__})"
    return (record, "") if isinstance(record, dict) else (None, "not a record")


def _recover(stem: str, image: Path, stamp: Stamp) -> Found | None:
    try:
        record = read_png_record(image.read_bytes())
    except OSError:
        return None
    return Found(stored_at(stem, image, record), stamp) if record is not None else None


def read_one(folder: Path, stem: str, image_name: str) -> Found | None:
    """The image `stem` as the files say now (sidecar, else PNG chunk), or None: for one save that a
    crash may have left between its image and its index row."""
    image, sidecar = folder / image_name, folder / f"{stem}.json"
    try:
        image_st = os.stat(image)
    except OSError:
        return None
    if image_st.st_size == 0:
        return None
    try:
        side_st = os.stat(sidecar)
    except OSError:
        if not image_name.endswith(".png"):
            return None
        return _recover(stem, image, Stamp("png", image_st.st_mtime_ns, image_st.st_size))
    record, _ = _read_sidecar(sidecar)
    if record is None:
        return None
    stamp = Stamp("sidecar", side_st.st_mtime_ns, side_st.st_size)
    return Found(stored_at(stem, image, record), stamp)


def has_images(folder: Path) -> bool:
    """Whether the folder holds anything of ours (stops at the first), so reading an empty or unrelated
    folder never leaves an index file in it."""
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                if not is_scratch(entry.name) and OUR_NAME_RE.match(entry.name.rsplit(".", 1)[0]):
                    return True
    except OSError:
        return False
    return False


def found_for(folder: Path, stored: StoredImage) -> Found | None:
    """`stored` with the stamp of the file its record is in now (its sidecar, else its image)."""
    sidecar = folder / f"{stored.id}.json"
    try:
        st, source = (os.stat(sidecar), "sidecar") if sidecar.exists() else (os.stat(stored.path), "png")
    except OSError:
        return None
    return Found(stored, Stamp(source, st.st_mtime_ns, st.st_size))
