"""The Python call that recreates a saved result — one implementation for the widget, Result and notebooks.

Generations are reproduced from their parameters alone; edits and variations name the input files the
store kept by hash (`<folder>/inputs/<sha256>.<ext>`), so the printed call runs as it is.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from image_widget.records import VARIATION_PROMPT, record_call
from image_widget.store import INPUTS_FOLDER

#: Values the API uses when a parameter is left out: not worth printing.
_API_DEFAULTS = {"background": "auto", "moderation": "auto", "output_format": "png"}
#: Printed first and always, so the call says what was asked even when it is the default.
_ALWAYS_SHOWN = ("model", "size", "quality", "n")


def _path_text(path: Path) -> str:
    """A path relative to the working directory when it is inside it (shorter, still exact)."""
    try:
        return os.path.relpath(path) if path.resolve().is_relative_to(Path.cwd().resolve()) else str(path)
    except ValueError:  # another drive on Windows
        return str(path)


def _input_paths(record: Mapping[str, Any]) -> dict[str, list[str]]:
    folder = Path(str(record.get("path", "."))).parent / INPUTS_FOLDER
    found: dict[str, list[str]] = {}
    for entry in record.get("input_hashes") or []:
        role, digest = str(entry).split(":", 1)
        matches = sorted(folder.glob(f"{digest}.*"))
        found.setdefault(role, []).append(_path_text(matches[0]) if matches else f"<{role} {digest[:12]}…>")
    return found


def reproduce_code(record: Mapping[str, Any], module: str = "iw") -> str:
    """E.g. `iw.generate('a fox', model='gpt-image-2', size='1024x1024', quality='low', n=2)`."""
    params = {k: v for k, v in (record.get("params") or {}).items() if k != "prompt"}
    prompt = record.get("prompt")
    endpoint = record.get("endpoint", "generate")
    call = record_call(record)
    args: list[str] = []
    if call != "generate":
        files = _input_paths(record)
        images = files.get("image", [])
        args.append(repr(images[0] if call == "vary" or len(images) == 1 else images))
        if "mask" in files:
            params["mask"] = files["mask"][0]
        if "markup" in files:
            params["markup"] = files["markup"][0]
    # A variation's own default prompt is left out: `vary(image)` sends it again by itself.
    if call != "vary" or (endpoint != "variation" and prompt and prompt != VARIATION_PROMPT):
        args.insert(0 if call == "generate" else 1, repr(prompt))
    if endpoint == "variation":
        params["legacy"] = True
    shown = [k for k in _ALWAYS_SHOWN if k in params]
    shown += sorted(k for k in params if k not in _ALWAYS_SHOWN and k != "partial_images"
                    and _API_DEFAULTS.get(k, object()) != params[k])
    args += [f"{key}={params[key]!r}" for key in shown]
    return f"{module}.{call}({', '.join(args)})"
