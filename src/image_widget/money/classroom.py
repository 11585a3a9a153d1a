"""A per-session budget for a class: `IMAGE_WIDGET_BUDGET_USD`, and the session id records carry.

A *session* is one Python process: a notebook kernel, the Voila app's kernel for one visitor, one MCP
server. Its id (`SESSION_ID`) is written into every record, so the teacher's report (`iw.spend(by="session")`)
groups spend by it. The budget is read by every request path (functions, widget, sweeps, Voila, MCP all go
through `client.request.run`): before sending, what this session spent plus the upper end of the request's
estimate must fit, or the request is refused naming the budget and what is left. Emulator runs count too
(at what they would cost), so a class can try the budget offline.
"""

from __future__ import annotations

import math
import os
import threading
import uuid

from image_widget.base.errors import BudgetError
from image_widget.facts.cost import format_usd

ENV_VAR = "IMAGE_WIDGET_BUDGET_USD"
SESSION_ID = uuid.uuid4().hex[:12]
"""This process's session (kernel), written into each record as `session`."""
_lock = threading.Lock()
_spent = [0.0]


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


def check(upper_usd: float | None, what: str) -> None:
    """Refuse, before sending, a request whose estimate (upper end) would pass the session budget."""
    budget = budget_usd()
    if budget is None:
        return
    used = spent()
    left = max(0.0, budget - used)
    head = (f"the class budget {ENV_VAR}={format_usd(budget)} for this session: {format_usd(used)} spent, "
            f"{format_usd(left)} left")
    if upper_usd is None:
        raise BudgetError(f"{head}; the cost of this request is not known yet ({what}), so it cannot be checked "
                          "against the budget; nothing was sent. Ask your teacher to run one request of this "
                          "model first (its usage then teaches the estimate), or pick another model")
    if used + upper_usd > budget:
        raise BudgetError(f"{head}; this request may cost up to {format_usd(upper_usd)} ({what}); nothing was sent. "
                          "Pick a lower quality, a smaller size or fewer images")


def reset() -> None:
    """Start the session's spend from zero again (tests; a teacher's fresh start)."""
    with _lock:
        _spent[0] = 0.0
