"""One conversation turn as the Responses API will see it, checked before anything is sent.

A turn is a Responses request (`POST /v1/responses`) with the `image_generation` tool (OpenAI's API
description: `CreateResponse`, `ImageGenTool`; the SDK's `types/responses/tool.py` adds newer options).
Its image options are checked by the same rules as `iw.generate`/`iw.edit` (the turn is validated as the
edit or generation it asks for), and everything a person can get wrong — an empty prompt, a mask with no
image, a mask of another shape, `n` — is refused here, before any money is spent.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from image_widget import images
from image_widget.base.formats import content_type
from image_widget.client.wire import PartialCallback, Request, edit_request, request_params
from image_widget.facts import capabilities
from image_widget.facts.capabilities import Problem, ValidationError, caps_for
from image_widget.images.geometry import match_size

__all__ = ["TOOL_OPTIONS", "Context", "Turn", "build_turn"]

TOOL_OPTIONS = ("size", "quality", "background", "output_format", "output_compression", "moderation",
                "input_fidelity", "partial_images", "action")
"""The image_generation tool's options a turn takes (`ImageGenTool` in OpenAI's description), besides model."""
_ACTIONS = ("generate", "edit", "auto")


@dataclass(frozen=True)
class Context:
    """Where the conversation stands before this turn: the response to continue and its image's size."""

    previous_response_id: str | None = None
    image_size: tuple[int, int] | None = None
    """The size of the last image in the thread (what a mask on the next turn must match)."""


@dataclass
class Turn:
    """A checked turn: the body to send, and a `Request` the rest of the path (estimate, saving) reads."""

    request: Request
    mainline: str
    image_model: str
    action: str
    previous_response_id: str | None

    @property
    def stream(self) -> bool:
        return self.request.stream

    def body(self) -> dict[str, Any]:
        """The JSON body of `POST /v1/responses` (images inline as data URLs, the mask as `input_image_mask`)."""
        params = self.request.params
        tool: dict[str, Any] = {"type": "image_generation", "model": self.image_model}
        tool.update({k: params[k] for k in TOOL_OPTIONS if k in params and k != "action"})
        tool["action"] = self.action
        masks = self.request.uploads("mask")
        if masks:
            tool["input_image_mask"] = {"image_url": _data_url(masks[0])}
        pictures = self.request.uploads("image")
        prompt = str(params["prompt"])
        content: Any = prompt
        if pictures:
            content = [{"role": "user", "content": [{"type": "input_text", "text": prompt},
                                                    *({"type": "input_image", "image_url": _data_url(p)}
                                                      for p in pictures)]}]
        body: dict[str, Any] = {"model": self.mainline, "input": content, "tools": [tool],
                                "tool_choice": {"type": "image_generation"}}
        if self.previous_response_id is not None:
            body["previous_response_id"] = self.previous_response_id
        if self.stream:
            body["stream"] = True
        return body


def _data_url(upload: capabilities.FileTuple) -> str:
    return f"data:{content_type(upload[1])};base64,{base64.b64encode(upload[1]).decode('ascii')}"


def build_turn(  # noqa: PLR0913 - a turn's inputs, named
        prompt: object, *, mainline: str, image_model: str, context: Context,
        image: images.ImageInput | Sequence[images.ImageInput] | None, mask: images.MaskInput | None,
        on_partial: PartialCallback | None, options: dict[str, Any], server: str | None = None) -> Turn:
    """Check a turn and build it; a `ValidationError` names every bad parameter and what is allowed."""
    problems = _basic_problems(prompt, mainline, context, image, mask, options)
    if problems:
        raise ValidationError(problems)
    options = dict(options)
    action = str(options.pop("action", None) or "auto")
    fit = str(options.pop("resize_mask", None) or "scale")  # how a mask of another size fits (as for iw.edit)
    if options.get("size") == "match":  # the allowed size closest to the image's shape, as for iw.edit
        base = _first_size(image) or context.image_size
        options["size"] = match_size(caps_for(image_model).sizes, base) if base else None
    fields = request_params(**options)
    if image is not None:
        request = edit_request(image, str(prompt), mask, None, fields.pop("input_fidelity", None), image_model,
                               on_partial, fields, mask_fit=fit)
    else:
        files: dict[str, Any] = {}
        if mask is not None and context.image_size is not None:
            caps = caps_for(image_model)
            files["mask"] = images.prepare_mask(mask, context.image_size, max_bytes=caps.mask_max_bytes, resize=fit)
        request = Request("edit" if context.image_size else "generate",
                          request_params(prompt=str(prompt), model=image_model, **fields), files, on_partial)
    request.call = "refine"
    _check_image_options(request, server)
    if action == "auto":
        action = "edit" if image is not None or mask is not None else "auto"
    return Turn(request, mainline, image_model, action, context.previous_response_id)


def _first_size(image: object) -> tuple[int, int] | None:
    if image is None:
        return None
    first = image[0] if isinstance(image, list | tuple) and image and not isinstance(image[0], int) else image
    try:
        return images.load_image(first, param="image").size  # type: ignore[arg-type]
    except (ValueError, OSError):
        return None  # the edit request names the problem with the image itself


def _basic_problems(prompt: object, mainline: str, context: Context, image: object, mask: object,
                    options: dict[str, Any]) -> list[Problem]:
    problems: list[Problem] = []
    if not isinstance(prompt, str) or not prompt.strip():
        problems.append(Problem("prompt", "prompt must be a non-empty string (what to draw or change), "
                                          f"got {prompt!r}"))
    if not isinstance(mainline, str) or not mainline.strip():
        problems.append(Problem("model", f"model (the mainline model) must be a model name, got {mainline!r}"))
    if mask is not None and image is None and context.image_size is None:
        problems.append(Problem("mask", "a mask needs an image to apply to: pass image= with it, or send a first "
                                        "turn that makes an image"))
    if options.get("action") == "edit" and image is None and context.image_size is None:
        problems.append(Problem("action", "action='edit' needs an image to edit: pass image= with it, or send a "
                                          "first turn that makes an image (action 'generate' or 'auto')"))
    if options.get("n") not in (None, 1):
        problems.append(Problem("n", f"a conversation turn makes one image (the image_generation tool has no n), "
                                     f"got n={options['n']!r}; use iw.generate(n=…) for several"))
    action = options.get("action")
    if action is not None and action not in _ACTIONS:
        problems.append(Problem("action", f"action must be one of {', '.join(_ACTIONS)}, got {action!r}"))
    unknown = sorted(set(options) - set(TOOL_OPTIONS) - {"n", "resize_mask"})
    if unknown:
        problems.append(Problem(unknown[0], f"unknown option(s) {', '.join(unknown)} for a conversation turn; "
                                            f"allowed: {', '.join(TOOL_OPTIONS)}, resize_mask"))
    return problems


def _check_image_options(request: Request, server: str | None) -> None:
    """The image options by the rules of the edit or generation the turn asks for."""
    wire = request.wire_params()
    wire.pop("n", None)
    if request.endpoint == "generate" or not request.uploads("image"):
        wire.pop("mask", None)
        wire.pop("input_fidelity", None)
        capabilities.check("generate", {**wire, "model": wire.get("model")}, server=server)
        return
    wire.pop("moderation", None)
    capabilities.check("edit", wire, server=server)
