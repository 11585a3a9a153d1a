"""Shared fixtures: one emulator server per test session, with fresh state for every test; Playwright and
Chromium for one test module at a time; the suite figures in the terminal summary."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import openai
import pytest
from playwright.sync_api import Browser, BrowserType, Playwright, sync_playwright

# Tests run on a fixed day, so a model's shutdown date passing does not change what they check (tests of
# the lifecycle set other days themselves). Set before anything starts: kernels and servers inherit it.
# The fresh-environment notebook check (tests/fresh) runs on the real date, as a user would.
TEST_TODAY = "2026-11-29"
os.environ["IMAGE_WIDGET_TODAY"] = TEST_TODAY
# What runs used is also kept per user (money/user_runs.py): never in the real home during tests, and off unless a
# test turns it on (so one test's runs never change another's estimates); no class budget from the
# developer's shell. Kernels and servers inherit all three.
import tempfile  # noqa: E402

os.environ["IMAGE_WIDGET_USER_DIR"] = tempfile.mkdtemp(prefix="iw-user-")
os.environ["IMAGE_WIDGET_LEARN_ACROSS_FOLDERS"] = "0"
os.environ["IMAGE_WIDGET_EMULATOR_MARKERS"] = tempfile.mkdtemp(prefix="iw-emulators-")  # standalone servers of tests
os.environ.pop("IMAGE_WIDGET_BUDGET_USD", None)

from image_widget.emulator import Emulator  # noqa: E402
from support import figures, spec  # noqa: E402
from support.chromium import CHROMIUM, CHROMIUM_ARGS, ensure_bundle  # noqa: E402
from support.held import release  # noqa: E402

# --------------------------------------------------------------------------------- Playwright, per module
#
# Playwright's sync API runs its asyncio loop in a greenlet of the calling thread and, after every call,
# marks that loop as the thread's running loop again (playwright/_impl/_greenlets.py, wait_for_future),
# for as long as Playwright is started. pytest-playwright starts it once per session, so after the first
# browser test the main thread had a "running" loop until the end: pytest-asyncio tests and asyncio.run
# failed ("cannot be called from a running event loop"), and library code that looks for a running loop
# (api.run_sync, as in Jupyter) took its inside-a-loop path. The fixtures below are pytest-playwright's,
# scoped to the module instead: Playwright stops when the last test of a browser module is done, which
# clears the mark, so browser tests may run in any order with the rest. (A module must not mix Playwright
# tests with tests that run an event loop on the main thread; none does, and `_no_foreign_running_loop`
# would name the culprit.) Each browser module pays one Playwright + Chromium start, about 0.7 s.


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


@pytest.fixture(scope="module")
def playwright(_pw_api_request_contexts: Any) -> Iterator[Playwright]:
    """pytest-playwright's `playwright`, started for one module and stopped after it."""
    pw = sync_playwright().start()
    if _pw_api_request_contexts is not None:  # --tracing of playwright.request contexts
        _pw_api_request_contexts.instrument(pw)
    yield pw
    pw.stop()
    assert _running_loop() is None, "Playwright stopped but left an event loop marked running on this thread"


@pytest.fixture(scope="module")
def browser_type(playwright: Playwright, browser_name: str) -> BrowserType:
    return getattr(playwright, browser_name)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """Debian's Chromium, never a downloaded browser."""
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="module")
def launch_browser(browser_type_launch_args: dict[str, Any], browser_type: BrowserType) -> Callable[..., Browser]:
    def launch(**kwargs: Any) -> Browser:
        return browser_type.launch(**{**browser_type_launch_args, **kwargs})

    return launch


@pytest.fixture(scope="module")
def browser(launch_browser: Callable[..., Browser]) -> Iterator[Browser]:
    browser = launch_browser()
    yield browser
    browser.close()


@pytest.fixture(scope="module")
def browser_context_args(pytestconfig: pytest.Config, playwright: Playwright, device: str | None,
                         base_url: str | None, _pw_artifacts_folder: Any) -> dict[str, Any]:
    """pytest-playwright's context options (--device, --base-url, --video), per module like `playwright`."""
    args: dict[str, Any] = {}
    if device:
        args.update(playwright.devices[device])
    if base_url:
        args["base_url"] = base_url
    if pytestconfig.getoption("--video") in ("on", "retain-on-failure"):
        args["record_video_dir"] = _pw_artifacts_folder.name
    return args


@pytest.fixture(autouse=True)
def _no_foreign_running_loop(request: pytest.FixtureRequest) -> None:
    """Outside browser modules a test starts with no event loop running on its thread: not Playwright's
    (see above), not one another test left behind."""
    if request.node.get_closest_marker("browser") or request.node.get_closest_marker("jupyter"):
        return
    loop = _running_loop()
    assert loop is None, f"{loop!r} is marked running on the main thread before the test (a leaked Playwright?)"


# ------------------------------------------------------------------------------ the bundle, the emulator


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
    release(_emulator_server)  # resets, cutting short the simulated wait of any request the test abandoned


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


def pytest_sessionfinish(session: pytest.Session) -> None:
    figures.hand_over(session.config)
    output = getattr(session.config, "workeroutput", None)
    if output is not None:  # an xdist worker: its contract tallies go to the controller too
        output["spec_counts"] = json.dumps(spec.counts())


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    """xdist: a worker finished; its figure lines (and contract tallies) join the controller's."""
    output = getattr(node, "workeroutput", {})
    figures.take_over(node.config, output)
    spec.absorb(json.loads(str(output.get("spec_counts", "{}"))))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The suite figures (support/figures.py) of every module that ran, after the results."""
    contracts = spec.figure()
    if contracts:
        terminalreporter.config.stash.setdefault(figures.LINES, []).append(contracts)
    figures.report(terminalreporter)
