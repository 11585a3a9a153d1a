"""The folder's SQLite index: it always ends up matching the files — after a crash between an image and its
row, processes saving at once, the index deleted or corrupt, a sidecar edited by hand, a newer schema."""

from __future__ import annotations

import io
import json
import logging
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

import image_widget
from image_widget.store import INDEX_FOLDER, History, Store, db, index_path, schema
from image_widget.store import scan as scan_mod
from image_widget.store.scan import folder_mtime

SRC = str(Path(image_widget.__file__).resolve().parents[1])


def png(seed: int = 0) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (seed % 256, 10, 10)).save(buf, "PNG")
    return buf.getvalue()


def save(store: Store, prompt: str, **extra: Any) -> Path:
    return store.save(png(), "png", {"prompt": prompt, "model": "gpt-image-2", **extra})


def index_rows(folder: Path) -> dict[str, tuple[Any, ...]]:
    """Every row of the index file as it is (no check against the folder first), by id, without row numbers."""
    conn = sqlite3.connect(index_path(folder))
    try:
        names = [c[1] for c in conn.execute("PRAGMA table_info(images)") if c[1] != "row"]
        sql = f"SELECT {', '.join(names)}, record FROM images JOIN records USING (row)"
        return {r[0]: r for r in conn.execute(sql)}
    finally:
        conn.close()


def rebuilt_rows(folder: Path) -> dict[str, tuple[Any, ...]]:
    """The rows of an index built from the files alone."""
    shutil.rmtree(folder / INDEX_FOLDER)
    History(folder)
    return index_rows(folder)


def files_say(folder: Path) -> set[str]:
    return {found.stored.id for found in scan_mod.read_folder(folder).images}


def pending(folder: Path) -> list[Any]:
    conn = sqlite3.connect(index_path(folder))
    try:
        return conn.execute("SELECT id FROM pending").fetchall()
    finally:
        conn.close()


def run_children(code: str, *args: str, count: int = 1) -> list[subprocess.CompletedProcess[str]]:
    """Start `count` Python processes at once (all import first, then wait on one another is not needed)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([SRC, os.environ.get("PYTHONPATH", "")])}
    procs = [subprocess.Popen([sys.executable, "-c", code, *args, str(k)], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for k in range(count)]
    done = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        done.append(subprocess.CompletedProcess(proc.args, proc.returncode, out, err))
    return done


KILLED_BEFORE_ITS_ROW = r"""
import io, os, signal, sys
from PIL import Image
from image_widget.store import Store
from image_widget.store.index import FolderIndex
FolderIndex.end_save = lambda *a, **k: os.kill(os.getpid(), signal.SIGKILL)  # image and sidecar written, no row
buf = io.BytesIO(); Image.new("RGB", (8, 8)).save(buf, "PNG")
Store(sys.argv[1]).save(buf.getvalue(), "png", {"prompt": "killed before its row", "model": "gpt-image-2"})
"""


@pytest.mark.parametrize("clock", ["moved", "coarse"])
def test_crash_between_the_image_and_its_row(tmp_path: Path, clock: str) -> None:
    """`coarse`: the folder's time did not move (a filesystem clock ticks in milliseconds or seconds), so
    only the save's pending mark, outliving its process, shows the index is behind."""
    folder = tmp_path / "out"
    save(Store(folder), "before")
    (child,) = run_children(KILLED_BEFORE_ITS_ROW, str(folder))
    assert child.returncode == -signal.SIGKILL, child.stderr
    assert "killed before its row" not in {r[7] for r in index_rows(folder).values()}
    assert len(pending(folder)) == 1
    if clock == "coarse":
        conn = sqlite3.connect(index_path(folder))
        conn.execute("UPDATE meta SET value = ? WHERE key = 'verified'", (folder_mtime(folder),))
        conn.commit()
        conn.close()

    history = History(folder)
    assert sorted(e.prompt for e in history) == ["before", "killed before its row"]
    assert pending(folder) == []
    assert set(index_rows(folder)) == files_say(folder)


SAVER = r"""
import io, sys
from PIL import Image
from image_widget.store import Store
folder, n, k = sys.argv[1], int(sys.argv[2]), sys.argv[3]
store = Store(folder)
for i in range(n):
    buf = io.BytesIO(); Image.new("RGB", (8, 8), (i, 0, 0)).save(buf, "PNG")
    store.save(buf.getvalue(), "png", {"prompt": f"process {k} image {i}", "model": "gpt-image-2",
                                       "created": "2026-11-01T12:00:00+00:00", "run_id": f"{k}" * 8 + f"{i:024x}"})
"""


@pytest.mark.parametrize("processes", [2, 4])
def test_processes_saving_at_once_index_every_image_once(tmp_path: Path, processes: int) -> None:
    folder = tmp_path / "out"
    per = 25
    for child in run_children(SAVER, str(folder), str(per), count=processes):
        assert child.returncode == 0, child.stderr
    live = index_rows(folder)  # as the savers left it, before any check against the files
    assert len(live) == processes * per
    assert set(live) == files_say(folder)
    assert len({row[7] for row in live.values()}) == processes * per  # every prompt once
    assert pending(folder) == []
    history = History(folder)
    assert len(history) == processes * per
    assert rebuilt_rows(folder) == live  # an index rebuilt from the files equals the live one


def hold_write_lock(path: Path, seconds: float) -> threading.Timer:
    """Another process in the middle of a write (or of switching the file into WAL): its lock, for a while."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("BEGIN IMMEDIATE")

    def release() -> None:
        conn.execute("COMMIT")
        conn.close()

    timer = threading.Timer(seconds, release)
    timer.start()
    return timer


def test_first_saves_while_another_process_opens_the_fresh_index(tmp_path: Path, monkeypatch: Any) -> None:
    """What lost one process's rows under load: the processes that queued on the folder lock while the first
    built the index open the fresh file at once; one met another's lock on it and kept its rows in memory."""
    folder = tmp_path / "out"
    build, timers = db.build, []

    def built_then_locked(*args: Any) -> None:
        build(*args)
        timers.append(hold_write_lock(index_path(folder), 0.3))

    monkeypatch.setattr(db, "build", built_then_locked)
    store = Store(folder)
    save(store, "one")
    save(store, "two")
    timers[0].join()
    assert sorted(r[7] for r in index_rows(folder).values()) == ["one", "two"]  # in the file, not in memory


def test_the_index_goes_back_to_disk_when_the_disk_is_writable_again(tmp_path: Path, monkeypatch: Any) -> None:
    """A folder whose index file cannot be opened (read-only, full) keeps its rows in memory; once the file can
    be opened again, the next use after DISK_RETRY_S puts the index back on disk, with every image in it."""
    from image_widget.store import index as index_mod

    folder = tmp_path / "out"
    connect, broken = db.connect, [True]

    def unwritable(path: Any, *args: Any, **kwargs: Any) -> sqlite3.Connection:
        if broken[0] and str(path) != ":memory:":
            raise sqlite3.OperationalError("unable to open database file")
        return connect(path, *args, **kwargs)

    monkeypatch.setattr(db, "connect", unwritable)
    monkeypatch.setattr(index_mod, "DISK_RETRY_S", 3600.0)
    store = Store(folder)
    save(store, "one")
    assert [s.record["prompt"] for s in History(folder)] == ["one"]   # from memory
    assert not index_path(folder).exists()
    broken[0] = False
    save(store, "two")
    assert not index_path(folder).exists()   # not before DISK_RETRY_S: reading the folder again costs
    monkeypatch.setattr(index_mod, "DISK_RETRY_S", 0.0)
    save(store, "three")
    assert index_path(folder).exists()
    assert sorted(r[7] for r in index_rows(folder).values()) == ["one", "three", "two"]   # in the file


def test_opening_an_index_another_process_is_switching_into_wal(tmp_path: Path) -> None:
    """Into WAL takes a write lock from inside a read, which SQLite's busy timeout does not wait for."""
    path = tmp_path / "older.sqlite"
    conn = sqlite3.connect(path)  # rollback-journal mode, as earlier releases built the index
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()
    timer = hold_write_lock(path, 0.3)
    conn = db.connect(path)
    timer.join()
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


def test_rebuilt_index_equals_the_live_one(tmp_path: Path) -> None:
    folder = tmp_path / "out"
    store = Store(folder)
    for i in range(2):  # a complete run of two
        store.save(png(i), "png", {"prompt": "pair", "run_id": "a" * 32, "index": i, "params": {"n": 2},
                                   "cost_usd": 0.01, "cache_key": "k", "created": "2026-11-01T10:00:00+00:00"})
    store.save(png(), "png", {"prompt": "cut off", "run_id": "b" * 32, "index": 1, "params": {"n": 2}})
    store.save(png(), "png", {"prompt": "jpeg-less png", "input_hashes": ["image:" + "0" * 64], "batch_id": "x"})
    live = index_rows(folder)
    assert [row[-7] for row in sorted(live.values())][:2] == [1, 1]  # the pair is complete (`complete`)
    assert rebuilt_rows(folder) == live


def test_a_killed_build_leaves_nothing_behind_for_long(tmp_path: Path) -> None:
    folder = tmp_path / "out"
    save(Store(folder), "one")
    leftover = index_path(folder).with_name(f".{index_path(folder).name}.abc123.tmp")
    leftover.write_bytes(b"half an index")  # a build killed midway
    index_path(folder).unlink()
    assert [e.prompt for e in History(folder)] == ["one"]  # the next build sweeps it away
    assert not leftover.exists()


def test_index_deleted_while_in_use(tmp_path: Path) -> None:
    folder = tmp_path / "out"
    store = Store(folder)
    save(store, "one")
    history = History(folder)
    shutil.rmtree(folder / INDEX_FOLDER)
    assert [e.prompt for e in History(folder)] == ["one"]  # rebuilt from the files
    assert [e.prompt for e in history] == ["one"]  # an open History follows the new file
    save(store, "two")  # an open Store writes into the new file, not the deleted one
    assert sorted(r[7] for r in index_rows(folder).values()) == ["one", "two"]
    assert store.lookup("missing") is None
    assert len(store) == 2


@pytest.mark.parametrize("damage", ["garbage", "torn"])
def test_index_corrupt(tmp_path: Path, damage: str, caplog: pytest.LogCaptureFixture) -> None:
    folder = tmp_path / "out"
    store = Store(folder)
    save(store, "one")
    save(store, "two")
    live = index_rows(folder)
    path = index_path(folder)
    if damage == "garbage":
        path.write_bytes(os.urandom(8192))
    else:  # a sound header, then pages of noise (moved out of the WAL first, or the WAL would still hold them)
        conn = sqlite3.connect(path)
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.close()
        data = bytearray(path.read_bytes())
        data[4096:] = os.urandom(max(len(data) - 4096, 4096))
        path.write_bytes(bytes(data))
    with caplog.at_level(logging.WARNING, logger="image_widget.store"):
        history = History(folder)
        assert sorted(e.prompt for e in history) == ["one", "two"]
        save(store, "three")  # the open Store carries on too
    assert "is damaged" in caplog.text
    assert set(index_rows(folder)) == files_say(folder)
    assert {k: v for k, v in index_rows(folder).items() if k in live} == live


def test_sidecar_edited_by_hand(tmp_path: Path) -> None:
    folder = tmp_path / "out"
    store = Store(folder)
    first, second = save(store, "first"), save(store, "second")
    sidecar = first.with_suffix(".json")

    record = json.loads(sidecar.read_text())
    sidecar.write_text(json.dumps({**record, "prompt": "edited in place"}))  # leaves the folder's time alone
    history = History(folder)  # an edit in place leaves the folder's time as it was: reload() reads it
    assert [e.prompt for e in history.reload().filter(prompt="edited")] == ["edited in place"]

    tmp = folder / ".edit.tmp"
    tmp.write_text(json.dumps({**record, "prompt": "replaced by an editor"}))
    os.replace(tmp, sidecar)  # how most editors save: the folder's time moves
    assert [e.prompt for e in History(folder).filter(prompt="editor")] == ["replaced by an editor"]

    second.with_suffix(".json").unlink()  # the PNG chunk still has the record
    first.unlink()  # its sidecar now points at nothing
    history = History(folder)
    assert [e.prompt for e in history] == ["second"]
    assert (history.recovered, history.skipped) == (1, 1)
    assert set(index_rows(folder)) == files_say(folder)


def test_newer_schema_is_rebuilt_not_fatal(tmp_path: Path) -> None:
    folder = tmp_path / "out"
    save(Store(folder), "one")
    conn = sqlite3.connect(index_path(folder))
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    assert [e.prompt for e in History(folder)] == ["one"]
    conn = sqlite3.connect(index_path(folder))
    assert conn.execute("PRAGMA user_version").fetchone()[0] == len(schema.MIGRATIONS)
    conn.close()


def test_older_schema_is_migrated_in_place(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "out"
    save(Store(folder), "one")
    before = index_rows(folder)
    versions = len(schema.MIGRATIONS)
    monkeypatch.setattr(schema, "MIGRATIONS", [*schema.MIGRATIONS, ("ALTER TABLE images ADD COLUMN rating INTEGER",)])
    monkeypatch.setattr(scan_mod, "read_folder", lambda *_: pytest.fail("migrated by reading every sidecar"))
    assert [e.prompt for e in History(folder)] == ["one"]
    conn = sqlite3.connect(index_path(folder))
    assert conn.execute("PRAGMA user_version").fetchone()[0] == len(schema.MIGRATIONS) == versions + 1
    conn.close()
    assert {k: (*v[:-2], v[-1]) for k, v in index_rows(folder).items()} == before  # same rows, one more column


def test_unusable_index_falls_back_to_reading_the_folder(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    index_path(folder).mkdir(parents=True)  # something in the way that no database can be opened on
    with caplog.at_level(logging.WARNING, logger="image_widget.store"):
        store = Store(folder)
        save(store, "saved anyway")
        assert store.lookup("x") is None
        assert [e.prompt for e in History(folder)] == ["saved anyway"]
    assert "reading the folder instead" in caplog.text


def test_reading_leaves_no_index_in_an_empty_or_missing_folder(tmp_path: Path) -> None:
    assert len(History(tmp_path / "missing")) == 0
    assert Store(tmp_path / "missing").lookup("k") is None
    assert not (tmp_path / "missing").exists()
    (tmp_path / "empty").mkdir()
    assert len(History(tmp_path / "empty")) == 0
    assert list((tmp_path / "empty").iterdir()) == []
    later = History(tmp_path / "empty")
    save(Store(tmp_path / "empty"), "first")  # the first save makes the index
    assert index_path(tmp_path / "empty").is_file()
    assert [e.prompt for e in later.reload()] == ["first"]


def test_history_is_a_snapshot_until_reload_or_add_run(tmp_path: Path) -> None:
    folder = tmp_path / "out"
    store = Store(folder)
    save(store, "old")
    history = History(folder)
    newer = save(store, "new")
    assert [e.prompt for e in history] == ["old"]
    history.add_run([store.load(newer.stem)])
    assert [e.prompt for e in history] == ["new", "old"]
    save(store, "newest")
    assert len(history) == 2
    assert len(history.reload()) == 3


def test_a_run_saved_by_threads_leaves_the_index_current(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`api` saves a run's images in parallel through one Store: they explain each other's changes to the
    folder, so the next open trusts the index instead of checking every sidecar."""
    import concurrent.futures

    folder = tmp_path / "out"
    store = Store(folder)
    save(store, "first")
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda i: save(store, f"run image {i}", run_id="c" * 32, index=i, params={"n": 8}), range(8)))
    monkeypatch.setattr(scan_mod, "read_folder", lambda *_: pytest.fail("the folder was checked again"))
    history = History(folder)
    assert len(history) == 9
    assert history.runs()[0].complete


def test_a_save_in_progress_elsewhere_is_not_mistaken_for_a_crash(tmp_path: Path) -> None:
    from image_widget.store import db

    assert db.alive(os.getpid(), db.HOST, None) is False  # no start time: not a mark this code wrote
    assert db.alive(os.getpid(), db.HOST, time.time())
    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                           check=True)
    assert db.alive(int(child.stdout), db.HOST, time.time()) is False  # that process is gone
    assert db.alive(os.getpid(), db.HOST, time.time() - db.STALE_PENDING_S - 1) is False


def test_index_stays_current_after_the_writing_process_exits(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """The last connection to close deletes SQLite's -wal and -shm; kept in the index's own folder, that
    does not move the store folder's time, so the next process trusts the index."""
    folder = tmp_path / "out"
    for child in run_children(SAVER, str(folder), "3"):
        assert child.returncode == 0, child.stderr
    assert not index_path(folder).with_name(index_path(folder).name + "-wal").exists()  # all closed
    monkeypatch.setattr(scan_mod, "read_folder", lambda *_: pytest.fail("the folder was read"))
    assert len(History(folder)) == 3


def test_a_save_never_reads_the_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Even with the index behind (a file copied in by hand), a save only adds its own row: checking the
    folder is for readers, or every save of two busy processes would pay for a whole scan."""
    folder = tmp_path / "out"
    store = Store(folder)
    copied = save(store, "copied in")
    other = tmp_path / "elsewhere"
    other.mkdir()
    for path in (copied, copied.with_suffix(".json")):
        path.rename(other / path.name)
    History(folder)  # now without it
    for path in other.iterdir():
        path.rename(folder / path.name)  # back, behind the index's back
    with monkeypatch.context() as patch:
        patch.setattr(scan_mod, "read_folder", lambda *_: pytest.fail("a save read the folder"))
        save(store, "saved after")
    assert sorted(e.prompt for e in History(folder)) == ["copied in", "saved after"]
