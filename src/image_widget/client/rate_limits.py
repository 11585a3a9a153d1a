"""The one failure that is sent again: a 429 the server refused before doing any work (never billed).

The API has no idempotency key, so the SDK's own retries are off everywhere (they re-send 408, 409, 5xx,
timeouts and dropped connections, any of which may have reached the server and be billed). A 429 is waited
out — as long as the server asks (`retry-after-ms` / `retry-after`), else a short backoff — at most
`retries` times; a quota 429 (no credit) and a wait longer than `MAX_WAIT_S` are reported at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from image_widget.base.errors import QuotaExceededError, RateLimitedError

MAX_WAIT_S = 20.0
"""The longest wait we sit through for a 429; asked for longer, we say so instead of blocking the kernel."""
SDK_RETRIES = 0
"""What every client we build (or copy from the caller's) is given as the SDK's `max_retries`."""
_T = TypeVar("_T")


async def waiting_out_rate_limits(attempt: Callable[[], Awaitable[_T]], retries: int) -> _T:
    """`attempt()`, sent again after each 429 up to `retries` times; every other failure raised as it is."""
    tries = 0
    while True:
        try:
            return await attempt()
        except RateLimitedError as exc:
            asked = exc.retry_after_s
            if tries >= retries or isinstance(exc, QuotaExceededError) or exc.code == "insufficient_quota":
                raise
            if asked is not None and asked > MAX_WAIT_S:
                raise
            tries += 1
            await asyncio.sleep(asked if asked is not None else 0.5 * 2 ** tries)
