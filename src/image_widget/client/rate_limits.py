"""The one failure that is sent again: a 429 the server refused before doing any work (never billed).

The API has no idempotency key, so the SDK's own retries are off everywhere (they re-send 408, 409, 5xx,
timeouts and dropped connections, any of which may have reached the server and be billed). A 429 is waited
out — as long as the server asks (`retry-after-ms` / `retry-after`), else a short backoff — at most
`retries` times; a quota 429 (no credit) and a wait longer than `MAX_WAIT_S` are reported at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from image_widget.base.errors import APIRequestError, QuotaExceededError, RateLimitedError

MAX_WAIT_S = 20.0
"""The longest wait we sit through for a 429; asked for longer, we say so instead of blocking the kernel."""
SDK_RETRIES = 0
"""What every client we build (or copy from the caller's) is given as the SDK's `max_retries`."""
_T = TypeVar("_T")


@dataclass
class Flight:
    """Whether an attempt may be at the server: set as each one leaves, cleared when one comes back refused (a 4xx
    or a 429, which the server turned away before any work). A cancel or failure while nothing is out — before
    the first attempt (a JSON edit's uploads), or while a 429 is waited out — cannot have been billed."""

    out: bool = False


async def waiting_out_rate_limits(attempt: Callable[[], Awaitable[_T]], retries: int,
                                  flight: Flight | None = None) -> _T:
    """`attempt()`, sent again after each 429 up to `retries` times; every other failure raised as it is."""
    flight = flight if flight is not None else Flight()
    tries = 0
    while True:
        flight.out = True
        try:
            return await attempt()
        except APIRequestError as exc:
            if not exc.may_have_billed:
                flight.out = False
            if not isinstance(exc, RateLimitedError):
                raise
            asked = exc.retry_after_s
            if tries >= retries or isinstance(exc, QuotaExceededError) or exc.code == "insufficient_quota":
                raise
            if asked is not None and asked > MAX_WAIT_S:
                raise
            tries += 1
            await asyncio.sleep(asked if asked is not None else 0.5 * 2 ** tries)
