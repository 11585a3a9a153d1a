"""A background job runner: one job at a time, on a private asyncio loop, cancellable from any thread.

Why a thread with its own loop (a `runtime.LoopThread`): the kernel's own event loop is busy while a
cell runs (and a cell that blocks would block it), so the widget's request must not depend on it. The
loop thread lives as long as the runner, so an async client or connection pool created for one job is
never used from another loop. Cancelling cancels the asyncio task (via `loop.call_soon_threadsafe`),
which abandons the HTTP request at its next await.

The finished job (result, error or cancelled) is handed to `on_finish` in the loop thread *before*
`Job.wait()` returns, so a waiter always sees the final state the callback wrote.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import threading
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from image_widget.base import runtime

__all__ = ["Job", "JobBusyError", "JobCancelledError", "JobRunner"]

log = logging.getLogger(__name__)

JobFactory = Callable[["Job"], Coroutine[Any, Any, Any]]
FinishCallback = Callable[["Job"], None]
BUSY_MESSAGE = "A generation is already running — cancel it first"


class JobBusyError(RuntimeError):
    """A job was started while another one is still running (we never start a duplicate request)."""

    def __init__(self, message: str = BUSY_MESSAGE) -> None:
        super().__init__(message)


class JobCancelledError(RuntimeError):
    """The job was cancelled before it finished; its request was abandoned."""


_ids = itertools.count(1)


@dataclass(eq=False)
class Job:
    """One unit of background work and, once `done`, its outcome."""

    id: str
    started_ms: int
    result: Any = None
    error: BaseException | None = None
    cancelled: bool = False
    _done: threading.Event = field(default_factory=threading.Event, repr=False)
    _task: asyncio.Task[Any] | None = field(default=None, repr=False)
    _cancel_requested: bool = field(default=False, repr=False)

    @property
    def done(self) -> bool:
        return self._done.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the job finished (and its `on_finish` ran); False if `timeout` ran out first."""
        return self._done.wait(timeout)

    def outcome(self) -> Any:
        """The result, or raise what the job raised (`JobCancelledError` when it was cancelled)."""
        if not self.done:
            raise RuntimeError(f"job {self.id} has not finished")
        if self.cancelled:
            raise JobCancelledError(f"job {self.id} was cancelled")
        if self.error is not None:
            raise self.error
        return self.result


class JobRunner:
    """Runs at most one coroutine at a time on a daemon thread's event loop."""

    def __init__(self, name: str = "image-widget-jobs") -> None:
        self._loops = runtime.LoopThread(name)
        self._lock = threading.Lock()
        self._current: Job | None = None
        self._closed = False

    # ------------------------------------------------------------------ public

    @property
    def current(self) -> Job | None:
        """The running job, or the last one (finished) — None before the first."""
        return self._current

    @property
    def running(self) -> bool:
        job = self._current
        return job is not None and not job.done

    @property
    def loop_thread(self) -> threading.Thread | None:
        return self._loops.thread

    def start(self, factory: JobFactory, on_finish: FinishCallback | None = None) -> Job:
        """Schedule `factory(job)` on the loop and return at once. Raises `JobBusyError` if one runs.

        `factory` is called in the loop thread, so the coroutine is created where it runs.
        """
        with self._lock:
            if self._closed:
                raise RuntimeError("the job runner is closed")
            if self._current is not None and not self._current.done:
                raise JobBusyError
            loop = self._loops.loop()
            job = Job(id=f"job-{next(_ids)}", started_ms=int(time.time() * 1000))
            self._current = job
        loop.call_soon_threadsafe(self._launch, job, factory, on_finish)
        return job

    def cancel(self) -> bool:
        """Ask the running job to stop; True if there was one. Returns at once (wait on the job)."""
        with self._lock:
            job, loop = self._current, self._loops.current
            if job is None or job.done or loop is None:
                return False
            job._cancel_requested = True
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile: nothing left to cancel
            loop.call_soon_threadsafe(self._cancel_task, job)
        return True

    def close(self, timeout: float = 5.0) -> None:
        """Cancel any job, stop the loop and join the thread (bounded by `timeout`)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            thread = self._loops.thread
        if thread is None:
            return
        self.cancel()
        job = self._current
        if job is not None and threading.current_thread() is not thread:
            job.wait(timeout)
        self._loops.stop(timeout)

    # ------------------------------------------------------------------ loop thread

    def _launch(self, job: Job, factory: JobFactory, on_finish: FinishCallback | None) -> None:
        try:
            coro = factory(job)
        except BaseException as exc:  # noqa: BLE001 - reported through the job like any failure
            job.error = exc
            self._finish(job, on_finish)
            return
        task = asyncio.get_running_loop().create_task(coro, name=job.id)
        job._task = task
        task.add_done_callback(lambda t: self._settle(job, t, on_finish))
        if job._cancel_requested:
            task.cancel()

    @staticmethod
    def _cancel_task(job: Job) -> None:
        if job._task is not None and not job._task.done():
            job._task.cancel()

    def _settle(self, job: Job, task: asyncio.Task[Any], on_finish: FinishCallback | None) -> None:
        if task.cancelled():
            job.cancelled = True
        else:
            exc = task.exception()
            if exc is not None:
                job.error = exc
            else:
                job.result = task.result()
        self._finish(job, on_finish)

    @staticmethod
    def _finish(job: Job, on_finish: FinishCallback | None) -> None:
        try:
            if on_finish is not None:
                on_finish(job)
        except Exception:  # a broken callback must not leave waiters hanging
            log.exception("on_finish of %s failed", job.id)
        finally:
            job._task = None
            job._done.set()
