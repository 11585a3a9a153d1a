"""`ImageWidget`: the OpenAI Images API in a notebook (anywidget).

The kernel owns the state (traits, see docs/PROTOCOL.md); the browser renders it and writes back only
what a person changes (`options`, `mask`). Actions arrive as custom messages. Requests run on a
background job runner (`jobs.py`) so the kernel stays free while an image is made, and a second click
never starts a second paid request. The client, key and base_url live only in private attributes.

    w = ImageWidget()                  # no key: the offline emulator, images are synthetic
    w.generate("a red fox", n=2)       # same as the button; blocks and returns api.Result
    w.images                           # PIL images of the latest run (read from disk)
"""

from __future__ import annotations

import io
import logging
import os
import threading
import time
import uuid
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import anywidget
import traitlets
from ipywidgets.widgets.trait_types import bytes_serialization
from PIL import Image as PILImage

from image_widget import capabilities as caps_mod
from image_widget import cost as cost_mod
from image_widget import runtime
from image_widget import widget_state as state
from image_widget.capabilities import FileTuple
from image_widget.client.backend import resolve_backend
from image_widget.errors import scrub
from image_widget.jobs import BUSY_MESSAGE, Job, JobBusyError, JobRunner
from image_widget.prices import as_overrides
from image_widget.store import History, Store, StoredImage

if TYPE_CHECKING:
    from PIL.Image import Image

    from image_widget.client.api import Result
    from image_widget.images import ImageInput

__all__ = ["ImageWidget"]

log = logging.getLogger(__name__)

_STATIC = Path(__file__).parent / "static"
_FALLBACK_ESM = """
export default {
  render({ el }) {
    el.classList.add("image-widget");
    el.textContent = "image_widget: the front-end bundle (static/widget.js) is missing. "
      + "Run `npm install && npm run build` in the project, or reinstall the package.";
  },
};
"""
_MIME = {"png": "image/png", "jpeg": "image/jpeg", "jpg": "image/jpeg", "webp": "image/webp",
         "gif": "image/gif", "svg": "image/svg+xml"}
_CONNECTION_KWARGS = ("client", "base_url", "api_key", "folder", "max_retries", "timeout", "cache", "prices")
_MAX_CHUNKED_BYTES = 64 * 1024 * 1024
_MAX_PENDING_UPLOADS = 8


@dataclass
class _Input:
    """One input image as the API will get it: normalised upload bytes, kept in Python only."""

    id: str
    name: str
    upload: FileTuple
    width: int
    height: int
    thumb: bytes

    def item(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "width": self.width, "height": self.height,
                "thumb": self.thumb}


class _MaskTrait(traitlets.TraitType[Any, Any]):
    """The painted mask: PNG bytes on the wire, a PIL RGBA image (alpha 0 = edit) in Python.

    Accepts what the browser writes (PNG bytes / memoryview; empty = no mask) and, from Python, a PIL
    image, an array (True/white = edit) or a path. The PNG is kept (`_mask_png`) so the exact bytes
    go back out and an echo of the browser's own write is recognised as unchanged.
    """

    default_value = None
    allow_none = True
    info_text = "PNG bytes (RGBA, alpha 0 = edit), a PIL image, an array, a path or None"

    def validate(self, obj: Any, value: Any) -> Any:
        widget = cast("ImageWidget", obj)
        if value is not None and value is widget._trait_values.get(self.name):
            return value  # traitlets re-validates after set_state (cross-validation): nothing to redo
        if value is None or (isinstance(value, bytes | bytearray | memoryview) and len(value) == 0):
            widget._mask_png, widget._mask_has_edit = b"", False
            return None
        from image_widget import images

        try:
            if isinstance(value, bytes | bytearray | memoryview):
                png = bytes(value)
                img = images.mask_from_png(png)
            else:
                size = widget._first_size() or images.load_image(value, param="mask").size
                png = images.prepare_mask(value, size)[1]
                img = images.mask_from_png(png)
        except (images.ImageInputError, OSError, ValueError) as exc:
            raise traitlets.TraitError(f"mask: {exc}") from exc
        if img.mode != "RGBA":
            img = img.convert("RGBA")
        widget._mask_png = png
        widget._mask_has_edit = img.getchannel("A").getextrema()[0] == 0
        return _identity_compared(img)


class _MaskImage(PILImage.Image):
    """A PIL image that traitlets compares by identity: PIL's `==` compares every byte (~30 ms for a
    1536x1024 mask on each stroke), and a new mask value is always a new object anyway."""

    __eq__ = object.__eq__
    __hash__ = object.__hash__


def _identity_compared(img: Image) -> Image:
    if type(img) is PILImage.Image:
        img.__class__ = _MaskImage
    return img


def _mask_to_json(value: Any, widget: Any) -> bytes:
    return cast("ImageWidget", widget)._mask_png if value is not None else b""


def _history_to_json(_value: Any, widget: Any) -> list[dict[str, Any]]:
    return cast("ImageWidget", widget)._history_items


class ImageWidget(anywidget.AnyWidget):
    """Prompt, options, inputs, mask painting and results for the OpenAI Images API.

    Keyword arguments: the connection (`client`, `base_url`, `api_key` — never shown or synced),
    `folder` (where every image and its record is saved; default ./image-widget-output),
    `max_retries`, `timeout`, `cache`, and any option (`prompt`, `mode`, `model`, `size`, `quality`,
    `n`, `background`, `output_format`, `output_compression`, `moderation`, `input_fidelity`,
    `partial_images`). Anything else is a TypeError.
    """

    _esm: Path | str = _STATIC / "widget.js" if (_STATIC / "widget.js").is_file() else _FALLBACK_ESM
    if (_STATIC / "widget.css").is_file():
        _css = _STATIC / "widget.css"

    options = traitlets.Dict().tag(sync=True)
    models = traitlets.List(traitlets.Unicode()).tag(sync=True)
    capabilities = traitlets.Dict().tag(sync=True)
    problems = traitlets.Dict().tag(sync=True)
    inputs = traitlets.List(traitlets.Dict()).tag(sync=True)
    mask_base = traitlets.Bytes(b"").tag(sync=True, **bytes_serialization)
    mask = _MaskTrait().tag(sync=True, to_json=_mask_to_json, **bytes_serialization)
    status = traitlets.Dict().tag(sync=True)
    preview = traitlets.Bytes(b"").tag(sync=True, **bytes_serialization)
    error = traitlets.Dict().tag(sync=True)
    results = traitlets.List(traitlets.Dict()).tag(sync=True)
    history = traitlets.Instance(History, allow_none=True).tag(sync=True, to_json=_history_to_json)
    backend = traitlets.Dict().tag(sync=True)
    cost = traitlets.Dict().tag(sync=True)

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
        unknown = sorted(set(options) - set(state.OPTION_KEYS))
        if unknown:
            accepted = ", ".join([*_CONNECTION_KWARGS, *state.OPTION_KEYS])
            raise TypeError(f"ImageWidget() got unexpected keyword argument(s) {', '.join(unknown)}; "
                            f"accepted: {accepted}")
        # Private: the connection never becomes a trait, a message or a repr.
        self._client = client
        self._base_url = base_url
        self._api_key = api_key
        self._prices = as_overrides(prices)  # checked now: a bad price is an error at construction
        self._run_options: dict[str, Any] = {"cache": cache, "prices": self._prices}
        if max_retries is not None:
            self._run_options["max_retries"] = max_retries
        if timeout is not None:
            self._run_options["timeout"] = timeout
        self._ready = False
        self._lock = threading.RLock()
        self._mask_png = b""
        self._mask_has_edit = False
        self._inputs: list[_Input] = []
        self._chunks: dict[str, dict[str, Any]] = {}
        self._latest_paths: list[Path] = []
        self._history_items: list[dict[str, Any]] = []
        self._history_ready = threading.Event()
        self._done_message = ""
        self._estimate: cost_mod.Cost | None = None
        self._last_cost: cost_mod.Cost | None = None
        self._session = cost_mod.SessionTotal()
        self._runner = JobRunner()
        self._store = Store(folder)
        resolved = resolve_backend(client, base_url, api_key)
        self._backend = resolved
        self._synthetic = resolved.synthetic
        self._server = None if resolved.synthetic else resolved.cache_identity

        explicit = {k: v for k, v in options.items() if v is not None or k in ("output_compression",
                                                                                "input_fidelity")}
        model = str(explicit.get("model") or caps_mod.DEFAULT_MODEL)
        described = caps_mod.describe(model, self._server)
        merged = {**state.clamp_options(state.merge_options({"model": model}), described), **explicit}
        super().__init__(
            options=merged,
            models=state.models_for_picker(model, self._server),
            capabilities=described,
            backend=resolved.describe(),
            status={"state": "idle", "message": "", "job_id": None, "started_ms": None},
            error={},
            history=None,
        )
        self.on_msg(self._on_custom_msg)
        self._handlers: dict[str, Callable[[dict[str, Any], list[bytes]], None]] = {
            "generate": self._msg_generate,
            "cancel": self._msg_cancel,
            "fetch_image": self._msg_fetch_image,
            "use_as_input": self._msg_use_as_input,
            "add_inputs": self._msg_add_inputs,
            "add_input_chunk": self._msg_add_input_chunk,
            "remove_input": self._msg_remove_input,
            "move_input": self._msg_move_input,
            "compare": self._msg_compare,
        }
        self._ready = True
        self._refresh()
        self.history = History(self._store.folder)
        runtime.spawn(self._load_history_thumbs, "image-widget-history")
        if self._server is not None:  # the server's own model list and dates, without delaying the first render
            runtime.spawn(self._load_server_models, "image-widget-models")

    # ------------------------------------------------------------------------------------ Python API

    @property
    def images(self) -> list[Image]:
        """The latest run's images as PIL images, read from disk (SVGs, which PIL cannot open, skipped)."""
        from PIL import Image as PILImage

        loaded: list[Image] = []
        for path in list(self._latest_paths):
            if path.suffix.lower() == ".svg":
                continue
            img = PILImage.open(io.BytesIO(path.read_bytes()))
            img.load()
            loaded.append(img)
        return loaded

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
        if not images:
            return
        start = len(self._inputs)
        limit = int(self.capabilities.get("max_input_images") or 16)
        if start + len(images) > limit:
            raise ValueError(f"model {self.options.get('model')} takes at most {limit} input images; "
                             f"{start} already added, {len(images)} more given")
        names = [_input_name(src, start + i) for i, src in enumerate(images)]
        added = [self._normalise_input(name, src, start + i) for i, (name, src) in enumerate(zip(names, images,
                                                                                                   strict=True))]
        self._append_inputs(added)

    def generate(self, prompt: str | None = None, /, **options: Any) -> Result:
        """Run the current options (like pressing Generate), wait, and return the `api.Result`.

        `prompt` and any option given here update the widget first. Raises `ValidationError` before
        sending anything when the options are invalid, `JobBusyError` when a run is in progress,
        `APIRequestError` when the request fails and `JobCancelledError` when it was cancelled.
        Interrupting the kernel cancels the request.
        """
        unknown = sorted(set(options) - set(state.OPTION_KEYS))
        if unknown:
            raise TypeError(f"generate() got unexpected option(s) {', '.join(unknown)}; "
                            f"options: {', '.join(state.OPTION_KEYS)}")
        if threading.current_thread() is self._runner.loop_thread:
            raise RuntimeError("generate() cannot wait from inside the widget's own job thread")
        if prompt is not None:
            options["prompt"] = prompt
        if options:
            self.options = {**self.options, **options}
        job = self._start_job(from_python=True)
        assert job is not None
        try:
            while not job.wait(0.2):
                pass
        except KeyboardInterrupt:
            self._runner.cancel()
            job.wait(10)
            raise
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
        super().close()

    def __repr__(self) -> str:
        return (f"ImageWidget(model={self.options.get('model')!r}, backend={self.backend.get('label')!r}, "
                f"folder={str(self.folder)!r})")

    # ------------------------------------------------------------------------------------ validation

    @traitlets.observe("options")
    def _options_changed(self, change: dict[str, Any]) -> None:
        if not self._ready:
            return
        new = change["new"] or {}
        old = change["old"] or {}
        merged = state.merge_options(new, old)
        if merged["model"] != old.get("model"):
            described = caps_mod.describe(str(merged["model"]), self._server)
            self.capabilities = described
            self.models = state.models_for_picker(str(merged["model"]), self._server)
            merged = state.clamp_options(merged, described)
        if merged != new:
            self.options = merged  # re-enters this observer, which then refreshes
            return
        self._refresh()

    @traitlets.observe("inputs", "mask")
    def _inputs_changed(self, _change: dict[str, Any]) -> None:
        if self._ready:
            self._refresh()

    def _plan(self) -> state.Plan:
        uploads = [item.upload for item in self._inputs]
        return state.plan_request(self.options, uploads, self._mask_png if self._mask_has_edit else None)

    def _refresh(self) -> None:
        """Problems and the cost estimate for the options as they are now."""
        plan = self._plan()
        problems = state.problems_of(plan)
        with self._lock:  # the job thread writes status under this lock too: a check here cannot go stale
            self.problems = problems
            if not problems and self.error.get("code") == "invalid_options" and not self._runner.running:
                self.error = {}  # the refusal it reported is fixed
                self.status = {**self.status, "state": "idle", "message": ""}
        opts = self.options
        try:
            inputs = [(item.width, item.height) for item in self._inputs] if plan.endpoint != "generate" else None
            estimate = cost_mod.estimate(str(opts.get("model")), quality=opts.get("quality"),
                                         size=opts.get("size"), n=opts.get("n"), endpoint=plan.endpoint,
                                         inputs=inputs, input_fidelity=opts.get("input_fidelity"),
                                         prices=self._prices)
        except (TypeError, ValueError):
            estimate = cost_mod.Cost.unknown("n is not a whole number")
        with self._lock:
            self._estimate = estimate
            self._publish_cost()

    def _publish_cost(self) -> None:
        session = self._session.total if self._session.count else None
        self.cost = state.cost_payload(self._estimate, self._last_cost, session, synthetic=self._synthetic)

    def _load_server_models(self) -> None:
        """Background: ask the server for its models once, then refresh the picker and the model's dates."""
        from image_widget.model_list import ensure_live

        try:
            runtime.run_sync(ensure_live(self._backend))
        except Exception:  # ensure_live already falls back silently; this is belt and braces
            log.debug("image_widget: the model list could not be read", exc_info=True)
        with self._lock:
            model = str(self.options.get("model"))
            self.models = state.models_for_picker(model, self._server)
            self.capabilities = caps_mod.describe(model, self._server)

    # ------------------------------------------------------------------------------------ messages

    def _on_custom_msg(self, _widget: Any, content: Any, buffers: Sequence[Any] | None) -> None:
        if not isinstance(content, dict):
            return
        kind = content.get("type")
        handler = self._handlers.get(kind) if isinstance(kind, str) else None
        if handler is None:
            return  # anywidget's own commands and unknown types are not ours
        try:
            handler(content, [bytes(b) for b in buffers or []])
        except Exception as exc:
            log.exception("image_widget: %s message failed", kind)
            self._notice(f"{kind} failed: {self._scrub(str(exc))}", "warning")

    def _notice(self, message: str, level: str = "info") -> None:
        self.send(state.notice(message, "warning" if level == "warning" else "info"))

    def _msg_generate(self, content: dict[str, Any], _buffers: list[bytes]) -> None:
        # ipywidgets holds a state update back while an earlier one is unanswered, but sends custom
        # messages at once: a snapshot of the options in the message cannot be overtaken.
        snapshot = content.get("options")
        if isinstance(snapshot, dict) and not self._runner.running:
            merged = state.merge_options(snapshot, self.options)
            if merged != self.options:
                self.options = merged
        self._start_job(from_python=False)

    def _msg_cancel(self, _content: dict[str, Any], _buffers: list[bytes]) -> None:
        if not self._runner.cancel():
            self._notice("Nothing is running.")

    def _msg_fetch_image(self, content: dict[str, Any], _buffers: list[bytes]) -> None:
        image_id, request_id = str(content.get("id", "")), content.get("request_id")
        reply: dict[str, Any] = {"type": "image", "id": image_id, "request_id": request_id}
        try:
            stored = self._store.load(image_id)
            data = stored.data()
        except (KeyError, OSError) as exc:
            self.send({**reply, "mime": None, "error": self._scrub(str(exc))}, [])
            return
        fmt = str(stored.record.get("format") or stored.path.suffix.lstrip("."))
        self.send({**reply, "mime": _MIME.get(fmt.lower(), "application/octet-stream")}, [data])

    def _msg_use_as_input(self, content: dict[str, Any], _buffers: list[bytes]) -> None:
        image_id = str(content.get("id", ""))
        role = content.get("role", "edit")
        try:
            stored = self._store.load(image_id)
            data = stored.data()
        except (KeyError, OSError) as exc:
            self._notice(f"Cannot use {image_id} as input: {exc}", "warning")
            return
        entry = self._make_input(f"{image_id}{stored.path.suffix}", data, index=0)
        if entry is None:
            return
        if role == "reference":
            self._set_inputs([*self._inputs, entry])
            return
        self._set_inputs([entry])
        self.mask = b""  # not None: traitlets skips validation for None, leaving the old PNG
        if self.options.get("mode") != "edit":
            self.options = {**self.options, "mode": "edit"}

    def _msg_add_inputs(self, content: dict[str, Any], buffers: list[bytes]) -> None:
        names = content.get("names") or []
        if len(names) != len(buffers):
            self._notice(f"add_inputs: {len(names)} names but {len(buffers)} files; nothing added", "warning")
            return
        self._add_files(list(zip((str(n) for n in names), buffers, strict=True)))

    def _msg_add_input_chunk(self, content: dict[str, Any], buffers: list[bytes]) -> None:
        upload_id = str(content.get("upload_id", ""))
        index, total = content.get("index"), content.get("total")
        if not upload_id or not isinstance(index, int) or not isinstance(total, int) or not 0 <= index < total \
                or len(buffers) != 1:
            self._notice("add_input_chunk: malformed chunk ignored", "warning")
            return
        pending = self._chunks.setdefault(upload_id, {"name": str(content.get("name", "upload")),
                                                      "total": total, "parts": {}, "size": 0})
        pending["parts"][index] = buffers[0]
        pending["size"] += len(buffers[0])
        if pending["size"] > _MAX_CHUNKED_BYTES:
            del self._chunks[upload_id]
            self._notice(f"{pending['name']} is over {_MAX_CHUNKED_BYTES // 2**20} MB; not added", "warning")
            return
        while len(self._chunks) > _MAX_PENDING_UPLOADS:
            self._chunks.pop(next(iter(self._chunks)))
        if len(pending["parts"]) == pending["total"]:
            del self._chunks[upload_id]
            data = b"".join(pending["parts"][i] for i in range(pending["total"]))
            self._add_files([(pending["name"], data)])

    def _msg_remove_input(self, content: dict[str, Any], _buffers: list[bytes]) -> None:
        input_id = content.get("id")
        self._set_inputs([item for item in self._inputs if item.id != input_id])

    def _msg_move_input(self, content: dict[str, Any], _buffers: list[bytes]) -> None:
        input_id, to = content.get("id"), content.get("to")
        found = [item for item in self._inputs if item.id == input_id]
        if not found or not isinstance(to, int):
            return
        rest = [item for item in self._inputs if item.id != input_id]
        rest.insert(max(0, min(to, len(rest))), found[0])
        self._set_inputs(rest)

    def _msg_compare(self, content: dict[str, Any], _buffers: list[bytes]) -> None:
        """Two stored images side by side: their records, what differs, and both full images."""
        ids, request_id = content.get("ids"), content.get("request_id")
        reply: dict[str, Any] = {"type": "compare", "request_id": request_id, "items": [], "differences": []}
        if not isinstance(ids, list) or len(ids) != 2 or not all(isinstance(i, str) for i in ids):
            self.send({**reply, "error": "compare needs exactly two image ids"}, [])
            return
        try:
            stored = [self._store.load(image_id) for image_id in ids]
            data = [s.data() for s in stored]
        except (KeyError, OSError) as exc:
            self.send({**reply, "error": self._scrub(str(exc))}, [])
            return
        items = []
        for s in stored:
            fmt = str(s.record.get("format") or s.path.suffix.lstrip("."))
            items.append({**state.compare_item(s.record), "mime": _MIME.get(fmt.lower(), "application/octet-stream")})
        differences = state.compare_records(stored[0].record, stored[1].record)
        self.send({**reply, "items": items, "differences": differences}, data)

    # ------------------------------------------------------------------------------------ inputs

    def _first_size(self) -> tuple[int, int] | None:
        return (self._inputs[0].width, self._inputs[0].height) if self._inputs else None

    def _make_input(self, name: str, data: Any, index: int) -> _Input | None:
        """Normalise one file like the API call will (format, size); report conversions as notices."""
        from image_widget import images

        try:
            return self._normalise_input(name, data, index)
        except (images.ImageInputError, OSError, ValueError) as exc:
            self._notice(f"{name}: {exc}", "warning")
            return None

    def _normalise_input(self, name: str, data: Any, index: int) -> _Input:
        """`_make_input` that raises (ImageInputError, OSError, ValueError) instead of noticing."""
        from image_widget import images

        limits = caps_mod.caps_for(str(self.options.get("model") or caps_mod.DEFAULT_MODEL))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            upload = images.to_upload(data, param=f"image[{index}]", max_bytes=limits.input_image_max_bytes,
                                      allowed=limits.input_formats)
            info = caps_mod.image_info(upload[1])
            thumb = images.thumbnail_bytes(upload[1], state.RESULT_THUMB_PX)
        for warning in caught:
            if issubclass(warning.category, UserWarning):
                self._notice(f"{name}: {warning.message}")
        if info is None:
            raise images.ImageInputError("could not be read as an image")
        (width, height), _alpha = info
        upload_name = Path(name).stem or "image"
        upload = (f"{upload_name}.{upload[0].rsplit('.', 1)[-1]}", upload[1], upload[2])
        return _Input(uuid.uuid4().hex[:12], name, upload, width, height, thumb)

    def _add_files(self, files: list[tuple[str, Any]]) -> None:
        limit = int(self.capabilities.get("max_input_images") or 16)
        room = limit - len(self._inputs)
        if len(files) > room:
            dropped = ", ".join(name for name, _ in files[max(room, 0):])
            self._notice(f"Model {self.options.get('model')} takes at most {limit} input images; "
                         f"not added: {dropped}", "warning")
            files = files[:max(room, 0)]
        added = [entry for i, (name, data) in enumerate(files)
                 if (entry := self._make_input(name, data, len(self._inputs) + i)) is not None]
        self._append_inputs(added)

    def _append_inputs(self, added: list[_Input]) -> None:
        """Append normalised inputs; the first into an empty list switches generate to edit."""
        if not added:
            return
        was_empty = not self._inputs
        self._set_inputs([*self._inputs, *added])
        if was_empty and self.options.get("mode") == "generate":
            self.options = {**self.options, "mode": "edit"}

    def _set_inputs(self, new: list[_Input]) -> None:
        """Replace the inputs; a new first image gets a new mask base and clears the mask."""
        old_first = self._inputs[0].id if self._inputs else None
        self._inputs = new
        if (new[0].id if new else None) != old_first:
            self.mask = b""  # see above: clears the kept PNG too
            self.mask_base = _mask_base_bytes(new[0].upload) if new else b""
        self.inputs = [item.item() for item in new]

    # ------------------------------------------------------------------------------------ jobs

    def _start_job(self, *, from_python: bool) -> Job | None:
        """Validate, then start the request in the background. Nothing is sent when it is invalid."""
        if self._runner.running:
            self._notice(BUSY_MESSAGE, "warning")
            if from_python:
                raise JobBusyError
            return None
        plan = self._plan()
        problems = caps_mod.validate(plan.endpoint, plan.wire)
        self.problems = state.problems_dict(problems)
        if problems:
            exc = caps_mod.ValidationError(problems)
            self.error = dict(state.error_banner(exc, self._secrets()))
            self.status = {**self.status, "state": "error", "message": "Not sent: fix the marked options"}
            if from_python:
                raise exc
            return None
        uploads = [item.upload for item in self._inputs]
        mask_png = self._mask_png if plan.use_mask else None
        try:
            return self._runner.start(lambda job: self._job(job, plan, uploads, mask_png), self._job_finished)
        except JobBusyError:
            self._notice(BUSY_MESSAGE, "warning")
            if from_python:
                raise
            return None

    def _job(self, job: Job, plan: state.Plan, uploads: list[FileTuple], mask_png: bytes | None) -> Any:
        """Called in the job thread: show `running`, then return the coroutine that does the work."""
        n = plan.kwargs.get("n", 1)
        what = {"generate": "Generating", "edit": "Editing", "vary": "Making variations of"}[plan.call]
        noun = "image" if plan.call == "vary" else f"{n} image{'s' if n != 1 else ''}"
        with self._lock:
            self.error = {}
            self.preview = b""
            self.status = {"state": "running", "message": f"{what} {noun} with {plan.kwargs.get('model')}…",
                           "job_id": job.id, "started_ms": job.started_ms}
        return self._run(job, plan, uploads, mask_png)

    async def _run(self, job: Job, plan: state.Plan, uploads: list[FileTuple], mask_png: bytes | None) -> Result:
        from image_widget.client import api

        kwargs: dict[str, Any] = {**plan.kwargs, **self._run_options, "client": self._client,
                                  "base_url": self._base_url, "api_key": self._api_key, "store": self._store}
        if plan.endpoint != "variation":
            kwargs["on_partial"] = self._on_partial
        if plan.call == "generate":
            result = await api.agenerate(plan.prompt, **kwargs)
        elif plan.call == "edit":
            result = await api.aedit([u[1] for u in uploads], plan.prompt,
                                     mask=mask_png if plan.use_mask else None, **kwargs)
        else:
            result = await api.avary(uploads[0][1], plan.prompt.strip() or None, **kwargs)
        self._show_result(job, result, result.code)
        return result

    def _on_partial(self, index: int, image: Image) -> None:
        from image_widget.images import thumbnail_bytes

        total = self.options.get("partial_images") or "?"
        preview = thumbnail_bytes(image, state.PREVIEW_PX)
        with self._lock:
            self.preview = preview
            self.status = {**self.status, "message": f"Preview {index + 1} of {total}…"}

    def _show_result(self, job: Job, result: Result, code: str) -> None:
        """Results, history and cost of a finished run (job thread; no awaits, so no cancel midway)."""
        from image_widget.images import thumbnail_bytes

        pil = list(result.images) if len(result.images) == len(result.paths) else None

        def both_thumbs(i: int) -> tuple[bytes, bytes]:
            path = result.paths[i]
            source: Any = pil[i] if pil is not None else None
            if source is None and path.suffix.lower() != ".svg":
                source = path.read_bytes()
            if source is None:
                return b"", b""
            try:
                thumb = thumbnail_bytes(source, state.RESULT_THUMB_PX)
                return thumb, thumbnail_bytes(thumb, state.HISTORY_THUMB_PX)  # from the small one: cheap
            except Exception:  # a thumbnail must never hide a saved, paid-for image
                log.exception("image_widget: thumbnail of %s failed", path)
                return b"", b""

        pairs = list(runtime.io_pool().map(both_thumbs, range(len(result.paths))))  # Pillow frees the GIL
        thumbs = [t for t, _ in pairs]
        small = [s for _, s in pairs]
        items = [state.result_item(record, thumb, code) for record, thumb in zip(result.records, thumbs,
                                                                                 strict=False)]
        with self._lock:
            self._latest_paths = list(result.paths)
            run = state.history_run(result.records, small[:len(result.records)])
            self._history_items = state.merge_history([run], self._history_items)
            self._last_cost = result.cost
            if not result.cached:
                self._session.add(result.cost)
            self.results = items
            if self.history is not None:
                self.history.add_run([StoredImage(str(r.get("id", p.stem)), p, r)
                                      for r, p in zip(result.records, result.paths, strict=False)])
            self.send_state("history")
            self._publish_cost()
        elapsed = (_now_ms() - job.started_ms) / 1000
        count = len(result.paths)
        self._done_message = (f"{count} image{'s' if count != 1 else ''} in {elapsed:.1f} s"
                              + (" (from the cache, not billed)" if result.cached else "")
                              + (" — synthetic (emulator)" if result.backend.synthetic else ""))

    def _job_finished(self, job: Job) -> None:
        """Job thread: the final status, after results are in place (waiters see this state)."""
        with self._lock:
            self._write_final_status(job)

    def _write_final_status(self, job: Job) -> None:
        base = {"job_id": job.id, "started_ms": job.started_ms}
        self.preview = b""
        if job.cancelled:
            self.status = {**base, "state": "cancelled",
                           "message": "Cancelled — the request was abandoned (the API may still bill it)"}
        elif job.error is not None:
            if isinstance(job.error, caps_mod.ValidationError):  # caught by the API layer's own check
                self.problems = state.problems_dict(job.error.problems)
            self.error = dict(state.error_banner(job.error, self._secrets()))
            self.status = {**base, "state": "error", "message": self.error["title"]}
        else:
            self.status = {**base, "state": "done", "message": self._done_message}

    # ------------------------------------------------------------------------------------ history

    def _load_history_thumbs(self) -> None:
        """Background: small thumbs for the last runs on disk, so a restarted kernel shows its history."""
        from image_widget.images import thumbnail_bytes

        try:
            history = self.history
            runs = history.runs()[:state.HISTORY_RUNS] if history is not None else []
            loaded: list[dict[str, Any]] = []
            for run in runs:
                thumbs: list[bytes] = []
                for stored in run.images:
                    try:
                        thumbs.append(b"" if stored.path.suffix.lower() == ".svg"
                                      else thumbnail_bytes(stored.data(), state.HISTORY_THUMB_PX))
                    except Exception:  # noqa: BLE001 - a damaged file only loses its thumbnail
                        thumbs.append(b"")
                loaded.append(state.history_run([s.record for s in run.images], thumbs))
            if loaded:
                with self._lock:
                    self._history_items = state.merge_history(self._history_items, loaded)
                    if self.comm is not None:
                        self.send_state("history")
        except Exception:
            log.exception("image_widget: loading the history thumbnails failed")
        finally:
            self._history_ready.set()

    # ------------------------------------------------------------------------------------ secrets

    def _secrets(self) -> list[str | None]:
        found = [self._api_key, os.environ.get("OPENAI_API_KEY"),
                 getattr(self._client, "api_key", None) if self._client is not None else None,
                 self._backend._api_key]
        return [s for s in found if isinstance(s, str)]

    def _scrub(self, text: str) -> str:
        return scrub(text, self._secrets())


def _now_ms() -> int:
    return int(time.time() * 1000)


def _input_name(src: Any, index: int) -> str:
    """The name an input added from Python is shown with: the file's name, else "image-<n>"."""
    if isinstance(src, str | os.PathLike):
        return Path(src).name or f"image-{index + 1}"
    filename = src[0] if isinstance(src, tuple) and src else getattr(src, "filename", None)  # FileTuple / PIL
    if isinstance(filename, str) and filename:
        return Path(filename).name
    return f"image-{index + 1}"


def _mask_base_bytes(upload: FileTuple) -> bytes:
    """The first input for the mask canvas: PNG or JPEG as uploaded, anything else re-encoded as PNG."""
    data = upload[1]
    if caps_mod.sniff_format(data) in ("png", "jpeg"):
        return data
    from PIL import Image as PILImage

    with PILImage.open(io.BytesIO(data)) as img:
        out = io.BytesIO()
        img.save(out, format="PNG")
        return out.getvalue()

