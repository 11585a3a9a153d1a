"""Input images: normalised like the API call will send them, kept in Python, listed in `inputs`.

Whatever the source (a browser upload, a chunked upload, a stored result, `w.add_inputs` from Python),
an image goes through the same `normalise`, so the page and the request see the same thing. The
first input is the mask canvas: when it changes, `mask_base` is replaced and the mask cleared.
"""

from __future__ import annotations

import io
import os
import uuid
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from image_widget.facts import capabilities as caps_mod
from image_widget.facts.capabilities import FileTuple
from image_widget.widget.payloads import RESULT_THUMB_PX

if TYPE_CHECKING:
    from image_widget.images import ImageInput

MAX_CHUNKED_BYTES = 64 * 1024 * 1024
MAX_PENDING_UPLOADS = 8


@dataclass
class InputImage:
    """One input image as the API will get it: normalised upload bytes, kept in Python only."""

    id: str
    name: str
    upload: FileTuple
    width: int
    height: int
    thumb: bytes
    ref: str | None = None
    """The https URL or file id it was added by: an edit names it so (never uploads it) when the bytes
    sent are the ones it names (`client/refs.py`)."""

    def item(self) -> dict[str, Any]:
        """Its entry in the `inputs` trait (no upload bytes: the page only needs the thumbnail)."""
        return {"id": self.id, "name": self.name, "width": self.width, "height": self.height,
                "thumb": self.thumb}


def normalise(name: str, data: Any, index: int, model: str, note: Callable[[str], None]) -> InputImage:
    """One file as `model` takes it (format, size limit) with its thumbnail; conversions go to `note`.

    Raises `ImageInputError`, `OSError` or `ValueError` when it cannot be used.
    """
    from image_widget import images

    limits = caps_mod.caps_for(model)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        upload = images.to_upload(data, param=f"image[{index}]", max_bytes=limits.input_image_max_bytes,
                                  allowed=limits.input_formats)
        info = caps_mod.image_info(upload[1])
        thumb = images.thumbnail_bytes(upload[1], RESULT_THUMB_PX)
    for warning in caught:
        if issubclass(warning.category, UserWarning):
            note(f"{name}: {warning.message}")
    if info is None:
        raise images.ImageInputError("could not be read as an image", reason="could not be read as an image")
    (width, height), _alpha = info
    upload_name = Path(name).stem or "image"
    upload = (f"{upload_name}.{upload[0].rsplit('.', 1)[-1]}", upload[1], upload[2])
    return InputImage(uuid.uuid4().hex[:12], name, upload, width, height, thumb)


def unusable(name: str, exc: Exception) -> str:
    """Why a file cannot be an input, in a person's words when the error has them (`ImageInputError.reason`)."""
    reason = getattr(exc, "reason", "")
    return f"{name} {reason}" if reason else f"{name}: {exc}"


def input_name(src: Any, index: int) -> str:
    """The name an input added from Python is shown with: the file's name, else "image-<n>"."""
    if isinstance(src, str | os.PathLike):
        return Path(src).name or f"image-{index + 1}"
    filename = src[0] if isinstance(src, tuple) and src else getattr(src, "filename", None)  # FileTuple / PIL
    if isinstance(filename, str) and filename:
        return Path(filename).name
    return f"image-{index + 1}"


def mask_base_bytes(upload: FileTuple) -> bytes:
    """The first input for the mask canvas: PNG or JPEG as uploaded, anything else re-encoded as PNG."""
    data = upload[1]
    if caps_mod.sniff_format(data) in ("png", "jpeg"):
        return data
    from PIL import Image as PILImage

    with PILImage.open(io.BytesIO(data)) as img:
        out = io.BytesIO()
        img.save(out, format="PNG")
        return out.getvalue()


class UploadTooLargeError(ValueError):
    """A chunked upload grew past `MAX_CHUNKED_BYTES`; its parts were dropped."""


@dataclass
class _Pending:
    name: str
    total: int
    parts: dict[int, bytes] = field(default_factory=dict)
    size: int = 0


class ChunkedUploads:
    """Files the browser sends in pieces (each message stays under 8 MiB), put back together.

    Bounded: at most `MAX_PENDING_UPLOADS` unfinished files (the oldest is dropped) and
    `MAX_CHUNKED_BYTES` per file, so an abandoned or hostile upload cannot fill the kernel's memory.
    """

    def __init__(self) -> None:
        self._pending: dict[str, _Pending] = {}

    def add(self, upload_id: str, index: int, total: int, name: str, data: bytes) -> tuple[str, bytes] | None:
        """Keep one part; `(name, whole file)` once every part is in, else None."""
        pending = self._pending.setdefault(upload_id, _Pending(name, total))
        pending.parts[index] = data
        pending.size += len(data)
        if pending.size > MAX_CHUNKED_BYTES:
            del self._pending[upload_id]
            raise UploadTooLargeError(f"{pending.name} is over {MAX_CHUNKED_BYTES // 2**20} MB; not added")
        while len(self._pending) > MAX_PENDING_UPLOADS:
            self._pending.pop(next(iter(self._pending)))
        if len(pending.parts) < pending.total:
            return None
        del self._pending[upload_id]
        return pending.name, b"".join(pending.parts[i] for i in range(pending.total))


class _Server(Protocol):
    def request_kwargs(self) -> dict[str, Any]: ...


class InputsHost(Protocol):
    """What the inputs need of their widget (`core.ImageWidget`): the traits they keep consistent, notices,
    and where its requests go (inputs by URL or file id are read through that server)."""

    _connection: _Server

    options: dict[str, Any]
    capabilities: dict[str, Any]
    inputs: list[dict[str, Any]]
    mask_base: bytes
    mask: Any
    markup: Any

    def _notice(self, message: str, level: str = "info") -> None: ...


class Inputs:
    """The widget's input images, and what changing them does to its traits.

    A sequence of `InputImage` (the first is the one the mask applies to). Changes go through
    `replace`, which keeps `inputs`, `mask_base` and `mask` consistent with the list.
    """

    def __init__(self, widget: InputsHost) -> None:
        self._widget = widget
        self._items: list[InputImage] = []
        self.chunks = ChunkedUploads()

    def __len__(self) -> int:
        return len(self._items)

    def __getitem__(self, index: int) -> InputImage:
        return self._items[index]

    def __iter__(self) -> Iterator[InputImage]:
        return iter(self._items)

    def first_size(self) -> tuple[int, int] | None:
        """The mask canvas's size (the first input's), None without inputs."""
        return (self._items[0].width, self._items[0].height) if self._items else None

    def uploads(self) -> list[FileTuple]:
        return [item.upload for item in self._items]

    def sources(self) -> list[bytes | str]:
        """What an edit is given for each input: its reference (URL or file id), else its bytes."""
        return [item.ref or item.upload[1] for item in self._items]

    def add_refs(self, given: Sequence[str], problems: list[str] | None = None) -> list[str]:
        """Inputs by https URL or OpenAI file id (the page's "Add by URL or file id"): each read once for
        its thumbnail and checks; what cannot be used goes to `problems`. The names added."""
        added: list[InputImage] = []
        for text in given:
            index = len(self._items) + len(added)
            if index >= self._limit():
                self.report(f"{text}: the model takes at most {self._limit()} input images", problems)
                break
            try:
                added.append(self.ref_item(text.strip(), index))
            except (OSError, ValueError) as exc:  # ImageInputError is a ValueError
                self.report(unusable(text, exc), problems)
        self.append(added)
        return [item.name for item in added]

    def ref_item(self, text: str, index: int) -> InputImage:
        """One input named by URL or file id, read once through the widget's server; raises when unusable."""
        from image_widget.base.runtime import run_sync
        from image_widget.client import refs
        from image_widget.client.backend import resolve_backend
        from image_widget.images import ImageInputError

        if refs.as_ref(text) is None:
            raise ImageInputError(f"{text!r} is not an https URL or a file id (file-…)",
                                  reason="is not an https URL or a file id (file-…)")
        options = self._widget._connection.request_kwargs()
        backend = resolve_backend(options.get("client"), options.get("base_url"), options.get("api_key"))
        data, _ = run_sync(refs.resolve(text, f"image[{index}]", backend))
        item = self.normalise(text, data, index)
        item.ref = text
        return item

    def _model(self) -> str:
        return str(self._widget.options.get("model") or caps_mod.DEFAULT_MODEL)

    def _limit(self) -> int:
        return int(self._widget.capabilities.get("max_input_images") or 16)

    def normalise(self, name: str, data: Any, index: int) -> InputImage:
        """`normalise` for the current model, conversions shown as notices; raises when unusable."""
        return normalise(name, data, index, self._model(), self._widget._notice)

    def make(self, name: str, data: Any, index: int, problems: list[str] | None = None) -> InputImage | None:
        """`normalise` that reports an unusable file (None) instead of raising: added to `problems`, or
        as a warning notice without a list."""
        try:
            return self.normalise(name, data, index)
        except (OSError, ValueError) as exc:  # ImageInputError is a ValueError
            self.report(unusable(name, exc), problems)
            return None

    def report(self, text: str, problems: list[str] | None) -> None:
        """`text` into `problems` (an upload's reply), or a warning notice without a list."""
        if problems is None:
            self._widget._notice(text, "warning")
        else:
            problems.append(text)

    def add_files(self, files: list[tuple[str, Any]], problems: list[str] | None = None) -> list[str]:
        """Browser uploads: add what fits the model's limit and can be used; the names added.

        What is left out is said in `problems` (an upload's reply), or as notices without a list.
        """
        limit = self._limit()
        room = limit - len(self._items)
        if len(files) > room:
            dropped = ", ".join(name for name, _ in files[max(room, 0):])
            self.report(f"Model {self._widget.options.get('model')} takes at most {limit} input images; "
                         f"not added: {dropped}", problems)
            files = files[:max(room, 0)]
        added = [entry for i, (name, data) in enumerate(files)
                 if (entry := self.make(name, data, len(self._items) + i, problems)) is not None]
        self.append(added)
        return [entry.name for entry in added]

    def add_from_python(self, sources: Sequence[ImageInput]) -> None:
        """`ImageWidget.add_inputs`: like `add_files`, but all or nothing, and raising instead of noticing."""
        if not sources:
            return
        start = len(self._items)
        limit = self._limit()
        if start + len(sources) > limit:
            raise ValueError(f"model {self._widget.options.get('model')} takes at most {limit} input images; "
                             f"{start} already added, {len(sources)} more given")
        from image_widget.client import refs

        added = [self.ref_item(str(src), start + i) if refs.as_ref(src) is not None  # an https URL or a file id
                 else self.normalise(input_name(src, start + i), src, start + i) for i, src in enumerate(sources)]
        self.append(added)

    def append(self, added: list[InputImage]) -> None:
        """Append normalised inputs; the first into an empty list switches generate to edit."""
        if not added:
            return
        was_empty = not self._items
        self.replace([*self._items, *added])
        if was_empty and self._widget.options.get("mode") == "generate":
            self._widget.options = {**self._widget.options, "mode": "edit"}

    def replace(self, new: list[InputImage]) -> None:
        """Replace the inputs; a new first image gets a new mask base and clears the mask, and an
        empty list turns edit back into generate (the mirror of `append`)."""
        widget = self._widget
        old_first = self._items[0].id if self._items else None
        self._items = new
        if (new[0].id if new else None) != old_first:
            widget.mask = None
            widget.markup = None
            widget.mask_base = mask_base_bytes(new[0].upload) if new else b""
        widget.inputs = [item.item() for item in new]
        if not new and widget.options.get("mode") in ("edit", "expand"):
            # Edit needs an input: with the last one gone, Generate is what the next click can run.
            widget.options = {**widget.options, "mode": "generate"}

    def remove(self, input_id: object) -> None:
        self.replace([item for item in self._items if item.id != input_id])

    def move(self, input_id: object, to: int) -> None:
        """Move one input to index `to` (clamped); an unknown id changes nothing."""
        found = [item for item in self._items if item.id == input_id]
        if not found:
            return
        rest = [item for item in self._items if item.id != input_id]
        rest.insert(max(0, min(to, len(rest))), found[0])
        self.replace(rest)
