"""One honest summary line per test module, e.g.
`faults: 14 injected, 14 survived, 0 images lost, 0 duplicate paid requests`.

`figure_fixture` makes a module-scoped, autouse fixture that yields a `Counter`. Tests add to it as they
run; at the end of the module the line is rendered from what they counted and the module's invariants
are asserted, so a figure can never claim what the tests did not see. Because the fixture is autouse, a
figure is rendered whenever any test of its module ran, whatever `-k` or `-m` selected: it then counts
exactly the tests that ran.

The rendered lines are printed by `report`, called from the root conftest's `pytest_terminal_summary`
with pytest's public `TerminalReporter.write_line` (after the results, also under `-q` and without `-s`).
Under pytest-xdist each worker hands its lines to the controller through `workeroutput` (`hand_over`,
`take_over`), so the controller prints every module's figure; `report` also prints how many tests ran.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator

import pytest

Render = Callable[[Counter[str]], str]
Invariants = Callable[[Counter[str]], list[str]]

LINES = pytest.StashKey[list[str]]()
"""The figure lines rendered so far in this session, in the order their modules finished."""


def broken(counts: Counter[str], **must_be_zero: str) -> list[str]:
    """Messages for every counter named in `must_be_zero` (key → description) that is not zero."""
    return [f"{counts[key]} {what}" for key, what in must_be_zero.items() if counts[key]]


def figure_fixture(name: str, render: Render, invariants: Invariants) -> Callable[..., Iterator[Counter[str]]]:
    """A module-scoped autouse fixture called `name` yielding a Counter; records `render(counts)` for the
    terminal summary at teardown and fails the module if `invariants(counts)` lists any broken promise."""

    @pytest.fixture(scope="module", name=name, autouse=True)
    def tally(request: pytest.FixtureRequest) -> Iterator[Counter[str]]:
        counts: Counter[str] = Counter()
        yield counts
        request.config.stash.setdefault(LINES, []).append(render(counts))
        problems = invariants(counts)
        assert not problems, f"{name}: " + "; ".join(problems)

    return tally


_WORKER_KEY = "image_widget_figures"


def hand_over(config: pytest.Config) -> None:
    """On an xdist worker: send this worker's figure lines to the controller with the session's end."""
    output = getattr(config, "workeroutput", None)
    if output is not None:
        output[_WORKER_KEY] = json.dumps(config.stash.get(LINES, []))


def take_over(config: pytest.Config, workeroutput: dict[str, object]) -> None:
    """On the xdist controller: add a finished worker's figure lines to the session's."""
    lines = json.loads(str(workeroutput.get(_WORKER_KEY, "[]")))
    config.stash.setdefault(LINES, []).extend(lines)


def report(terminalreporter: pytest.TerminalReporter) -> None:
    """Write the session's figure lines (if any module rendered one) under a `figures` heading, then the
    number of tests that ran (CI prints it, so a dropped test shows)."""
    lines = terminalreporter.config.stash.get(LINES, [])
    if lines:
        terminalreporter.write_sep("=", "figures")
        for line in sorted(lines):  # workers finish in any order: sorted, the summary reads the same each run
            terminalreporter.write_line(line, bold=True)
    if hasattr(terminalreporter.config, "workeroutput"):
        return
    kinds = ("passed", "failed", "skipped", "xfailed", "xpassed", "error")
    counts = {kind: len(terminalreporter.stats.get(kind, [])) for kind in kinds}
    total = sum(v for kind, v in counts.items() if kind != "error")  # an error is not a test of its own
    detail = ", ".join(f"{v} {kind}" for kind, v in counts.items() if v)
    terminalreporter.write_line(f"tests run: {total} ({detail or 'none'})", bold=True)
