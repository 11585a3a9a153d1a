"""Which folder, and the names of the files in it.

`Store.save` makes the names and the folder scan recognises them, so both sides read them from here.
"""

from __future__ import annotations

import hashlib
import os
import re
from datetime import datetime
from pathlib import Path

ENV_VAR = "IMAGE_WIDGET_DIR"
DEFAULT_FOLDER = "image-widget-output"
INPUTS_FOLDER = "inputs"
"""Subfolder for input images and masks of edits, kept once each as `<sha256>.<ext>`."""
RAW_FOLDER = "raw"
"""Subfolder for the API's own images when the saved one was composited from them (`<sha256>.<ext>`)."""

#: File extensions that differ from the format name.
EXTENSIONS = {"jpeg": "jpg"}

#: `<UTC yyyymmdd-HHMMSS>-<run_id 8 hex>-<index>[_<k>]`: what `image_stem` makes (plus the `_k` of a clash).
OUR_NAME_RE = re.compile(r"^\d{8}-\d{6}-[0-9a-f]{8}-\d+(?:_\d+)?$")
_SAFE_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,200}$")
_HEX_RE = re.compile(r"^[0-9a-f]{8,}$")


def default_folder(folder: str | os.PathLike[str] | None = None) -> Path:
    """The folder argument, else $IMAGE_WIDGET_DIR, else ./image-widget-output — as an absolute path."""
    chosen: str | os.PathLike[str] = folder if folder is not None else (
        os.environ.get(ENV_VAR) or DEFAULT_FOLDER)
    return Path(chosen).expanduser().absolute()


def extension(fmt: str) -> str:
    """The file extension for a format name ("jpeg" → "jpg")."""
    return EXTENSIONS.get(fmt, fmt)


def image_stem(created: datetime, run_id: object, index: int) -> str:
    """The file name (without extension) of an image; never contains prompt text."""
    return f"{created:%Y%m%d-%H%M%S}-{_run_hex(run_id)}-{index}"


def _run_hex(run_id: object) -> str:
    """8 hex digits for the run: its own if it is hex (a uuid), else a hash, so any run_id makes a safe name."""
    text = str(run_id).lower().replace("-", "")
    return text[:8] if _HEX_RE.match(text) else hashlib.sha256(str(run_id).encode()).hexdigest()[:8]


def is_image_id(value: object) -> bool:
    """Whether `value` can name a file in the folder (no path separators, no `..`), checked before any read."""
    return isinstance(value, str) and bool(_SAFE_ID_RE.match(value)) and ".." not in value


def is_scratch(name: str) -> bool:
    """Temp files of an interrupted save, hidden files and names without an extension: every reader skips them."""
    return name.startswith(".") or name.endswith(".tmp") or "." not in name
