"""What the server thread and the test thread share: faults to inject, the request log and the live config.

Standard library only, and nothing from the other emulator modules: `server` (imported with the package)
stays cheap, and every other module can import these records without an import cycle.
"""

from __future__ import annotations

import dataclasses
import secrets
import threading
import time
import uuid
from collections import OrderedDict, deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal, get_args

FaultKind = Literal[
    "status", "slow", "drop", "error_event", "malformed_event", "truncated_b64", "wrong_size", "empty_data",
    "cut_last_event",
]
FAULT_KINDS: tuple[str, ...] = get_args(FaultKind)


@dataclass(frozen=True)
class Fault:
    """One injected misbehaviour, consumed by the next images request (first in, first out).

    `Fault(status=429, retry_after=1.0)` answers with that HTTP error (OpenAI error JSON; `message`,
    `code`, `type`, `param` override the realistic defaults for the status). Other kinds:
    `slow` (wait `seconds` more, then answer normally), `drop` (close the connection before the body,
    or mid-stream after `after` events), `error_event` / `malformed_event` (mid-stream after `after`
    events; without streaming a 500 / a broken JSON body), `truncated_b64`, `wrong_size` (half the
    asked size) and `empty_data` (`data: []`, or a stream without completed events). `cut_last_event`: the
    server finishes, but the connection closes halfway through a stream's last event (a Responses turn is kept
    and can be read back); without streaming, as `drop` once the work is done.
    `seconds` delays any kind; `should_retry` sets `x-should-retry`.
    """

    status: int | None = None
    kind: FaultKind | None = None
    message: str | None = None
    code: str | None = None
    type: str | None = None
    param: str | None = None
    retry_after: float | None = None
    retry_after_ms: int | None = None
    should_retry: bool | None = None
    seconds: float = 0.0
    after: int = 1

    def __post_init__(self) -> None:
        kind = self.kind
        if kind is None:
            if self.status is None:
                raise ValueError("Fault needs a status (e.g. Fault(status=500)) or a kind (e.g. Fault(kind='drop'))")
            kind = "status"
            object.__setattr__(self, "kind", kind)
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; known: {', '.join(FAULT_KINDS)}")
        if kind == "status" and (self.status is None or not 400 <= self.status <= 599):
            raise ValueError(f"a status fault needs an HTTP error status from 400 to 599, got {self.status!r}")
        if kind != "status" and self.status is not None:
            raise ValueError(f"status={self.status} only goes with kind='status', not kind={kind!r}")
        if self.seconds < 0 or self.after < 0:
            raise ValueError("seconds and after must not be negative")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Fault:
        """A fault from its JSON form (the HTTP control endpoint); unknown keys are an error."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise ValueError(f"unknown fault field(s) {', '.join(unknown)}; known: {', '.join(sorted(names))}")
        return cls(**dict(data))

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    # Shortcuts for the faults tests use most.
    @classmethod
    def rate_limit(cls, retry_after: float | None = 1.0, **kw: Any) -> Fault:
        return cls(status=429, retry_after=retry_after, **kw)

    @classmethod
    def server_error(cls, status: int = 500, **kw: Any) -> Fault:
        return cls(status=status, **kw)

    @classmethod
    def unverified(cls, **kw: Any) -> Fault:
        return cls(status=403, **kw)

    @classmethod
    def moderation_blocked(cls, **kw: Any) -> Fault:
        return cls(status=400, code="moderation_blocked", **kw)


class DroppedConnection(Exception):
    """Raised on purpose (Fault(kind="drop")) so uvicorn closes the connection without finishing."""


@dataclass
class RequestLog:
    """One request the emulator received (images endpoints and unknown /v1 paths, not control calls)."""

    id: str
    method: str
    path: str
    endpoint: str | None
    params: dict[str, Any] = field(default_factory=dict)
    status: int | None = None
    started: float = 0.0
    finished: float | None = None
    in_flight_at_start: int = 0
    fault: Fault | None = None

    @property
    def elapsed_s(self) -> float | None:
        return None if self.finished is None else self.finished - self.started

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass
class Config:
    """Behaviour that can change while the server runs (POST /_emulator/config)."""

    latency_s: float = 0.0
    partial_interval_s: float = 0.05
    legacy: bool = False
    seed: int = 0
    mask_leak: bool = True
    """Like the real models, an edit with a mask also changes pixels outside it a little (see `leak.py`)."""
    batch_step_s: float = 0.0
    """Seconds a batch spends in each status step (validating, finalizing): the Batch API's time scale."""
    batch_line_s: float = 0.0
    """Seconds each batch line takes (0: as fast as the images render)."""
    json_edits: bool = True
    """False: answer JSON edits as an OpenAI-compatible server without them does (a content-type 400)."""
    models: dict[str, str | None] = field(default_factory=dict)
    """What GET /v1/models says beyond the table: model → shutdown_date (YYYY-MM-DD, or None for none).
    A model named here is listed (also one the table lacks) and refused from its shutdown date on."""

    def update(self, changes: Mapping[str, Any]) -> Config:
        """A checked copy with `changes` applied: bad values from the HTTP control fail here, not mid-request."""
        names = {f.name for f in dataclasses.fields(self)}
        unknown = sorted(set(changes) - names)
        if unknown:
            raise ValueError(f"unknown config field(s) {', '.join(unknown)}; known: {', '.join(sorted(names))}")
        values = dataclasses.asdict(self)
        for key, value in changes.items():
            if key == "models":
                values[key] = _checked_models(value)
                continue
            if key in ("legacy", "mask_leak", "json_edits"):
                if not isinstance(value, bool):
                    raise ValueError(f"{key} must be true or false, got {value!r}")
            elif key == "seed":
                if not isinstance(value, int) or isinstance(value, bool):
                    raise ValueError(f"seed must be a whole number, got {value!r}")
            elif not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
                raise ValueError(f"{key} must be a number of seconds >= 0, got {value!r}")
            values[key] = value
        return Config(**values)


def _checked_models(value: Any) -> dict[str, str | None]:
    """`models` config: {model id: "YYYY-MM-DD" or None}; anything else is refused with the reason."""
    if not isinstance(value, Mapping):
        raise ValueError(f"models must be a mapping of model id to shutdown date, got {type(value).__name__}")
    checked: dict[str, str | None] = {}
    for model, day in value.items():
        if day is not None and not (isinstance(day, str) and _is_day(day)):
            raise ValueError(f"models[{model!r}] must be a date like 2026-12-01 or None, got {day!r}")
        checked[str(model)] = day
    return checked


def _is_day(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return len(text) == 10


class EmulatorState:
    """Everything the app and the test thread share; every access holds one lock."""

    def __init__(self, config: Config, api_key: str | None = None) -> None:
        self.defaults = config
        self._config = dataclasses.replace(config)
        self.api_key = api_key
        self.instance = uuid.uuid4().hex
        """Which server this is (`/_emulator/health` says it): a standalone one's marker names it."""
        self._lock = threading.Lock()
        self._faults: deque[Fault] = deque()
        self._log: list[RequestLog] = []
        self._in_flight = 0
        self._max_in_flight = 0
        self.generation = 0
        """Bumped by `reset()`: simulated waits started before it end early."""
        self._files: OrderedDict[str, bytes] = OrderedDict()

    #: How many images answered with `response_format="url"` stay downloadable.
    MAX_FILES = 64

    def keep_file(self, data: bytes, fmt: str) -> str:
        """Keep image bytes for a legacy `url` response; returns the file name to serve them under."""
        name = f"img_{secrets.token_hex(12)}.{fmt}"
        with self._lock:
            self._files[name] = data
            while len(self._files) > self.MAX_FILES:
                self._files.popitem(last=False)
        return name

    def file(self, name: str) -> bytes | None:
        with self._lock:
            return self._files.get(name)

    @property
    def config(self) -> Config:
        with self._lock:
            return dataclasses.replace(self._config)

    def configure(self, **changes: Any) -> Config:
        with self._lock:
            self._config = self._config.update(changes)
            return dataclasses.replace(self._config)

    def inject(self, *faults: Fault) -> None:
        for fault in faults:
            if not isinstance(fault, Fault):
                raise TypeError(f"inject() takes Fault objects, got {type(fault).__name__}")
        with self._lock:
            self._faults.extend(faults)

    def next_fault(self) -> Fault | None:
        with self._lock:
            return self._faults.popleft() if self._faults else None

    @property
    def pending_faults(self) -> list[Fault]:
        with self._lock:
            return list(self._faults)

    def begin(self, request_id: str, method: str, path: str, endpoint: str | None) -> RequestLog:
        with self._lock:
            entry = RequestLog(request_id, method, path, endpoint, started=time.time(),
                               in_flight_at_start=self._in_flight)
            self._in_flight += 1
            self._max_in_flight = max(self._max_in_flight, self._in_flight)
            self._log.append(entry)
            return entry

    def update(self, entry: RequestLog, **changes: Any) -> None:
        with self._lock:
            for key, value in changes.items():
                setattr(entry, key, value)

    def finish(self, entry: RequestLog) -> None:
        with self._lock:
            entry.finished = time.time()
            self._in_flight -= 1

    @property
    def log(self) -> list[RequestLog]:
        with self._lock:
            return [dataclasses.replace(e, params=dict(e.params)) for e in self._log]

    @property
    def in_flight(self) -> int:
        with self._lock:
            return self._in_flight

    @property
    def max_in_flight(self) -> int:
        with self._lock:
            return self._max_in_flight

    def clear_log(self) -> int:
        with self._lock:
            count = len(self._log)
            self._log.clear()
            self._max_in_flight = self._in_flight
            return count

    def reset(self) -> None:
        """Forget the log and pending faults, go back to the configuration given at construction, and cut
        short the simulated waits of requests still in flight (see `generation`)."""
        with self._lock:
            self._log.clear()
            self._faults.clear()
            self._config = dataclasses.replace(self.defaults)
            self._max_in_flight = self._in_flight
            self.generation += 1
