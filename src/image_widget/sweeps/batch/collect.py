"""Bringing a finished batch home: download its files, save every image with its full record.

The output file is streamed to disk (retried when a download breaks), then read line by line: each
image is written by the store (atomically, image then record) on the I/O pool as soon as it is decoded.
Images already in the folder for this batch (found by batch id and custom id) are skipped, so a process
killed at any point resumes without losing or repeating one. Failed lines keep their messages.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import concurrent.futures
import hashlib
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from image_widget.base import runtime
from image_widget.base.errors import scrub, translate_error
from image_widget.base.records import not_a_turn
from image_widget.client.finish import finish_and_save
from image_widget.facts import capabilities
from image_widget.facts import cost as pricing
from image_widget.facts.prices import as_overrides
from image_widget.money import classroom
from image_widget.store import History, Store, cache_key
from image_widget.sweeps.batch import edits
from image_widget.sweeps.batch.intent import Intent, file_lock
from image_widget.sweeps.batch.plan import Part, cell_at, cell_index

DOWNLOAD_ATTEMPTS = 4
_IN_FLIGHT = 8
"""Lines being saved at once: enough to keep the I/O pool busy, few enough to bound memory."""


def saved_keys(folder: Path, batch_id: str) -> set[tuple[str, int]]:
    """(custom_id, index) of every image of `batch_id` already in the folder."""
    return {(str(s.record.get("custom_id")), int(s.record.get("index", 0)))
            for s in History(folder).filter(batch=batch_id)}


async def download(client: Any, backend: Any, file_id: str, target: Path) -> Path:
    """Stream a file to `target` (via a temp name); a broken download is tried again from the start."""
    partial = target.with_name(f".{target.name}.tmp")
    last: Exception | None = None
    for _ in range(DOWNLOAD_ATTEMPTS):
        try:
            async with client.files.with_streaming_response.content(file_id) as response:
                with partial.open("wb") as handle:
                    async for chunk in response.iter_bytes():
                        handle.write(chunk)
            partial.replace(target)
            return target
        except Exception as exc:  # noqa: BLE001 - a dropped download is retried; the last failure is raised
            last = exc
    partial.unlink(missing_ok=True)
    assert last is not None
    raise translate_error(last, backend) from None


def _lines(path: Path) -> Iterator[dict[str, Any]]:
    with path.open("rb") as handle:
        for raw in handle:
            if raw.strip():
                yield json.loads(raw)


class Collector:
    """Saves one part's output lines into the store; counts what it saved and skipped."""

    def __init__(self, intent: Intent, store: Store, batch_id: str) -> None:
        self.intent = intent
        self.store = store
        self.batch_id = batch_id
        self.prices = as_overrides(intent.prices)
        self.have = saved_keys(store.folder, batch_id)
        self.saved = 0
        self.skipped = 0
        self.lines_done = 0
        self.errors: dict[str, str] = {}
        self.finish = edits.finish_for(intent, store)
        """An edit batch's images are laid onto the original outside the mask, like a direct edit's."""

    def run(self, output: Path | None, errors: Path | None) -> None:
        pending: list[list[concurrent.futures.Future[Any]]] = []
        for line in _lines(output) if output is not None else iter(()):
            pending.append(self._submit(line))
            if len(pending) >= _IN_FLIGHT:
                self._finish(pending.pop(0))
        for futures in pending:
            self._finish(futures)
        for line in _lines(errors) if errors is not None else iter(()):
            self.errors[str(line.get("custom_id"))] = _error_text(line)
        self.intent.add_errors(self.errors)

    def _finish(self, futures: list[concurrent.futures.Future[Any]]) -> None:
        for future in futures:
            future.result()
        self.saved += len(futures)
        self.lines_done += 1

    def _submit(self, line: dict[str, Any]) -> list[concurrent.futures.Future[Any]]:
        custom_id = str(line.get("custom_id"))
        response = line.get("response") or {}
        body = response.get("body") or {}
        if response.get("status_code") != 200 or not body.get("data"):
            self.errors[custom_id] = _error_text(line)
            return []
        cell = cell_at(self.intent.template, self.intent.lists, self.intent.fields, cell_index(custom_id))
        params = {"prompt": cell.prompt, **cell.options}
        params.setdefault("model", capabilities.DEFAULT_MODEL)
        if self.intent.edit is not None:  # the size the line asked for (`match` resolved)
            params["size"] = edits.BatchEdit.from_json(self.intent.edit).line_size(str(params["model"]),
                                                                                    params.get("size"))
        shared = self._record(custom_id, params, body, str(response.get("request_id") or ""))
        fmt = str(body.get("output_format") or params.get("output_format") or "png")
        futures: list[concurrent.futures.Future[Any]] = []
        for index, item in enumerate(body["data"]):
            if (custom_id, index) in self.have:
                self.skipped += 1
                continue
            try:
                data = base64.b64decode(item.get("b64_json") or "", validate=True)
            except (binascii.Error, ValueError) as exc:
                self.errors[custom_id] = f"image {index} could not be decoded: {exc}"
                continue
            record = {**shared, "index": index, "revised_prompt": item.get("revised_prompt")}
            if self.finish is not None:
                futures.append(runtime.io_pool().submit(finish_and_save, self.finish, self.store, data, fmt, record))
            else:
                futures.append(runtime.io_pool().submit(self.store.save, data, fmt, record))
            self.have.add((custom_id, index))
        return futures

    def _record(self, custom_id: str, params: dict[str, Any], body: dict[str, Any], request_id: str,
                ) -> dict[str, Any]:
        """What every image of one line shares: the full record, at the batch price."""
        model = str(params["model"])
        n = len(body["data"])
        usage = body.get("usage")
        meta = {k: body.get(k) for k in ("size", "quality", "background", "output_format")}
        actual = pricing.actual(model, usage, quality=meta["quality"] or params.get("quality"),
                                size=meta["size"] or params.get("size"), n=n, prices=self.prices, batch=True)
        estimate = pricing.estimate(model, quality=params.get("quality"), size=params.get("size"), n=n,
                                    prices=self.prices, batch=True)
        backend = self.intent.backend
        identity = "emulator" if backend.get("kind") == "emulator" else (self.intent.base_url or backend.get("kind"))
        edit = self.intent.edit
        call = "edit" if edit is not None else "generate"
        inputs = [f"image:{sha}" for sha in edit["images"]] + ([f"mask:{edit['mask']}"] if edit["mask"] else []) \
            if edit is not None else []
        held = {**(self.finish.fields() if self.finish is not None else {})}
        return {
            "run_id": hashlib.sha256(f"{self.intent.run_id}:{custom_id}".encode()).hexdigest()[:32],
            "count": n, "created": datetime.now(UTC).isoformat(timespec="microseconds"), "call": call,
            "endpoint": call, "model": model, "price_source": pricing.price_source(model, self.prices),
            "prompt": params.get("prompt"), "params": params, "input_hashes": inputs,
            "mask_hash": edit["mask"] if edit is not None else None,
            "usage": usage, "cost_estimate_usd": _share(estimate.usd, n), "cost_usd": _share(actual.usd, n),
            "run_cost_usd": actual.usd, "request_id": request_id or None, "elapsed_s": 0.0,
            "backend": backend, "cache_key": cache_key(call, {**params, "backend": identity}, inputs),
            "response": meta, "partials": 0, "note": "Batch API (50% price)",
            "raw_path": None, "composite": None, "detail_box": None, "expand": None, **held,
            "batch_id": self.batch_id, "custom_id": custom_id, "from_batch": True,
            "batch_run_id": self.intent.run_id, "session": classroom.SESSION_ID, **not_a_turn(),
        }


def _share(usd: float | None, n: int) -> float | None:
    return None if usd is None else round(usd / max(n, 1), 6)


def _error_text(line: dict[str, Any]) -> str:
    """A failed line's message: the request's API error, or the batch-level error (expired, cancelled)."""
    error = line.get("error")
    if isinstance(error, dict) and error.get("message"):
        return scrub(f"{error.get('code') or 'error'}: {error['message']}")
    response = line.get("response") or {}
    body_error = (response.get("body") or {}).get("error") or {}
    status = response.get("status_code")
    message = body_error.get("message") or "no message"
    return scrub(f"HTTP {status}: {message}" if status else message)


async def collect_part(intent: Intent, part: Part, batch: Any, client: Any, backend: Any, store: Store,
                       ) -> Collector | None:
    """Download a finished part's output and error files and save what is not saved yet.

    One collector at a time per run (a `wait()` and the widget's poll, or two processes): the saving runs
    in a thread that holds the run's lock until it is done, even when the waiting caller is interrupted,
    so a second collector starts only from a complete picture of what is saved. None when another handle
    had already brought this part home.
    """
    intent.merge_from_disk()
    if part.collected:
        return None
    folder, token = intent.folder, uuid.uuid4().hex[:8]  # own download names: collectors never share a file
    output = await download(client, backend, batch.output_file_id, folder / f"output-{part.index}-{token}.jsonl") \
        if batch.output_file_id else None
    errors = await download(client, backend, batch.error_file_id, folder / f"errors-{part.index}-{token}.jsonl") \
        if batch.error_file_id else None
    return await asyncio.to_thread(_save_locked, intent, part, store, part.batch_id or batch.id, output, errors)


def _save_locked(intent: Intent, part: Part, store: Store, batch_id: str, output: Path | None,
                 errors: Path | None) -> Collector | None:
    try:
        with file_lock(intent.folder / "collect.lock"):
            intent.merge_from_disk()
            if part.collected:
                return None
            collector = Collector(intent, store, batch_id)  # what is saved, read under the lock
            collector.run(output, errors)
            part.collected = True
            intent.save()
            return collector
    finally:
        for path in (output, errors):
            if path is not None:
                path.unlink(missing_ok=True)  # the images and their records are the keepers now
