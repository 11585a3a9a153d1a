"""What a request is, as the API will see it: endpoint, fields, upload files, and how to report progress.

Kept apart from the request path (`client/request.py`) so the SDK adapter and the saving step can name a
`Request` without importing the path that calls them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from image_widget import images
from image_widget.base.records import Call
from image_widget.facts import capabilities
from image_widget.facts.capabilities import Endpoint, FileTuple, caps_for

if TYPE_CHECKING:
    from PIL.Image import Image

    from image_widget.client.finish import Finish
    from image_widget.client.refs import Ref

PartialCallback = Callable[[int, "Image"], Any]


def guarded_partial(callback: PartialCallback | None) -> PartialCallback | None:
    """`callback` with its errors turned into one warning: the stream it previews is paid for and is read
    to its end (an error raised into the stream would lose the image); previews stop after the first."""
    if callback is None:
        return None
    failed = False

    def call(index: int, image: Image) -> None:
        nonlocal failed
        if failed:
            return
        try:
            callback(index, image)
        except Exception as exc:  # noqa: BLE001 - the caller's code; said as a warning, the run goes on
            failed = True
            from image_widget.base.warn import warn_at_caller

            warn_at_caller(f"on_partial raised {type(exc).__name__}: {exc}; previews stopped, the image is still "
                           "received and saved", RuntimeWarning)

    return call


@dataclass
class Request:
    """One request as the API will see it: endpoint, fields, upload files, and how to report progress."""

    endpoint: Endpoint
    params: dict[str, Any]
    files: dict[str, Any]
    on_partial: PartialCallback | None
    allow_retired: bool = False
    note: str | None = None
    call: Call | None = None
    """Which public call made it (generate / edit / vary / expand); a variation can go through the edit endpoint."""
    finish: Finish | None = None
    """How each returned image is brought back to the input and its unmasked pixels held (`client/finish.py`)."""
    sources: dict[str, list[FileTuple]] | None = None
    """The person's own inputs when what is sent differs (a detail crop, an expand canvas): these are kept
    and recorded, so the record reproduces the call that was made, not its crop."""
    refs: dict[str, list[Ref | None]] | None = None
    """Inputs the person named by URL or file id (`client/refs.py`), by key and position; None where pixels."""
    reuse: bool = False
    """The inputs will be sent again (a sweep, a batch): upload each once and name it by file id."""
    json_body: dict[str, Any] | None = None
    """Set when the edit goes in OpenAI's JSON form (`client/json_edit.py`), else multipart."""

    @property
    def stream(self) -> bool:
        return self.params.get("partial_images") is not None

    def wire_params(self) -> dict[str, Any]:
        """The request as the SDK will send it (files included) — what validation must see."""
        wire = {**self.params, **self.files}
        if self.stream:
            wire["stream"] = True
        return wire

    @property
    def call_name(self) -> Call:
        return self.call or ("vary" if self.endpoint == "variation" else self.endpoint)

    def uploads(self, key: str) -> list[FileTuple]:
        """The upload tuples under `key` (one or a list in `files`), as a list."""
        value = self.files.get(key)
        return value if isinstance(value, list) else [value] if value else []

    def input_sizes(self) -> list[tuple[int, int]]:
        """Width × height of each input image, for the estimate of what they cost as tokens."""
        return [image_size(item) for item in self.uploads("image")]

    def kept(self, key: str) -> list[FileTuple]:
        """The inputs under `key` as the person gave them (`sources`), else as sent."""
        if self.sources is not None:
            return list(self.sources.get(key, []))
        return self.uploads(key)

    def file_hashes(self) -> list[str]:
        return [f"{key}:{images.sha256(item[1])}" for key in ("image", "mask", "markup")
                for item in self.kept(key)]


def request_params(**values: Any) -> dict[str, Any]:
    """Drop unset options, so the API applies its own defaults and the record shows what was asked."""
    return {k: v for k, v in values.items() if v is not None}


def image_size(upload: FileTuple) -> tuple[int, int]:
    info = capabilities.image_info(upload[1])
    if info is None:  # prepare_images has already decoded it, so this cannot happen for valid input
        raise images.ImageInputError("image[0] could not be read")
    return info[0]


def edit_request(image: images.ImageInput | Sequence[images.ImageInput], prompt: str,  # noqa: PLR0913 - an edit's inputs
                 mask: images.MaskInput | None, markup: images.ImageInput | None, input_fidelity: str | None,
                 model: str | None, on_partial: PartialCallback | None, options: dict[str, Any], *,
                 mask_fit: str = "scale") -> Request:
    """Normalise the inputs (and the mask to the first image's size, as `mask_fit` allows) into an edit."""
    caps = caps_for(model or capabilities.DEFAULT_MODEL)
    files: dict[str, Any] = {"image": images.prepare_images(
        image, max_images=caps.max_input_images, max_bytes=caps.input_image_max_bytes,
        allowed=caps.input_formats)}
    first_size = image_size(files["image"][0])
    if mask is not None:
        files["mask"] = images.prepare_mask(mask, first_size, max_bytes=caps.mask_max_bytes, resize=mask_fit)
    if markup is not None:
        files["markup"] = images.to_upload(markup, param="markup", allowed=("png",))
    params = request_params(prompt=prompt, model=model, input_fidelity=input_fidelity, **options)
    return Request("edit", params, files, on_partial)
