"""Warnings that point at the user's line, even when raised on our background loop thread.

`iw.generate()` runs its coroutine on a private loop thread, where the stack holds only asyncio's
frames: a plain `warnings.warn` there names `asyncio/events.py`. So the sync bridge remembers the
caller's line (a context variable travels with the scheduled coroutine), and `warn_at_caller` uses it
when the current stack has no frame of the user's.
"""

from __future__ import annotations

import sys
import warnings
from contextvars import ContextVar, Token
from dataclasses import dataclass
from types import FrameType
from typing import Any

_OURS = ("image_widget.", "asyncio.", "concurrent.", "threading", "contextlib", "traitlets.", "ipywidgets.",
         "anywidget.")


@dataclass(frozen=True)
class CallSite:
    """Where a warning should be attributed: a file, a line and the module's globals (for its registry)."""

    filename: str
    lineno: int
    module_globals: dict[str, Any]


_CALLER: ContextVar[CallSite | None] = ContextVar("image_widget_caller", default=None)


def _is_ours(frame: FrameType) -> bool:
    name = str(frame.f_globals.get("__name__", ""))
    return name == "image_widget" or name.startswith(_OURS)


def caller_site(start: FrameType | None = None) -> CallSite | None:
    """The first frame on this thread's stack outside image_widget and the async machinery."""
    frame: FrameType | None = start or sys._getframe(1)
    while frame is not None:
        if not _is_ours(frame):
            return CallSite(frame.f_code.co_filename, frame.f_lineno, frame.f_globals)
        frame = frame.f_back
    return None


def remember_caller() -> Token[CallSite | None]:
    """Call on the user's thread before handing work to a background loop; reset the token after."""
    return _CALLER.set(caller_site(sys._getframe(1)))


def forget_caller(token: Token[CallSite | None]) -> None:
    _CALLER.reset(token)


def warn_at_caller(message: str, category: type[Warning]) -> None:
    """`warnings.warn`, attributed to the user's line (this stack's, else the remembered one)."""
    site = caller_site(sys._getframe(1)) or _CALLER.get()
    if site is None:
        warnings.warn(message, category, stacklevel=2)
        return
    globals_ = site.module_globals
    registry = globals_.setdefault("__warningregistry__", {})
    warnings.warn_explicit(message, category, site.filename, site.lineno,
                           module=str(globals_.get("__name__", "__main__")), registry=registry)
