"""The Python call that recreates a saved result — one implementation for the widget, Result and notebooks.

Generations are reproduced from their parameters alone; edits and variations name the input files the
store kept by hash (`<folder>/inputs/<sha256>.<ext>`), so the printed call runs as it is.
`runnable_code` is the same call as a snippet that runs pasted into a fresh cell in any folder (the
import, absolute paths, the server it went to — never a key): what the widget's "Copy code" copies.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from image_widget.base.records import VARIATION_PROMPT, finish_options, record_call
from image_widget.store import INPUTS_FOLDER

#: Values the API uses when a parameter is left out: not worth printing.
_API_DEFAULTS = {"background": "auto", "moderation": "auto", "output_format": "png"}
#: Defaults of the lined-up edit options (`edit(keep_unmasked=, feather=, detail=)`): left out when they match.
_FINISH_DEFAULTS = {"keep_unmasked": True, "feather": 8, "detail": False, "left": 0, "right": 0, "top": 0, "bottom": 0}
#: Printed first and always, so the call says what was asked even when it is the default.
_ALWAYS_SHOWN = ("model", "size", "quality", "n")


def _path_text(path: Path) -> str:
    """A path relative to the working directory when it is inside it (shorter, still exact)."""
    try:
        return os.path.relpath(path) if path.resolve().is_relative_to(Path.cwd().resolve()) else str(path)
    except ValueError:  # another drive on Windows
        return str(path)


def _input_paths(record: Mapping[str, Any], absolute: bool) -> dict[str, list[str]]:
    folder = Path(str(record.get("path", "."))).parent / INPUTS_FOLDER
    found: dict[str, list[str]] = {}
    for entry in record.get("input_hashes") or []:
        role, digest = str(entry).split(":", 1)
        matches = sorted(folder.glob(f"{digest}.*"))
        text = (str(matches[0].resolve()) if absolute else _path_text(matches[0])) if matches \
            else f"<{role} {digest[:12]}…>"
        found.setdefault(role, []).append(text)
    return found


def reproduce_code(record: Mapping[str, Any], module: str = "iw", *, absolute: bool = False,
                   extra: Mapping[str, Any] | None = None) -> str:
    """E.g. `iw.generate('a fox', model='gpt-image-2', size='1024x1024', quality='low', n=2)`.

    `absolute` names input files by absolute path (the call then runs from any folder); `extra`
    keyword arguments go last (e.g. `base_url`).
    """
    call = record_call(record)
    if call == "refine":
        return _conversation_code(record, module, absolute, extra)
    params = {k: v for k, v in (record.get("params") or {}).items() if k != "prompt"}
    prompt = record.get("prompt")
    endpoint = record.get("endpoint", "generate")
    args: list[str] = []
    if call != "generate":
        files = _input_paths(record, absolute)
        images = files.get("image", [])
        args.append(repr(images[0] if call == "vary" or len(images) == 1 else images))
        params.update({k: v for k, v in finish_options(record).items() if _FINISH_DEFAULTS.get(k) != v})
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
    args += [f"{key}={value!r}" for key, value in (extra or {}).items()]
    return f"{module}.{call}({', '.join(args)})"


def _conversation_code(record: Mapping[str, Any], module: str, absolute: bool,
                       extra: Mapping[str, Any] | None) -> str:
    """A conversation turn: the chain replayed turn by turn (a new conversation, billed again), and a line
    that names the response it continued, with the call that continues it instead."""
    params = {k: v for k, v in (record.get("params") or {}).items() if k not in ("prompt", "model")}
    options = [f"model={record.get('mainline_model')!r}", f"image_model={record.get('model')!r}"]
    options += [f"{k}={params[k]!r}" for k in sorted(params) if _API_DEFAULTS.get(k, object()) != params[k]]
    options += [f"{key}={value!r}" for key, value in (extra or {}).items()]
    lines = [f"chat = {module}.Chat({', '.join(options)})"]
    lines += [f"chat.send({prompt!r})" for prompt in record.get("chain") or []]
    files = _input_paths(record, absolute)
    last = [repr(record.get("prompt"))]
    if "image" in files:
        images = files["image"]
        last.append(f"image={images[0] if len(images) == 1 else images!r}")
    if "mask" in files:
        last.append(f"mask={files['mask'][0]!r}")
    lines.append(f"result = chat.send({', '.join(last)})")
    previous = record.get("previous_response_id")
    if previous:
        lines.append(f"# turn {record.get('turn')} of thread {record.get('thread')}, continuing response "
                     f"{previous}; to continue it without replaying: {module}.Chat.resume(thread="
                     f"{record.get('thread')!r})")
    return "\n".join(lines)


class CodeExpr(str):
    """A keyword value written into code as an expression, not a literal (e.g. `iw.Emulator.shared().url`)."""

    def __repr__(self) -> str:
        return str(self)


def runnable_code(record: Mapping[str, Any], *, extra: Mapping[str, Any] | None = None,
                  comments: Sequence[str] = ()) -> str:
    """`reproduce_code` as a snippet that runs pasted into a fresh cell in any folder.

    The import, then `comments` (each a `# ` line: where the request went, where the key comes from),
    then the call with absolute input paths and the `extra` keyword arguments (the server's
    `base_url`). Never a key: the caller passes only what is safe to show.
    """
    lines = ["import image_widget as iw", ""]
    lines += [f"# {line}" for line in comments]
    lines.append(reproduce_code(record, absolute=True, extra=extra))
    return "\n".join(lines)
