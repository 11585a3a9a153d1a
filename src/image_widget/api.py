"""Compatibility: the request path now lives in `image_widget.client` (with `errors` and `runtime`).

`image_widget.api` keeps every name code imported from it before the move: the public calls, `Result`,
`APIRequestError`, `run_sync`, `translate_error`, `resolve_backend`, the defaults.
"""

from __future__ import annotations

from image_widget.client.api import (
    VARIATION_NOTE,
    Partial,
    Result,
    aedit,
    agenerate,
    arerun,
    astream,
    avary,
    edit,
    generate,
    rerun,
    vary,
)
from image_widget.client.backend import Backend, resolve_backend
from image_widget.client.options import DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT_S, RunOptions
from image_widget.client.request import PartialCallback
from image_widget.errors import APIRequestError, translate_error
from image_widget.runtime import SYNC_LOOP as _SYNC_LOOP
from image_widget.runtime import run_sync

__all__ = [
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_TIMEOUT_S",
    "VARIATION_NOTE",
    "_SYNC_LOOP",
    "APIRequestError",
    "Backend",
    "Partial",
    "PartialCallback",
    "Result",
    "RunOptions",
    "aedit",
    "agenerate",
    "arerun",
    "astream",
    "avary",
    "edit",
    "generate",
    "rerun",
    "resolve_backend",
    "run_sync",
    "translate_error",
    "vary",
]
