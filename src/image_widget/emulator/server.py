"""The emulator's state (faults, request log, config) and the uvicorn server that runs it in a thread.

This module imports only the standard library at load time: uvicorn, starlette and Pillow are
imported when an Emulator starts, so `import image_widget.emulator` stays cheap.
"""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import ipaddress
import logging
import secrets
import socket
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Literal, get_args

FaultKind = Literal[
    "status", "slow", "drop", "error_event", "malformed_event", "truncated_b64", "wrong_size", "empty_data"
]
FAULT_KINDS: tuple[str, ...] = get_args(FaultKind)
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True)
class Fault:
    """One injected misbehaviour, consumed by the next images request (first in, first out).

    `Fault(status=429, retry_after=1.0)` answers with that HTTP error (OpenAI error JSON; `message`,
    `code`, `type`, `param` override the realistic defaults for the status). Other kinds:
    `slow` (wait `seconds` more, then answer normally), `drop` (close the connection before the body,
    or mid-stream after `after` events), `error_event` / `malformed_event` (mid-stream after `after`
    events; without streaming a 500 / a broken JSON body), `truncated_b64`, `wrong_size` (half the
    asked size) and `empty_data` (`data: []`, or a stream without completed events).
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

    def update(self, changes: Mapping[str, Any]) -> Config:
        names = {f.name: f.type for f in dataclasses.fields(self)}
        unknown = sorted(set(changes) - set(names))
        if unknown:
            raise ValueError(f"unknown config field(s) {', '.join(unknown)}; known: {', '.join(sorted(names))}")
        values = dataclasses.asdict(self)
        for key, value in changes.items():
            if key == "legacy":
                if not isinstance(value, bool):
                    raise ValueError(f"legacy must be true or false, got {value!r}")
            elif key == "seed":
                if not isinstance(value, int) or isinstance(value, bool):
                    raise ValueError(f"seed must be a whole number, got {value!r}")
            elif not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
                raise ValueError(f"{key} must be a number of seconds >= 0, got {value!r}")
            values[key] = value
        return Config(**values)


class EmulatorState:
    """Everything the app and the test thread share; every access holds one lock."""

    def __init__(self, config: Config, api_key: str | None = None) -> None:
        self.defaults = config
        self._config = dataclasses.replace(config)
        self.api_key = api_key
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
        """Forget the log and pending faults, and go back to the configuration given at construction."""
        with self._lock:
            self._log.clear()
            self._faults.clear()
            self._config = dataclasses.replace(self.defaults)
            self._max_in_flight = self._in_flight
            self.generation += 1


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _QuietDrops(logging.Filter):
    """Hide uvicorn's traceback for connections the emulator drops on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        from image_widget.emulator.app import DroppedConnection

        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, DroppedConnection)


_quiet_installed = False


def _install_quiet_filter() -> None:
    global _quiet_installed  # noqa: PLW0603 - one filter per process
    if not _quiet_installed:
        logging.getLogger("uvicorn.error").addFilter(_QuietDrops())
        _quiet_installed = True


class Emulator:
    """An OpenAI-compatible Images API on loopback: a real uvicorn server in a daemon thread.

    `Emulator().start()` (or `with Emulator() as emu:`) binds a free port; pass `emu.url` as the
    client's `base_url`. `inject()` queues faults, `log` lists what arrived, `reset()` starts over.
    """

    def __init__(
        self,
        *,
        legacy: bool = False,
        latency_s: float = 0.0,
        partial_interval_s: float = 0.05,
        seed: int = 0,
        host: str = "127.0.0.1",
        port: int = 0,
        api_key: str | None = None,
        allow_remote: bool = False,
    ) -> None:
        if not allow_remote and not _is_loopback(host):
            raise ValueError(f"the emulator listens on loopback only (127.0.0.1, ::1); got host={host!r}. "
                             "Pass allow_remote=True to expose it on another interface.")
        if not 0 <= port <= 65535:
            raise ValueError(f"port must be 0 (any free port) to 65535, got {port}")
        self.host = "127.0.0.1" if host == "localhost" else host
        self._requested_port = port
        self.state = EmulatorState(
            Config().update({"latency_s": latency_s, "partial_interval_s": partial_interval_s,
                             "legacy": legacy, "seed": seed}),
            api_key=api_key,
        )
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self._port: int | None = None
        self._sock: socket.socket | None = None
        self._lock = threading.Lock()

    # ------------------------------------------------------------------------------------ lifecycle

    def start(self, timeout: float = 10.0) -> Emulator:
        """Start serving (idempotent) and return once the port accepts connections."""
        with self._lock:
            if self.running:
                return self
            import uvicorn

            from image_widget.emulator.app import create_app

            _install_quiet_filter()
            family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
            sock = socket.socket(family, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((self.host, self._requested_port))
            except OSError as exc:
                sock.close()
                raise RuntimeError(f"emulator could not listen on {self.host}:{self._requested_port}: {exc}") \
                    from exc
            sock.set_inheritable(True)
            port = int(sock.getsockname()[1])
            config = uvicorn.Config(
                create_app(self.state), log_config=None, log_level="warning", access_log=False,
                lifespan="off", http="h11", ws="none", loop="asyncio", timeout_graceful_shutdown=1,
            )
            server = uvicorn.Server(config)
            thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]},
                                      name=f"image-widget-emulator:{port}", daemon=True)
            thread.start()
            deadline = time.monotonic() + timeout
            while not server.started:
                if not thread.is_alive():
                    sock.close()
                    raise RuntimeError(f"emulator thread exited while starting on {self.host}:{port} "
                                       "(see the log above)")
                if time.monotonic() > deadline:
                    server.should_exit = True
                    raise RuntimeError(f"emulator did not start on {self.host}:{port} within {timeout:g} s")
                time.sleep(0.005)
            self._wait_accepting(port, deadline)
            self._server, self._thread, self._port = server, thread, port
            self._sock = sock
        return self

    def _wait_accepting(self, port: int, deadline: float) -> None:
        while True:
            try:
                with socket.create_connection((self.host, port), timeout=0.5):
                    return
            except OSError as exc:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"emulator on {self.host}:{port} does not accept connections: {exc}") \
                        from exc
                time.sleep(0.01)

    def stop(self, timeout: float = 5.0) -> None:
        """Shut the server down and wait for its thread (open streams get about a second)."""
        with self._lock:
            server, thread = self._server, self._thread
            self._server = self._thread = None
            self._port = None
            if server is None or thread is None:
                return
            server.should_exit = True
            thread.join(timeout)
            if thread.is_alive():
                server.force_exit = True
                thread.join(timeout)
            if self._sock is not None:
                with contextlib.suppress(OSError):
                    self._sock.close()
                self._sock = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = self.url if self.running else "stopped"
        return f"<Emulator {where} legacy={self.state.config.legacy}>"

    # ------------------------------------------------------------------------------------ addresses

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("the emulator is not running; call start() first")
        return self._port

    @property
    def address(self) -> tuple[str, int]:
        """(host, port) the listening socket is bound to, read from the socket itself."""
        if self._sock is None:
            raise RuntimeError("the emulator is not running; call start() first")
        host, port = self._sock.getsockname()[:2]
        return str(host), int(port)

    @property
    def origin(self) -> str:
        """`http://127.0.0.1:PORT` (the control endpoints live under `/_emulator/`)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def url(self) -> str:
        """The base_url for an OpenAI client: `http://127.0.0.1:PORT/v1`."""
        return f"{self.origin}/v1"

    # ------------------------------------------------------------------------------------ state

    @property
    def log(self) -> list[RequestLog]:
        """Copies of every logged request, oldest first."""
        return self.state.log

    def requests(self, endpoint: str | None = None) -> Iterator[RequestLog]:
        """Logged requests, optionally only one endpoint ("generate", "edit", "variation")."""
        return (e for e in self.state.log if endpoint is None or e.endpoint == endpoint)

    @property
    def max_in_flight(self) -> int:
        """Most images requests being handled at once since the last reset (or clear_log)."""
        return self.state.max_in_flight

    @property
    def in_flight(self) -> int:
        return self.state.in_flight

    @property
    def config(self) -> Config:
        return self.state.config

    def configure(self, **changes: Any) -> Config:
        """Change latency_s, partial_interval_s, legacy or seed until the next reset()."""
        return self.state.configure(**changes)

    def inject(self, *faults: Fault) -> None:
        """Queue faults; each images request takes the oldest one."""
        self.state.inject(*faults)

    @property
    def pending_faults(self) -> list[Fault]:
        return self.state.pending_faults

    def clear_log(self) -> None:
        self.state.clear_log()

    def reset(self) -> None:
        """Clear the log and faults and restore the constructor's configuration."""
        self.state.reset()


_shared: Emulator | None = None
_shared_lock = threading.Lock()


def shared_emulator() -> Emulator:
    """One started emulator for the whole process (the default backend without an API key)."""
    global _shared  # noqa: PLW0603 - the process-wide instance
    with _shared_lock:
        if _shared is None or not _shared.running:
            emulator = Emulator().start()
            if _shared is None:
                atexit.register(_stop_shared)
            _shared = emulator
        return _shared


def _stop_shared() -> None:
    with _shared_lock:
        if _shared is not None:
            _shared.stop()
