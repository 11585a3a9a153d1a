"""Deciding what to answer to a valid images request: sizes, defaults, token usage and render specs.

Everything here is a pure function of the params, the config and the fault, with no HTTP in sight, so
the answer is decided once per request (`plan_request`) and `responses` only has to put it on the wire.
Usage is decided here too: a streamed answer repeats it in each completed event.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from image_widget.emulator import render
from image_widget.emulator.parsing import file_bytes
from image_widget.emulator.state import Config, Fault
from image_widget.facts.capabilities import (
    DEFAULT_MODEL,
    STANDARD_SIZES,
    Endpoint,
    Problem,
    SizeRule,
    caps_for,
    custom_size_problem,
    image_info,
    parse_size,
)

VARIATION_DEFAULT_MODEL = "dall-e-2"
"""The legacy variations endpoint defaulted to DALL·E 2, the only model it ever served."""

#: Largest image the emulator draws (twice 4K); only unknown models (the permissive profile) can ask for more.
MAX_RENDER_PIXELS = 2 * 3840 * 2160

#: Output image tokens for a 1024x1024 image by quality (GPT Image 1's published table); other sizes scale
#: with the pixel count. Deterministic and plausible, not a price list.
_OUTPUT_TOKENS = {"low": 272, "medium": 1056, "high": 4160, "xhigh": 6240, "max": 8320,
                  "standard": 1056, "hd": 4160}
_HIGH_FIDELITY_TOKENS = 4160


@dataclass(frozen=True)
class Plan:
    """What to send back for one valid request."""

    kind: render.Kind
    specs: list[render.Spec]
    inputs: render.Inputs | None
    size: str
    quality: str | None
    background: str
    output_format: str
    usage_total: dict[str, Any]
    usage_each: dict[str, Any]
    legacy_style: bool
    safety_identifier: str | None
    partial_images: int


def extra_problems(endpoint: Endpoint, params: Mapping[str, Any]) -> list[Problem]:
    """Checks `capabilities.validate` does not make: a mask must be the first image's size (OpenAI answers
    a 400), and a size cap keeps the emulator from drawing gigapixel images for unknown models."""
    problems: list[Problem] = []
    images, mask = file_bytes(params.get("image")), file_bytes(params.get("mask"))
    first_info = image_info(images[0]) if images else None
    mask_info = image_info(mask[0]) if mask else None
    if first_info is not None and mask_info is not None and mask_info[0] != first_info[0]:
        (mw, mh), (iw, ih) = mask_info[0], first_info[0]
        problems.append(Problem("mask", f"Invalid mask image: its size ({mw}x{mh}) must be the same as the first "
                                        f"image's ({iw}x{ih})."))
    wh = parse_size(str(params.get("size", "")))
    if wh is not None and wh[0] * wh[1] > MAX_RENDER_PIXELS:
        problems.append(Problem("size", f"size={params['size']!r} is larger than the emulator draws "
                                        f"({MAX_RENDER_PIXELS:,} pixels at most)"))
    return problems


def _fits(rule: SizeRule, w: int, h: int) -> bool:
    return f"{w}x{h}" in rule.fixed or (rule.custom and not custom_size_problem(w, h, rule))


def _resolve_size(endpoint: Endpoint, params: Mapping[str, Any], model: str, first: bytes | None) -> str:
    """`auto` → 1024x1024; for edits the first image's own size when the model takes it, else the
    standard size closest to its shape."""
    size = params.get("size")
    if isinstance(size, str) and parse_size(size):
        return size
    if endpoint == "edit" and first is not None:
        info = image_info(first)
        if info is not None:
            (w, h), _ = info
            if _fits(caps_for(model).sizes, w, h):
                return f"{w}x{h}"
            ratio = w / h
            return STANDARD_SIZES[1] if ratio > 1.2 else STANDARD_SIZES[2] if ratio < 1 / 1.2 else STANDARD_SIZES[0]
    return "1024x1024"


def _image_tokens(data: bytes) -> int:
    """Input image tokens: 65 + 129 per 512-px tile after fitting into 2048² and a 512-px short side."""
    info = image_info(data)
    if info is None:
        return 0
    (width, height), _ = info
    scale = min(1.0, 2048 / max(width, height))
    w, h = width * scale, height * scale
    scale = min(1.0, 512 / min(w, h))
    return 65 + 129 * math.ceil(w * scale / 512) * math.ceil(h * scale / 512)


#: How far the output tokens of a model without a published count spread around their typical value,
#: request to request (as the real service's do), so estimates learned from the emulator's usage have a
#: range to learn and their accuracy figure measures something.
SPREAD = 0.15


def _output_tokens(model: str, quality: str, size: tuple[int, int], prompt: str = "") -> int:
    """Output tokens of one image: the published count where there is one (so estimates and the bill
    agree, as they do at OpenAI), else a count that grows with quality and area and varies by ±SPREAD
    with the prompt (the same prompt always uses the same: the emulator stays deterministic)."""
    from image_widget.facts.cost import published_output_tokens

    published = published_output_tokens(model, quality, size)
    if published is not None:
        return published
    digest = hashlib.sha256(f"{model}|{quality}|{size}|{prompt}".encode()).digest()
    wobble = 1 + SPREAD * (int.from_bytes(digest[:4], "big") / 0xFFFFFFFF * 2 - 1)
    return max(1, round(_OUTPUT_TOKENS.get(quality, 1056) * size[0] * size[1] / 1024 ** 2 * wobble))


def _usage(params: Mapping[str, Any], images: list[bytes], quality: str, size: tuple[int, int], n: int,
           ) -> tuple[dict[str, Any], dict[str, Any]]:
    """(usage for the whole response, usage for one image in a stream event)."""
    prompt = params.get("prompt")
    text = max(1, math.ceil(len(prompt) / 4)) if isinstance(prompt, str) else 0
    image = sum(_image_tokens(data) for data in images)
    if images and params.get("input_fidelity") == "high":
        image += _HIGH_FIDELITY_TOKENS
    per_image = _output_tokens(str(params.get("model") or ""), quality, size, str(prompt or ""))
    details_in = {"text_tokens": text, "image_tokens": image}
    total = {
        "input_tokens": text + image,
        "input_tokens_details": details_in,
        "output_tokens": per_image * n,
        "output_tokens_details": {"image_tokens": per_image * n, "text_tokens": 0},
        "total_tokens": text + image + per_image * n,
    }
    each = {"input_tokens": text + image, "input_tokens_details": dict(details_in),
            "output_tokens": per_image, "total_tokens": text + image + per_image}
    return total, each


def plan_request(endpoint: Endpoint, params: Mapping[str, Any], config: Config, fault: Fault | None) -> Plan:
    """Resolve `auto` values and defaults into what the response reports and render draws."""
    default_model = VARIATION_DEFAULT_MODEL if endpoint == "variation" else DEFAULT_MODEL
    model = params.get("model") or default_model
    caps = caps_for(model)
    images = file_bytes(params.get("image"))
    mask = file_bytes(params.get("mask"))
    markup = file_bytes(params.get("markup"))
    size = _resolve_size(endpoint, params, model, images[0] if images else None)
    wh = parse_size(size) or (1024, 1024)
    quality = params.get("quality")
    quality = "medium" if quality in (None, "auto") else str(quality)
    fmt = str(params.get("output_format") or "png")
    transparent = params.get("background") == "transparent"
    n = params.get("n") or 1
    render_size = (max(16, wh[0] // 2), max(16, wh[1] // 2)) if fault and fault.kind == "wrong_size" else wh
    prompt = params.get("prompt") if isinstance(params.get("prompt"), str) else ""
    base = render.Spec(
        prompt=str(prompt), index=0, size=render_size, seed=config.seed, fmt=fmt, transparent=transparent,
        leak=config.mask_leak,
        compression=params.get("output_compression"),
        frame_count=params.get("frame_count") or 9, frame_duration_ms=params.get("frame_duration_ms") or 200,
    )
    inputs = render.Inputs(tuple(images), mask[0] if mask else None, markup[0] if markup else None) \
        if images else None
    usage_total, usage_each = _usage(params, images, quality, wh, int(n))
    safety = params.get("safety_identifier") or params.get("user") or None
    return Plan(
        kind=endpoint,
        specs=[replace(base, index=i) for i in range(int(n))],
        inputs=inputs,
        size=size,
        quality=quality,
        background="transparent" if transparent else "opaque",
        output_format=fmt,
        usage_total=usage_total,
        usage_each=usage_each,
        legacy_style=caps.legacy_params and caps.known,
        safety_identifier=str(safety) if safety else None,
        partial_images=int(params.get("partial_images") or 0),
    )
