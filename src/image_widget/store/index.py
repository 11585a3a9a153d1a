"""`FolderIndex`: what the folder holds, in a SQLite file inside it, so nothing reads every sidecar twice.

`Store` (saves, cache look-ups, load by id) and `History` (queries) sit on it. The files stay the truth.
On use the index is checked against them in constant time — the folder's modification time (any file
added, removed or renamed moves it) against the one last verified, and the saves marked pending — and
read again from them when that fails: missing, damaged or of a newer schema → a fresh file is built;
the folder moved behind its back (or `forget()`) → only sidecars whose time or size changed are read,
gone images dropped; a save whose pending mark outlived its process → that image is read.

A save takes its file names and their pending marks in one write transaction (a run's images at once), writes
its files, then adds their rows and clears the marks in another: a crash at any point is found. The mark says
whether the index was current as the save began (or a current save was under way); such saves move the verified
time along, so saves by several processes at once leave the index current. Saves never read the folder; readers do
(a save into a folder whose index was deleted writes its files first, unmarked, and builds the index after).
Where no index can be kept (read-only folder, locked too long) rows are read into memory instead, and the
file is tried again after `DISK_RETRY_S`: once the disk is writable again, the index is back on it.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from image_widget.store import db, scan
from image_widget.store.records import StoredImage
from image_widget.store.scan import Found, Scan, folder_mtime, found_for, has_images, read_one
from image_widget.store.schema import RECORD, image_from_row, index_path, write_rows

log = logging.getLogger("image_widget.store")
T = TypeVar("T")
DISK_RETRY_S = 5.0
"""How long rows kept in memory after a failure (read-only folder, full disk) wait before the file is tried again:
when the disk is writable again the index goes back to it (not at every call: reading the folder costs)."""
_ORPHANS: list[sqlite3.Connection] = []  # connections to a deleted/replaced file: never closed (see _drop)


def _read_folder(folder: Path, known: Any = None, sink: Callable[[Found], None] | None = None) -> Scan:
    """Read through the module attribute `scan.read_folder`, which tests patch to count or forbid folder reads."""
    return scan.read_folder(folder, known, sink)


class _SaveFailed(Exception):
    """Carries an error of the save itself out through the index's own error handling."""


class FolderIndex:
    """Every image of one folder (records, never pixels), by id, by cache key and by query. Thread-safe."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.path = index_path(folder)
        self.generation = ""  # changes whenever the rows are rebuilt from nothing (History re-snapshots)
        self.fts = False
        self._lock = threading.RLock()
        self._conn: sqlite3.Connection | None = None
        self._owner: tuple[int, tuple[int, int] | None] = (0, None)  # (pid, file identity) of the connection
        self._memory = ""  # why rows live in memory: "" (a file), "empty" (nothing here yet), "error"
        self._memory_since = 0.0  # when the rows went to memory (time.monotonic): "error" tries the file again
        self._force = False

    # -- the connection

    def _connection(self, create: bool) -> sqlite3.Connection:
        conn, (pid, ident) = self._conn, self._owner
        if conn is not None and pid == os.getpid():
            if self._memory == "error" and time.monotonic() - self._memory_since < DISK_RETRY_S:
                return conn
            if self._memory == "empty" and not create and not self.path.exists():
                return conn
            if not self._memory and db.identity(self.path) == ident:
                return conn
        self._drop(conn)
        if not self.folder.is_dir() or (not create and not self.path.exists() and not has_images(self.folder)):
            return self._in_memory("empty")
        try:
            return self._open_file()
        except db.NewerIndex as exc:
            log.warning("image_widget: %s in %s; building one this release knows", exc, self.folder)
            self._rebuild(replace=db.identity(self.path))
            return self._open_file()

    def _open_file(self) -> sqlite3.Connection:
        if not self.path.exists():
            self._rebuild(replace=None)
        ident = db.identity(self.path)
        conn = db.connect(self.path)
        try:
            db.version_of(conn)
            self.generation = str(conn.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()[0])
            self.fts = conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'prompts'").fetchone() is not None
        except BaseException:
            conn.close()
            raise
        self._conn, self._owner, self._memory = conn, (os.getpid(), ident), ""
        return conn

    def _rebuild(self, replace: tuple[int, int] | None) -> None:
        """Build a fresh file, unless another process did while we waited for the lock."""
        with db.folder_lock(self.folder):
            now = db.identity(self.path)
            if (replace is None and now is not None) or (replace is not None and now != replace):
                return
            db.build(self.folder, self.path, _read_folder)

    def _in_memory(self, why: str) -> sqlite3.Connection:
        conn = db.in_memory(self.folder, _read_folder)
        self._conn, self._owner, self._memory = conn, (os.getpid(), None), why
        self._memory_since = time.monotonic()
        self.generation, self.fts = f"memory-{id(conn)}-{time.monotonic_ns()}", False
        return conn

    def _drop(self, conn: sqlite3.Connection | None) -> None:
        """Forget the connection. One to a file (deleted, replaced, or inherited across fork) is kept open on
        purpose: closing the last connection to a file deletes its `-wal` by name, which may by now belong
        to a new file."""
        if conn is not None and not self._memory:
            _ORPHANS.append(conn)
        self._conn, self._memory = None, ""

    def _use(self, fn: Callable[[sqlite3.Connection], T], *, create: bool = False, fresh: bool = True) -> T:
        """Run `fn` on a current index: rebuild a damaged file once; if the file cannot be used at all
        (read-only folder, locked too long), on an index read into memory."""
        with self._lock:
            for attempt in range(2):
                try:
                    conn = self._connection(create)
                    if fresh and not self._memory:
                        self._freshen(conn)
                    return fn(conn)
                except (sqlite3.ProgrammingError, sqlite3.InterfaceError):
                    raise  # a bug, not the file
                except (sqlite3.Error, OSError) as exc:
                    if self._memory:
                        raise
                    if attempt == 0 and isinstance(exc, sqlite3.Error) and db.is_damaged(exc):
                        log.warning("image_widget: the index %s is damaged (%s); rebuilding it from the files",
                                    self.path, exc)
                        self._drop(self._conn)
                        self._rebuild(replace=db.identity(self.path))
                        continue
                    log.warning("image_widget: cannot use the index in %s (%s); reading the folder instead",
                                self.folder, exc)
                    self._drop(self._conn)
                    break
            return fn(self._in_memory("error"))

    # -- keeping it current

    def _freshen(self, conn: sqlite3.Connection) -> None:
        """The constant-time check: the folder's time against the one last verified, and pending saves.

        A mismatch is explained while saves that began on a current index are still under way (they mark
        themselves before touching the folder); anything else means the folder changed behind the index.
        """
        verified, pending = conn.execute(
            "SELECT (SELECT value FROM meta WHERE key = 'verified'), EXISTS (SELECT 1 FROM pending)").fetchone()
        if self._force:
            self._reconcile(conn)
            return
        marks = conn.execute("SELECT id, file, pid, host, started, trusted FROM pending").fetchall() if pending else []
        live = [bool(trusted) for _, _, pid, host, started, trusted in marks if db.alive(pid, host, started)]
        dead = [(stem, file) for stem, file, pid, host, started, _ in marks if not db.alive(pid, host, started)]
        explained = bool(live) and all(live)
        if verified != folder_mtime(self.folder) and not explained:
            self._reconcile(conn)
        elif dead:
            self._resolve(conn, dead)

    def _reconcile(self, conn: sqlite3.Connection) -> None:
        """Read again what changed in the folder (under the write lock, so no save's row slips between)."""
        with db.transaction(conn):
            dead = [r[0] for r in conn.execute("SELECT id, pid, host, started FROM pending") if not db.alive(*r[1:])]
            conn.executemany("DELETE FROM pending WHERE id = ?", [(i,) for i in dead])  # the scan reads their files
            scan = db.fill(conn, self.folder, _read_folder, incremental=True)
            conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('verified', ?)", (scan.listed_mtime_ns,))
            conn.execute("UPDATE pending SET trusted = 1")  # what they change from now on is theirs to explain
        self._force = False

    def _resolve(self, conn: sqlite3.Connection, dead: list[tuple[str, str]]) -> None:
        """Saves that died between their image and their row: index what their files say now."""
        with db.transaction(conn):
            for stem, file in dead:
                found = read_one(self.folder, stem, file)
                if found is not None:
                    self._write(conn, found)
                else:
                    conn.execute("DELETE FROM images WHERE id = ?", (stem,))
                conn.execute("DELETE FROM pending WHERE id = ?", (stem,))

    def _write(self, conn: sqlite3.Connection, found: Found) -> None:
        write_rows(conn, [found])
        db.refresh_runs(conn, {found.stored.run_id or found.stored.id})

    def forget(self) -> None:
        """Check every sidecar's time and size on next use (for edits the folder's time does not show)."""
        with self._lock:
            self._force = True
            if self._memory:
                self._drop(None)

    # -- saving (Store.save_many): mark pending and take the names, write the files, add the rows

    def begin_save(self, reserve: Callable[[], list[Path]]) -> tuple[list[Path], bool]:
        """Take the names of a run's images with `reserve` and mark their saves pending, in one write
        transaction; (the names, whether they are marked). Index trouble never stops a save: the files are
        what matter."""
        reserved: list[list[Path]] = []
        if not self.path.exists() and has_images(self.folder):  # building it reads every sidecar (seconds at 100k
            return reserve(), False  # images): not between a paid answer and the disk — `end_save` builds it after

        def begin(conn: sqlite3.Connection) -> tuple[list[Path], bool]:
            with db.transaction(conn):
                (verified,), = conn.execute("SELECT (SELECT value FROM meta WHERE key = 'verified')")
                marks = conn.execute("SELECT pid, host, started FROM pending WHERE trusted = 1").fetchall()
                trusted = verified == folder_mtime(self.folder) or any(db.alive(*mark) for mark in marks)
                if not reserved:
                    try:
                        reserved.append(reserve())
                    except BaseException as exc:  # the save's own error, not the index's: let it through
                        raise _SaveFailed(exc) from exc
                paths, now = reserved[0], time.time()
                conn.executemany("INSERT OR REPLACE INTO pending (id, file, pid, host, started, trusted) "
                                 "VALUES (?, ?, ?, ?, ?, ?)",
                                 [(path.stem, path.name, os.getpid(), db.HOST, now, int(trusted)) for path in paths])
                if trusted:
                    self._set_verified(conn)
            return paths, True

        try:
            return self._use(begin, create=True, fresh=False)
        except _SaveFailed as failed:
            raise failed.args[0] from None
        except (sqlite3.Error, OSError) as exc:
            log.warning("image_widget: cannot mark a save in the index of %s: %s", self.folder, exc)
            return (reserved[0] if reserved else reserve()), False

    def _set_verified(self, conn: sqlite3.Connection, folder_time: int | None = None) -> None:
        """The index matches the folder as of its time now, or as of `folder_time` (a run's writes done) — never
        moved back: saves side by side end in any order, each having seen the others' files."""
        value = folder_mtime(self.folder) if folder_time is None else folder_time
        if folder_time is not None:
            (before,), = conn.execute("SELECT (SELECT value FROM meta WHERE key = 'verified')")
            if isinstance(before, int) and value is not None:
                value = max(value, before)
        conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('verified', ?)", (value,))

    def end_save(self, saved: Sequence[tuple[str, Found | None]], marked: bool, folder_time: int | None = None) -> None:
        """Add the rows of a run's saved images (None: that save failed and left nothing) and clear their
        pending marks, in one write transaction. `folder_time`: the folder's time once their files were written
        (a change made after it is not theirs: the next reader looks again)."""
        def end(conn: sqlite3.Connection) -> None:
            with db.transaction(conn):
                found = [item for _, item in saved if item is not None]
                if found:
                    write_rows(conn, found)
                    db.refresh_runs(conn, {item.stored.run_id or item.stored.id for item in found})
                stems = [(stem,) for stem, _ in saved]
                trusted = [row[0] for stem in stems
                           for row in conn.execute("SELECT trusted FROM pending WHERE id = ?", stem)]
                conn.executemany("DELETE FROM pending WHERE id = ?", stems)
                if marked and trusted and all(trusted):  # (a re-check meanwhile may have made them trusted)
                    self._set_verified(conn, folder_time)

        try:
            self._use(end, create=True, fresh=False)
        except (sqlite3.Error, OSError) as exc:
            log.warning("image_widget: cannot index %s (saved; the index catches up later): %s",
                        ", ".join(stem for stem, _ in saved), exc)

    # -- the interface Store and History use

    def add(self, stored: StoredImage) -> None:
        """Index an image found on disk outside a save (e.g. saved by another process, read by `load`)."""
        found = found_for(self.folder, stored)
        if found is None:
            return

        def add(conn: sqlite3.Connection) -> None:
            with db.transaction(conn):
                self._write(conn, found)

        try:
            self._use(add, create=True, fresh=False)
        except (sqlite3.Error, OSError) as exc:
            log.warning("image_widget: could not index %s: %s", stored.id, exc)

    def rows(self, sql: str, params: Sequence[Any] = (), *, fresh: bool = False) -> list[tuple[Any, ...]]:
        """Run a read query (History's); `fresh` first checks the index against the folder."""
        return self._use(lambda conn: conn.execute(sql, params).fetchall(), fresh=fresh)

    def _images(self, where: str = "1", params: Sequence[Any] = ()) -> list[StoredImage]:
        return [image_from_row(self.folder, file, text) for file, text in self.rows(
            f"SELECT file, {RECORD} FROM images WHERE {where} ORDER BY id", params, fresh=True)]  # noqa: S608

    def images(self) -> list[StoredImage]:
        """Every image, by id (names start with the time, so that is oldest first)."""
        return self._images()

    def get(self, image_id: str) -> StoredImage | None:
        found = self._images("id = ?", (image_id,))
        return found[0] if found else None

    def runs_with_key(self, cache_key: str) -> list[list[StoredImage]]:
        """The runs saved with `cache_key`, each as its images ordered by index (complete or not)."""
        runs: dict[str, list[StoredImage]] = {}
        rows = self.rows(f"SELECT run_key, file, {RECORD} FROM images WHERE cache_key = ? "  # noqa: S608
                         "ORDER BY run_key, idx, id", (cache_key,), fresh=True)
        for run_key, file, text in rows:
            runs.setdefault(run_key, []).append(image_from_row(self.folder, file, text))
        return list(runs.values())

    def problems(self) -> list[str]:
        return [m for (m,) in self.rows("SELECT message FROM problems ORDER BY rowid")]

    def __contains__(self, image_id: object) -> bool:
        return isinstance(image_id, str) and bool(self.rows("SELECT 1 FROM images WHERE id = ?", (image_id,),
                                                            fresh=True))

    def __len__(self) -> int:
        return int(self.rows("SELECT COUNT(*) FROM images", fresh=True)[0][0])
