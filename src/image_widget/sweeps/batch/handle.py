"""`BatchSweep`: the handle of a sweep running on the Batch API — status, wait, results, cancel.

It holds no state of its own beyond the intent on disk, so `iw.batches()` rebuilds the same handle after
a kernel restart. The server is asked only when someone asks (`status`, `wait`, the widget while it is
displayed): nothing polls in the background. Only `submit()` uploads or creates (money): `status`, `wait`
and the widget look at batches already created, and look up — never create — a part whose create may have
gone through. A sweep whose submit failed stays "not submitted" until `submit()` resumes or `discard()`
drops it.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from image_widget.base.runtime import run_sync
from image_widget.client.backend import Backend, resolve_backend
from image_widget.facts import cost as pricing
from image_widget.store import History, Store, StoredImage
from image_widget.sweeps.batch.collect import collect_part
from image_widget.sweeps.batch.intent import Intent
from image_widget.sweeps.batch.plan import Part, part_cells
from image_widget.sweeps.batch.submit import advance, call, find_batch

if TYPE_CHECKING:
    import pandas as pd
    from PIL.Image import Image

    from image_widget.sweeps.cells import Sweep

ACTIVE = ("validating", "in_progress", "finalizing", "cancelling")
_OVERALL = ("failed", "expired", "cancelled")


@dataclass(frozen=True)
class BatchStatus:
    """Where a batch sweep stands: `state` is not submitted / submitted / in progress / downloading /
    completed / expired / cancelled / failed / discarded; counts are requests (lines), `saved` images in the folder."""

    state: str
    done: int
    failed: int
    total: int
    saved: int

    def __str__(self) -> str:
        return f"{self.state} ({self.done} done, {self.failed} failed, {self.total} total; {self.saved} saved)"


class BatchSweep:
    """A sweep submitted to the Batch API (`iw.sweep(..., batch=True)`), or found again (`iw.batches()`)."""

    def __init__(self, intent: Intent, *, client: Any = None, base_url: str | None = None,
                 api_key: str | None = None, store: Store | None = None) -> None:
        self.intent = intent
        self.store = store or Store(intent.folder.parent.parent)
        self._connection = (client, base_url or intent.base_url, api_key)
        self._backend: Backend | None = None

    # -- what it is

    @property
    def run_id(self) -> str:
        return self.intent.run_id

    @property
    def template(self) -> str:
        return self.intent.template

    @property
    def batch_ids(self) -> list[str]:
        return [p.batch_id for p in self.intent.parts if p.batch_id]

    @property
    def estimate(self) -> pricing.Cost:
        return pricing.Cost(self.intent.estimate_usd, self.intent.estimate_text)

    def __repr__(self) -> str:
        return (f"BatchSweep({self.template!r}, {self.intent.cells} requests in {len(self.intent.parts)} "
                f"batch(es), estimate {self.intent.estimate_text}, {self.last_status()})")

    def backend(self) -> Backend:
        """The server this batch went to; refuses another one (its batch ids mean nothing there)."""
        if self._backend is None:
            client, base_url, api_key = self._connection
            backend = resolve_backend(client, base_url, api_key)
            went = self.intent.backend.get("kind")
            if (went == "emulator") != (backend.kind == "emulator"):
                raise RuntimeError(f"batch {self.run_id} was sent to {self.intent.backend.get('label')}, but this "
                                   f"session would ask {backend.label}; give the same client/base_url/key")
            self._backend = backend
        return self._backend

    def sdk_client(self) -> Any:
        """An SDK client for this batch's server (file and batch calls are not billed: retries are safe).

        Found again without a client or base_url, it carries the query the sweep was sent with (Azure's
        `api-version`), kept apart from the URL in the intent."""
        client = self.backend().async_client(max_retries=2, timeout=120.0)
        given, base_url, _ = self._connection
        if given is None and base_url == self.intent.base_url and self.intent.default_query:
            client = client.with_options(default_query=dict(self.intent.default_query))
        return client

    # -- asking the server

    def submit(self) -> BatchSweep:
        """Upload and create whatever is not at the server yet — the one way to resume a sweep whose submit
        failed (`sweep(batch=True)` calls it; nothing else does). A part that may already have been created
        is looked up by its run id first, so it is never created twice. Refused after `discard()`."""
        run_sync(self._submit())
        return self

    async def _submit(self) -> None:
        await advance(self.intent, self.sdk_client(), self.backend())  # the client belongs to this loop

    def discard(self) -> BatchSweep:
        """Never send the parts not yet at the server (a failed submit you do not want to pay for).

        A part whose create may have gone through is looked up first; parts at the server are not touched
        (`cancel()` stops them) and are still saved by `wait()`. The sweep then shows as "discarded"."""

        async def look_up() -> None:
            await self._look_up(self.sdk_client())

        if any(p.creating and p.batch_id is None for p in self.intent.parts):
            run_sync(look_up())
        self.intent.discarded = True
        self.intent.save()
        return self

    @property
    def unsubmitted(self) -> list[int]:
        """Indexes of the parts not created at the server (as far as this folder knows)."""
        return [p.index for p in self.intent.parts if p.batch_id is None]

    async def _look_up(self, client: Any) -> None:
        """Adopt the batch of each part whose create may have gone through (looked up, never created)."""
        self.intent.merge_from_disk()
        for part in self.intent.parts:
            if part.creating and part.batch_id is None:
                batch = await find_batch(self.intent, part, client, self.backend())
                if batch is not None:
                    part.batch_id, part.status, part.creating = batch.id, batch.status, False
        self.intent.save()

    async def _refresh(self) -> dict[int, Any]:
        """Each created part's batch as the server has it now; nothing is uploaded or created here."""
        client = self.sdk_client()
        if any(p.creating and p.batch_id is None for p in self.intent.parts):
            await self._look_up(client)
        found: dict[int, Any] = {}
        for part in self.intent.parts:
            if part.batch_id is None or (part.collected and part.status not in ACTIVE):
                continue
            batch = await call(self.backend(), client.batches.retrieve(part.batch_id))
            found[part.index] = batch
            counts = batch.request_counts
            part.status = batch.status
            part.counts = counts.model_dump() if counts is not None else part.counts
        self.intent.save()
        return found

    async def _step(self) -> bool:
        """Refresh, and bring home every part that has ended; True when every part is done and saved."""
        found = await self._refresh()
        for part in self.intent.parts:
            batch = found.get(part.index)
            if batch is not None and batch.status == "failed" and not part.collected:
                self._keep_failure(part, batch)
            elif batch is not None and batch.status not in ACTIVE and not part.collected:
                await collect_part(self.intent, part, batch, self.sdk_client(), self.backend(), self.store)
        return all(p.collected for p in self.intent.parts if p.batch_id) and \
            (self.intent.discarded or not self.unsubmitted)

    def _keep_failure(self, part: Part, batch: Any) -> None:
        """A batch the server refused (validation): every line of it gets the server's reasons."""
        errors = batch.errors.data if batch.errors is not None and batch.errors.data else []
        reason = "; ".join(f"line {e.line}: {e.message}" if e.line else str(e.message) for e in errors)
        reason = self.backend().scrub(f"the batch failed: {reason or 'no reason given'}")
        self.intent.add_errors(dict.fromkeys(part_cells(self.intent.folder, part), reason))
        part.collected = True
        self.intent.save()

    def status(self) -> BatchStatus:
        """Ask the server once (finished parts are also saved) and say where the sweep stands."""
        run_sync(self._step())
        return self.last_status()

    def last_status(self) -> BatchStatus:
        """The status as last seen, without asking the server (what the widget and `repr` show)."""
        parts = self.intent.parts
        done = sum((p.counts or {}).get("completed", 0) for p in parts)
        failed = sum((p.counts or {}).get("failed", 0) for p in parts)
        sent = [p for p in parts if p.batch_id]
        statuses = [p.status for p in sent]
        if len(sent) < len(parts) and not self.intent.discarded:
            state = "not submitted"
        elif any(s in ACTIVE or s is None for s in statuses):
            state = "in progress" if any(s in ("in_progress", "finalizing") for s in statuses) else "submitted"
            state = "cancelling" if "cancelling" in statuses else state
        elif not all(p.collected for p in sent):
            state = "downloading"
        elif self.intent.discarded:
            state = "discarded"
        else:
            state = next((s for s in _OVERALL if s in statuses), "completed")
        return BatchStatus(state, done, failed, self.intent.cells, self.saved_count())

    def wait(self, timeout: float | None = None, *, progress: bool = True, poll: float | None = None) -> BatchSweep:
        """Poll with backoff until every part has ended and its images are saved (resumes after a restart).

        Shows a tqdm bar when tqdm is installed (else a line per change). `timeout` in seconds raises
        TimeoutError with the sweep still running at the server; call `wait()` again to go on. It never
        submits: a sweep with parts not at the server raises, saying to `submit()` or `discard()` it.
        """
        run_sync(self._wait(timeout, progress, poll))
        return self

    async def _wait(self, timeout: float | None, progress: bool, poll: float | None) -> None:
        emulated = self.backend().kind == "emulator"
        delay = poll if poll is not None else (0.05 if emulated else 2.0)
        longest = max(delay, 1.0 if emulated else 60.0)
        deadline = None if timeout is None else time.monotonic() + timeout
        bar = _Progress(self.intent.cells, self.template) if progress else None
        try:
            while True:
                finished = await self._step()
                if self.unsubmitted and not self.intent.discarded:
                    raise RuntimeError(self.not_submitted())
                if bar is not None:
                    bar.show(self.last_status())
                if finished:
                    return
                if deadline is not None and time.monotonic() + delay > deadline:
                    raise TimeoutError(f"batch sweep {self.run_id} is still {self.last_status()}; wait() again "
                                       "to go on (it keeps running at the server)")
                await asyncio.sleep(delay)
                delay = min(delay * 1.5, longest)
        finally:
            if bar is not None:
                bar.close()

    def cancel(self) -> BatchSweep:
        """Cancel at the server; what finished is kept (and saved by the next `wait()` or `status()`)."""

        async def cancel_all() -> None:
            client = self.sdk_client()
            for part in self.intent.parts:
                if part.batch_id and part.status not in ("completed", "failed", "expired", "cancelled"):
                    batch = await call(self.backend(), client.batches.cancel(part.batch_id))
                    part.status = batch.status
            self.intent.save()

        run_sync(cancel_all())
        return self

    def not_submitted(self) -> str:
        """What to do about a sweep not (all) at the server: said by `wait()`, the widget and a failed submit."""
        parts = self.unsubmitted
        return (f"batch sweep {self.run_id} is not submitted ({len(parts)} of {len(self.intent.parts)} "
                f"batch file(s) not created at the server); its intent stays in {self.intent.folder}. "
                "Resume it with iw.batches()[i].submit() (i: its place in iw.batches(); nothing is created "
                "twice), or drop it with .discard() — nothing else submits it")

    # -- results

    def images(self) -> list[StoredImage]:
        """Every saved image of this sweep, in cell order."""
        found: list[StoredImage] = []
        history = History(self.store.folder)
        for batch_id in self.batch_ids:
            found.extend(history.filter(batch=batch_id))
        return sorted(found, key=lambda s: (_cell(s.record), int(s.record.get("index", 0))))

    def saved_count(self) -> int:
        history = History(self.store.folder)
        return sum(len(history.filter(batch=b)) for b in self.batch_ids)

    @property
    def errors(self) -> dict[str, str]:
        """custom_id → why that request failed (its API error, or that the batch expired or was cancelled)."""
        return self.intent.errors()

    @property
    def records(self) -> list[dict[str, Any]]:
        """One row per saved image and one per failed request, as `Sweep.records`."""
        return self.sweep(decode=False).records

    def to_pandas(self) -> pd.DataFrame:
        return self.sweep(decode=False).to_pandas()

    def grid(self, thumb: int = 256, rows: str | None = None) -> Image:
        return self.sweep().grid(thumb=thumb, rows=rows)

    def sweep(self, *, decode: bool = True) -> Sweep:
        """The results as an ordinary `Sweep` (cells without a saved image carry their error)."""
        from image_widget.sweeps.batch.results import as_sweep

        return as_sweep(self, decode=decode)

    def summary(self) -> dict[str, Any]:
        """Plain values for the widget: template, status, done/total, estimate (never a key)."""
        status = self.last_status()
        return {"run_id": self.run_id, "template": self.template, "state": status.state, "done": status.done,
                "failed": status.failed, "total": status.total, "estimate": self.intent.estimate_text,
                "created": self.intent.created}


def _cell(record: dict[str, Any]) -> int:
    text = str(record.get("custom_id") or "cell-0")
    return int(text.rsplit("-", 1)[-1]) if text.rsplit("-", 1)[-1].isdigit() else 0


class _Progress:
    """tqdm when installed, else one printed line per change."""

    def __init__(self, total: int, label: str) -> None:
        self.total = total
        self.last = ""
        try:
            from tqdm.auto import tqdm

            self.bar: Any = tqdm(total=total, desc=f"batch: {label[:30]}", unit="request")
        except ImportError:
            self.bar = None

    def show(self, status: BatchStatus) -> None:
        if self.bar is not None:
            self.bar.n = status.done + status.failed
            self.bar.set_postfix_str(status.state)
            self.bar.refresh()
        elif str(status) != self.last:
            self.last = str(status)
            print(f"batch: {status}")

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def batches(folder: str | Path | None = None, *, client: Any = None, base_url: str | None = None,
            api_key: str | None = None) -> list[BatchSweep]:
    """Every batch sweep this folder knows (newest first), also after a restart; `.wait()` resumes one."""
    from image_widget.sweeps.batch.intent import all_intents

    store = Store(folder)
    return [BatchSweep(intent, client=client, base_url=base_url, api_key=api_key, store=store)
            for intent in all_intents(store.folder)]
