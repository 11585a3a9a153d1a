"""Compatibility: the backend moved to `image_widget.client.backend`; this name is that very module.

It is aliased rather than re-exported so that setting a module global here (tests reset
`_notice_shown`) changes the one the code reads.
"""

from __future__ import annotations

import sys

from image_widget.client import backend as _moved
from image_widget.client.backend import EMULATOR_LABEL, EMULATOR_NOTICE, Backend, BackendKind, resolve_backend, safe_url

__all__ = ["EMULATOR_LABEL", "EMULATOR_NOTICE", "Backend", "BackendKind", "resolve_backend", "safe_url"]

sys.modules[__name__] = _moved
