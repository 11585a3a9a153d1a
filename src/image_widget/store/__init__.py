"""Disk history and cache: every image that was paid for is written to disk before anyone sees it.

Layout of the folder (one pair of files per image, nothing else is needed to reload):

    20261101-120304-1a2b3c4d-0.png    the image bytes as received; PNGs also carry the record in an
                                      iTXt chunk `image_widget`, inserted before the first IDAT (the
                                      pixel data) without re-encoding
    20261101-120304-1a2b3c4d-0.json   the record (the "sidecar"), UTF-8 JSON

Names are `<UTC yyyymmdd-HHMMSS>-<run_id 8 hex>-<index>[_<k>]` and never contain prompt text. Both
files are written atomically (temporary file in the same folder, `os.replace`; fsync follows off the
caller's path), the image first, so a killed process leaves at worst an image without a sidecar (PNGs
are recovered from their chunk) or a hidden `.…tmp` file, which every reader ignores. Input images and
masks of edits are kept once each under `inputs/<sha256>.<ext>`, so any edit can be re-run.

A run (one request, `run_id`) is *complete* when the images with indices 0 … count-1 all exist, where
count is the record's `count` (the number of images the response actually returned, if the caller
sets it), else `params["n"]`, else 1. Only complete runs are served from the cache.

The folder also holds `index/images.sqlite` (plus SQLite's `-wal`/`-shm` while it is open): one
row per image, written after its image and sidecar (a run's rows in one transaction: `Store.save_many`),
so opening a history or asking the cache never reads the sidecars. The files stay the truth — the index
is checked against them in constant time and rebuilt from them when it is missing, damaged, behind the
folder, or of a schema this release does not know, so deleting it loses nothing.

Modules: `store` (Store: writing, inputs, cache lookups), `history` (History, Run), `index` (FolderIndex:
the SQLite index and when it is read again), `db` (the index file: open, build, replace), `schema`
(tables, migrations, record → row), `query` (filters and sorts as SQL), `scan` (reading the folder),
`records` (record helpers, StoredImage, cache_key), `png_chunk`, `atomic` (atomic writes, background
fsync, `flush`), `layout` (folder choice and file names).
"""

from __future__ import annotations

from image_widget.store.atomic import flush as flush
from image_widget.store.history import History, Run
from image_widget.store.layout import DEFAULT_FOLDER, ENV_VAR, default_folder
from image_widget.store.layout import INPUTS_FOLDER as INPUTS_FOLDER
from image_widget.store.layout import OUR_NAME_RE as _OUR_NAME_RE  # noqa: F401 - tests match saved names
from image_widget.store.png_chunk import CHUNK_KEY, read_png_record
from image_widget.store.records import NON_REQUEST_KEYS as NON_REQUEST_KEYS
from image_widget.store.records import StoredImage, cache_key
from image_widget.store.schema import INDEX_FOLDER, index_path
from image_widget.store.store import Store, StoreError

__all__ = [
    "CHUNK_KEY",
    "DEFAULT_FOLDER",
    "ENV_VAR",
    "INDEX_FOLDER",
    "History",
    "Run",
    "Store",
    "StoreError",
    "StoredImage",
    "cache_key",
    "default_folder",
    "index_path",
    "read_png_record",
]
