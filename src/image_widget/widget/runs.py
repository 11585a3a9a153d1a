"""A run of the widget: checked, started in the background, previewed, shown, and paid for.

The request runs on the widget's `JobRunner` thread so the kernel stays free. Every trait write from
that thread holds the widget's lock, which `ImageWidget._refresh` holds too: a refresh can never undo
the job's `running` status with a stale check.
"""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Coroutine, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from image_widget.client.reproduce import runnable_code
from image_widget.facts import capabilities as caps_mod
from image_widget.facts import cost as cost_mod
from image_widget.facts.capabilities import FileTuple
from image_widget.money import learned
from image_widget.store import StoredImage
from image_widget.widget.banners import error_banner
from image_widget.widget.history_diff import put_history
from image_widget.widget.jobs import BUSY_MESSAGE, Job, JobBusyError
from image_widget.widget.markup import markup_png
from image_widget.widget.payloads import PREVIEW_PX, cost_payload, history_run, result_item
from image_widget.widget.plan import Plan, problems_dict, validate_plan
from image_widget.widget.serialization import edit_png, with_run
from image_widget.widget.spend_view import spend_payload
from image_widget.widget.thumbs import result_thumbs

if TYPE_CHECKING:
    from PIL.Image import Image

    from image_widget.client.api import Result
    from image_widget.client.result import SavedImage
    from image_widget.facts.prices import ModelPrice
    from image_widget.store import Store
    from image_widget.widget.connection import Connection
    from image_widget.widget.inputs import Inputs
    from image_widget.widget.jobs import JobRunner
    from image_widget.widget.saved_view import SavedView

SHOWN_WAIT_S = 0.25
"""The longest a page-started run waits, after sending its saved images, for a page to say it drew them."""
SHOWN_BYTES_MAX = 16 * 2**20
"""A run whose images are larger together is not sent at once (ten 3 MB PNGs would hold the thumbnails back for
seconds on a slow link to a remote kernel): the page waits for the thumbnails, as before."""
_VERBS = {"generate": "Generating", "edit": "Editing", "vary": "Making variations of", "expand": "Expanding"}


class CostMeter:
    """The `cost` trait's three numbers: the current options' estimate, the last run, the session.

    Unknown stays unknown (`null`), never guessed; cached results are not added to the session.
    """

    def __init__(self, prices: Mapping[str, ModelPrice] | None) -> None:
        self._prices = prices
        self.estimate: cost_mod.Cost | None = None
        self._last: cost_mod.Cost | None = None
        self._session = cost_mod.SessionTotal()

    def estimate_for(self, options: Mapping[str, Any], call: str,
                     inputs: Sequence[tuple[int, int]] | None, folder: Path | None = None,
                     synthetic: bool = False) -> cost_mod.Cost:
        """What `options` would cost as `call` (generate / edit / vary / expand) with input images of these
        sizes: learned from the folder's runs of that call where it can be (saying so), else the published
        figure, else unknown."""
        try:
            return learned.estimate({**options, "call": call}, folder, synthetic=synthetic, prices=self._prices,
                                    inputs=inputs).cost()
        except (TypeError, ValueError):
            return cost_mod.Cost.unknown("n is not a whole number")

    def record(self, cost: cost_mod.Cost, *, cached: bool) -> None:
        self._last = cost
        if not cached:
            self._session.add(cost)

    def payload(self) -> dict[str, Any]:
        session = self._session.total if self._session.count else None
        return cost_payload(self.estimate, self._last, session)


class RunsHost(Protocol):
    """What a run needs of its widget (`core.ImageWidget`): the traits it writes, its parts, the plan of a click."""

    _lock: threading.RLock
    _connection: Connection
    _costs: CostMeter
    _inputs: Inputs
    _runner: JobRunner
    _store: Store
    options: dict[str, Any]
    status: dict[str, Any]
    error: dict[str, Any]
    problems: dict[str, Any]
    preview: bytes
    results: list[dict[str, Any]]
    cost: dict[str, Any]
    history: Any
    mask: Any
    markup: Any
    spend: dict[str, Any]
    _saved_view: SavedView
    _trait_values: dict[str, Any]
    _spend_writes: int

    def _notify_observers(self, event: Any) -> None: ...

    def send(self, content: Any, buffers: Any = None) -> None: ...

    @property
    def folder(self) -> Path: ...

    def _plan(self) -> Plan: ...

    def _refresh(self) -> None: ...

    def _notice(self, message: str, level: str = "info") -> None: ...


class Runs:
    """Starts the widget's runs and writes what the page sees of them (status, preview, results…)."""

    def __init__(self, widget: RunsHost) -> None:
        self._widget = widget
        self.latest_paths: list[Path] = []
        self._done_message = ""
        self._shown: dict[str, threading.Event] = {}

    def start(self, *, from_python: bool) -> Job | None:
        """Validate, then start the request in the background. Nothing is sent when it is invalid.

        From the page a refusal is a notice or the error banner; from Python it also raises.
        """
        w = self._widget
        if w._runner.running:
            w._notice(BUSY_MESSAGE, "warning")
            if from_python:
                raise JobBusyError
            return None
        plan = w._plan()
        problems = validate_plan(plan)
        w.problems = problems_dict(problems)
        if problems:
            exc = caps_mod.ValidationError(problems)
            w.error = dict(error_banner(exc, w._connection.secrets()))
            w.status = {**w.status, "state": "error", "message": "Not sent: fix the marked options"}
            if from_python:
                raise exc
            return None
        uploads = w._inputs.uploads()
        mask_png = edit_png(w.mask) if plan.use_mask else None
        if plan.use_markup:
            plan.kwargs["markup"] = markup_png(w.markup)
        try:
            return w._runner.start(lambda job: self.job(job, plan, uploads, mask_png, page=not from_python),
                                   self.finished)
        except JobBusyError:
            w._notice(BUSY_MESSAGE, "warning")
            if from_python:
                raise
            return None

    def job(self, job: Job, plan: Plan, uploads: list[FileTuple],
            mask_png: bytes | None, *, page: bool = False) -> Coroutine[Any, Any, Result]:
        """Job thread: show `running`, then return the coroutine that does the work."""
        w = self._widget
        n = plan.kwargs.get("n", 1)
        noun = "image" if plan.call == "vary" else f"{n} image{'s' if n != 1 else ''}"
        with w._lock:
            w.error = {}
            w.preview = b""
            w.status = {"state": "running",
                        "message": f"{_VERBS[plan.call]} {noun} with {plan.kwargs.get('model')}…",
                        "job_id": job.id, "started_ms": job.started_ms}
        return self._run(job, plan, uploads, mask_png, page)

    async def _run(self, job: Job, plan: Plan, uploads: list[FileTuple], mask_png: bytes | None,
                   page: bool = False) -> Result:
        from image_widget.client import api

        w = self._widget
        kwargs: dict[str, Any] = {**plan.kwargs, **w._connection.request_kwargs(), "store": w._store,
                                  "on_saved": lambda saved: self.show_saved(job, saved, wait=page)}
        if plan.endpoint != "variation":
            kwargs["on_partial"] = self.on_partial
        if plan.call == "generate":
            result = await api.agenerate(plan.prompt, **kwargs)
        elif plan.call == "edit":
            result = await api.aedit(w._inputs.sources(), plan.prompt,
                                     mask=mask_png if plan.use_mask else None, **kwargs)
        elif plan.call == "expand":
            result = await api.aexpand(uploads[0][1], plan.prompt, **kwargs)
        else:
            result = await api.avary(uploads[0][1], plan.prompt.strip() or None, **kwargs)
        self.show_result(job, result)
        return result

    def show_saved(self, job: Job, saved: list[SavedImage], *, wait: bool = False) -> None:
        """A save thread (`on_saved`, before the index adds the run's rows): the run's images as soon as they are on
        disk, as the API sent them, before the kernel decodes them or makes thumbnails: the page shows them at once
        (issue 22, click → page). A message, not state, so the saved notebook keeps only the thumbnails that follow
        (`show_result`). As base64 in the message, which the page shows as a `data:` URL: Chromium loads that in
        the page itself, where a `blob:` URL's bytes go through the browser process first (~20 ms for four 1024²
        images on 2 cores).

        `wait` (a run the page started): the decodes and thumbnails that follow wait until a page says it has
        drawn them (`results_shown`), at most `SHOWN_WAIT_S`: on a machine that also runs the browser they took
        the cores the page needed to draw (~25 ms later on 2 cores). A run started from Python never waits: its
        cell holds the kernel, so no answer could arrive before it ends. (The wait holds that save thread and the
        run's index rows, at most `SHOWN_WAIT_S`: nothing else of the run needs either meanwhile.)"""
        if sum(len(image.data) for image in saved) > SHOWN_BYTES_MAX:
            return
        items = []
        for image in saved:
            item = {**result_item(image.record, b"", ""), "mime": image.mime,
                    "b64": base64.b64encode(image.data).decode("ascii")}
            del item["thumb"], item["code"], item["snippet"]  # "Copy code" waits for the results
            items.append(item)
        shown = self._shown[job.id] = threading.Event()
        try:
            self._widget.send({"type": "results_saved", "job_id": job.id, "items": items})
            if wait:
                shown.wait(SHOWN_WAIT_S)
        finally:
            self._shown.pop(job.id, None)

    def shown(self, job_id: str) -> None:
        """A page has drawn the saved images of run `job_id` (`results_shown`): its run goes on."""
        event = self._shown.get(job_id)
        if event is not None:
            event.set()

    def on_partial(self, index: int, image: Image) -> None:
        """Job thread: a streamed partial image becomes the `preview`."""
        from image_widget.images import thumbnail_bytes

        w = self._widget
        total = w.options.get("partial_images") or "?"
        preview = thumbnail_bytes(image, PREVIEW_PX)
        with w._lock:
            w.preview = preview
            w.status = {**w.status, "message": f"Preview {index + 1} of {total}…"}

    def show_result(self, job: Job, result: Result) -> None:
        """Results, history and cost of a finished run (job thread; no awaits, so no cancel midway)."""
        w = self._widget
        pairs = result_thumbs(result)
        extra, comments = w._connection.code_context()
        snippet = w._connection.scrub(runnable_code(result.record, extra=extra, comments=comments))
        items = [result_item(record, thumb, result.code, snippet)
                 for record, (thumb, _small) in zip(result.records, pairs, strict=False)]
        run = history_run(result.records, [small for _thumb, small in pairs][:len(result.records)])
        stored = [StoredImage(str(r.get("id", p.stem)), p, r) for r, p in zip(result.records, result.paths,
                                                                               strict=False)]
        with w._lock:
            self.latest_paths = list(result.paths)
            w._costs.record(result.cost, cached=result.cached)
            w.results = items
            if w.history is not None:
                put_history(w, with_run(w.history, stored, run))  # a diff: this run, not the strip again
            w.cost = w._costs.payload()
        w._saved_view.update([thumb for thumb, _small in pairs], str(result.record.get("prompt") or ""))
        elapsed = (int(time.time() * 1000) - job.started_ms) / 1000
        count = len(result.paths)
        self._done_message = (f"{count} image{'s' if count != 1 else ''} in {elapsed:.1f} s"
                              + (" (from the cache, not billed)" if result.cached else "")
                              + (" — synthetic (emulator)" if result.backend.synthetic else ""))

    def finished(self, job: Job) -> None:
        """Job thread: the final status, after results are in place (waiters see this state)."""
        w = self._widget
        with w._lock:
            base = {"job_id": job.id, "started_ms": job.started_ms}
            w.preview = b""
            if job.cancelled:
                w.status = {**base, "state": "cancelled",
                            "message": "Cancelled — the request was abandoned (the API may still bill it); "
                                       "images that had already arrived are saved in History"}
            elif job.error is not None:
                if isinstance(job.error, caps_mod.ValidationError):  # caught by the API layer's own check
                    w.problems = problems_dict(job.error.problems)
                w.error = dict(error_banner(job.error, w._connection.secrets()))
                w.status = {**base, "state": "error", "message": w.error["title"]}
            else:
                w.status = {**base, "state": "done", "message": self._done_message}
        if job.error is None:  # a cancelled stream may have saved the images that had arrived: show them
            # After "done" (the person sees it sooner), before waiters are released (jobs.py: `on_finish` runs
            # first), so `generate()` returns with the estimate the run just taught and the spend it added.
            w._refresh()
            spent = spend_payload(w.folder)
            with w._lock:
                w.spend = spent
                w._spend_writes += 1
