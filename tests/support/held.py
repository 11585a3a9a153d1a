"""Requests held in flight on the emulator until the test lets them go.

Tests of concurrency and of "the kernel is free while a request runs" used to give the emulator a short
latency and hope that what they wanted to see happened within it; on a busy machine it sometimes did not.
Held instead, a request stays in flight for as long as the test needs: the test observes what it claims
(e.g. `in_flight` reaching 4) with a bounded wait, then releases the requests and they complete normally.

Releasing is `reset()`, the only thing that ends a simulated wait early, and it ends the waits begun
before it. A request reads the configuration (the long latency) as it arrives but begins its wait only
after reading its body, so one can begin its wait just after a reset: release therefore resets until
nothing is in flight. A reset also clears the log, the faults and the configuration: read the log while
the requests are held.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager

from image_widget.emulator import Emulator

from . import waiting

HOLD_S = 600.0
"""The simulated model time of a held request: longer than any test waits, so only a release ends it."""
RELEASE_S = 30.0


def hold(emulator: Emulator) -> None:
    """From now on, images requests to `emulator` stay in flight until `release`."""
    emulator.configure(latency_s=HOLD_S)


def _released(emulator: Emulator) -> bool:
    emulator.reset()
    return emulator.in_flight == 0


def release(emulator: Emulator) -> None:
    """End every held request and wait until none is in flight (the configuration is back to its default)."""
    waiting.wait_until(lambda: _released(emulator), "the held requests to end", RELEASE_S)


async def arelease(emulator: Emulator) -> None:
    """`release` from a coroutine: the event loop (e.g. a client reading the answers) keeps running."""
    await waiting.await_until(lambda: _released(emulator), "the held requests to end", RELEASE_S)


@contextmanager
def held(emulator: Emulator) -> Iterator[Emulator]:
    """Requests that reach `emulator` inside the block stay in flight until the block ends."""
    hold(emulator)
    try:
        yield emulator
    finally:
        release(emulator)


@asynccontextmanager
async def aheld(emulator: Emulator) -> AsyncIterator[Emulator]:
    """`held` for a coroutine."""
    hold(emulator)
    try:
        yield emulator
    finally:
        await arelease(emulator)
