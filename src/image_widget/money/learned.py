"""Estimates learned from the folder's own runs: `estimate(request, folder) -> Estimate`.

OpenAI publishes token prices for the 2.5 and 2.6 models but not how many tokens an image takes; every
finished run records its `usage`, so the folder knows. An estimate is, in order: the runs in the folder
with the same model, call, quality, size and format (median and range of what they would cost at the
price table's rates, for the n asked); a size never run here, scaled by pixel area from the nearest size
that was; runs kept per user (`user_runs`, opt-out) when the folder has none; the published figure;
else "unknown — one run of this model teaches it". Every figure says which. Emulator runs and billed
runs never inform each other. The records are read through the folder's SQLite index, never its sidecars.
"""

from __future__ import annotations

import json
import statistics
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

from image_widget.facts import capabilities
from image_widget.facts import cost as pricing
from image_widget.facts.lifecycle import lifecycle_of
from image_widget.facts.prices import ModelPrice, price_for
from image_widget.money import user_runs
from image_widget.money.user_runs import Sample, sample_of
from image_widget.store.index import FolderIndex
from image_widget.store.layout import default_folder
from image_widget.store.records import expected_count
from image_widget.store.schema import RECORD

__all__ = ["Estimate", "Sample", "estimate", "saw"]

Origin = Literal["learned", "scaled", "user", "published", "unknown"]
LIMIT = 200
"""The most recent runs of one model and call an estimate reads (the spread of older runs adds little)."""
_TEACH = "unknown — one run of this model teaches it"


class _HasParams(Protocol):
    @property
    def params(self) -> dict[str, Any]: ...
    @property
    def endpoint(self) -> str: ...

    def input_sizes(self) -> list[tuple[int, int]]: ...


@dataclass(frozen=True)
class Estimate:
    """A cost before a request: `value` (median), `low`–`high` (the range runs spread over; a budget
    reserves `high`), `origin`, how many runs taught it, and the text shown everywhere it appears."""

    value: float | None
    low: float | None
    high: float | None
    origin: Origin
    runs: int
    text: str
    note: str = ""
    synthetic: bool = False
    """Learned from emulator runs (never used for a real-API estimate)."""
    published: pricing.Cost | None = None
    """The price table's own estimate, where that is the origin (keeps its flags: "+ input images")."""
    high_without_inputs: float | None = None
    """For a learned edit: the top of the range with the earlier runs' input-image tokens left out. Those runs
    read other pictures; a budget adds this request's own inputs, bounded (`money.bounds`)."""

    @property
    def known(self) -> bool:
        return self.value is not None

    def cost(self) -> pricing.Cost:
        """As a `Cost` (what the widget, sweeps and records already carry); `text` keeps the origin."""
        if self.published is not None:
            return self.published
        if self.value is None:
            return pricing.Cost(None, self.text, self.note)
        return pricing.Cost(self.value, self.text, self.note, upper_bound=self.high != self.value)

    def budget(self) -> pricing.Cost:
        """What a budget reserves: the upper end of the range (a published estimate as it is)."""
        if self.published is not None or self.high is None:
            return self.cost()
        if self.high_without_inputs is not None:
            top = self.high_without_inputs
            return pricing.Cost(top, f"up to {pricing.format_usd(top)} + input images: {self.text}", self.note,
                                upper_bound=True, partial=True)
        return pricing.Cost(self.high, f"up to {pricing.format_usd(self.high)}: {self.text}", self.note,
                            upper_bound=True)

    def __str__(self) -> str:
        return self.text


_indexes: dict[Path, FolderIndex] = {}
_lock = threading.Lock()


def _index(folder: Path) -> FolderIndex:
    with _lock:
        found = _indexes.get(folder)
        if found is None:
            found = _indexes[folder] = FolderIndex(folder)
        return found


def _asked(params: Mapping[str, Any], name: str, default: str) -> str:
    value = params.get(name)
    return default if value in (None, "") else str(value)


_LATEST = "SELECT id FROM images WHERE model = ? AND call = ? AND idx = 0 ORDER BY row DESC LIMIT ?"
"""Ids only, from the `images_learn` index: cheap enough for every request."""
_DETAIL = (f"SELECT id, coalesce(json_extract({RECORD}, '$.backend.synthetic'), 0), params, expected, width, "  # noqa: S608
           f"height, json_extract({RECORD}, '$.usage') FROM images WHERE id IN ")
_Kind = tuple[str, str, str]
"""A run's quality, output format and size as asked (what an estimate matches on), read once per run."""
_Run = tuple[bool, Mapping[str, Any], Sample | None, _Kind]
_seen: OrderedDict[Path, dict[str, _Run]] = OrderedDict()
"""What each run of a folder used (synthetic or billed, params, usage, kind), by its first image's id: a run's
usage never changes and an index rebuilt from the sidecars keeps the ids, so each request's estimate parses only
the runs it has not seen (parsing 200 whole records on every request cost ~3 ms). Bounded: a few folders, a few
windows of runs each."""
_FOLDERS = 8
_SAMPLES: dict[Sample, Sample] = {}
"""One object per distinct sample (runs of one kind mostly used the same tokens), so an estimate groups its
runs' samples by identity instead of hashing each one (issue 22: the estimate is on every request's path)."""


def _interned(sample: Sample) -> Sample:
    if len(_SAMPLES) > 50_000:
        _SAMPLES.clear()
    return _SAMPLES.setdefault(sample, sample)


def _run_of(synthetic: object, params: str | None, expected: object, width: object, height: object,
            usage: str | None) -> _Run:
    try:
        used = json.loads(usage) if usage else None
    except ValueError:  # a usage that is a plain string: no sample
        used = None
    asked = json.loads(params) if params else {}
    sample = sample_of({"usage": used}, expected, width, height)
    return (bool(synthetic), asked, None if sample is None else _interned(sample),
            (*_key(asked), _asked(asked, "size", "auto")))


def saw(folder: Path, record: Mapping[str, Any]) -> None:
    """A run this process has just saved (its first image's record, `id` filled): the next estimate finds it
    here instead of reading it back from the index (one query less on every request's path, issue 22)."""
    image_id, params = record.get("id"), record.get("params")
    if not isinstance(image_id, str) or record.get("index", 0) != 0 or not isinstance(params, Mapping):
        return
    backend = record.get("backend")
    synthetic = bool(backend.get("synthetic")) if isinstance(backend, Mapping) else False
    sample = sample_of(record, expected_count(record), record.get("width"), record.get("height"))
    run: _Run = (synthetic, params, None if sample is None else _interned(sample),
                 (*_key(params), _asked(params, "size", "auto")))
    with _lock:
        seen = _seen.get(default_folder(folder))
        if seen is not None:
            seen[image_id] = run


def _runs(folder: Path | str | None, model: str, call: str, *, synthetic: bool) -> list[_Run]:
    """The latest runs of `model` through `call` in `folder` with usage, from emulator runs or billed runs only
    (`synthetic`)."""
    where = default_folder(folder)
    index = _index(where)
    latest = [image_id for (image_id,) in index.rows(_LATEST, (model, call, LIMIT), fresh=True)]
    with _lock:
        seen = _seen.setdefault(where, {})
        _seen.move_to_end(where)
        missing = [image_id for image_id in latest if image_id not in seen]
    found = index.rows(_DETAIL + f"({', '.join('?' * len(missing))})", tuple(missing)) if missing else []
    with _lock:
        seen.update((row[0], _run_of(*row[1:])) for row in found)
        known = [seen.get(image_id) for image_id in latest]
        if len(seen) > 10 * LIMIT:  # forget the oldest, never what this call just read
            keep = set(latest)
            for image_id in [i for i in seen if i not in keep][: len(seen) - 5 * LIMIT]:
                del seen[image_id]
        while len(_seen) > _FOLDERS:
            _seen.popitem(last=False)
    return [run for run in known if run is not None and run[0] == synthetic and run[2] is not None]


def _usd(model: str, sample: Sample, n: int, scale: float, prices: Mapping[str, ModelPrice] | None,
         batch: bool, image_in: int) -> float | None:
    """What `sample`'s tokens cost for `n` images, its input-image tokens taken as `image_in`."""
    usage = {"input_tokens": sample.text_in + image_in, "output_tokens": round(sample.out_each * scale * n),
             "input_tokens_details": {"text_tokens": sample.text_in, "image_tokens": image_in}}
    return pricing.actual(model, usage, quality=None, size=None, n=n, prices=prices, batch=batch).usd


_Summary = tuple[float, float, float, float | None]
"""Median, low, high, and (asked for an edit only) high without the runs' input-image tokens."""


def _summary(model: str, chosen: Sequence[Sample], n: int, scale: float, prices: Mapping[str, ModelPrice] | None,
             batch: bool, *, own_inputs: bool) -> _Summary | None:
    """`own_inputs`: the request reads images of its own, so the top without the runs' images is wanted too."""
    distinct = {id(sample): sample for sample in chosen}  # one object per distinct sample (`_interned`)
    priced = {key: _usd(model, sample, n, scale, prices, batch, sample.image_in) for key, sample in distinct.items()}
    if not priced or None in priced.values():
        return None
    values = [priced[id(sample)] or 0.0 for sample in chosen]
    without = max(_usd(model, s, n, scale, prices, batch, 0) or 0.0 for s in distinct.values()) if own_inputs \
        else None
    return statistics.median(values), min(values), max(values), without


def _range(low: float, high: float) -> str:
    return pricing.format_usd(low) if round(low, 3) == round(high, 3) else \
        f"{pricing.format_usd(low)}–{pricing.format_usd(high).lstrip('$')}"


def _learned(model: str, value: _Summary, runs: int, where: str, synthetic: bool, origin: Origin,
             extra: str = "") -> Estimate:
    median, low, high, without_inputs = value
    kind = "emulator run" if synthetic else "run"
    plural = "" if runs == 1 else "s"
    text = f"≈ {pricing.format_usd(median)} (learned from {runs} {kind}{plural}{where}{extra}; {_range(low, high)})"
    note = (f"median and range of what {runs} earlier {kind}{plural} of {model} used, at the price table's rates"
            + ("; emulator usage, not a bill" if synthetic else ""))
    return Estimate(median, low, high, origin, runs, text, note, synthetic, high_without_inputs=without_inputs)


def _key(params: Mapping[str, Any]) -> tuple[str, str]:
    return _asked(params, "quality", "auto"), _asked(params, "output_format", "png")


def _request_of(request: _HasParams | Mapping[str, Any]) -> tuple[dict[str, Any], str, list[tuple[int, int]]]:
    if isinstance(request, Mapping):
        params = dict(request)
        call = str(params.pop("call", None) or params.pop("endpoint", None) or "generate")
        return params, call, []
    call = str(getattr(request, "call_name", None) or request.endpoint)
    return dict(request.params), call, request.input_sizes()


def estimate(request: _HasParams | Mapping[str, Any], folder: Path | str | None = None, *,
             synthetic: bool = False, prices: Mapping[str, ModelPrice] | None = None, batch: bool = False,
             user: bool | None = None, inputs: Sequence[tuple[int, int]] | None = None) -> Estimate:
    """What `request` (a client Request, or request parameters with an optional `call`) will cost,
    learned from `folder`'s runs where it can be, with where the figure comes from. `synthetic`: the
    request goes to the emulator (learn only from emulator runs). `user=False` skips the per-user runs.
    `inputs`: the sizes of an edit's input images, for the published figure (a Request knows its own)."""
    params, call, sized = _request_of(request)
    inputs = list(inputs) if inputs is not None else sized
    model = str(params.get("model") or capabilities.DEFAULT_MODEL)
    life = lifecycle_of(model)
    if life.status() == "shut down":  # no request of it can be sent: a price (or "one run teaches it") misleads
        retired = life.message(model)
        return Estimate(None, None, None, "unknown", 0, f"no estimate — {retired}", retired)
    n = params.get("n") or 1
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a whole number of images (1 or more), got {n!r}")
    quality, fmt = _key(params)
    size = _asked(params, "size", "auto")
    runs = [(kind, sample) for _, _, sample, kind in _runs(folder, model, call, synthetic=synthetic)
            if sample is not None]
    if call == "refine":  # a conversation's first turn reads no image, later ones read the image they change
        runs = [(k, s) for k, s in runs if bool(s.image_in) == bool(inputs)]
    alike = [(k, s) for k, s in runs if k[0] == quality and k[1] == fmt]
    exact = [s for k, s in alike if k[2] == size]
    own = bool(inputs) and call != "generate"  # it reads images of its own: a budget bounds them (`bounds`)
    if exact:
        value = _summary(model, exact, n, 1.0, prices, batch, own_inputs=own)
        if value is not None:
            return _learned(model, value, len(exact), "", synthetic, "learned")
    scaled = _scaled(model, size, [s for _, s in alike], n, prices, batch, synthetic, own)
    if scaled is not None:
        return scaled
    kept = user_runs.load(model, call, quality, size, fmt, synthetic=synthetic, user=user)
    if kept:
        value = _summary(model, kept, n, 1.0, prices, batch, own_inputs=own)
        if value is not None:
            return _learned(model, value, len(kept), " in your other folders", synthetic, "user")
    return _published(model, params, call, inputs, prices, batch)


def _scaled(model: str, size: str, alike: Sequence[Sample], n: int, prices: Mapping[str, ModelPrice] | None,
            batch: bool, synthetic: bool, own_inputs: bool) -> Estimate | None:
    """A size never run here, from the runs of the nearest learned size, output tokens scaled by pixel area."""
    wh = capabilities.parse_size(size)
    if wh is None or not alike:
        return None
    area = wh[0] * wh[1]
    nearest = min({(s.width, s.height) for s in alike}, key=lambda d: (abs(d[0] * d[1] - area), d))
    chosen = [s for s in alike if (s.width, s.height) == nearest]
    scale = area / (nearest[0] * nearest[1])
    value = _summary(model, chosen, n, scale, prices, batch, own_inputs=own_inputs)
    if value is None:
        return None
    extra = f" at {nearest[0]}x{nearest[1]}, scaled by pixel area ×{scale:.2f}"
    return _learned(model, value, len(chosen), "", synthetic, "scaled", extra)


def _cite(model: str, prices: Mapping[str, ModelPrice] | None) -> str:
    row = price_for(model, prices)
    return "price source unknown" if row is None else pricing.short_citation(row)


def _published(model: str, params: Mapping[str, Any], call: str, inputs: list[tuple[int, int]],
               prices: Mapping[str, ModelPrice] | None, batch: bool) -> Estimate:
    # a conversation turn with no image yet (its first, from words) is priced as a generation
    endpoint = "generate" if call == "generate" or (call == "refine" and not inputs) else "edit"
    cost = pricing.estimate(model, quality=params.get("quality"), size=params.get("size"), n=params.get("n"),
                            endpoint=endpoint, inputs=inputs or None, input_fidelity=params.get("input_fidelity"),
                            prices=prices, batch=batch)
    if cost.usd is None:
        return Estimate(None, None, None, "unknown", 0, _TEACH, cost.note)
    high = cost.usd
    low = None if cost.upper_bound else cost.usd
    return Estimate(cost.usd, low if low is not None else 0.0, high, "published", 0,
                    f"{cost.text} ({_cite(model, prices)})", cost.note, published=cost)
