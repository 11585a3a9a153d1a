"""The one owner of the package's background event loops, threads and thread pools.

Everything that runs off the caller's thread starts here, so there is one place to read what runs where:

* `run_sync` — the sync bridge: `iw.generate()` and `Chat.send()` in a script run their one request on the
  calling thread's own loop with the SDK's sync client; everything else (sweeps, batches, a caller's own async
  client, any call inside Jupyter's running loop) runs on one private loop thread (`SYNC_LOOP`). The loops
  are kept, so SDK clients and connections are reused.
* `LoopThread` — an asyncio loop in a daemon thread; the sync bridge has one and each widget's job
  runner (`jobs.JobRunner`) has its own, which it stops when the widget closes.
* `io_pool()` — saves, decodes and thumbnails side by side (Pillow and file writes release the GIL, so
  n images use every core).
* `fsync_pool()` / `wait_for_fsync()` — one worker that makes saved files durable off the caller's path.
* `spawn` — a one-off daemon thread (the widget's history thumbnails and model list).
* `side_by_side` — two halves of one big piece of C work (a 4K resize), the second on a one-worker spare
  pool when it is free, else both on the caller's thread.

Nothing here imports more than the standard library, so `import image_widget` stays cheap.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import threading
from collections.abc import Callable, Coroutine
from contextvars import ContextVar
from typing import Any, Literal, TypeVar

__all__ = ["SYNC_LOOP", "LoopThread", "blocking_ok", "call_blocking", "fsync_pool", "io_pool", "run_sync",
           "side_by_side", "spawn", "wait_for_fsync"]

T = TypeVar("T")
PoolName = Literal["io", "fsync", "spare"]
_POOLS: dict[PoolName, tuple[int, str]] = {
    "io": (4, "image-widget-io"),
    "fsync": (1, "image-widget-fsync"),  # one worker: fsyncs queue up in the order files were written
    "spare": (1, "image-widget-spare"),  # `side_by_side`: the second half of one big piece of C work
}
_pools: dict[PoolName, concurrent.futures.ThreadPoolExecutor] = {}
_pools_lock = threading.Lock()


class LoopThread:
    """An asyncio event loop running forever in a daemon thread, started on first use.

    A loop that was stopped (or closed) is replaced by a fresh one on the next `loop()`; owners that must
    not restart (a closed job runner) check their own state first.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    @property
    def thread(self) -> threading.Thread | None:
        """The thread the loop runs in (None before the first `loop()`)."""
        return self._thread

    @property
    def current(self) -> asyncio.AbstractEventLoop | None:
        """The loop if one was started, without starting one."""
        return self._loop

    def loop(self) -> asyncio.AbstractEventLoop:
        """The running loop, started (and waited for) if there is none yet."""
        with self._lock:
            if self._loop is not None and not self._loop.is_closed():
                return self._loop
            loop = asyncio.new_event_loop()
            ready = threading.Event()
            thread = threading.Thread(target=self._serve, args=(loop, ready), name=self.name, daemon=True)
            thread.start()
            ready.wait(10)
            self._loop, self._thread = loop, thread
            return loop

    @staticmethod
    def _serve(loop: asyncio.AbstractEventLoop, ready: threading.Event) -> None:
        asyncio.set_event_loop(loop)
        loop.call_soon(ready.set)
        try:
            loop.run_forever()
        finally:
            with contextlib.suppress(Exception):
                loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the loop and join its thread (bounded by `timeout`; never joins from inside it)."""
        with self._lock:
            loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        with contextlib.suppress(RuntimeError):  # already closed
            loop.call_soon_threadsafe(loop.stop)
        if threading.current_thread() is not thread:
            thread.join(timeout)


SYNC_LOOP = LoopThread("image-widget-sync")
"""The sync bridge's loop: every `iw.generate()`, `iw.sweep()`, `iw.models()` … runs its coroutine here."""


def run_sync(coro: Coroutine[Any, Any, T], *, alone: bool = False) -> T:
    """Run a coroutine from sync code — also inside Jupyter, whose event loop is already running.

    `alone=True` (a call that sends one request on clients of our own: `iw.generate`, `Chat.send`) from a
    thread with no running loop (a script, a worker thread) runs it right there, on the thread's own loop,
    where the SDK's sync client may block it (`blocking_ok`): no hand-off to another thread and back, ~1 ms a
    request on a 2-core VM (issue 22). Everything else — several requests at once (a sweep), a caller's own
    async client (bound to the loop it was first used on), any call inside a running loop (Jupyter) — runs on
    the one private loop thread, `SYNC_LOOP`. Interrupting the wait (Ctrl-C / the kernel's stop button)
    cancels the request.
    """
    if alone and not _loop_running():
        return _run_here(coro)  # (not inside the `except`: an error of the request must not chain to it)
    from image_widget.base.warn import forget_caller, remember_caller

    token = remember_caller()  # warnings raised on the loop thread then name the caller's line
    try:
        future = asyncio.run_coroutine_threadsafe(coro, SYNC_LOOP.loop())
    finally:
        forget_caller(token)
    try:
        return future.result()
    except BaseException:
        future.cancel()
        raise


def _loop_running() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


class _Kept:
    """This thread's loop; closed when the thread ends (the thread-local goes, and this with it)."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self.loop.close()


_HERE = threading.local()
_ALONE: ContextVar[bool] = ContextVar("image_widget_alone", default=False)


def blocking_ok() -> bool:
    """Whether this coroutine is the only work of a loop on its caller's own thread (`run_sync(alone=True)`),
    so a sync SDK call may block it: no worker thread and no async transport, ~0.6 ms less per request."""
    return _ALONE.get()


async def call_blocking(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """A sync (blocking) call from a coroutine: right here where `blocking_ok()`, else on a worker thread."""
    if blocking_ok():
        return fn(*args, **kwargs)
    return await asyncio.to_thread(fn, *args, **kwargs)


def _run_here(coro: Coroutine[Any, Any, T]) -> T:
    """Run on this thread's own loop, as its only work. Ctrl-C cancels the task and lets it finish its cleanup
    (what arrived is saved, a budget hold released) before the KeyboardInterrupt goes on, as `asyncio.run`
    does; a stream interrupted while blocking says so with an `interrupted` cancellation, which becomes the
    KeyboardInterrupt."""
    kept: _Kept | None = getattr(_HERE, "kept", None)
    if kept is None or kept.loop.is_closed():
        kept = _HERE.kept = _Kept()
    loop = kept.loop
    token = _ALONE.set(True)
    try:
        task = loop.create_task(coro)  # the task takes a copy of this context, `alone` included
    finally:
        _ALONE.reset(token)
    try:
        return loop.run_until_complete(task)
    except KeyboardInterrupt:
        if not task.done():
            task.cancel()
            with contextlib.suppress(BaseException):
                loop.run_until_complete(task)
        elif not task.cancelled():
            task.exception()  # raised inside the task: it is this KeyboardInterrupt, now retrieved (no GC log)
        raise
    except asyncio.CancelledError as exc:
        if getattr(exc, "interrupted", False):
            raise KeyboardInterrupt from None
        raise


def _pool(name: PoolName) -> concurrent.futures.ThreadPoolExecutor:
    with _pools_lock:
        pool = _pools.get(name)
        if pool is None:
            workers, prefix = _POOLS[name]
            pool = _pools[name] = concurrent.futures.ThreadPoolExecutor(max_workers=workers,
                                                                         thread_name_prefix=prefix)
        return pool


def io_pool() -> concurrent.futures.ThreadPoolExecutor:
    """Threads for saving, decoding and thumbnailing images side by side (started on first use)."""
    return _pool("io")


def fsync_pool() -> concurrent.futures.ThreadPoolExecutor:
    """The one worker that fsyncs saved files, so durability costs the caller no latency."""
    return _pool("fsync")


def wait_for_fsync() -> None:
    """Wait until every fsync queued so far has run (nothing to wait for if none ever was)."""
    with _pools_lock:
        pool = _pools.get("fsync")
    if pool is not None:
        pool.submit(lambda: None).result()


def spawn(target: Callable[[], object], name: str) -> threading.Thread:
    """Run `target` once in a daemon thread (work that must not hold up the caller nor keep Python alive)."""
    thread = threading.Thread(target=target, name=name, daemon=True)
    thread.start()
    return thread


_spare_free = threading.Semaphore(1)


def side_by_side(first: Callable[[], T], second: Callable[[], T]) -> tuple[T, T]:
    """Both results, `second` on the spare worker while this thread does `first` — when the spare is free; else one
    after the other here (never queued behind another caller's half; also when the pool is shut down). Worth it
    for C work that frees the GIL (a big resize: two cores, half the time). Side by side, a failure is raised once
    both have finished."""
    if not _spare_free.acquire(blocking=False):
        return first(), second()

    def spare() -> T:
        try:
            return second()
        finally:  # before the result is set: a caller that goes again at once finds the spare free
            _spare_free.release()

    try:
        later = _pool("spare").submit(spare)
    except BaseException as exc:
        _spare_free.release()
        if isinstance(exc, RuntimeError):  # the interpreter is shutting down: no new threads
            return first(), second()
        raise
    try:
        here = first()
    except BaseException:
        concurrent.futures.wait([later])
        raise
    return here, later.result()
