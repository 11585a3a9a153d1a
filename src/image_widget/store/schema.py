"""The index's tables, their versions, and how a record becomes a row (and a row a StoredImage again).

One row per image. The whole record is kept as JSON so a page of history never reads a sidecar; the
other columns are what queries filter and sort on. `PRAGMA user_version` says which of `MIGRATIONS`
a file has; each migration takes a file one version up, so an index written by an older release is
brought forward in place instead of being rebuilt from 100,000 sidecars.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from image_widget.base.records import record_call
from image_widget.store.records import StoredImage, dumps, expected_count, stored_at
from image_widget.store.scan import Found

INDEX_FOLDER = "index"
"""Subfolder of the store folder that holds the index. A folder of its own: SQLite creates and deletes its
`-wal` and `-shm` files as connections come and go, which would otherwise move the store folder's time —
the very signal that says whether the index is behind the images."""
INDEX_NAME = "images.sqlite"
INDEX_FILES = (INDEX_NAME, *(INDEX_NAME + suffix for suffix in ("-wal", "-shm", "-journal")))
"""The index file and SQLite's side files, inside INDEX_FOLDER."""


def index_path(folder: Path) -> Path:
    """Where the index of the store folder `folder` lives."""
    return folder / INDEX_FOLDER / INDEX_NAME

_UNIX_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

_V1 = (
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value) WITHOUT ROWID",
    """CREATE TABLE images (
        row INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused: History.changes_since polls on it
        id TEXT NOT NULL UNIQUE, file TEXT NOT NULL, run_id TEXT NOT NULL, run_key TEXT NOT NULL,
        idx INTEGER NOT NULL, call TEXT NOT NULL, model TEXT NOT NULL, prompt TEXT NOT NULL,
        prompt_fold TEXT NOT NULL, params TEXT, width INTEGER, height INTEGER, cost REAL,
        created_us INTEGER, batch_id TEXT, input_hashes TEXT, status TEXT, cache_key TEXT,
        expected INTEGER NOT NULL,
        run_created_us INTEGER, run_first TEXT, complete INTEGER NOT NULL DEFAULT 0,
        source TEXT NOT NULL, mtime_ns INTEGER NOT NULL, size INTEGER NOT NULL)""",
    # the whole record, in a table of its own so that counts and scans of `images` read narrow rows
    "CREATE TABLE records (row INTEGER PRIMARY KEY, record TEXT NOT NULL)",
    "CREATE TRIGGER records_ad AFTER DELETE ON images BEGIN DELETE FROM records WHERE row = old.row; END",
    "CREATE INDEX images_order ON images (run_created_us DESC, run_first DESC, idx, id)",
    "CREATE INDEX images_run ON images (run_key)",
    "CREATE INDEX images_key ON images (cache_key)",
    "CREATE INDEX images_created ON images (created_us)",
    "CREATE INDEX images_cost ON images (cost)",
    "CREATE INDEX images_model ON images (model COLLATE NOCASE)",
    "CREATE INDEX images_batch ON images (batch_id)",
    # saves under way: marked before they touch the folder, cleared with their row; `trusted` when the
    # index matched the folder as they began, so the folder's time moving under them is explained
    "CREATE TABLE pending (id TEXT PRIMARY KEY, file TEXT NOT NULL, pid INTEGER, host TEXT, started REAL, "
    "trusted INTEGER NOT NULL DEFAULT 0)",
    "CREATE TABLE problems (message TEXT NOT NULL)",
)

_V2 = (
    # learned estimates (learned.py) read the latest first images of runs of one model and call
    "CREATE INDEX images_learn ON images (model, call, idx, row)",
)

_V3 = (
    # conversations (image_widget.chat): History filters by thread and shows a thread's turns in order
    "ALTER TABLE images ADD COLUMN thread TEXT",
    "ALTER TABLE images ADD COLUMN turn INTEGER",
    "UPDATE images SET thread = json_extract(r.record, '$.thread'), turn = json_extract(r.record, '$.turn') "
    "FROM records AS r WHERE r.row = images.row AND json_extract(r.record, '$.thread') IS NOT NULL",
    "CREATE INDEX images_thread ON images (thread, turn)",
)

Migration = Sequence[str | Callable[[sqlite3.Connection], None]]
MIGRATIONS: list[Migration] = [_V1, _V2, _V3]
"""MIGRATIONS[v] takes a file from version v to v + 1 (SQL, or a function for what SQL cannot do)."""

FTS = (  # substring search over the casefolded prompt; optional (SQLite ≥ 3.34 built with FTS5)
    "CREATE VIRTUAL TABLE prompts USING fts5(prompt_fold, content='images', content_rowid='row', "
    "tokenize='trigram')",
    "CREATE TRIGGER prompts_ai AFTER INSERT ON images BEGIN "
    "INSERT INTO prompts (rowid, prompt_fold) VALUES (new.row, new.prompt_fold); END",
    "CREATE TRIGGER prompts_ad AFTER DELETE ON images BEGIN "
    "INSERT INTO prompts (prompts, rowid, prompt_fold) VALUES ('delete', old.row, old.prompt_fold); END",
    "CREATE TRIGGER prompts_au AFTER UPDATE OF prompt_fold ON images BEGIN "
    "INSERT INTO prompts (prompts, rowid, prompt_fold) VALUES ('delete', old.row, old.prompt_fold); "
    "INSERT INTO prompts (rowid, prompt_fold) VALUES (new.row, new.prompt_fold); END",
)

COLUMNS = ("id", "file", "run_id", "run_key", "idx", "call", "model", "prompt", "prompt_fold", "params", "width",
           "height", "cost", "created_us", "batch_id", "input_hashes", "status", "cache_key", "expected",
           "source", "mtime_ns", "size", "thread", "turn")
UPSERT = (f"INSERT INTO images ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))}) "  # noqa: S608
          f"ON CONFLICT (id) DO UPDATE SET {', '.join(f'{c} = excluded.{c}' for c in COLUMNS[1:])}")
"""Insert or refresh by id; a refreshed row keeps its row number (it is not a new image)."""
UPSERT_RECORD = "INSERT OR REPLACE INTO records (row, record) SELECT row, ? FROM images WHERE id = ?"
RECORD = "(SELECT record FROM records WHERE records.row = images.row)"
"""The record of each selected row, as a column expression (read only for the rows a query returns)."""


def write_rows(conn: sqlite3.Connection, found: Sequence[Found]) -> None:
    """Insert or refresh the rows (and records) of these images."""
    rows = [row_for(f) for f in found]
    conn.executemany(UPSERT, rows)
    conn.executemany(UPSERT_RECORD, [(dumps(f.stored.record), f.stored.id) for f in found])


def migrate(conn: sqlite3.Connection, version: int) -> None:
    """Bring a file from `version` to the current one, step by step (inside the caller's transaction)."""
    for step in MIGRATIONS[version:]:  # the module's current list (tests add a step to try the path)
        for statement in step:
            if isinstance(statement, str):
                conn.execute(statement)
            else:
                statement(conn)
    conn.execute(f"PRAGMA user_version = {len(MIGRATIONS)}")


def add_fts(conn: sqlite3.Connection) -> bool:
    """Create the full-text table if this SQLite can; False means queries fall back to a scan."""
    if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'prompts'").fetchone():
        return True
    try:
        conn.execute("SAVEPOINT fts")
        for statement in FTS:
            conn.execute(statement)
        conn.execute("INSERT INTO prompts (prompts) VALUES ('rebuild')")
        conn.execute("RELEASE fts")
    except sqlite3.OperationalError:  # no FTS5, or no trigram tokenizer (SQLite < 3.34)
        conn.execute("ROLLBACK TO fts")
        conn.execute("RELEASE fts")
        return False
    return True


def micros(moment: datetime | None) -> int | None:
    """An aware datetime as whole microseconds since 1970 (UTC), the form times are compared in."""
    return None if moment is None else (moment - _UNIX_EPOCH) // timedelta(microseconds=1)


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _whole(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def row_for(found: Found) -> tuple[Any, ...]:
    """The values of COLUMNS for one image (its record goes to `records`). Cost is this image's share of
    what was billed, else its estimate (the only figure a record has when a model's token rates are unknown)."""
    stored, stamp, rec = found.stored, found.stamp, found.stored.record
    hashes = rec.get("input_hashes")
    cost = _number(rec.get("cost_usd"))
    return (
        stored.id, stored.path.name, stored.run_id, stored.run_id or stored.id, stored.index,
        record_call(rec), stored.model, stored.prompt, stored.prompt.casefold(),
        dumps(rec["params"]) if isinstance(rec.get("params"), Mapping) else None,
        _whole(rec.get("width")), _whole(rec.get("height")),
        cost if cost is not None else _number(rec.get("cost_estimate_usd")),
        micros(stored.created), _text(rec.get("batch_id")),
        json.dumps(hashes, default=str) if isinstance(hashes, list) else None, _text(rec.get("status")),
        _text(rec.get("cache_key")), expected_count(rec), stamp.source, stamp.mtime_ns, stamp.size,
        _text(rec.get("thread")), _whole(rec.get("turn")),
    )


def run_columns(members: Sequence[tuple[str, int, int | None, int]]) -> tuple[int | None, str, int]:
    """(created, first id, complete) of a run from its images' (id, index, created, expected): how
    History orders runs (earliest time, then the id of its first image) and whether the cache may serve it."""
    first = min(members, key=lambda m: (m[1], m[0]))
    times = [m[2] for m in members if m[2] is not None]
    complete = set(range(first[3])) <= {m[1] for m in members}
    return (min(times) if times else None), first[0], int(complete)


def image_from_row(folder: Path, file: str, record_text: str) -> StoredImage:
    """A StoredImage from its row; the path is rebuilt from the folder, which may have moved."""
    record = json.loads(record_text)
    return stored_at(Path(file).stem, folder / file, record)
