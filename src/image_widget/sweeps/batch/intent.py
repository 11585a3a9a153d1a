"""The durable local intent of a batch sweep: written before anything is uploaded or created.

`<store>/batches/<run id>/intent.json` holds the run id, the sweep (template, value lists, fields), the
estimate at the batch price, where the requests went (backend kind, label, base URL without credentials or
query, and that query apart as `default_query` — Azure's `api-version` — with key-like values left out:
never a key), whether it was discarded, and each input file (`plan.Part`: model, line count, hash, then file
id and batch id as soon as they are known). Every change is an atomic rewrite, so a process killed at any
moment leaves the last whole version. Per-line failures are kept beside it in `errors.jsonl`.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from image_widget.store.atomic import atomic_write
from image_widget.sweeps.batch.plan import Part

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: handles of one run are not kept apart there
    fcntl = None  # type: ignore[assignment]

BATCHES_FOLDER = "batches"
"""Subfolder of the store holding one folder per batch sweep."""
RUN_KEY = "image_widget_run"
"""The batch metadata key carrying our run id (with `image_widget_part`), to find a batch again."""
PART_KEY = "image_widget_part"
_FILE = "intent.json"


@dataclass
class Intent:
    """One batch sweep as this folder knows it."""

    run_id: str
    created: str
    template: str
    lists: dict[str, list[Any]]
    fields: list[str]
    cells: int
    estimate_usd: float | None
    estimate_text: str
    model: str
    """Every model of the sweep, comma-separated (each part records its own: one model per file)."""
    backend: dict[str, Any]
    base_url: str | None
    prices: dict[str, Any] | None = None
    default_query: dict[str, str] | None = None
    discarded: bool = False
    """Set by `BatchSweep.discard()`: parts not at the server are never sent."""
    edit: dict[str, Any] | None = None
    """An edit batch's shared inputs and holding (`batch/edits.BatchEdit`); None for generations."""
    input_files: dict[str, str] = field(default_factory=dict)
    """sha256 of each edit input → its file id at the server, once uploaded."""
    fingerprint: str | None = None
    """What was asked, where (`same_request`): the same sweep run again finds this run instead of paying twice."""
    parts: list[Part] = field(default_factory=list)
    folder: Path = field(default=Path(), compare=False)

    @classmethod
    def new(cls, store_folder: Path, **values: Any) -> Intent:
        run_id = uuid.uuid4().hex
        created = datetime.now(UTC).isoformat(timespec="seconds")
        return cls(run_id=run_id, created=created, folder=store_folder / BATCHES_FOLDER / run_id, **values)

    def metadata(self, part: Part) -> dict[str, str]:
        return {RUN_KEY: self.run_id, PART_KEY: str(part.index), "template": self.template[:500]}

    def save(self) -> None:
        """Atomically rewrite intent.json, merged with what is on disk: two handles of one run (a `wait()`
        and the widget's poll, or two kernels) never make the file forget a file id, a batch id, a
        create in flight or a finished collection that the other recorded."""
        self.folder.mkdir(parents=True, exist_ok=True)
        with file_lock(self.folder / "intent.lock"):
            self.merge_from_disk()
            data = {k: v for k, v in asdict(self).items() if k not in ("folder", "parts")}
            data["parts"] = [p.to_json() for p in self.parts]
            atomic_write(self.folder / _FILE, json.dumps(data, indent=1, default=str).encode())

    def merge_from_disk(self) -> None:
        """Take in what another handle recorded: ids and flags only ever move forward."""
        try:
            disk = Intent.load(self.folder)
        except (OSError, ValueError, TypeError, KeyError):
            return
        self.discarded = self.discarded or disk.discarded
        self.input_files = {**disk.input_files, **self.input_files}
        stored = {p.index: p for p in disk.parts}
        for part in self.parts:
            other = stored.get(part.index)
            if other is None:
                continue
            part.file_id = part.file_id or other.file_id
            part.batch_id = part.batch_id or other.batch_id
            part.creating = part.batch_id is None and (part.creating or other.creating)
            part.collected = part.collected or other.collected
            if other.bound and not part.bound:
                part.bound, part.sha256, part.bytes = True, other.sha256, other.bytes
            if part.status is None:
                part.status, part.counts = other.status, other.counts

    @classmethod
    def load(cls, folder: Path) -> Intent:
        data = json.loads((folder / _FILE).read_text(encoding="utf-8"))
        parts = [Part(**p) for p in data.pop("parts")]
        return cls(**data, parts=parts, folder=folder)

    # -- per-line errors

    def add_errors(self, errors: dict[str, str]) -> None:
        """Keep per-line failures (custom_id → message); a later message for the same line wins."""
        if not errors:
            return
        known = self.errors()
        known.update(errors)
        text = "".join(json.dumps({"custom_id": k, "error": v}) + "\n" for k, v in sorted(known.items()))
        atomic_write(self.folder / "errors.jsonl", text.encode())

    def errors(self) -> dict[str, str]:
        path = self.folder / "errors.jsonl"
        if not path.exists():
            return {}
        found: dict[str, str] = {}
        for raw in path.read_text(encoding="utf-8").splitlines():
            item = json.loads(raw)
            found[item["custom_id"]] = item["error"]
        return found


@contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """An exclusive lock across threads and processes (flock on `path`; a no-op where there is none)."""
    with path.open("a") as handle:
        if fcntl is not None:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            if fcntl is not None:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


@asynccontextmanager
async def held(path: Path) -> AsyncIterator[None]:
    """`file_lock` for a coroutine: waiting for the lock happens in a thread, never on the event loop."""
    lock = file_lock(path)
    taking = asyncio.ensure_future(asyncio.to_thread(lock.__enter__))
    try:
        await asyncio.shield(taking)
    except asyncio.CancelledError:  # given up while waiting: let go of the lock as soon as it is taken
        taking.add_done_callback(lambda _: lock.__exit__(None, None, None))
        raise
    try:
        yield
    finally:
        lock.__exit__(None, None, None)


def same_request(template: str, lists: dict[str, list[Any]], edit: dict[str, Any] | None, server: str) -> str:
    """A batch sweep's identity: its template, every value list (fixed options included), its edit inputs (by
    hash) and the exact server. Two runs with the same identity would send the same requests."""
    asked = {"template": template, "lists": lists, "edit": edit, "server": server}
    return hashlib.sha256(json.dumps(asked, sort_keys=True, default=str).encode()).hexdigest()


def matching(store_folder: Path, fingerprint: str) -> Intent | None:
    """The newest run of this folder that asked exactly this, reached the server (a batch created, or a create
    that may have been) and was not discarded. A run never sent is not matched: it pays nothing on its own, and
    the new one is checked against the budget given now."""
    return next((i for i in all_intents(store_folder) if i.fingerprint == fingerprint and not i.discarded
                 and any(p.batch_id is not None or p.creating for p in i.parts)), None)


def all_intents(store_folder: Path) -> Iterator[Intent]:
    """Every batch sweep of a store folder, newest first; unreadable ones are skipped."""
    root = store_folder / BATCHES_FOLDER
    found: list[Intent] = []
    for folder in root.iterdir() if root.is_dir() else []:
        try:
            found.append(Intent.load(folder))
        except (OSError, ValueError, TypeError, KeyError):
            continue
    yield from sorted(found, key=lambda i: (i.created, i.run_id), reverse=True)
