"""Shared fixtures: one emulator server per test session, with fresh state for every test."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import openai
import pytest

# Tests run on a fixed day, so a model's shutdown date passing does not change what they check (tests of
# the lifecycle set other days themselves). Set before anything starts: kernels and servers inherit it.
# The fresh-environment notebook check (tests/fresh) runs on the real date, as a user would.
TEST_TODAY = "2026-11-29"
os.environ["IMAGE_WIDGET_TODAY"] = TEST_TODAY

from image_widget.emulator import Emulator  # noqa: E402
from support import figures, waiting  # noqa: E402
from support.chromium import CHROMIUM, CHROMIUM_ARGS, ensure_bundle  # noqa: E402


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """Debian's Chromium, never a downloaded browser."""
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def bundle() -> Path:
    """The front end, built once per session when missing or older than its sources."""
    try:
        return ensure_bundle()
    except RuntimeError as exc:
        pytest.fail(str(exc))


@pytest.fixture(scope="session")
def _emulator_server() -> Iterator[Emulator]:
    with Emulator() as server:
        yield server


@pytest.fixture
def emulator(_emulator_server: Emulator) -> Iterator[Emulator]:
    """The session's emulator, reset: empty log, no pending faults, default config (legacy off)."""
    _emulator_server.reset()
    yield _emulator_server
    _emulator_server.reset()  # also cuts short the simulated wait of any request the test abandoned
    waiting.wait_until(lambda: _emulator_server.in_flight == 0,
                       "the requests a test left in flight on the emulator to end", 10.0)


@pytest.fixture(scope="session")
def _emulator_sync_client(_emulator_server: Emulator) -> Iterator[openai.OpenAI]:
    # Shared: building a client (TLS context, connection pool) costs ~0.1 s each time.
    client = openai.OpenAI(base_url=_emulator_server.url, api_key="sk-test", max_retries=0,
                           _strict_response_validation=True)
    yield client
    client.close()


@pytest.fixture
def emulator_client(emulator: Emulator, _emulator_sync_client: openai.OpenAI) -> openai.OpenAI:
    """A real openai client pointed at the (freshly reset) emulator: no retries, strict validation."""
    return _emulator_sync_client


@pytest.fixture
async def async_emulator_client(emulator: Emulator) -> AsyncIterator[openai.AsyncOpenAI]:
    """The async twin of `emulator_client`."""
    client = openai.AsyncOpenAI(base_url=emulator.url, api_key="sk-test", max_retries=0,
                                _strict_response_validation=True)
    yield client
    await client.close()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The suite figures (support/figures.py) of every module that ran, after the results."""
    figures.report(terminalreporter)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Run the Chromium tests last: Playwright's sync API keeps an event loop running in the main
    thread for the rest of the session, which breaks every asyncio test that comes after it."""
    def needs_browser(item: pytest.Item) -> bool:
        return item.get_closest_marker("browser") is not None or item.get_closest_marker("jupyter") is not None

    items.sort(key=needs_browser)  # stable: keeps the order within each group
