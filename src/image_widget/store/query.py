"""What `History.filter` asks for, as SQL over the index: conditions that add up, and the orders offered.

Prompt text matches as a case-insensitive substring, as it always has (Python's `casefold` on both
sides, so "STRASSE" finds "Straße"). With FTS5 (a trigram index over the casefolded prompts) a needle
of three or more characters is found through the index; shorter needles, or a SQLite without FTS5,
fall back to scanning the casefolded column (`instr`, not LIKE, whose case rules are ASCII-only and for
which % and _ are wildcards).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from image_widget.base.records import CALLS
from image_widget.store.schema import RECORD, micros

NEWEST = "run_created_us DESC, run_first DESC, idx, id"
SORTS = {
    "newest": NEWEST,  # runs newest first, each run's images by index (the order `entries` always had)
    "oldest": "run_created_us, run_first, idx, id",
    "cheapest": f"cost IS NULL, cost, {NEWEST}",  # unknown costs last
    "prompt": f"prompt_fold, {NEWEST}",
    "turn": f"turn IS NULL, turn, {NEWEST}",  # a conversation's turns in order (see History.filter(thread=))
}
ORIENTATIONS = {"landscape": "width > height", "portrait": "width < height", "square": "width = height"}
_SIZE_RE = re.compile(r"^\s*(\d+)\s*[xX×]\s*(\d+)\s*$")


@dataclass(frozen=True)
class Where:
    """Conditions joined by AND, with their parameters (immutable: each filter makes a new one)."""

    clauses: tuple[str, ...] = ()
    params: tuple[Any, ...] = ()

    def sql(self) -> str:
        return " AND ".join(f"({c})" for c in self.clauses) or "1"

    def and_(self, clause: str, *params: Any) -> Where:
        return Where((*self.clauses, clause), (*self.params, *params))


def bound(value: datetime | date | None, *, end: bool) -> datetime | None:
    """since/until as aware UTC datetimes; a date means its whole day (until is inclusive)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    start = datetime.combine(value, time.min, tzinfo=UTC)
    return start + timedelta(days=1) - timedelta(microseconds=1) if end else start


def contains(where: Where, needle: str, fts: bool) -> Where:
    """Rows whose prompt contains `needle` (case-insensitive)."""
    folded = needle.casefold()
    exact = where.and_("instr(prompt_fold, ?) > 0", folded)
    if fts and len(folded) >= 3:  # a trigram needs three characters
        phrase = '"' + folded.replace('"', '""') + '"'
        return exact.and_("row IN (SELECT rowid FROM prompts WHERE prompts MATCH ?)", phrase)
    return exact


def parse_size(size: str | tuple[int, int]) -> tuple[int, int]:
    """"1024x1536" or (1024, 1536) → (1024, 1536): the image's real pixel size, which "auto" requests
    only learn from the response."""
    if isinstance(size, tuple) and len(size) == 2 and all(isinstance(v, int) for v in size):
        return size
    match = _SIZE_RE.match(size) if isinstance(size, str) else None
    if match is None:
        raise ValueError(f"size must look like '1024x1536' or (1024, 1536), got {size!r}")
    return int(match[1]), int(match[2])


def narrow(where: Where, fts: bool, **wanted: Any) -> Where:
    """`where` plus one condition for each filter that is not None (see History.filter)."""
    if wanted.get("prompt"):
        where = contains(where, wanted["prompt"], fts)
    for word in str(wanted.get("search") or "").split():
        where = contains(where, word, fts)
    if wanted.get("model"):
        where = where.and_("model = ? COLLATE NOCASE", wanted["model"])
    start, end = bound(wanted.get("since"), end=False), bound(wanted.get("until"), end=True)
    if start is not None:
        where = where.and_("created_us >= ?", micros(start))
    if end is not None:
        where = where.and_("created_us <= ?", micros(end))
    if wanted.get("min_cost") is not None:
        where = where.and_("cost >= ?", float(wanted["min_cost"]))
    if wanted.get("max_cost") is not None:
        where = where.and_("cost <= ?", float(wanted["max_cost"]))
    if wanted.get("size") is not None:
        where = where.and_("width = ? AND height = ?", *parse_size(wanted["size"]))
    if wanted.get("orientation") is not None:
        if wanted["orientation"] not in ORIENTATIONS:
            raise ValueError(f"orientation must be one of {', '.join(ORIENTATIONS)}, got {wanted['orientation']!r}")
        where = where.and_(ORIENTATIONS[wanted["orientation"]])
    if wanted.get("call") is not None:
        if wanted["call"] not in CALLS:
            raise ValueError(f"call must be one of {', '.join(CALLS)}, got {wanted['call']!r}")
        where = where.and_("call = ?", wanted["call"])
    if wanted.get("batch") is not None:
        where = where.and_("batch_id = ?", str(wanted["batch"]))
    if wanted.get("thread") is not None:
        where = where.and_("thread = ?", str(wanted["thread"]))
    if wanted.get("response_id") is not None:  # only turns have one; `thread` is indexed, the record is not
        where = where.and_(f"thread IS NOT NULL AND json_extract({RECORD}, '$.response_id') = ?",
                           str(wanted["response_id"]))
    return where


def order_by(sort: str) -> str:
    if sort not in SORTS:
        raise ValueError(f"sort must be one of {', '.join(SORTS)}, got {sort!r}")
    return SORTS[sort]
