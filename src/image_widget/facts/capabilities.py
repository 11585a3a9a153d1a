"""What each Images API model accepts, and the one import for it: the table, validation, file facts.

The widget, the emulator, the request path and the tests all import from here, so the parts can move
without touching them: the table lives in `facts/table.py`, the checks in `facts/validation.py`,
format sniffing in `base/formats.py`. What is left here reads the table for display: `describe` (the widget's
enabled options) and `size_warning`.
"""

from __future__ import annotations

from typing import Any

from image_widget.base.formats import MB, FileTuple, image_info, sniff_format
from image_widget.facts.table import (
    BACKGROUNDS,
    COMPLEXITIES,
    COMPRESSIBLE_FORMATS,
    DEFAULT_MODEL,
    ENDPOINTS,
    GPT_FORMATS,
    GPT_QUALITIES,
    INPUT_FORMATS,
    KNOWN_PARAMS,
    LISTED_BY_SERVER_NOTE,
    MODELS,
    MODERATIONS,
    PERMISSIVE,
    SNAPSHOTS,
    STANDARD_SIZES,
    SVG_EFFORTS,
    TRANSPARENT_FORMATS,
    Endpoint,
    ModelCaps,
    SizeRule,
    caps_for,
    current_models,
)
from image_widget.facts.validation import (
    Problem,
    ValidationError,
    check,
    custom_size_problem,
    parse_size,
    validate,
)

__all__ = [
    "BACKGROUNDS",
    "COMPLEXITIES",
    "COMPRESSIBLE_FORMATS",
    "DEFAULT_MODEL",
    "ENDPOINTS",
    "GPT_FORMATS",
    "GPT_QUALITIES",
    "INPUT_FORMATS",
    "KNOWN_PARAMS",
    "LISTED_BY_SERVER_NOTE",
    "MB",
    "MODELS",
    "MODERATIONS",
    "PERMISSIVE",
    "SNAPSHOTS",
    "STANDARD_SIZES",
    "SVG_EFFORTS",
    "TRANSPARENT_FORMATS",
    "Endpoint",
    "FileTuple",
    "ModelCaps",
    "Problem",
    "SizeRule",
    "ValidationError",
    "caps_for",
    "check",
    "current_models",
    "custom_size_problem",
    "describe",
    "image_info",
    "parse_size",
    "size_warning",
    "sniff_format",
    "validate",
]


def size_warning(model: str, size: str | None) -> str | None:
    """A note for sizes the API calls experimental (above 2560x1440 on custom-size models)."""
    wh = parse_size(size or "")
    rule = caps_for(model).sizes
    if wh and rule.custom and wh[0] * wh[1] > rule.experimental_above_pixels and caps_for(model).known:
        return f"size {size} is above 2560x1440, which the API calls experimental"
    return None


def describe(model: str, server: str | None = None) -> dict[str, Any]:
    """JSON-ready capabilities of one model, for the widget's controls."""
    caps = caps_for(model, server)
    return {
        "model": model,
        "known": caps.known,
        "status": caps.status,
        "note": caps.note,
        "replacement": caps.replacement,
        "shutdown_date": caps.lifecycle.shutdown,
        "lifecycle_message": caps.lifecycle.message(model),
        "endpoints": sorted(caps.endpoints),
        "sizes": list(caps.sizes.fixed),
        "custom_size": caps.sizes.custom,
        "qualities": list(caps.qualities),
        "output_formats": [f for f in caps.output_formats
                           if (f != "gif" or caps.gif) and (f != "svg" or caps.svg)],
        "backgrounds": list(caps.backgrounds),
        "n_max": caps.n_max,
        "prompt_max": caps.prompt_max,
        "max_input_images": caps.max_input_images,
        "mask": caps.mask,
        "markup": caps.markup,
        "input_fidelity": list(caps.input_fidelity),
        "moderation": caps.moderation,
        "streaming": caps.streaming,
        "max_partial_images": caps.max_partial_images,
        "previews": {param: [v for p, v in caps.previews if p == param] for param, _ in caps.previews},
        "compressible_formats": list(COMPRESSIBLE_FORMATS),
        "transparent_formats": list(TRANSPARENT_FORMATS),
    }
