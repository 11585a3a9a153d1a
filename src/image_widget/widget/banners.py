"""The `error` trait: what went wrong, in words, and what to do next — with every secret removed.

Pure functions. Banners are text only (the page never renders them as HTML) and pass through `scrub`,
so no key reaches a trait even when an exception's message quotes one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypedDict

from image_widget.base.errors import ORG_SETTINGS_URL, APIRequestError, banner_text, scrub
from image_widget.facts import capabilities

__all__ = ["ORG_SETTINGS_URL", "ErrorBanner", "error_banner", "scrub"]


class ErrorBanner(TypedDict):
    title: str
    message: str
    hint: str
    code: str | None
    status: int | None


def error_banner(exc: BaseException, secrets: Sequence[str | None] = ()) -> ErrorBanner:
    """The `error` trait for an exception: a title, what happened, and what to do next. Never a key.

    API failures read their title and next step from `errors.ADVICE` (via `errors.banner_text`).
    """
    from image_widget.images import ImageInputError
    from image_widget.store import StoreError

    if isinstance(exc, capabilities.ValidationError):
        # In the words of the form's controls (`Problem.person`); the exception keeps its exact text.
        message = "; ".join(dict.fromkeys(problem.person for problem in exc.problems)) or str(exc)
        banner = ErrorBanner(title="Not sent — fix the options", message=message,
                             hint="Fix the options marked in the form; nothing was sent to the API.",
                             code="invalid_options", status=None)
    elif isinstance(exc, APIRequestError):
        title, message, hint = banner_text(exc)
        banner = ErrorBanner(title=title, message=message, hint=hint, code=exc.code or exc.kind or None,
                             status=exc.status)
    elif isinstance(exc, ImageInputError):
        banner = ErrorBanner(title="Unusable input image", message=str(exc),
                             hint="Use a PNG, JPEG or WebP image (under 50 MB); nothing was sent.",
                             code="invalid_image", status=None)
    elif isinstance(exc, StoreError):
        banner = ErrorBanner(title="Could not save the image", message=str(exc),
                             hint="Pass folder=... to ImageWidget (or set IMAGE_WIDGET_DIR) to a writable "
                                  "folder.", code="store_error", status=None)
    else:
        banner = ErrorBanner(title="Unexpected error", message=f"{type(exc).__name__}: {exc}",
                             hint="This is likely a bug in image_widget; the traceback is in the kernel log.",
                             code=type(exc).__name__, status=None)
    banner["title"] = scrub(banner["title"], secrets)
    banner["message"] = scrub(banner["message"], secrets)
    banner["hint"] = scrub(banner["hint"], secrets)
    return banner
