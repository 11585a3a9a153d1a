"""`Emulator`: runs the emulator's app on a real uvicorn server in a daemon thread; `shared_emulator`.

This module imports only the standard library and `state` at load time: uvicorn, starlette and Pillow
are imported when an Emulator starts, so `import image_widget.emulator` stays cheap.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from image_widget.emulator.hosts import is_loopback
from image_widget.emulator.state import (
    FAULT_KINDS,
    Config,
    DroppedConnection,
    EmulatorState,
    Fault,
    FaultKind,
    RequestLog,
)

if TYPE_CHECKING:
    from image_widget.emulator.batch_runner import BatchRunner

# `state`'s records were defined here before it existed; they stay importable from this module.
__all__ = ["FAULT_KINDS", "Config", "Emulator", "EmulatorState", "Fault", "FaultKind", "RequestLog",
           "is_loopback", "shared_emulator"]


class _QuietDrops(logging.Filter):
    """Hide uvicorn's traceback for connections the emulator drops on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
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
    `Emulator.shared()` is the process's own offline emulator (the default backend without a key).
    """

    @staticmethod
    def shared() -> Emulator:
        """The one started emulator of this process, as `shared_emulator()`; copied code uses it."""
        return shared_emulator()

    def __init__(  # noqa: PLR0913 - each is one documented emulator setting
        self,
        *,
        legacy: bool = False,
        latency_s: float = 0.0,
        partial_interval_s: float = 0.05,
        seed: int = 0,
        mask_leak: bool = True,
        host: str = "127.0.0.1",
        port: int = 0,
        api_key: str | None = None,
        allow_remote: bool = False,
        batch_folder: str | Path | None = None,
        batch_step_s: float = 0.0,
        batch_line_s: float = 0.0,
    ) -> None:
        if not allow_remote and not is_loopback(host):
            raise ValueError(f"the emulator listens on loopback only (127.0.0.1, ::1); got host={host!r}. "
                             "Pass allow_remote=True to expose it on another interface.")
        if not 0 <= port <= 65535:
            raise ValueError(f"port must be 0 (any free port) to 65535, got {port}")
        self.host = "127.0.0.1" if host == "localhost" else host
        self._requested_port = port
        self.state = EmulatorState(
            Config().update({"latency_s": latency_s, "partial_interval_s": partial_interval_s,
                             "legacy": legacy, "seed": seed, "mask_leak": mask_leak,
                             "batch_step_s": batch_step_s,
                             "batch_line_s": batch_line_s}),
            api_key=api_key,
        )
        self.batch_folder = Path(batch_folder) if batch_folder is not None else None
        """Where files and batches are kept (None: a temporary folder of this emulator's own)."""
        self._runner: BatchRunner | None = None
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
            from image_widget.emulator.batch_runner import BatchRunner
            from image_widget.emulator.batch_store import BatchDisk

            _install_quiet_filter()
            if self._runner is None:
                self._runner = BatchRunner(BatchDisk(self.batch_folder), self.state)
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
                create_app(self.state, self._runner), log_config=None, log_level="warning", access_log=False,
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
            self._runner.start()  # batches an earlier process left unfinished go on
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
            if self._runner is not None:
                self._runner.stop()
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
        """Change latency_s, partial_interval_s, legacy, seed, mask_leak or models (model → shutdown date)
        until reset()."""
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
        """Clear the log and faults, restore the constructor's configuration and end simulated waits; an
        emulator with no `batch_folder` of its own also forgets its files and batches."""
        self.state.reset()
        if self._runner is not None:
            from image_widget.emulator.batch_store import BatchFaults

            if self.batch_folder is None:
                self._runner.disk.clear()
            self._runner.release()
            self._runner.disk.faults = BatchFaults()

    # ------------------------------------------------------------------------------------ batches

    @property
    def batches_runner(self) -> BatchRunner:
        if self._runner is None:
            raise RuntimeError("the emulator is not running; call start() first")
        return self._runner

    def batch_faults(self, **faults: Any) -> None:
        """Make batches misbehave until reset(): fail_lines={0, 3}, invalid_lines={1}, expire_after=N,
        hold_after=N, drop_downloads=N (see `batch_store.BatchFaults`)."""
        from dataclasses import replace

        disk = self.batches_runner.disk
        with disk.lock:
            for key in ("fail_lines", "invalid_lines"):
                if key in faults:
                    faults[key] = frozenset(faults[key])
            disk.faults = replace(disk.faults, **faults)
        self.batches_runner.wake()

    def release_batches(self) -> None:
        """Let batches held by `hold_after` go on."""
        self.batches_runner.release()


_shared: Emulator | None = None
_shared_lock = threading.Lock()


def shared_emulator() -> Emulator:
    """One started emulator for the whole process (the default backend without an API key)."""
    global _shared  # noqa: PLW0603 - the process-wide instance
    with _shared_lock:
        if _shared is None or not _shared.running:
            from image_widget.emulator.batch_store import folder_beside
            from image_widget.store.layout import default_folder

            emulator = Emulator(batch_folder=folder_beside(default_folder())).start()
            if _shared is None:
                atexit.register(_stop_shared)
            _shared = emulator
        return _shared


def _stop_shared() -> None:
    with _shared_lock:
        if _shared is not None:
            _shared.stop()
