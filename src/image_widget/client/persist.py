"""From an answer to files on disk: records, saved images and inputs, and what each image cost.

Every readable image is written (atomically, by the store) before it is decoded for the caller: a run's images in
one job on `runtime.io_pool()` (`Store.save_many`), a lined-up edit's composites side by side, while the caller
decodes; `save` returns only once all are on disk. The save jobs also make the records — with the run's estimate
and cache key when `request.run` left those to be worked out. Inputs of edits are kept by hash so the edit can be
run again.
"""

from __future__ import annotations

import base64
import binascii
import concurrent.futures
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from image_widget import images
from image_widget.base import formats, runtime
from image_widget.base.errors import BrokenStreamError, CorruptImageError
from image_widget.base.records import not_a_turn
from image_widget.client.finish import finish_and_save
from image_widget.client.result import Result, SavedImage
from image_widget.facts import capabilities
from image_widget.facts import cost as pricing
from image_widget.money import classroom, learned, user_runs
from image_widget.store import Store, StoredImage

if TYPE_CHECKING:
    from PIL.Image import Image

    from image_widget.client.backend import Backend
    from image_widget.client.sdk import SDKResponse, StreamBroke
    from image_widget.client.wire import Request
    from image_widget.facts.prices import ModelPrice

log = logging.getLogger("image_widget")
T = TypeVar("T")
S = TypeVar("S", bound=Sequence[Any])
_Job = tuple[dict[str, Any], "concurrent.futures.Future[Path]", "concurrent.futures.Future[Image] | None", bytes | None]
"""An image on its way: its record, its save, its decode (None: not decoded, or not yet), the API's bytes (None for
a lined-up edit, whose shown bytes are the finished file)."""


@dataclass
class Saving:
    """One sent request on its way to disk: everything `save` needs besides the answer."""

    request: Request
    disk: Store
    backend: Backend
    model: str
    key: str | Callable[[], str | None] | None
    """The cache key, so an identical request can be answered from disk."""
    estimate: pricing.Cost | Callable[[], pricing.Cost]
    """Either may come as a function: the first save job works it out (`settled`)."""
    prices: Mapping[str, ModelPrice]
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    started: float = field(default_factory=time.monotonic)
    """When the request was sent (the record's `elapsed_s` counts from here)."""
    fields: dict[str, Any] = field(default_factory=dict)
    """More record fields every image of the run shares (a conversation turn's ids, `image_widget.chat`)."""
    on_saved: Callable[[list[SavedImage]], None] | None = None
    """Given the run's images once all are on disk, before they are decoded (`RunOptions.on_saved`)."""
    actual: pricing.Cost | None = None
    """What the run cost when the caller knows better than the image usage alone (a turn adds its mainline
    model's tokens)."""
    answer: tuple[SDKResponse, int, float] | None = None
    """What `save` was given: the answer, the run's image count, seconds since `started`."""
    _settling: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)
    _shared: dict[str, Any] | None = None
    _actual: pricing.Cost | None = None

    def settled(self) -> tuple[str | None, pricing.Cost, pricing.Cost]:
        """The cache key, the estimate and what the run cost, worked out once. `request.run` hands the key and
        the estimate over as functions when it needs neither before sending; the first image's save job works
        them out (before that image is saved, so a run never learns from itself) while the caller decodes: off
        the request's path (issue 22). The images are paid for by then, so a failure here costs the record its
        figure, never an image."""
        with self._settling:
            if callable(self.key):
                self.key = _or_log(self.key, None, "cache key")
            if callable(self.estimate):
                self.estimate = _or_log(self.estimate, pricing.Cost.unknown("the estimate failed"), "estimate")
            if self.actual is None and self._actual is None and self.answer is not None:
                self._actual = self._cost_of(self.answer[0])
            return self.key, self.estimate, self.actual or self._actual or pricing.Cost.unknown()

    def _cost_of(self, response: SDKResponse) -> pricing.Cost:
        request = self.request
        return pricing.actual(self.model, response.usage, quality=response.meta.get("quality") or
                              request.params.get("quality"), size=response.meta.get("size") or
                              request.params.get("size"), n=len(response.b64_images), prices=self.prices)

    def owed(self, held: float) -> float | None:
        """What a run owes when it failed after its answer came (an image that could not be saved was still paid
        for): its cost, else `held` when that is unknown; None when no answer came (nor a cost given)."""
        with self._settling:
            answer, cost = self.answer, self.actual or self._actual
        try:
            if cost is None and answer is not None:
                cost = self._cost_of(answer[0])
        except Exception:  # logged: the class budget then counts what it held
            log.exception("image_widget: the cost of a failed run could not be worked out")
            return held
        if cost is None:
            return None
        return cost.usd if cost.usd is not None else held

    def begin(self, response: SDKResponse, count: int, elapsed: float) -> None:
        """`save` was given this answer: the shared fields are made from it."""
        with self._settling:
            self.answer, self._shared, self._actual = (response, count, elapsed), None, None

    def shared(self) -> dict[str, Any]:
        """The record fields every image of the run shares (made once, by the first save job)."""
        key, estimate, actual = self.settled()
        with self._settling:
            if self._shared is None:
                assert self.answer is not None, "save() sets the answer before any save job starts"
                self._shared = _shared_record(self, *self.answer, key, estimate, actual)
            return self._shared


def _or_log(work: Callable[[], T], fallback: T, what: str) -> T:
    try:
        return work()
    except Exception:  # logged: the run's images are saved all the same
        log.exception("image_widget: the %s of a run could not be worked out; saving its images without it", what)
        return fallback


def save(run: Saving, response: SDKResponse, count: int | None = None) -> Result:
    """Save every readable image and decode it, beside each other; return only once all are on disk.

    A corrupt image is reported after the others are safely saved. `count` is the run's size when it
    differs from what arrived (a broken stream), so the run stays incomplete for the cache. The records are
    made by the save jobs (`_settle`) while this thread decodes.
    """
    elapsed = time.monotonic() - run.started
    request, disk = run.request, run.disk
    fmt = str(response.meta.get("output_format") or request.params.get("output_format") or "png")
    n = len(response.b64_images)
    run.begin(response, count or n, elapsed)  # first: a failure from here on owes the answer (`Saving.owed`)
    for key_name in ("image", "mask", "markup"):  # kept by hash so the edit can be re-run later
        for item in request.kept(key_name):
            disk.save_input(item[1])
    problems: list[str] = []
    show = run.on_saved if count is None and fmt != "svg" else None  # not what a cancel or a break left
    jobs = _submit(run, response, fmt, problems, show)
    if run.on_saved is not None:
        jobs = _hand_over(show if request.finish is not None and not problems else None, jobs, fmt)
    saved, decoded = _collect(jobs, problems)
    if problems:
        raise CorruptImageError(
            f"{len(problems)} of {n} returned images were corrupt ({'; '.join(problems)}); "
            f"{len(saved)} were saved in {disk.folder}", request_id=response.request_id)
    _, estimate, actual = run.settled()
    return _result_from(saved, run.backend, estimate, actual, run.run_id, False, response.request_id,
                        response.partials, decoded)


def _shared_record(run: Saving, response: SDKResponse, count: int, elapsed: float, key: str | None,
                   estimate: pricing.Cost, actual: pricing.Cost) -> dict[str, Any]:
    """The fields every image of the run shares."""
    request, n = run.request, len(response.b64_images)
    return {
        "run_id": run.run_id, "count": count, "created": datetime.now(UTC).isoformat(timespec="microseconds"),
        "call": request.call_name, "endpoint": request.endpoint, "model": run.model,
        "price_source": pricing.price_source(run.model, run.prices), "prompt": request.params.get("prompt"),
        "params": _jsonable(request.params), "input_hashes": request.file_hashes(),
        "mask_hash": images.sha256(request.kept("mask")[0][1]) if request.kept("mask") else None,
        "usage": response.usage, "cost_estimate_usd": _per_image(estimate.usd, n),
        "cost_usd": _per_image(actual.usd, n), "run_cost_usd": actual.usd,
        "request_id": response.request_id, "elapsed_s": round(elapsed, 3), "backend": run.backend.describe(),
        "cache_key": key, "response": _jsonable(response.meta), "partials": response.partials,
        "raw_path": None, "composite": None, "detail_box": None, "expand": None,
        **(request.finish.fields() if request.finish is not None else {}),
        "from_batch": False, "batch_id": None, "custom_id": None, "batch_run_id": None,
        "session": classroom.SESSION_ID, **not_a_turn(), **run.fields,
    }


def _submit(run: Saving, response: SDKResponse, fmt: str, problems: list[str],
            show: Callable[[list[SavedImage]], None] | None) -> list[_Job]:
    """Start saving (and decoding) each readable image; unreadable ones go to `problems`. A lined-up edit's images
    are finished and saved side by side (the composites are the work); the others in one job, as one run
    (`Store.save_many`: two index transactions per run, not per image), which gives them to `show` as soon as
    all are written when every image of the answer was readable."""
    request = run.request
    asked = capabilities.parse_size(str(request.params.get("size", "")))
    pool = runtime.io_pool()
    jobs: list[_Job] = []
    plain: list[tuple[dict[str, Any], bytes]] = []
    for index, b64 in enumerate(response.b64_images):
        try:
            data = base64.b64decode(b64, validate=True)
        except (binascii.Error, ValueError) as exc:
            problems.append(f"image {index}: {exc}")
            continue
        info = capabilities.image_info(data) if fmt != "svg" else None
        if fmt != "svg" and info is None:
            problems.append(f"image {index}: not a readable {fmt} image")
            continue
        record: dict[str, Any] = {"index": index, "note": request.note,  # the rest by its save job (`_settle`)
                  "revised_prompt": response.revised_prompts[index] if index < len(response.revised_prompts)
                  else None}
        if info is not None and asked and info[0] != asked:
            size_note = f"asked for {asked[0]}x{asked[1]}, got {info[0][0]}x{info[0][1]}"
            record["note"] = f"{request.note}; {size_note}" if request.note else size_note
        if request.finish is not None and fmt != "svg":
            both = pool.submit(_settle, run, [record], finish_and_save, request.finish, run.disk, data, fmt, record)
            jobs.append((record, _part(both, 0), _part(both, 1), None))
            continue
        if request.finish is not None:  # a vector image cannot be composited: say so, keep it as it came
            record["composite"] = None
            record["note"] = "; ".join(filter(None, [record.get("note"), "SVG output is saved as it came "
                                                     "(not composited onto the input)"]))
        plain.append((record, data))
    if plain:
        records = [record for record, _ in plain]
        together = pool.submit(_settle, run, records, _save_run, run.disk, fmt, plain, None if problems else show)
        for position, (record, data) in enumerate(plain):
            last = position == len(plain) - 1
            decoding = None if fmt == "svg" or run.on_saved is not None else _decode_here(data) if last else \
                pool.submit(images.decode_image, data)  # with `on_saved`: once they are shown (`_hand_over`)
            jobs.append((record, _part(together, position), decoding, data))
    return jobs


def _save_run(disk: Store, fmt: str, plain: list[tuple[dict[str, Any], bytes]],
              show: Callable[[list[SavedImage]], None] | None) -> list[Path | Exception]:
    """Save the run's images as one; with `show`, hand them on once written, before the index adds their rows
    (they are on disk; the rows are bookkeeping that a crash leaves to the pending marks)."""
    def written(outcomes: list[Path | Exception]) -> None:
        if show is not None and all(isinstance(outcome, Path) for outcome in outcomes):  # not a run that will fail
            _give(show, [SavedImage(dict(record), data, _mime(record)) for record, data in plain])

    return disk.save_many([(data, fmt, record) for record, data in plain], then=written if show else None)


def _hand_over(show: Callable[[list[SavedImage]], None] | None, jobs: list[_Job], fmt: str) -> list[_Job]:
    """Once every save is done, give a lined-up edit's finished images to `show` (None: nothing to show here; a
    plain run's save job showed them), then decode them here one by one: the decodes start only after the
    images were handed on (a view shows them meanwhile), and one at a time, so the machine's other core stays
    free for whoever shows them (issue 22: the page's messages wait while the kernel takes every core). A failed
    save or finish is left to `_collect`."""
    concurrent.futures.wait([saving for _, saving, _, _ in jobs])
    if show is not None and fmt != "svg" and all(saving.exception() is None and (d is None or d.exception() is None)
                                                 for _, saving, d, _ in jobs):  # a run that will fail is not shown
        _give(show, [SavedImage(dict(record), Path(record["path"]).read_bytes(), _mime(record))  # a composite: PNG
                     for record, _, _, _ in jobs])
    return [(record, saving, decoding if decoding is not None or data is None or fmt == "svg" else
             _decode_here(data), data) for record, saving, decoding, data in jobs]


def _mime(record: Mapping[str, Any]) -> str:
    """The content type of an image as it was saved (its record's `format`)."""
    return formats.MIME_TYPES.get(str(record.get("format")), "image/png")


def _give(show: Callable[[list[SavedImage]], None], shown: list[SavedImage]) -> None:
    """Hand the saved images on; a failing `show` is logged (the images are saved, and decoded all the same)."""
    try:
        if shown:
            show(shown)
    except Exception:
        log.exception("image_widget: on_saved failed")


def _settle(run: Saving, records: list[dict[str, Any]], save: Callable[..., T], *args: Any) -> T:
    """Complete the images' records with the run's shared fields (`Saving.shared`), save; the run's first image,
    once saved, also teaches the estimates (`user_runs`, `learned`) — here, off the caller's path."""
    shared = run.shared()
    for record in records:
        mine = dict(record)
        record.clear()
        record.update(shared, **mine)
    saved = save(*args)
    first = next((record for record in records if record.get("index") == 0 and record.get("path")), None)
    if first is not None:
        user_runs.remember(first)
        learned.saw(run.disk.folder, first)
    return saved


def _part(both: concurrent.futures.Future[S], which: int) -> concurrent.futures.Future[Any]:
    """One element of a (path, image) or a run's outcomes future as its own future, for `_collect` (an exception
    in its place — an image that was saved but cannot be decoded, one that could not be saved — becomes that
    future's exception)."""
    part: concurrent.futures.Future[Any] = concurrent.futures.Future()

    def done(future: concurrent.futures.Future[S]) -> None:
        error = future.exception()
        value = None if error is not None else future.result()[which]
        if isinstance(value, BaseException):
            error = value
        if error is not None:
            part.set_exception(error)
        else:
            part.set_result(value)

    both.add_done_callback(done)
    return part


def _decode_here(data: bytes) -> concurrent.futures.Future[Image]:
    """Decode the last image on this thread while the pool saves it: one thread hand-off fewer per run
    (the caller waits for the save anyway, and nothing is returned before it is on disk)."""
    done: concurrent.futures.Future[Image] = concurrent.futures.Future()
    try:
        done.set_result(images.decode_image(data))
    except BaseException as exc:  # noqa: BLE001 - handed to _collect, which reports it like a pool failure
        done.set_exception(exc)
    return done


def _collect(jobs: list[_Job], problems: list[str]) -> tuple[list[StoredImage], list[Image]]:
    """Wait for every save, even after a failure (nothing half-done), then re-raise the first failure."""
    saved: list[StoredImage] = []
    decoded: list[Image] = []
    failure: BaseException | None = None
    for record, saving, decoding, _ in jobs:
        try:
            saved.append(StoredImage(id="", path=saving.result(), record=record))
            if decoding is not None:
                decoded.append(decoding.result())
        except images.ImageInputError as exc:
            problems.append(f"image {record['index']}: {exc}")
        except BaseException as exc:  # noqa: BLE001 - re-raised below once all saves have finished
            failure = failure or exc
    if failure is not None:
        raise failure
    return saved, decoded


def save_broken(run: Saving, exc: StreamBroke) -> tuple[BrokenStreamError, float]:
    """A stream that broke after some images completed: save those (they are paid for), then say so; with
    what they cost (the caller charges it to the session).

    Their records keep the asked-for count, so the run stays incomplete and is never served from the cache.
    """
    arrived = exc.arrived
    wanted = int(run.request.params.get("n", 1))
    got = len(arrived.b64_images)
    saved, usd = keep_arrived(run, arrived)
    where = f"{len(saved)} saved in {run.disk.folder}" if saved else "nothing was saved"
    request_id = exc.request_id or arrived.request_id
    error = BrokenStreamError(f"the stream broke after {got} of {wanted} image(s), {where}: {exc.detail}",
                              status=exc.status, code=exc.code, param=exc.param, request_id=request_id,
                              hint=exc.hint, origin=exc.origin, saved=saved)
    return error, usd


def keep_arrived(run: Saving, arrived: SDKResponse) -> tuple[list[Path], float]:
    """Save the images of a stream that stopped early (broke, or was cancelled): they are paid for. Their
    records keep the asked-for count, so the run reads as incomplete. Returns their paths and cost."""
    if not arrived.b64_images:
        return [], 0.0
    kept = save(run, arrived, count=int(run.request.params.get("n", 1)))
    return kept.paths, kept.cost.usd or 0.0


def cached_result(stored: list[StoredImage], backend: Backend, estimate: pricing.Cost) -> Result:
    """A complete earlier run answered from disk: free, and marked as cached."""
    run_id = str(stored[0].record.get("run_id", ""))
    free = pricing.Cost(0.0, "$0.000 (cached)")
    return _result_from(stored, backend, estimate, free, run_id, True, stored[0].record.get("request_id"))


def _result_from(  # noqa: PLR0913 - the fields of a Result, named
        saved: list[StoredImage], backend: Backend, estimate: pricing.Cost, actual: pricing.Cost,
                 run_id: str, cached: bool, request_id: str | None, partials: int = 0,
                 decoded: list[Image] | None = None) -> Result:
    records = [s.record for s in saved]
    paths = [Path(s.record["path"]) if s.record.get("path") else s.path for s in saved]
    pil = decoded if decoded is not None else [images.decode_image(p.read_bytes()) for p in paths
                                               if p.suffix != ".svg"]
    return Result(pil, records, paths, run_id, cached, actual, estimate, backend, request_id, partials)


def _per_image(usd: float | None, n: int) -> float | None:
    """Records are per image, so they carry the image's share (summing records gives the run's cost)."""
    return None if usd is None else round(usd / max(n, 1), 6)


def _jsonable(value: Mapping[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(value, default=str))  # type: ignore[no-any-return]
