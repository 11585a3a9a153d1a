"""`ImageWidget`: the OpenAI Images API in a notebook (anywidget).

The kernel owns the state (traits, see docs/PROTOCOL.md); the browser renders it and writes back only
what a person changes (`options`, `mask`). Actions arrive as custom messages (`commands`). Requests
run on a background job runner (`runs`) so the kernel stays free while an image is made, and a second
click never starts a second paid request. The client, key and base_url live only in `connection`.

    w = ImageWidget()                  # no key: the offline emulator, images are synthetic
    w.generate("a red fox", n=2)       # same as the button; blocks and returns api.Result
    w.images                           # PIL images of the latest run (read from disk)
"""

from __future__ import annotations

import io
import os
import threading
from collections.abc import Coroutine, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import anywidget
import traitlets
from ipywidgets.widgets.trait_types import bytes_serialization

from image_widget.base import runtime
from image_widget.facts import capabilities as caps_mod
from image_widget.facts import cost as cost_mod
from image_widget.facts.capabilities import FileTuple
from image_widget.facts.prices import as_overrides
from image_widget.store import History, Store
from image_widget.widget import commands
from image_widget.widget.batches import BatchPoller
from image_widget.widget.connection import Connection
from image_widget.widget.conversation import Conversation
from image_widget.widget.history_pages import HistoryPages
from image_widget.widget.inputs import Inputs
from image_widget.widget.jobs import Job, JobRunner
from image_widget.widget.live import LiveGallery
from image_widget.widget.markup import MarkupTrait, markup_png, markup_to_json
from image_widget.widget.options import (
    OPTION_KEYS,
    ModeMemory,
    clamp_lined_up,
    clamp_options,
    initial_options,
    into_mode,
    merge_options,
    model_labels,
    models_for_picker,
)
from image_widget.widget.payloads import notice
from image_widget.widget.plan import Plan, plan_request, problems_of
from image_widget.widget.runs import CostMeter, Runs
from image_widget.widget.saved_view import SavedView, publish
from image_widget.widget.serialization import MaskTrait, WidgetHistory, edit_png, history_to_json, mask_to_json
from image_widget.widget.spend_view import NO_SPEND_YET, spend_payload

if TYPE_CHECKING:
    from PIL.Image import Image

    from image_widget.client.api import Result
    from image_widget.images import ImageInput

__all__ = ["ImageWidget"]

_STATIC = Path(__file__).parent.parent / "static"
_FALLBACK_ESM = """
export default {
  render({ el }) {
    el.classList.add("image-widget");
    el.textContent = "image_widget: the front-end bundle (static/widget.js) is missing. "
      + "Run `npm install && npm run build` in the project, or reinstall the package.";
  },
};
"""
_CONNECTION_KWARGS = ("client", "base_url", "api_key", "folder", "max_retries", "timeout", "cache", "prices")


class ImageWidget(anywidget.AnyWidget):
    """Prompt, options, inputs, mask painting and results for the OpenAI Images API.

    Keyword arguments: the connection (`client`, `base_url`, `api_key` — never shown or synced),
    `folder` (where every image and its record is saved; default ./image-widget-output),
    `max_retries`, `timeout`, `cache`, `prices`, and any option (`prompt`, `mode`, `model`, `size`,
    `quality`, `n`, `background`, `output_format`, `output_compression`, `moderation`,
    `input_fidelity`, `partial_images`). Anything else is a TypeError.
    """

    _esm: Path | str = _STATIC / "widget.js" if (_STATIC / "widget.js").is_file() else _FALLBACK_ESM
    if (_STATIC / "widget.css").is_file():
        _css = _STATIC / "widget.css"

    # The traits are the whole state (docs/PROTOCOL.md); only `options`, `mask` and `markup` are written by JS.
    options = traitlets.Dict().tag(sync=True)
    models = traitlets.List(traitlets.Unicode()).tag(sync=True)
    model_labels = traitlets.Dict().tag(sync=True)
    """model → {label, retired}: dates next to names, shut-down models shown disabled (`options.model_labels`)."""
    capabilities = traitlets.Dict().tag(sync=True)
    problems = traitlets.Dict().tag(sync=True)
    inputs = traitlets.List(traitlets.Dict()).tag(sync=True)
    mask_base = traitlets.Bytes(b"").tag(sync=True, **bytes_serialization)
    mask = MaskTrait().tag(sync=True, to_json=mask_to_json, **bytes_serialization)
    markup = MarkupTrait().tag(sync=True, to_json=markup_to_json, **bytes_serialization)
    status = traitlets.Dict().tag(sync=True)
    preview = traitlets.Bytes(b"").tag(sync=True, **bytes_serialization)
    error = traitlets.Dict().tag(sync=True)
    results = traitlets.List(traitlets.Dict()).tag(sync=True)
    history = traitlets.Instance(History, allow_none=True).tag(sync=True, to_json=history_to_json)
    history_state = traitlets.Dict().tag(sync=True)
    backend = traitlets.Dict().tag(sync=True)
    cost = traitlets.Dict().tag(sync=True)
    spend = traitlets.Dict().tag(sync=True)
    """What the folder's runs cost by model and the class budget left (widget/spend_view.py)."""
    batches = traitlets.List(traitlets.Dict()).tag(sync=True)
    """Pending batch sweeps of the folder (widget/batches.py): template, state, done/total, estimate."""
    answer_timeout_ms = traitlets.Int(6000).tag(sync=True)
    """How long the page waits for the kernel's answer to an action before saying it does not answer."""
    conversation = traitlets.Dict().tag(sync=True)
    """The refine box's strip: {thread, turns: [{id, turn, prompt, action, thread, thumb}], selected}."""

    def __init__(
        self,
        *,
        client: Any = None,
        base_url: str | None = None,
        api_key: str | None = None,
        folder: str | os.PathLike[str] | None = None,
        max_retries: int | None = None,
        timeout: float | None = None,
        cache: bool = False,
        prices: Mapping[str, Any] | None = None,
        **options: Any,
    ) -> None:
        unknown = sorted(set(options) - set(OPTION_KEYS))
        if unknown:
            accepted = ", ".join([*_CONNECTION_KWARGS, *OPTION_KEYS])
            raise TypeError(f"ImageWidget() got unexpected keyword argument(s) {', '.join(unknown)}; "
                            f"accepted: {accepted}")
        overrides = as_overrides(prices)  # checked now: a bad price is an error at construction
        run_options: dict[str, Any] = {"cache": cache, "prices": overrides}
        if max_retries is not None:
            run_options["max_retries"] = max_retries
        if timeout is not None:
            run_options["timeout"] = timeout
        self._ready = False  # observers wait until the traits below are in place
        self._spend_writes = 0  # counts `spend` writes, so the first (background) one never undoes a later one
        self._lock = threading.RLock()  # held by every trait write of the job thread and by `_refresh`
        self._inputs = Inputs(self)
        self._runs = Runs(self)
        self._conversation = Conversation(self)
        self._modes = ModeMemory()  # n per mode (widget/options.py)
        self._saved_view = SavedView()  # what a saved notebook shows once the live widget is gone
        self._pages = HistoryPages(self)
        self._history_ready = self._pages.ready
        self._live = LiveGallery(self)
        self._runner = JobRunner()
        self._store = Store(folder)  # before the backend: an unusable folder fails before any emulator notice
        self._connection = Connection(client, base_url, api_key, run_options)
        self._costs = CostMeter(overrides)

        server = self._connection.server
        merged, described = initial_options(options, server)
        super().__init__(
            options=merged,
            models=models_for_picker(str(merged["model"]), server),
            model_labels=model_labels(models_for_picker(str(merged["model"]), server), server),
            capabilities=described,
            backend=self._connection.backend.describe(),
            status={"state": "idle", "message": "", "job_id": None, "started_ms": None},
            error={},
            history=None,
            history_state=self._pages.state(),
            spend=NO_SPEND_YET,  # the folder's spend is read in the background: on 100,000 images it takes ~1 s
            conversation={"thread": None, "turns": [], "selected": None},
        )
        self.on_msg(commands.dispatch)
        self._batches = BatchPoller(self)
        self.on_msg(self._batches.on_msg)
        self._ready = True
        self._refresh()
        self.history = WidgetHistory(self._store.folder)
        self._pages.start()
        runtime.spawn(lambda: self._batches.refresh(ask_server=False), "image-widget-batches-list")
        runtime.spawn(self._conversation.load_latest, "image-widget-conversation")  # the strip, after a restart
        runtime.spawn(self._first_spend, "image-widget-spend")
        if server is not None:  # the server's own model list and dates, without delaying the first render
            runtime.spawn(self._load_server_models, "image-widget-models")

    # ------------------------------------------------------------------------------------ Python API

    @property
    def images(self) -> list[Image]:
        """The latest run's images as PIL images, read from disk (SVGs, which PIL cannot open, skipped)."""
        from PIL import Image as PILImage

        loaded: list[Image] = []
        for path in list(self._runs.latest_paths):
            if path.suffix.lower() == ".svg":
                continue
            img = PILImage.open(io.BytesIO(path.read_bytes()))
            img.load()
            loaded.append(img)
        return loaded

    @property
    def mask_base_image(self) -> Image | None:
        """The image the mask is painted on (the first input, at native resolution) as a PIL image, or
        None without inputs — the counterpart of `w.mask`, so `iw.edit(w.mask_base_image, "…", mask=w.mask)`
        edits exactly what was painted. `mask_base` stays the encoded bytes the page receives."""
        data = self.mask_base
        if not data:
            return None
        from PIL import Image as PILImage

        img = PILImage.open(io.BytesIO(data))
        img.load()
        return img

    @property
    def folder(self) -> Path:
        """Where images and their records are saved."""
        return self._store.folder

    def add_inputs(self, *images: ImageInput) -> None:
        """Add input images from Python, exactly as if they had been uploaded in the browser.

        Why: to prepare the painting canvas from a notebook — load or compute an image, add it, then
        paint the mask over it in the widget (or set `w.mask`) without saving and uploading a file.
        Takes anything `images.load_image` takes (PIL image, numpy array, encoded bytes, a path).
        Each is normalised like an upload (format, size limit, thumbnail); the first input becomes
        the mask canvas (`mask_base`, clearing any mask) and, in generate mode, the mode turns to edit.

        Unlike a browser upload, which adds what it can and shows a notice, this is all or nothing:
        `ImageInputError` when an image cannot be used, `ValueError` when the model's input limit
        would be exceeded; nothing is added then.
        """
        self._inputs.add_from_python(images)

    def generate(self, prompt: str | None = None, /, **options: Any) -> Result:
        """Run the current options (like pressing Generate), wait, and return the `api.Result`.

        `prompt` and any option given here update the widget first. Raises `ValidationError` before
        sending anything when the options are invalid, `JobBusyError` when a run is in progress,
        `APIRequestError` when the request fails and `JobCancelledError` when it was cancelled.
        Interrupting the kernel cancels the request.
        """
        unknown = sorted(set(options) - set(OPTION_KEYS))
        if unknown:
            raise TypeError(f"generate() got unexpected option(s) {', '.join(unknown)}; "
                            f"options: {', '.join(OPTION_KEYS)}")
        if threading.current_thread() is self._runner.loop_thread:
            raise RuntimeError("generate() cannot wait from inside the widget's own job thread")
        if prompt is not None:
            options["prompt"] = prompt
        if options:
            self.options = {**self.options, **options}
        job = self._runs.start(from_python=True)
        assert job is not None
        try:
            while not job.wait(0.2):
                pass
        except KeyboardInterrupt:
            self._runner.cancel()
            job.wait(10)
            raise
        return cast("Result", job.outcome())

    def refine(self, prompt: str, /) -> Result:
        """One turn of the refine box from Python (like pressing Refine): continues the conversation shown
        (from the turn selected in its strip), or begins one from the current result; waits and returns it."""
        job = self._conversation.start(prompt, from_python=True)
        assert job is not None
        job.wait()
        return cast("Result", job.outcome())

    def cancel(self) -> bool:
        """Cancel the running request (it is abandoned; the API may still bill it). True if one ran."""
        return self._runner.cancel()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the current run (started by the button or `generate`); False on timeout."""
        job = self._runner.current
        return True if job is None else job.wait(timeout)

    @property
    def running(self) -> bool:
        return self._runner.running

    def close(self) -> None:
        """Cancel any run, stop the job thread and close the comm."""
        runner = getattr(self, "_runner", None)  # absent when __init__ refused its arguments
        if runner is not None:
            runner.close()
        poller = getattr(self, "_batches", None)
        if poller is not None:
            poller.close()
        live = getattr(self, "_live", None)
        if live is not None:
            live.close()
        super().close()

    def _ipython_display_(self) -> None:
        """The widget, then its saved view (widget/saved_view.py): a reopened notebook shows pictures."""
        bundle = self._repr_mimebundle_() if callable(self._repr_mimebundle_) else None
        data, metadata = bundle if bundle is not None else ({"text/plain": repr(self)}, {})
        publish(data, metadata=metadata)
        if self.comm is not None:  # a closed widget has nothing live to stand in for
            self._saved_view.show(self._runs.latest_paths, str(self.options.get("prompt") or ""))

    def __repr__(self) -> str:
        return (f"ImageWidget(model={self.options.get('model')!r}, backend={self.backend.get('label')!r}, "
                f"folder={str(self.folder)!r})")

    # ------------------------------------------------------------------------------------ option refresh

    @traitlets.observe("options")
    def _options_changed(self, change: dict[str, Any]) -> None:
        """Keep `options` complete and possible for its model; a new model brings its capabilities."""
        if not self._ready:
            return
        new = change["new"] or {}
        old = change["old"] or {}
        merged = merge_options(new, old)
        if merged["model"] != old.get("model"):
            described = caps_mod.describe(str(merged["model"]), self._connection.server)
            self.capabilities = described
            self.models = models_for_picker(str(merged["model"]), self._connection.server)
            self.model_labels = model_labels(self.models, self._connection.server)
            merged = clamp_options(merged, described)
        if merged["mode"] != old.get("mode"):
            merged = into_mode(merged, old.get("mode"), self.capabilities.get("sizes") or ())
            if old.get("mode") is not None:
                merged = self._modes.switch(merged, old)
        merged = clamp_lined_up(merged)
        if merged != new:
            self.options = merged  # re-enters this observer, which then refreshes
            return
        self._refresh()

    @traitlets.observe("inputs", "mask", "markup")
    def _inputs_changed(self, _change: dict[str, Any]) -> None:
        if self._ready:
            self._refresh()

    def _plan(self) -> Plan:
        """The request the current options, inputs and mask would make."""
        return plan_request(self.options, self._inputs.uploads(), edit_png(self.mask), markup_png(self.markup))

    def _refresh(self) -> None:
        """Problems and the cost estimate for the options as they are now."""
        plan = self._plan()
        problems = problems_of(plan)
        with self._lock:  # the job thread writes status under this lock too: a check here cannot go stale
            self.problems = problems
            if not problems and self.error.get("code") == "invalid_options" and not self._runner.running:
                self.error = {}  # the refusal it reported is fixed
                self.status = {**self.status, "state": "idle", "message": ""}
        sizes = [(item.width, item.height) for item in self._inputs] if plan.endpoint != "generate" else None
        sent = {**self.options, "size": plan.wire.get("size", self.options.get("size"))}  # "match" resolved
        estimate = self._costs.estimate_for(sent, plan.call, sizes, self._store.folder,  # vary / expand learn
                                            bool(self.backend.get("synthetic")))         # from their own runs
        if "size" in problems:  # a price for a size that cannot be sent would only mislead
            estimate = cost_mod.Cost(None, "no estimate until the size is valid", note=str(problems["size"]))
        with self._lock:
            self._costs.estimate = estimate
            self.cost = self._costs.payload()

    # ------------------------------------------------------------------------------------ background loads

    def _first_spend(self) -> None:
        """Background, at start: the folder's spend by model, unless a run has written a newer one meanwhile."""
        before = self._spend_writes
        payload = spend_payload(self._store.folder)
        with self._lock:
            if self._spend_writes == before:
                self.spend = payload
                self._spend_writes += 1

    def _load_server_models(self) -> None:
        """Background: ask the server for its models once, then refresh the picker and the model's dates."""
        self._connection.read_server_models()
        with self._lock:
            model = str(self.options.get("model"))
            self.models = models_for_picker(model, self._connection.server)
            self.model_labels = model_labels(self.models, self._connection.server)
            self.capabilities = caps_mod.describe(model, self._connection.server)

    # ------------------------------------------------------------------------------------ internals

    def _job(self, job: Job, plan: Plan, uploads: list[FileTuple],
             mask_png: bytes | None) -> Coroutine[Any, Any, Result]:
        """Job thread: what a started run does first (`Runs.job`). A seam for tests that play the job
        thread against a refresh (tests/test_lifecycle.py)."""
        return self._runs.job(job, plan, uploads, mask_png)

    def _notice(self, message: str, level: str = "info") -> None:
        """A transient message for the page (`{type: "notice"}`): not state, so not a trait."""
        self.send(notice(message, "warning" if level == "warning" else "info"))
