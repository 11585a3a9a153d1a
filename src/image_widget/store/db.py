"""The index file itself: opening it, building a fresh one from the folder, and replacing a bad one.

A fresh index is built in a temporary file and moved into place whole, under a lock on the folder
(POSIX `flock`), so a process never sees half an index and two processes that both find it missing or
damaged build it once. Everything else (rows, migrations) relies on SQLite's own locking: WAL mode
(readers never wait for the writer) and a busy timeout (writers queue instead of failing).

The file is moved into place already in WAL mode. Switching a file into WAL takes a write lock from
inside a read, which SQLite's busy handler does not wait for: processes opening a fresh rollback-mode
file at the same instant (all those that queued on the folder lock while it was built) would get
SQLITE_BUSY at once, and such a process would keep its rows in memory for good.
"""

from __future__ import annotations

import contextlib
import os
import socket
import sqlite3
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

from image_widget.base.processes import running
from image_widget.store import schema
from image_widget.store.scan import Found, Scan, Stamp
from image_widget.store.schema import INDEX_FILES, add_fts, migrate, run_columns, write_rows

BUSY_S = 30.0
"""How long a write waits for another process's write before giving up (then the files still hold it all)."""
_BUSY, _CORRUPT, _NOTADB = 5, 11, 26  # SQLITE_BUSY, SQLITE_CORRUPT, SQLITE_NOTADB
HOST = socket.gethostname()
STALE_PENDING_S = 600.0
"""A save marked in progress this long ago is over, whatever its process id says (ids are reused)."""


class NewerIndex(Exception):
    """The file was written by a newer release whose schema this one does not know."""


def is_damaged(exc: sqlite3.Error) -> bool:
    """Whether an error means the file is not a sound database (rebuild it), as opposed to busy or
    read-only (use it later, or read the folder instead)."""
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(code, int):
        return code & 0xFF in (_CORRUPT, _NOTADB)
    return type(exc) is sqlite3.DatabaseError


def connect(path: Path | str, *, wal: bool = True) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are explicit) that threads may share under a lock."""
    conn = sqlite3.connect(path, timeout=BUSY_S, isolation_level=None, check_same_thread=False)
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(BUSY_S * 1000)}")
        if wal:
            _into_wal(conn)
        conn.execute("PRAGMA synchronous = NORMAL")  # durable at checkpoints; a lost row is rebuilt from files
        conn.execute("PRAGMA journal_size_limit = 16777216")  # busy writers must not leave a huge WAL behind
    except BaseException:
        conn.close()
        raise
    return conn


def _into_wal(conn: sqlite3.Connection) -> None:
    """WAL mode (stays 'delete' where WAL cannot work, as on some network shares). Into WAL from another
    mode takes a write lock from inside a read, which the busy timeout does not wait for when another
    connection is doing the same (SQLITE_BUSY at once, to avoid a deadlock): so wait here instead."""
    deadline, pause = time.monotonic() + BUSY_S, 0.001
    while True:
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if getattr(exc, "sqlite_errorcode", _BUSY) & 0xFF != _BUSY or time.monotonic() > deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.05)


def version_of(conn: sqlite3.Connection) -> int:
    """The schema version, after bringing an older file forward (NewerIndex for a newer one)."""
    version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    if version == len(schema.MIGRATIONS):
        return version
    if version > len(schema.MIGRATIONS):
        raise NewerIndex(f"index schema {version} is newer than {len(schema.MIGRATIONS)}")
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])  # another process may have done it
        if version < len(schema.MIGRATIONS):
            migrate(conn, version)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return len(schema.MIGRATIONS)


@contextlib.contextmanager
def folder_lock(folder: Path) -> Iterator[None]:
    """Exclusive among processes that build or replace the index here; a no-op where flock is missing."""
    try:
        import fcntl
    except ImportError:  # Windows: an open index cannot be deleted or replaced there anyway
        yield
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        yield
        return
    try:
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


@contextlib.contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[None]:
    """A write transaction that takes the lock at once (no deadlock between two readers turning writers)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def alive(pid: int | None, host: str | None, started: float | None) -> bool:
    """Whether the process that marked a save pending may still be writing it."""
    age = time.time() - (started or 0.0)
    if age > STALE_PENDING_S or pid is None:
        return False
    found = running(pid) if host == HOST else None
    return age < 60.0 if found is None else found  # another machine's, or not askable here: by its age


def identity(path: Path) -> tuple[int, int] | None:
    """(device, inode) of the index file: changes when it is deleted or replaced under an open connection."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino


def remove_index(path: Path, keep: Path | None = None) -> None:
    """Delete the index file, SQLite's side files (a stale -wal would be replayed into a new file) and
    what builds that were killed left behind, with their side files (called under the folder lock, so none
    is running)."""
    for leftover in [*(path.with_name(name) for name in INDEX_FILES), *path.parent.glob(f".{path.name}.*.tmp*")]:
        if leftover != keep:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(leftover)


def build(folder: Path, path: Path, read_folder: Callable[..., Scan]) -> None:
    """Write a complete index of `folder` to a temporary file and move it into place.

    Row numbers start at the current time in microseconds, so they stay above those of any earlier
    index of this folder and a `changes_since` poller never misses an image after a rebuild.
    """
    path.parent.mkdir(exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        conn = connect(tmp, wal=False)
        try:
            conn.execute("PRAGMA journal_mode = OFF")  # a scratch file: a crash just leaves it to be ignored
            conn.execute("PRAGMA synchronous = OFF")
            conn.execute("BEGIN")
            migrate(conn, 0)
            conn.execute("INSERT INTO sqlite_sequence (name, seq) VALUES ('images', ?)", (time.time_ns() // 1000,))
            scan = fill(conn, folder, read_folder, incremental=False)
            add_fts(conn)
            meta = {"generation": uuid.uuid4().hex, "verified": scan.listed_mtime_ns, "built": time.time()}
            conn.executemany("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", meta.items())
            conn.execute("COMMIT")
            _into_wal(conn)  # while no one else can see it (see the module's docstring)
        finally:
            conn.close()
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        remove_index(path, keep=Path(tmp))
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def in_memory(folder: Path, read_folder: Callable[..., Scan]) -> sqlite3.Connection:
    """An index of `folder` that lives only in this process: where no file can be kept."""
    conn = connect(":memory:", wal=False)
    conn.execute("BEGIN")
    migrate(conn, 0)
    scan = fill(conn, folder, read_folder, incremental=False)
    conn.execute("INSERT INTO meta (key, value) VALUES ('verified', ?)", (scan.listed_mtime_ns,))
    conn.execute("COMMIT")
    return conn


def fill(conn: sqlite3.Connection, folder: Path, read_folder: Callable[..., Scan], *, incremental: bool) -> Scan:
    """Bring the rows in line with the folder inside the open transaction: read what changed (all of it
    unless `incremental`), drop rows whose files are gone, redo the runs touched, replace the problems."""
    known: dict[str, tuple[Stamp, str]] = {}
    if incremental:
        known = {row[0]: (Stamp(row[1], row[2], row[3]), row[4])
                 for row in conn.execute("SELECT id, source, mtime_ns, size, run_key FROM images")}
    batch: list[Found] = []
    written: set[str] = set()
    runs: set[str] = set()

    def flush() -> None:
        write_rows(conn, batch)
        for found in batch:
            written.add(found.stored.id)
            runs.add(found.stored.run_id or found.stored.id)
        batch.clear()

    def sink(found: Found) -> None:
        batch.append(found)
        if len(batch) >= 500:
            flush()

    scan = read_folder(folder, {k: v[0] for k, v in known.items()}, sink)
    flush()
    gone = set(known) - scan.unchanged - written
    runs.update(known[i][1] for i in (gone | written) & known.keys())  # a run that lost or changed an image
    conn.executemany("DELETE FROM images WHERE id = ?", [(i,) for i in gone])
    refresh_runs(conn, runs)
    conn.execute("DELETE FROM problems")
    conn.executemany("INSERT INTO problems (message) VALUES (?)", [(p,) for p in scan.problems])
    conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('skipped', ?)", (scan.skipped,))
    return scan


def refresh_runs(conn: sqlite3.Connection, keys: set[str]) -> None:
    """Recompute each run's order columns and completeness from its rows (after rows came or went)."""
    ordered = sorted(keys)
    for start in range(0, len(ordered), 500):
        chunk = ordered[start:start + 500]
        members: dict[str, list[tuple[str, int, int | None, int]]] = {}
        for key, *member in conn.execute(
                f"SELECT run_key, id, idx, created_us, expected FROM images WHERE run_key IN "  # noqa: S608
                f"({','.join('?' * len(chunk))})", chunk):
            members.setdefault(key, []).append(tuple(member))
        conn.executemany("UPDATE images SET run_created_us = ?, run_first = ?, complete = ? WHERE run_key = ?",
                         [(*run_columns(m), key) for key, m in members.items()])
