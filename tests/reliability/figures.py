"""The store-folder audit the reliability figures rest on (the figures themselves: support/figures.py)."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

from PIL import Image

from image_widget.store import INDEX_FOLDER, INPUTS_FOLDER, index_path
from image_widget.store.scan import read_folder
from image_widget.sweeps.batch.intent import BATCHES_FOLDER


def audit_folder(folder: Path, *, allow_placeholders: bool = False) -> tuple[list[Path], list[str]]:
    """(whole images that have a valid sidecar, every problem found) in a store folder.

    Problems: temp files (not the index's own files), empty files, images that do not decode or have no
    sidecar, sidecars that do not parse or point nowhere, inputs whose bytes do not match their hash,
    anything unexpected.
    `allow_placeholders` lets zero-byte image names through — the name a save reserves before its
    first `os.replace`, left behind only when the process dies in between; every reader skips them.
    """
    whole: list[Path] = []
    problems: list[str] = []
    for path in sorted(folder.rglob("*")) if folder.exists() else []:
        name = path.name
        if folder / INDEX_FOLDER in (path, path.parent):
            continue  # the index (and SQLite's side files): checked against the files by `index_mismatches`
        if folder / BATCHES_FOLDER in (path, *path.parents):
            continue  # batch sweeps' intents and input files (tests/reliability/test_batch_faults.py)
        if path.is_dir():
            if path != folder / INPUTS_FOLDER:
                problems.append(f"unexpected folder {name}")
        elif name.startswith(".") or name.endswith(".tmp"):
            problems.append(f"temp file left: {name}")
        elif path.parent == folder / INPUTS_FOLDER:  # edit inputs, kept by content hash
            if hashlib.sha256(path.read_bytes()).hexdigest() != path.stem:
                problems.append(f"input {name} is not whole (its hash does not match its name)")
        elif path.parent != folder:
            problems.append(f"unexpected file {path.relative_to(folder)}")
        elif path.stat().st_size == 0:
            if not (allow_placeholders and path.suffix != ".json"):
                problems.append(f"empty file left: {name}")
        elif path.suffix == ".json":
            try:
                record = json.loads(path.read_text(encoding="utf-8"))
            except ValueError:
                problems.append(f"unreadable sidecar {name}")
                continue
            if not Path(record["path"]).is_file() or Path(record["path"]).stem != path.stem:
                problems.append(f"sidecar {name} points at a missing image")
        else:
            try:
                with Image.open(path) as img:
                    img.load()
            except Exception as exc:  # noqa: BLE001 - any decode failure is a half-written file
                problems.append(f"{name} does not decode: {exc}")
                continue
            if not path.with_suffix(".json").is_file():
                problems.append(f"{name} has no sidecar")
                continue
            whole.append(path)
    return whole, problems


def index_mismatches(folder: Path) -> list[str]:
    """How the folder's index, read as it is (no check against the files first), differs from what the
    files say: ids missing or extra, records that differ. Nothing when there is no index."""
    if not index_path(folder).exists():
        return []
    conn = sqlite3.connect(index_path(folder))
    try:
        indexed = {i: json.loads(text) for i, text in conn.execute(
            "SELECT id, record FROM images JOIN records USING (row)")}
        pending = [i for (i,) in conn.execute("SELECT id FROM pending")]
    finally:
        conn.close()
    files = {found.stored.id: found.stored.record for found in read_folder(folder).images}
    problems = [f"not indexed: {i}" for i in sorted(files.keys() - indexed.keys())]
    problems += [f"indexed but not on disk: {i}" for i in sorted(indexed.keys() - files.keys())]
    problems += [f"record differs: {i}" for i in sorted(files.keys() & indexed.keys()) if files[i] != indexed[i]]
    return problems + [f"still marked pending: {i}" for i in pending]
