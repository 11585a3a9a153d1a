"""One honest summary line per test module, e.g.
`faults: 14 injected, 14 survived, 0 images lost, 0 duplicate paid requests`.

`figure_fixture` makes a module-scoped, autouse fixture that yields a `Counter`. Tests add to it as they
run; at the end of the module the line is rendered from what they counted and the module's invariants
are asserted, so a figure can never claim what the tests did not see. Because the fixture is autouse, a
figure is rendered whenever any test of its module ran, whatever `-k` or `-m` selected: it then counts
exactly the tests that ran.

The rendered lines are printed by `report`, called from the root conftest's `pytest_terminal_summary`
with pytest's public `TerminalReporter.write_line` (after the results, also under `-q` and without `-s`).
"""

from __future__ import annotations

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


def report(terminalreporter: pytest.TerminalReporter) -> None:
    """Write the session's figure lines (if any module rendered one) under a `figures` heading."""
    lines = terminalreporter.config.stash.get(LINES, [])
    if lines:
        terminalreporter.write_sep("=", "figures")
        for line in lines:
            terminalreporter.write_line(line, bold=True)
