"""Where a request goes and how it runs: the keyword arguments every public call shares, parsed once.

`generate`, `edit`, `vary`, `rerun`, `astream` and the widget all accept them; `RunOptions.pop_from`
takes them out of a call's keyword arguments, so what is left are request fields for the API.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from image_widget.client.result import SavedImage
    from image_widget.store import Store

DEFAULT_TIMEOUT_S = 300.0
DEFAULT_MAX_RETRIES = 1


@dataclass(frozen=True)
class RunOptions:
    """The connection and run options of one call.

    `max_retries` (default 1) is how many 429s are waited out and sent again (`client/rate_limits.py`): the
    API has no idempotency key, so a 5xx, a timeout or a dropped connection — which may have reached the
    server and be billed — is reported, never re-sent; `timeout` is explicit for the same reason.
    `cache=True` answers an identical earlier request from `store` without a network call. `prices` gives
    prices for models ({model: {"image_output": 30.0, …}}; see `set_price`). `on_saved(images)` is called once
    every image of the run is on disk, with each one's record and bytes, before they are decoded: a view can
    show them at once (the widget does) while the call goes on to decode them.
    """

    client: Any = None
    base_url: str | None = None
    api_key: str | None = field(default=None, repr=False)  # never shown (tracebacks, debuggers print reprs)
    store: Store | str | Path | None = None
    cache: bool = False
    max_retries: int | None = DEFAULT_MAX_RETRIES
    timeout: float | None = DEFAULT_TIMEOUT_S
    prices: Mapping[str, Any] | None = None
    on_saved: Callable[[list[SavedImage]], None] | None = None

    @classmethod
    def pop_from(cls, options: dict[str, Any]) -> RunOptions:
        """Take the run options out of `options` (in place): what stays are the request's own fields."""
        return cls(**{name: options.pop(name) for name in RUN_KEYS if name in options})


RUN_KEYS: tuple[str, ...] = tuple(f.name for f in fields(RunOptions))
"""client, base_url, api_key, store, cache, max_retries, timeout, prices, on_saved."""
