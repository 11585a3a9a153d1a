"""A per-session budget for a class: `IMAGE_WIDGET_BUDGET_USD`, and the session id records carry.

A *session* is one Python process: a notebook kernel, the Voila app's kernel for one visitor, one MCP
server. Its id (`SESSION_ID`) is written into every record, so the teacher's report (`iw.spend(by="session")`)
groups spend by it. The budget is read by every request path (functions, widget, sweeps, Voila, MCP all go
through `client.request.run`): before sending, what this session spent plus the upper end of the request's
estimate must fit, or the request is refused naming the budget and what is left. That upper end is held
while the request runs (`hold` … `release`), so requests running side by side (a sweep's cells) cannot all
pass the check on the same spend. A request that failed after it may have reached the server (a 5xx, a
timeout, a cancel) is counted at least at its held amount: it may have been billed. Emulator runs count too
(at what they would cost), so a class can try the budget offline.
"""

from __future__ import annotations

import asyncio
import math
import os
import threading
import uuid

from image_widget.base.errors import APIRequestError, BudgetError, mark_paid
from image_widget.facts.cost import format_usd

ENV_VAR = "IMAGE_WIDGET_BUDGET_USD"
SESSION_ID = uuid.uuid4().hex[:12]
"""This process's session (kernel), written into each record as `session`."""
_lock = threading.Lock()
_spent = [0.0]
_held = [0.0]


def budget_usd() -> float | None:
    """The session budget from the environment, None when unset; a bad value names the variable."""
    text = os.environ.get(ENV_VAR, "").strip()
    if not text:
        return None
    try:
        value = float(text.lstrip("$"))
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{ENV_VAR}={text!r} must be an amount in USD (a number ≥ 0), e.g. {ENV_VAR}=2.50")
    return value


def spent() -> float:
    """What this session's requests cost so far (answers from the cache cost nothing)."""
    with _lock:
        return _spent[0]


def charge(usd: float | None) -> None:
    """Add a finished request's actual cost."""
    if usd:
        with _lock:
            _spent[0] += usd


def hold(upper_usd: float | None, what: str) -> float:
    """Refuse, before sending, a request whose estimate (upper end) would pass the session budget with what is
    spent and held; else hold that upper end until `release` (0 when no budget is set)."""
    budget = budget_usd()
    if budget is None:
        return 0.0
    with _lock:
        used = _spent[0] + _held[0]
        if upper_usd is not None and used + upper_usd <= budget:
            _held[0] += upper_usd
            return upper_usd
    left = max(0.0, budget - used)
    head = (f"the class budget {ENV_VAR}={format_usd(budget)} for this session: {format_usd(used)} spent or held "
            f"by requests under way, {format_usd(left)} left")
    if upper_usd is None:
        raise BudgetError(f"{head}; the cost of this request is not known yet ({what}), so it cannot be checked "
                          "against the budget; nothing was sent. Ask your teacher to run one request of this "
                          "model first (its usage then teaches the estimate), or pick another model")
    raise BudgetError(f"{head}; this request may cost up to {format_usd(upper_usd)} ({what}); nothing was sent. "
                      "Pick a lower quality, a smaller size or fewer images")


def release(held: float, failure: BaseException | None = None, *, paid: float | None = None) -> None:
    """A request is back: give back what `hold` held and charge what it cost — `paid` (its actual cost, or what
    it saved before it stopped), and for a failure that may have been billed (a 5xx, a timeout, a cancel after
    sending) at least the held amount: the budget cannot know the rest was free."""
    owed = paid or 0.0
    if failure is not None and may_have_billed(failure):
        owed = max(owed, held)
    with _lock:
        _held[0] = max(0.0, _held[0] - held)
        _spent[0] += owed


def release_failed(held: float, billed_by: BaseException | None, failure: BaseException, owed: float | None) -> None:
    """`release` for a failed request: `owed` is what its answer cost when it had come (None: no answer), charged
    and noted on the failure too, so a sweep's max_cost counts it (`errors.mark_paid`)."""
    release(held, billed_by, paid=owed)
    if owed is not None:
        mark_paid(failure, owed)


def may_have_billed(exc: BaseException) -> bool:
    """The request may have reached the server and been billed: an API failure that says so, a cancel, or a
    Ctrl-C (in a script the SDK's sync call itself is interrupted: the request may be on the server)."""
    return isinstance(exc, asyncio.CancelledError | KeyboardInterrupt) or (
        isinstance(exc, APIRequestError) and exc.may_have_billed)


def reset() -> None:
    """Start the session's spend from zero again (tests; a teacher's fresh start)."""
    with _lock:
        _spent[0] = 0.0
        _held[0] = 0.0
