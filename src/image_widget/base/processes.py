"""Whether a process of this machine still runs: for pending saves (the store) and emulator markers."""

from __future__ import annotations

import os

__all__ = ["running"]


def running(pid: int) -> bool | None:
    """True or False on POSIX; None where it cannot be asked safely (`os.kill(pid, 0)` ends the process on
    Windows), so the caller decides by other means (the mark's age, the marker's removal)."""
    if os.name != "posix":
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, owned by someone else
    return True
