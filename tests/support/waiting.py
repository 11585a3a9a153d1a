"""Waiting on state another thread or process owns — bounded, never a bare sleep as an assertion.

`check` may also raise to give up early (e.g. when the server it waits for has exited).
"""

from __future__ import annotations

import asyncio
import time
import urllib.request
from collections.abc import Callable


def wait_until(check: Callable[[], bool], what: str, timeout: float, interval: float = 0.01) -> None:
    """Poll `check` every `interval` seconds until it is true; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(interval)


async def await_until(check: Callable[[], bool], what: str, timeout: float, interval: float = 0.01) -> None:
    """`wait_until` for a coroutine: the event loop keeps running between polls."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(interval)


def answers(url: str, timeout: float = 5.0) -> bool:
    """True when a GET of `url` gets a 2xx answer; False while nothing (or an error) answers."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return 200 <= response.status < 300
    except OSError:  # refused, reset, timed out, or an HTTP error status
        return False
