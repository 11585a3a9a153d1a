"""Turning a sweep into Batch API input files: one JSONL line per image request, written as it is made.

Each line's `custom_id` is `cell-<index>`, the cell's place in the sweep's product order, so the values
of any line can be recomputed from the template and the value lists (`cell_at`) — nothing per cell has
to be kept besides the file. Each file asks one model (OpenAI's rule), so a sweep over `model` gets a
file (and a batch) per model. Files are split before 50,000 lines or 200 MB (the Batch API's limits;
`batch_sweep(limits=Limits(…))` lowers them).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any

from image_widget.facts import capabilities
from image_widget.facts import cost as pricing
from image_widget.facts.prices import ModelPrice
from image_widget.money import bounds, learned
from image_widget.sweeps.cells import Cell

GENERATIONS_URL = "/v1/images/generations"
MAX_LINES = 50_000
MAX_BYTES = 200 * 1024 * 1024
_PREFIX = "cell-"
EDIT_PARAMS = ("markup",)
"""Edit inputs a batch cannot carry: markup has no JSON form in OpenAI's description (see `refuse_edits`)."""
NO_BATCH_PARAMS = ("partial_images", "stream")
"""Streaming has no meaning in a batch, whose answers arrive as files."""


@dataclass(frozen=True)
class Limits:
    """Where to split input files."""

    max_lines: int = MAX_LINES
    max_bytes: int = MAX_BYTES

    def __post_init__(self) -> None:  # never higher than the API's: it would refuse the file
        object.__setattr__(self, "max_lines", max(1, min(self.max_lines, MAX_LINES)))
        object.__setattr__(self, "max_bytes", max(1, min(self.max_bytes, MAX_BYTES)))


@dataclass
class Part:
    """One input file and, once known, its file id and batch id at the server."""

    index: int
    path: str
    lines: int
    bytes: int
    sha256: str
    first_cell: int
    last_cell: int
    file_id: str | None = None
    batch_id: str | None = None
    creating: bool = False
    """Set (and saved) just before the create call: a part found with this set and no batch id may have
    been created at the server — look it up by its metadata before creating it again."""
    status: str | None = None
    counts: dict[str, int] | None = None
    collected: bool = False
    """Output and error files downloaded and every image in them saved."""
    model: str | None = None
    """The one model every line of this file asks for (OpenAI: one model per batch input file)."""
    bound: bool = False
    """An edit part's input placeholders were replaced by file ids (`batch/edits.bind`); sha256 and bytes
    are the bound file's."""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def custom_id(cell_index: int) -> str:
    return f"{_PREFIX}{cell_index}"


def cell_index(value: str) -> int:
    """The sweep cell a custom_id stands for; ValueError for one we did not write."""
    if not value.startswith(_PREFIX) or not value[len(_PREFIX):].isdigit():
        raise ValueError(f"custom_id {value!r} is not one of ours (cell-<n>)")
    return int(value[len(_PREFIX):])


def cell_at(template: str, lists: Mapping[str, list[Any]], fields: Sequence[str], index: int) -> Cell:
    """The cell at `index` in product order (the last list varies fastest), without making the others."""
    values: dict[str, Any] = {}
    rest = index
    for key in reversed(list(lists)):
        rest, pick = divmod(rest, len(lists[key]))
        values[key] = lists[key][pick]
    values = {k: values[k] for k in lists}
    prompt = template.format(**{f: values[f] for f in fields})
    options = {k: v for k, v in values.items() if k not in fields}
    return Cell(values={k: v for k, v in values.items() if len(lists[k]) > 1}, prompt=prompt, options=options)


def refuse_edits(axes: Mapping[str, Any]) -> None:
    """What a batch line (JSON) cannot carry: `markup` exists only in the multipart form of an edit
    (`EditImageBodyJsonParam` has images and mask, no markup), and streaming."""
    for name in EDIT_PARAMS:
        if name in axes:
            raise ValueError(
                f"{name}= cannot go into a batch: batch lines are JSON, and OpenAI's JSON form of an edit "
                "(EditImageBodyJsonParam) takes images and a mask but no markup; run it with batch=False")
    for name in NO_BATCH_PARAMS:
        if name in axes:
            raise ValueError(f"{name}= has no meaning in a batch (answers arrive as files, not streams); "
                             "leave it out with batch=True")


def body_of(cell: Cell) -> dict[str, Any]:
    return {"prompt": cell.prompt, **cell.options}


class EstimateSum:
    """The batch-price estimate of many cells, priced once per distinct option set: learned from the
    folder's runs where it can be (`learned.estimate`), else published. `high` is what a budget checks."""

    def __init__(self, prices: Mapping[str, ModelPrice], folder: Path | None = None, synthetic: bool = False) -> None:
        self.prices = prices
        self.folder, self.synthetic = folder, synthetic
        self.usd = 0.0
        self.high = 0.0
        self.unknown: str | None = None
        self._each: dict[str, tuple[learned.Estimate, float]] = {}
        """Per option set: its estimate and what a budget holds for one line of it."""
        self.origins: set[str] = set()

    def add(self, options: Mapping[str, Any], inputs: list[tuple[int, int]] | None = None) -> None:
        """One more line; `inputs` are an edit's input image sizes (priced as input tokens where known).
        Priced once per option set: the prompt is left out of the key (no estimate reads it), or a sweep of
        50,000 prompts would read the folder's runs 50,000 times."""
        options = {name: value for name, value in options.items() if name != "prompt"}
        key = json.dumps([options, inputs], sort_keys=True, default=str)
        known = self._each.get(key)
        if known is None:
            model = str(options.get("model", capabilities.DEFAULT_MODEL))
            each = learned.estimate(
                {"model": model, **options, **({"call": "edit"} if inputs else {})}, self.folder,
                synthetic=self.synthetic, prices=self.prices, batch=True, inputs=inputs)
            if each.value is None and self.unknown is None:
                self.unknown = f"model {model} (quality={options.get('quality')!r}): {each.text}"
            known = self._each[key] = (each, self._top(each, model, inputs or []) if each.value is not None else 0.0)
        each, top = known
        if each.value is not None:
            self.usd += each.value
            self.high += top
            self.origins.add(each.origin)

    def _top(self, each: learned.Estimate, model: str, inputs: list[tuple[int, int]]) -> float:
        """What a budget holds for one line: its estimate's top, an edit's input images bounded (`money.bounds`:
        a figure with "+ input images" left them out). A model with no input-image price makes it unknown."""
        try:
            top = bounds.bound(each.budget(), model, inputs, prices=self.prices, batch=True)
        except bounds.Unbounded as exc:
            self.unknown = self.unknown or str(exc)
            return 0.0
        return top.usd if top.usd is not None else each.value or 0.0

    @property
    def cost(self) -> pricing.Cost:
        if self.unknown is not None:
            return pricing.Cost.unknown(self.unknown)
        upper = pricing.format_usd(self.high) != pricing.format_usd(self.usd)
        if self.origins <= {"published"}:
            top = f"; up to {pricing.format_usd(self.high)} with the input images bounded" if upper else ""
            return pricing.Cost(self.usd, f"${self.usd:.3f} (Batch API price{top})", upper_bound=upper)
        where = ", ".join(sorted(self.origins))
        spread = f", up to {pricing.format_usd(self.high)}" if upper else ""
        return pricing.Cost(self.usd, f"≈ ${self.usd:.3f} (Batch API price; {where}{spread})", upper_bound=upper)


class _Open:
    """The part being written for one model: its file, running hash and record."""

    def __init__(self, folder: Path, part: Part) -> None:
        self.part = part
        self.handle: IO[bytes] = (folder / part.path).open("wb")
        self.digest = hashlib.sha256()

    def write(self, line: bytes, index: int) -> None:
        self.handle.write(line)
        self.digest.update(line)
        self.part.lines += 1
        self.part.bytes += len(line)
        self.part.last_cell = index

    def close(self) -> Part:
        self.handle.close()
        self.part.sha256 = self.digest.hexdigest()
        return self.part


def write_parts(folder: Path, bodies: Iterable[tuple[int, dict[str, Any]]], limits: Limits,
                url: str = GENERATIONS_URL) -> list[Part]:
    """Write (cell index, body) pairs as JSONL files in `folder`, split at `limits`; streamed line by line.

    OpenAI's Batch API takes requests to one model per input file, so each model gets its own parts (one
    file open per model at a time); a part's cells are then in order but need not be contiguous."""
    folder.mkdir(parents=True, exist_ok=True)
    parts: list[Part] = []
    current: dict[str, _Open] = {}
    try:
        for index, body in bodies:
            line = json.dumps({"custom_id": custom_id(index), "method": "POST", "url": url, "body": body},
                              separators=(",", ":"), default=str).encode() + b"\n"
            if len(line) > limits.max_bytes:
                raise ValueError(f"one request ({custom_id(index)}) is {len(line):,} bytes, more than a batch "
                                 f"file may hold ({limits.max_bytes:,})")
            model = str(body.get("model") or capabilities.DEFAULT_MODEL)
            open_ = current.get(model)
            if open_ is not None and (open_.part.lines >= limits.max_lines
                                      or open_.part.bytes + len(line) > limits.max_bytes):
                parts.append(current.pop(model).close())
                open_ = None
            if open_ is None:
                number = len(parts) + len(current)
                open_ = current[model] = _Open(folder, Part(number, f"input-{number}.jsonl", 0, 0, "", index,
                                                            index, model=model))
            open_.write(line, index)
        while current:
            parts.append(current.pop(next(iter(current))).close())
    finally:
        for left in current.values():
            left.handle.close()
    return sorted(parts, key=lambda part: part.index)


def part_cells(folder: Path, part: Part) -> list[str]:
    """The custom_ids of a part's lines, read from its input file (its cells need not be contiguous)."""
    with (folder / part.path).open("rb") as handle:
        return [str(json.loads(raw)["custom_id"]) for raw in handle if raw.strip()]
