"""The `error` trait: what went wrong, in words, and what to do next — with every secret removed.

Pure functions. Banners are text only (the page never renders them as HTML) and pass through `scrub`,
so no key reaches a trait even when an exception's message quotes one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, TypedDict

from image_widget import capabilities


class ErrorBanner(TypedDict):
    title: str
    message: str
    hint: str
    code: str | None
    status: int | None


_KEY_RE = re.compile(r"sk-[A-Za-z0-9_\-]{8,}")
ORG_SETTINGS_URL = "https://platform.openai.com/settings/organization/general"


def scrub(text: str, secrets: Sequence[str | None] = ()) -> str:
    """Remove every configured secret and anything shaped like an OpenAI key from `text`."""
    for secret in secrets:
        if secret and len(secret) >= 6:
            text = text.replace(secret, "[redacted key]")
    return _KEY_RE.sub("sk-[redacted]", text)


def error_banner(exc: BaseException, secrets: Sequence[str | None] = ()) -> ErrorBanner:
    """The `error` trait for an exception: a title, what happened, and what to do next. Never a key."""
    from image_widget.api import APIRequestError
    from image_widget.images import ImageInputError
    from image_widget.store import StoreError

    if isinstance(exc, capabilities.ValidationError):
        banner = ErrorBanner(title="Not sent — fix the options", message=str(exc),
                             hint="Fix the options marked in the form; nothing was sent to the API.",
                             code="invalid_options", status=None)
    elif isinstance(exc, APIRequestError):
        banner = _api_banner(exc)
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


def _api_banner(exc: Any) -> ErrorBanner:
    status: int | None = exc.status
    code: str | None = exc.code
    kind = str(getattr(exc, "kind", "") or "")
    message = str(getattr(exc, "detail", "") or exc)
    lowered = message.lower()
    retry_note = " A retry may be billed." if exc.retry_may_bill else ""
    title, hint = "Request failed", exc.hint or "Try again."
    if code == "moderation_blocked" or ("moderation" in lowered and status == 400):
        title, hint = "Blocked by moderation", ("Rephrase the prompt (and check the input images): "
                                                "the safety system refused this request.")
    elif status == 403 and ("verif" in lowered or code in ("organization_not_verified", "org_not_verified")):
        title, hint = "Organisation not verified", (
            f"Verify your organisation at {ORG_SETTINGS_URL} — image models need it; access can take "
            "up to 15 minutes to arrive after verifying.")
    elif status == 403:
        title, hint = "Permission denied", exc.hint or "Check that your project may use this model."
    elif status == 401:
        title, hint = "Authentication failed", "Check OPENAI_API_KEY (or the api_key you passed)."
    elif status == 429 and code == "insufficient_quota":
        title, hint = "Quota exceeded", "Add credit or raise the limit in your OpenAI billing settings."
    elif status == 429:
        title, hint = "Rate limited", ("Wait a minute before trying again; each retry of an image request "
                                       "may be billed.")
    elif "timeout" in kind.lower() or "timed out" in lowered:
        title, hint = "Request timed out", ("Try a smaller size or lower quality (or raise timeout=)."
                                            + retry_note)
    elif "connection" in kind.lower():
        title, hint = "Connection failed", "Check the network connection and the base_url." + retry_note
    elif status == 400:
        title = "Invalid request"
        hint = (f"Fix the option '{exc.param}' and try again." if exc.param
                else "Fix the option named in the message and try again.")
    elif status == 404:
        title, hint = "Not found", exc.hint or "Check the model name and the base_url."
    elif status is not None and status >= 500:
        title, hint = "Server error", "The server failed; try again in a moment." + retry_note
    return ErrorBanner(title=title, message=message, hint=hint, code=code or kind or None, status=status)
