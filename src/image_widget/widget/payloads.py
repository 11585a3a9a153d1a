"""Trait and reply payloads built from stored records: results, history runs, compare items, cost.

Pure functions (no traits, threads or network), so what the page is sent can be tested without a
kernel. The shapes are the ones docs/PROTOCOL.md describes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, TypedDict

from image_widget.base.formats import MIME_TYPES
from image_widget.base.records import record_call

HISTORY_RUNS = 30
"""A page of the history strip: the `history` trait starts with this many runs and each `history_more`
adds this many, so the kernel, the page and a saved notebook hold what was looked at, never the folder."""
HISTORY_THUMB_PX = 96
RESULT_THUMB_PX = 160
PREVIEW_PX = 512

class Notice(TypedDict):
    type: Literal["notice"]
    level: Literal["info", "warning"]
    message: str


def notice(message: str, level: Literal["info", "warning"] = "info") -> Notice:
    return {"type": "notice", "level": level, "message": message}


class UploadProgress(TypedDict):
    type: Literal["upload_progress"]
    upload_id: str
    received: int  # bytes of the message this answers
    done: bool  # the last answer for this upload_id: its files were added or refused
    added: list[str]  # names of the files added (when done)
    problems: list[str]  # why files were not added, each naming the file


def upload_progress(upload_id: str, received: int, *, done: bool, added: Sequence[str] = (),
                    problems: Sequence[str] = ()) -> UploadProgress:
    """The kernel's answer to each upload message that carried an `upload_id`."""
    return {"type": "upload_progress", "upload_id": upload_id, "received": received, "done": done,
            "added": list(added), "problems": list(problems)}


def mime_of(record: Mapping[str, Any], path: Path) -> str:
    """The MIME type a stored image's bytes are sent with: its record's format, else its suffix."""
    fmt = str(record.get("format") or path.suffix.lstrip("."))
    return MIME_TYPES.get(fmt.lower(), "application/octet-stream")


def _money(usd: float | None) -> str:
    from image_widget.facts.cost import format_usd

    return "unknown" if usd is None else format_usd(usd)


def result_item(record: Mapping[str, Any], thumb: bytes, code: str, snippet: str = "") -> dict[str, Any]:
    """One entry of the `results` trait, from a stored image's record.

    `code` is the bare call (`reproduce_code`); `snippet` the code "Copy code" copies, which runs pasted
    into a fresh cell in any folder (`reproduce.runnable_code`; `code` when not given).
    """
    params: Mapping[str, Any] = record.get("params") or {}
    response: Mapping[str, Any] = record.get("response") or {}
    per_image = record.get("cost_usd")  # records carry each image's share of the run's cost
    return {
        "id": str(record.get("id", "")),
        "width": record.get("width"),
        "height": record.get("height"),
        "format": record.get("format"),
        "thumb": thumb,
        "prompt": record.get("prompt") or "",
        "model": record.get("model") or "",
        "size": _saved_size(record) or response.get("size") or params.get("size") or "",
        "quality": response.get("quality") or params.get("quality") or "",
        "cost_text": _money(per_image),
        "code": code,
        "snippet": snippet or code,
    }


def _saved_size(record: Mapping[str, Any]) -> str:
    """`WxH` of the saved image: what an edit composited back onto its input (or an expand) really is,
    not the size the API was asked for."""
    width, height = record.get("width"), record.get("height")
    return f"{width}x{height}" if isinstance(width, int) and isinstance(height, int) else ""


#: Record fields compared besides `params`, first in the differences list. `size` and `quality` fall
#: back to what the response reported when the request left them to the API.
COMPARE_FIELDS = ("prompt", "model", "endpoint", "size", "quality")
_MISSING = object()


def _compare_value(record: Mapping[str, Any], key: str) -> Any:
    params: Mapping[str, Any] = record.get("params") or {}
    if key in ("prompt", "model", "endpoint"):
        value = record.get(key, _MISSING)
        return params.get(key, _MISSING) if value is _MISSING else value
    if key in params:
        return params[key]
    if key in ("size", "quality"):
        response: Mapping[str, Any] = record.get("response") or {}
        return response.get(key, _MISSING)
    return _MISSING


def compare_records(a: Mapping[str, Any], b: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The parameters two stored images differ in: `[{param, a, b}]`, for the compare view.

    Looks at every key of either record's `params` plus prompt/model/endpoint/size/quality; a key
    only one side has is a difference, with `None` (JSON null) for the side that lacks it. Fixed
    fields come first, then params keys in the order they appear (A's, then B's).
    """
    params_a: Mapping[str, Any] = a.get("params") or {}
    params_b: Mapping[str, Any] = b.get("params") or {}
    keys = list(dict.fromkeys([*COMPARE_FIELDS, *params_a, *params_b]))
    out: list[dict[str, Any]] = []
    for key in keys:
        va, vb = _compare_value(a, key), _compare_value(b, key)
        if va is _MISSING and vb is _MISSING:
            continue
        if va is _MISSING or vb is _MISSING or va != vb or isinstance(va, bool) != isinstance(vb, bool):
            out.append({"param": key, "a": None if va is _MISSING else va, "b": None if vb is _MISSING else vb})
    return out


def compare_item(record: Mapping[str, Any]) -> dict[str, Any]:
    """One entry of a `compare` reply's `items`: what the compare view shows under an image."""
    return {
        "id": str(record.get("id", "")),
        "prompt": record.get("prompt") or "",
        "model": record.get("model") or "",
        "params": dict(record.get("params") or {}),
        "created": str(record.get("created") or ""),
        "cost_text": _money(record.get("cost_usd")),
        "width": record.get("width"),
        "height": record.get("height"),
    }


def call_kind(record: Mapping[str, Any]) -> str:
    """What made a run, as its history card says it: generate, edit, expand, variation, batch or turn N."""
    if record.get("from_batch"):
        return "batch"
    call = record_call(record)
    if call == "refine":
        turn = record.get("turn")
        return f"turn {turn}" if isinstance(turn, int) else "turn"
    return {"vary": "variation"}.get(call, call)


def history_run(records: Sequence[Mapping[str, Any]], thumbs: Sequence[bytes]) -> dict[str, Any]:
    """One entry of the `history` trait: a run, what made it (`call`) and one small thumb per image."""
    first = records[0] if records else {}
    return {
        "run_id": str(first.get("run_id", "")),
        "prompt": first.get("prompt") or "",
        "created": str(first.get("created") or ""),
        "model": first.get("model") or "",
        "call": call_kind(first),
        "items": [{"id": str(r.get("id", "")), "thumb": t} for r, t in zip(records, thumbs, strict=True)],
    }


def merge_history(new: Sequence[dict[str, Any]], old: Sequence[dict[str, Any]],
                  limit: int | None = HISTORY_RUNS) -> list[dict[str, Any]]:
    """`new` runs before `old` ones (both newest first), each run once (the first seen), at most `limit`."""
    seen: set[str] = set()
    merged: list[dict[str, Any]] = []
    for run in [*new, *old]:
        if run["run_id"] in seen:
            continue
        seen.add(run["run_id"])
        merged.append(run)
    return merged[:limit]


def cost_payload(estimate: Any, last: Any, session: Any) -> dict[str, Any]:
    """The `cost` trait from `cost.Cost` values (None = no run yet). Unknown stays `null`, never guessed.

    The texts are the amounts alone: that the emulator bills nothing is the page's to say once (it knows
    `backend.synthetic`), not a suffix on every figure ("Session unknown (emulator: nothing billed)"). The
    notes say where each figure comes from (price source and the day it was read, or the runs it was learned
    from): the page shows them as the figure's tooltip.
    """
    return {
        "estimate_text": estimate.text if estimate is not None else "unknown",
        "estimate_usd": estimate.usd if estimate is not None else None,
        "estimate_note": estimate.note if estimate is not None else "",
        "last_text": last.text if last is not None else "",
        "last_note": last.note if last is not None else "",
        "last_usd": last.usd if last is not None else None,
        "session_text": session.text if session is not None else "$0.000",
        "session_usd": session.usd if session is not None else 0.0,
    }
