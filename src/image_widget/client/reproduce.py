"""The Python call that recreates a saved result — one implementation for the widget, Result and notebooks.

Generations are reproduced from their parameters alone; edits and variations name the input files the
store kept by hash (`<folder>/inputs/<sha256>.<ext>`), so the printed call runs as it is. A conversation
turn replays the turns before it as each was sent (its record's `chain`: `chain_entry` per turn), then names
the call that sends it again from the response it continued (`resend_code`).
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
#: An option a turn did not send (None is a value).
_NONE = object()


def _path_text(path: Path) -> str:
    """A path relative to the working directory when it is inside it (shorter, still exact)."""
    try:
        return os.path.relpath(path) if path.resolve().is_relative_to(Path.cwd().resolve()) else str(path)
    except ValueError:  # another drive on Windows
        return str(path)


def _kept_path(folder: Path, role: str, digest: str, absolute: bool) -> str:
    """Where the store kept an input by hash, as code names it; a placeholder that says what is missing."""
    matches = sorted((folder / INPUTS_FOLDER).glob(f"{digest}.*"))
    if not matches:
        return f"<{role} {digest[:12]}…>"
    return str(matches[0].resolve()) if absolute else _path_text(matches[0])


def _folder(record: Mapping[str, Any]) -> Path:
    return Path(str(record.get("path", "."))).parent


def _input_paths(record: Mapping[str, Any], absolute: bool) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for entry in record.get("input_hashes") or []:
        role, digest = str(entry).split(":", 1)
        found.setdefault(role, []).append(_kept_path(_folder(record), role, digest, absolute))
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


def chain_entry(params: Mapping[str, Any], input_hashes: Sequence[str]) -> dict[str, Any]:
    """A conversation turn as the records of the turns after it keep it (`chain`), so `.code` sends it again as
    it was sent: its prompt, the tool options it sent that the API would not have used anyway, and the hashes
    of its images (`image`) and `mask` when it sent them (the store keeps those inputs by hash)."""
    options = {k: v for k, v in params.items() if k not in ("prompt", "model") and _API_DEFAULTS.get(k, _NONE) != v}
    entry: dict[str, Any] = {"prompt": str(params.get("prompt") or ""), "options": options}
    for role, digest in (str(item).split(":", 1) for item in input_hashes):
        if role == "image":
            entry.setdefault("image", []).append(digest)
        elif role == "mask":
            entry["mask"] = digest
    return entry


def record_entry(record: Mapping[str, Any]) -> dict[str, Any]:
    """`chain_entry` of a saved turn."""
    params = {**(record.get("params") or {}), "prompt": record.get("prompt")}
    return chain_entry(params, record.get("input_hashes") or [])


def _conversation_code(record: Mapping[str, Any], module: str, absolute: bool,
                       extra: Mapping[str, Any] | None) -> str:
    """A conversation turn: the chain replayed turn by turn, each with its own options, images and mask (a new
    conversation, billed again), then a line that continues the response this turn continued instead.

    Options every turn sent alike go on the Chat, the rest on each send. An older record kept only the earlier
    prompts (`chain` of strings): those turns go with this turn's options, as its code always said.
    """
    last = record_entry(record)
    chain = record.get("chain") or []
    earlier = [dict(e) if isinstance(e, Mapping) else {"prompt": str(e), "options": last["options"]} for e in chain]
    shared = _shared_options([*earlier, last])
    head = [*_models(record), *(f"{k}={shared[k]!r}" for k in _in_order(shared)), *_extra(extra)]
    lines = [f"chat = {module}.Chat({', '.join(head)})"]
    if any(not isinstance(e, Mapping) for e in chain):
        lines.append("# an older record: it kept only the earlier turns' prompts (not their options, images or "
                     "masks), so they are sent with this turn's options")
    folder = _folder(record)
    lines += [f"chat.send({_send_args(e, shared, folder, absolute)})" for e in earlier]
    lines.append(f"result = chat.send({_send_args(last, shared, folder, absolute)})")
    return "\n".join([*lines, *_branch_hint(record, module, absolute, extra)])


def _models(record: Mapping[str, Any]) -> list[str]:
    return [f"model={record.get('mainline_model')!r}", f"image_model={record.get('model')!r}"]


def _extra(extra: Mapping[str, Any] | None) -> list[str]:
    return [f"{key}={value!r}" for key, value in (extra or {}).items()]


def _in_order(options: Mapping[str, Any]) -> list[str]:
    """Size and quality first, as in the other calls' code; then the rest by name."""
    return [k for k in _ALWAYS_SHOWN if k in options] + sorted(k for k in options if k not in _ALWAYS_SHOWN)


def _shared_options(turns: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The options every turn sent with the same value: said once, on the Chat."""
    first = turns[0].get("options") or {}
    return {k: v for k, v in first.items() if all((t.get("options") or {}).get(k, _NONE) == v for t in turns)}


def _send_args(entry: Mapping[str, Any], shared: Mapping[str, Any], folder: Path, absolute: bool) -> str:
    """The arguments of one turn's `chat.send(...)`: prompt, its kept images and mask, its own options."""
    args = [repr(entry.get("prompt"))]
    images = [_kept_path(folder, "image", str(d), absolute) for d in entry.get("image") or []]
    if images:
        args.append(f"image={images[0] if len(images) == 1 else images!r}")
    if entry.get("mask"):
        args.append(f"mask={_kept_path(folder, 'mask', str(entry['mask']), absolute)!r}")
    options = entry.get("options") or {}
    args += [f"{k}={options[k]!r}" for k in _in_order(options) if k not in shared]
    return ", ".join(args)


def _branch_hint(record: Mapping[str, Any], module: str, absolute: bool, extra: Mapping[str, Any] | None) -> list[str]:
    """The line that sends this turn again from the response it continued, so the turns before it are not
    paid for again."""
    previous = record.get("previous_response_id")
    if not previous:
        return []
    return [f"# turn {record.get('turn')} of thread {record.get('thread')} continued response {previous}; to send "
            "it again from that response without replaying the turns before it (a new branch):",
            f"# result = {resend_code(record, module, absolute=absolute, extra=extra)}"]


def resend_code(record: Mapping[str, Any], module: str = "iw", *, absolute: bool = False,
                extra: Mapping[str, Any] | None = None) -> str:
    """One call that sends a conversation turn again as it was sent: from the response it continued (a branch
    found by response id in the record's folder), or as a new Chat's first turn."""
    folder = _folder(record)
    where = str(folder.resolve()) if absolute else _path_text(folder)
    head = [f"folder={where!r}", *_models(record), *_extra(extra)]
    previous = record.get("previous_response_id")
    branch = f".branch({previous!r})" if previous else ""
    return f"{module}.Chat({', '.join(head)}){branch}.send({_send_args(record_entry(record), {}, folder, absolute)})"


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
