"""Disk history and cache: every image that was paid for is written to disk before anyone sees it.

Layout of the folder (one pair of files per image, nothing else is needed to reload):

    20261101-120304-1a2b3c4d-0.png    the image bytes as received; PNGs also carry the record in an
                                      iTXt chunk `image_widget`, inserted before IEND without re-encoding
    20261101-120304-1a2b3c4d-0.json   the record (the "sidecar"), UTF-8 JSON

Names are `<UTC yyyymmdd-HHMMSS>-<run_id 8 hex>-<index>[_<k>]` and never contain prompt text. Both
files are written atomically (temporary file in the same folder, `os.replace`; fsync follows off the
caller's path), the image first, so a killed process leaves at worst an image without a sidecar (PNGs
are recovered from their chunk) or a hidden `.…tmp` file, which every reader ignores. Input images and
masks of edits are kept once each under `inputs/<sha256>.<ext>`, so any edit can be re-run.

A run (one request, `run_id`) is *complete* when the images with indices 0 … count-1 all exist, where
count is the record's `count` (the number of images the response actually returned, if the caller
sets it), else `params["n"]`, else 1. Only complete runs are served from the cache.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import io
import json
import os
import re
import tempfile
import threading
import uuid
import zlib
from collections.abc import Iterator, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, overload

from image_widget.capabilities import image_info, sniff_format

if TYPE_CHECKING:
    from PIL import Image

__all__ = [
    "CHUNK_KEY",
    "DEFAULT_FOLDER",
    "ENV_VAR",
    "History",
    "Run",
    "Store",
    "StoreError",
    "StoredImage",
    "cache_key",
    "default_folder",
    "read_png_record",
]

ENV_VAR = "IMAGE_WIDGET_DIR"
DEFAULT_FOLDER = "image-widget-output"
CHUNK_KEY = "image_widget"
"""Keyword of the PNG text chunk that holds the record."""

#: Request fields that do not change the image (streaming only changes how it travels).
NON_REQUEST_KEYS = frozenset({"stream", "partial_images"})

_EXTENSIONS = {"jpeg": "jpg"}
_FORMAT_RE = re.compile(r"^[a-z0-9]{1,10}$")
_SAFE_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,200}$")
_OUR_NAME_RE = re.compile(r"^\d{8}-\d{6}-[0-9a-f]{8}-\d+(?:_\d+)?$")
_HEX_RE = re.compile(r"^[0-9a-f]{8,}$")
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_EPOCH = datetime.min.replace(tzinfo=UTC)


INPUTS_FOLDER = "inputs"
_HEX64_RE = re.compile(r"^[0-9a-f]{64}$")


class StoreError(OSError):
    """Saving failed (read-only folder, disk full, …). Nothing partial is left behind.

    `folder` is where it tried to write and `cause` the underlying OSError.
    """

    def __init__(self, folder: Path, cause: BaseException, action: str = "save the image") -> None:
        self.folder = folder
        self.cause = cause
        reason = getattr(cause, "strerror", None) or str(cause) or type(cause).__name__
        super().__init__(
            f"could not {action} in {folder}: {reason} ({type(cause).__name__}). "
            f"Pass Store(folder=...) or set {ENV_VAR} to use another folder."
        )
        self.errno = getattr(cause, "errno", None)


def default_folder(folder: str | os.PathLike[str] | None = None) -> Path:
    """The folder argument, else $IMAGE_WIDGET_DIR, else ./image-widget-output — as an absolute path."""
    chosen: str | os.PathLike[str] = folder if folder is not None else (
        os.environ.get(ENV_VAR) or DEFAULT_FOLDER)
    return Path(chosen).expanduser().absolute()


# --------------------------------------------------------------------------------------------- records


def _json_default(value: object) -> Any:
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


def _dumps(record: Mapping[str, Any], *, indent: int | None = None) -> str:
    return json.dumps(record, ensure_ascii=False, default=_json_default, indent=indent)


def _parse_time(value: object) -> datetime | None:
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


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _expected_count(record: Mapping[str, Any]) -> int:
    """How many images the run of `record` has: `count`, else params["n"], else 1."""
    params = record.get("params")
    for value in (record.get("count"), params.get("n") if isinstance(params, Mapping) else None):
        if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
            return value
    return 1


def _index_of(record: Mapping[str, Any]) -> int:
    index = record.get("index", 0)
    return index if isinstance(index, int) and not isinstance(index, bool) and index >= 0 else 0


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
                      default=_json_default)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# ------------------------------------------------------------------------------------------- PNG chunk


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


def _png_with_record(data: bytes, text: str) -> bytes | None:
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


# -------------------------------------------------------------------------------------- stored images


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
        return _parse_time(self.record.get("created"))

    @property
    def run_id(self) -> str:
        return str(self.record.get("run_id", ""))

    @property
    def index(self) -> int:
        return _index_of(self.record)

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


@dataclass(frozen=True)
class Run:
    """The images of one request, ordered by index."""

    run_id: str
    images: list[StoredImage]

    @property
    def created(self) -> datetime | None:
        times = [t for t in (img.created for img in self.images) if t is not None]
        return min(times) if times else None

    @property
    def record(self) -> dict[str, Any]:
        return self.images[0].record if self.images else {}

    @property
    def complete(self) -> bool:
        return _is_complete({img.index for img in self.images}, self.record)

    def __len__(self) -> int:
        return len(self.images)

    def __iter__(self) -> Iterator[StoredImage]:
        return iter(self.images)

    def __repr__(self) -> str:
        return f"Run({self.run_id!r}, {len(self.images)} image(s), complete={self.complete})"


def _is_complete(indices: set[int], record: Mapping[str, Any]) -> bool:
    return set(range(_expected_count(record))) <= indices


@dataclass
class _Scan:
    images: list[StoredImage] = field(default_factory=list)
    skipped: int = 0
    recovered: int = 0
    problems: list[str] = field(default_factory=list)


def _stored(stem: str, path: Path, record: dict[str, Any]) -> StoredImage:
    """A StoredImage whose record points at where the file is now (the folder may have moved)."""
    record["id"], record["path"] = stem, str(path)
    return StoredImage(stem, path, record)


def _scan(folder: Path) -> _Scan:
    """Read every sidecar in `folder`; skip (and count) damaged ones, never raise."""
    scan = _Scan()
    try:
        entries = list(os.scandir(folder))
    except (FileNotFoundError, NotADirectoryError):
        return scan
    except OSError as exc:
        scan.problems.append(f"cannot list {folder}: {exc}")
        return scan
    sidecars: dict[str, os.DirEntry[str]] = {}
    images: dict[str, os.DirEntry[str]] = {}
    for entry in entries:
        name = entry.name
        if name.startswith(".") or name.endswith(".tmp") or "." not in name:
            continue  # temp files of an interrupted save, hidden files
        stem, ext = name.rsplit(".", 1)
        (sidecars if ext == "json" else images)[stem] = entry
    for stem in sorted(sidecars):
        entry = sidecars[stem]
        try:
            record = json.loads(Path(entry.path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            scan.skipped += 1
            scan.problems.append(f"{entry.name}: unreadable sidecar ({type(exc).__name__})")
            continue
        image = images.get(stem)
        if not isinstance(record, dict):
            scan.skipped += 1
            scan.problems.append(f"{entry.name}: not a record")
        elif image is None or not _nonempty(image):
            scan.skipped += 1
            scan.problems.append(f"{entry.name}: its image is missing")
        else:
            scan.images.append(_stored(stem, Path(image.path), record))
    for stem, image in images.items():
        if stem in sidecars or not _OUR_NAME_RE.match(stem) or not image.name.endswith(".png"):
            continue
        try:  # an image whose sidecar was never written (process killed): the PNG chunk has the record
            recovered = read_png_record(Path(image.path).read_bytes())
        except OSError:
            recovered = None
        if recovered is not None:
            scan.recovered += 1
            scan.images.append(_stored(stem, Path(image.path), recovered))
    return scan


def _nonempty(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_file() and entry.stat().st_size > 0
    except OSError:
        return False


# ----------------------------------------------------------------------------------------- atomic I/O


def _fsync(path: Path) -> None:
    """Flush a file, or a folder's entries (which makes a rename durable on POSIX); best effort, as
    some filesystems refuse it."""
    if os.name != "posix" and path.is_dir():
        return
    with suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


_SYNCER: concurrent.futures.ThreadPoolExecutor | None = None
_SYNCER_LOCK = threading.Lock()


def _fsync_paths(*paths: Path) -> None:
    for path in paths:
        _fsync(path)
    if paths:
        _fsync(paths[0].parent)


def _sync_later(*paths: Path) -> None:
    """fsync files and their folder on a background thread: durable within milliseconds, at no latency."""
    global _SYNCER  # noqa: PLW0603 - one lazily started worker per process
    with _SYNCER_LOCK:
        if _SYNCER is None:
            _SYNCER = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="image-widget-fsync")
    _SYNCER.submit(_fsync_paths, *paths)


def flush() -> None:
    """Wait until every saved file has been fsynced (tests, benchmarks, before shutdown)."""
    with _SYNCER_LOCK:
        syncer = _SYNCER
    if syncer is not None:
        syncer.submit(lambda: None).result()


def _atomic_write(path: Path, data: bytes) -> None:
    """Write via a temp file in the same folder + os.replace; the temp file never survives.

    A killed process cannot leave a half-written file under the final name. Durability against power
    loss (fsync) is done right after by `_sync_later`, off the caller's path.
    """
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        with suppress(OSError):
            os.chmod(tmp, 0o644)  # mkstemp makes 0600; saved images are ordinary files
        os.replace(tmp, path)
    except BaseException:
        with suppress(OSError):
            os.unlink(tmp)
        raise


def _normalise_format(fmt: str, data: bytes) -> str:
    """The format the bytes really are (so the file opens), else the one given."""
    given = fmt.lower().lstrip(".")
    given = "jpeg" if given == "jpg" else given
    real = sniff_format(data)
    chosen = real or given
    if not _FORMAT_RE.match(chosen):
        raise ValueError(f"format must be a short name such as 'png', got {fmt!r}")
    return chosen


def _run_hex(run_id: object) -> str:
    text = str(run_id).lower().replace("-", "")
    return text[:8] if _HEX_RE.match(text) else hashlib.sha256(str(run_id).encode()).hexdigest()[:8]


# ---------------------------------------------------------------------------------------------- Store


class Store:
    """Images and their records in one folder, plus an in-memory index for the cache.

    The index (records only, never image bytes) is built by one scan on first use and then kept up
    to date by `save`, so `lookup` and `load` cost a dict access. Files other processes add later are
    found by `load` (which reads the sidecar) but not by `lookup` until `refresh()`.
    """

    def __init__(self, folder: str | os.PathLike[str] | None = None) -> None:
        self.folder: Path = default_folder(folder)
        self._lock = threading.RLock()
        self._records: dict[str, StoredImage] | None = None
        self._by_key: dict[str, dict[str, dict[int, str]]] = {}  # cache_key → run_id → index → id
        self._pending: set[str] = set()  # stems being written by this instance (the sidecar is not there yet)

    def __repr__(self) -> str:
        return f"Store({str(self.folder)!r})"

    # -- writing

    def save(self, data: bytes | bytearray, fmt: str, record: dict[str, Any]) -> Path:
        """Write the image and its record atomically; return the image path.

        Fills `id`, `path`, `format`, `width`, `height` (and `created`, `run_id`, `index` when missing)
        in `record` itself, after the files are safely on disk. Raises `StoreError` on any write
        failure, leaving nothing of this save behind.
        """
        data = bytes(data)
        if not data:
            raise ValueError("no image bytes to save")
        fmt_name = _normalise_format(fmt, data)
        index = record.get("index", 0)
        if isinstance(index, bool) or not isinstance(index, int) or index < 0:
            raise ValueError(f"record index must be a whole number ≥ 0, got {index!r}")
        filled: dict[str, Any] = {"index": index}
        if not record.get("run_id"):
            filled["run_id"] = uuid.uuid4().hex
        if not record.get("created"):
            filled["created"] = _now_iso()
        rec = {**record, **filled}
        created = _parse_time(rec["created"]) or datetime.now(UTC)
        info = image_info(data)
        width, height = info[0] if info else (None, None)
        ext = _EXTENSIONS.get(fmt_name, fmt_name)
        base = f"{created:%Y%m%d-%H%M%S}-{_run_hex(rec['run_id'])}-{index}"

        image_path = self._reserve(base, ext)
        stem = image_path.stem
        sidecar = image_path.with_suffix(".json")
        filled.update(id=stem, path=str(image_path), format=fmt_name, width=width, height=height)
        rec.update(filled)
        try:
            text = _dumps(rec)
            payload = (_png_with_record(data, text) if fmt_name == "png" else None) or data
            _atomic_write(image_path, payload)
            _atomic_write(sidecar, _dumps(rec, indent=1).encode("utf-8"))
            _sync_later(image_path, sidecar)
        except BaseException as exc:
            for leftover in (sidecar, image_path):
                with suppress(OSError):
                    leftover.unlink()
            if isinstance(exc, OSError):
                raise StoreError(self.folder, exc) from exc
            raise
        finally:
            with self._lock:
                self._pending.discard(stem)
        stored = StoredImage(stem, image_path, json.loads(text))
        with self._lock:
            if self._records is not None:
                self._add(stored)
        record.update(filled)
        return image_path

    def _reserve(self, base: str, ext: str) -> Path:
        """Claim a free name with an exclusive create of the image file (an empty placeholder that
        `os.replace` later overwrites), so two saves never share a name across threads or processes.
        The stem is also checked against sidecars and this instance's in-flight saves, so an image
        of another format cannot take the same sidecar name."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(self.folder, exc, "create the folder") from exc
        with self._lock:
            for attempt in range(10_000):
                stem = base if attempt == 0 else f"{base}_{attempt}"
                path = self.folder / f"{stem}.{ext}"
                if stem in self._pending or path.with_suffix(".json").exists():
                    continue
                try:
                    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))
                except FileExistsError:
                    continue
                except OSError as exc:
                    raise StoreError(self.folder, exc) from exc
                self._pending.add(stem)
                return path
        raise StoreError(self.folder, FileExistsError(f"no free name for {base}"))

    # -- inputs (kept by content hash so edits can be re-run)

    def save_input(self, data: bytes | bytearray) -> str:
        """Keep an input image or mask under `inputs/<sha256>.<ext>`; returns the sha256 (hex).

        Content-addressed, so the same photo used in a hundred edits is stored once.
        """
        data = bytes(data)
        digest = hashlib.sha256(data).hexdigest()
        folder = self.folder / INPUTS_FOLDER
        fmt = sniff_format(data) or "bin"
        ext = _EXTENSIONS.get(fmt, fmt)
        path = folder / f"{digest}.{ext}"
        if not path.exists():
            try:
                folder.mkdir(parents=True, exist_ok=True)
                _atomic_write(path, data)
            except OSError as exc:
                raise StoreError(self.folder, exc, "save an input image") from exc
            _sync_later(path)
        return digest

    def load_input(self, digest: str) -> bytes:
        """The bytes of an input kept by `save_input`; KeyError when it is not there."""
        if not _HEX64_RE.match(digest):
            raise KeyError(f"not an input hash: {digest!r}")
        for path in (self.folder / INPUTS_FOLDER).glob(f"{digest}.*"):
            return path.read_bytes()
        raise KeyError(f"input {digest[:12]}… is not in {self.folder / INPUTS_FOLDER}")

    # -- index

    def _index(self) -> dict[str, StoredImage]:
        with self._lock:
            if self._records is None:
                self._records, self._by_key = {}, {}
                for stored in _scan(self.folder).images:
                    self._add(stored)
            return self._records

    def _add(self, stored: StoredImage) -> None:
        assert self._records is not None
        self._records[stored.id] = stored
        key = stored.record.get("cache_key")
        if isinstance(key, str) and key:
            self._by_key.setdefault(key, {}).setdefault(stored.run_id, {})[stored.index] = stored.id

    def refresh(self) -> None:
        """Forget the index; the next lookup rescans the folder (for files written elsewhere)."""
        with self._lock:
            self._records, self._by_key = None, {}

    def lookup(self, cache_key: str) -> list[StoredImage] | None:
        """The images (by index) of the most recent complete run saved with `cache_key`, or None.

        Runs whose files have since been deleted are passed over.
        """
        records = self._index()
        with self._lock:
            runs = self._by_key.get(cache_key)
            if not runs:
                return None
            candidates = [[records[i] for _, i in sorted(by_index.items())] for by_index in runs.values()]
        candidates.sort(key=lambda imgs: (imgs[0].created or _EPOCH, imgs[0].id), reverse=True)
        for images in candidates:
            if _is_complete({img.index for img in images}, images[0].record) and all(
                    img.path.is_file() for img in images):
                return images
        return None

    def load(self, image_id: str) -> StoredImage:
        """One stored image by id; raises KeyError if there is none."""
        if not isinstance(image_id, str) or not _SAFE_ID_RE.match(image_id) or ".." in image_id:
            raise KeyError(f"{image_id!r} is not an image id")
        found = self._index().get(image_id)
        if found is not None:
            return found
        sidecar = self.folder / f"{image_id}.json"  # saved by another process since the scan
        try:
            record = json.loads(sidecar.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            record = None
        if isinstance(record, dict):
            for image in self.folder.glob(f"{image_id}.*"):
                if image.suffix not in (".json", ".tmp") and image.stem == image_id:
                    stored = _stored(image_id, image, record)
                    with self._lock:
                        self._add(stored)
                    return stored
        raise KeyError(f"no image {image_id!r} in {self.folder}")

    def __contains__(self, image_id: object) -> bool:
        return isinstance(image_id, str) and image_id in self._index()

    def __len__(self) -> int:
        return len(self._index())

    def history(self) -> History:
        return History(self.folder)


# -------------------------------------------------------------------------------------------- History


def _bound(value: datetime | date | None, *, end: bool) -> datetime | None:
    """since/until as aware UTC datetimes; a date means its whole day (until is inclusive)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    start = datetime.combine(value, time.min, tzinfo=UTC)
    return start + timedelta(days=1) - timedelta(microseconds=1) if end else start


class History:
    """Everything saved in a folder, reloaded from disk (for example after a kernel restart).

    `entries` are newest run first, each run's images by index. Damaged sidecars and sidecars whose
    image is missing are ignored and counted in `skipped` (reasons in `problems`); PNGs whose sidecar
    was never written are recovered from their text chunk (`recovered`). Times are UTC; naive
    datetimes given to `filter` are taken as UTC.
    """

    def __init__(self, folder: str | os.PathLike[str] | None = None) -> None:
        self.folder: Path = default_folder(folder)
        self.entries: list[StoredImage] = []
        self.skipped = 0
        self.recovered = 0
        self.problems: list[str] = []
        self._runs: list[Run] = []
        self.reload()

    def reload(self) -> History:
        """Read the folder again."""
        scan = _scan(self.folder)
        groups: dict[str, list[StoredImage]] = {}
        for stored in scan.images:
            groups.setdefault(stored.run_id or stored.id, []).append(stored)
        runs = [Run(run_id, sorted(images, key=lambda s: (s.index, s.id))) for run_id, images in groups.items()]
        runs.sort(key=lambda r: (r.created or _EPOCH, r.images[0].id), reverse=True)
        self._runs = runs
        self.entries = [img for run in runs for img in run.images]
        self.skipped, self.recovered, self.problems = scan.skipped, scan.recovered, scan.problems
        return self

    def add_run(self, images: Sequence[StoredImage]) -> None:
        """Put a run just saved by this process in front, without reading the folder again (a reload
        costs one sidecar read per image ever saved there)."""
        if not images:
            return
        run = Run(images[0].run_id or images[0].id, sorted(images, key=lambda s: (s.index, s.id)))
        self._runs = [run, *(r for r in self._runs if r.run_id != run.run_id)]
        self.entries = [img for r in self._runs for img in r.images]

    def runs(self) -> list[Run]:
        """Images grouped by request (run_id), newest first."""
        return list(self._runs)

    def filter(self, prompt: str | None = None, model: str | None = None,
               since: datetime | date | None = None, until: datetime | date | None = None) -> list[StoredImage]:
        """Entries whose prompt contains `prompt` (case-insensitive), made by `model`, created in
        [since, until] (inclusive; a date covers its whole UTC day). Images with no readable time
        are left out when a time bound is given."""
        needle = prompt.casefold() if prompt else None
        wanted_model = model.casefold() if model else None
        start, end = _bound(since, end=False), _bound(until, end=True)
        found: list[StoredImage] = []
        for img in self.entries:
            if needle is not None and needle not in img.prompt.casefold():
                continue
            if wanted_model is not None and img.model.casefold() != wanted_model:
                continue
            if start is not None or end is not None:
                created = img.created
                if created is None or (start and created < start) or (end and created > end):
                    continue
            found.append(img)
        return found

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self) -> Iterator[StoredImage]:
        return iter(self.entries)

    @overload
    def __getitem__(self, item: int) -> StoredImage: ...
    @overload
    def __getitem__(self, item: slice) -> list[StoredImage]: ...
    def __getitem__(self, item: int | slice) -> StoredImage | list[StoredImage]:
        return self.entries[item]

    def __repr__(self) -> str:
        extra = f", {self.skipped} skipped" if self.skipped else ""
        return f"History({str(self.folder)!r}: {len(self.entries)} image(s) in {len(self._runs)} run(s){extra})"
