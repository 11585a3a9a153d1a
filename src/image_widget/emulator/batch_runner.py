"""Running the emulator's batches: validating → in_progress → finalizing → completed, one line at a time.

One daemon thread per emulator walks the unfinished batches. Each line goes through the same image path
as a direct request (`capabilities.validate`, `plan.plan_request`, `render`, `responses.response_body`),
and its answer is appended to the batch's output or error lines before the counts move on — those lines
are the truth when a restarted emulator picks the batch up again, so no line is answered twice.
`Config.batch_step_s` (each status step) and `batch_line_s` (each line) scale time: 0 for tests,
seconds for a demo. Faults (`BatchFaults`) fail lines, expire a batch, hold it, or drop downloads.
A file mixing models fails validation (`mismatched_model`, naming both), as OpenAI's Batch API refuses it.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from image_widget.emulator import render
from image_widget.emulator.batch_store import ACTIVE, MAX_BATCH_LINES, BatchDisk
from image_widget.emulator.image_refs import resolve_json_edit
from image_widget.emulator.model_routes import is_shut_down, is_unknown, shut_down_message, unknown_model_message
from image_widget.emulator.parsing import ParseError, check_json_stream
from image_widget.emulator.plan import extra_problems, plan_request
from image_widget.emulator.responses import problem_code, response_body
from image_widget.emulator.routes import new_request_id
from image_widget.emulator.state import EmulatorState
from image_widget.facts.capabilities import DEFAULT_MODEL, Endpoint, validate

ENDPOINT_KINDS: dict[str, Endpoint] = {"/v1/images/generations": "generate", "/v1/images/edits": "edit"}
_EXPIRED = {"code": "batch_expired",
            "message": "This request could not be executed before the completion window expired."}


@dataclass
class _Cursor:
    """Where this process is in one batch: the input lines and which custom_ids are answered."""

    since: float = field(default_factory=time.monotonic)
    lines: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    done: set[str] = field(default_factory=set)
    next: int = 0
    last_line: float = 0.0


def _error(status: int, message: str, code: str | None, param: str | None = None,
           type_: str = "invalid_request_error") -> tuple[int, dict[str, Any]]:
    return status, {"error": {"message": message, "type": type_, "param": param, "code": code}}


class BatchRunner:
    """Owns every unfinished batch of one emulator; routes create, cancel and read through it."""

    def __init__(self, disk: BatchDisk, state: EmulatorState) -> None:
        self.disk = disk
        self.state = state
        self._cursors: dict[str, _Cursor] = {}
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the thread (idempotent); batches left unfinished by an earlier process resume."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="image-widget-emulator-batches", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    def wake(self) -> None:
        self._wake.set()

    def release(self) -> None:
        """Let held batches go on (`BatchFaults.hold_after`)."""
        with self.disk.lock:
            self.disk.faults.hold_after = None
        self.wake()

    def cancel(self, batch_id: str) -> dict[str, Any] | None:
        """Move a batch to `cancelling`; the thread keeps what finished and ends it `cancelled`."""
        with self.disk.lock:
            batch = self.disk.batch(batch_id)
            if batch is None or batch["status"] not in ACTIVE or batch["status"] == "cancelling":
                return batch
            batch.update(status="cancelling", cancelling_at=int(time.time()))
            self.disk.save(batch)
        self.wake()
        return batch

    # ------------------------------------------------------------------------------------ the loop

    def _loop(self) -> None:
        while not self._stop.is_set():
            active = [b for b in self.disk.batches() if b["status"] in ACTIVE]
            busy = False
            for batch in reversed(active):  # oldest first
                try:
                    busy = self._step(batch) or busy
                except Exception as exc:  # noqa: BLE001 - one broken batch must not stop the others
                    self._finish(batch, "failed", errors=[{"code": "server_error", "message": str(exc),
                                                          "line": None, "param": None}])
            if not busy:
                self._wake.wait(0.01 if active else 0.5)
                self._wake.clear()

    def _step(self, batch: dict[str, Any]) -> bool:
        """Advance `batch` by one step when it is due; True when something happened."""
        cursor = self._cursors.setdefault(batch["id"], _Cursor())
        config = self.state.config
        now = time.monotonic()
        status = batch["status"]
        if status == "cancelling":
            self._load(batch, cursor)
            self._finish(batch, "cancelled", cursor=cursor)
            return True
        if now - cursor.since < config.batch_step_s:
            return False
        if status == "validating":
            problems = self._load(batch, cursor)
            if problems:
                self._finish(batch, "failed", errors=problems)
                return True
            with self.disk.lock:
                current = self.disk.batch(batch["id"]) or batch
                if current["status"] != "validating":
                    return True
                current.update(status="in_progress", in_progress_at=int(time.time()))
                current["request_counts"]["total"] = len(cursor.lines)
                self.disk.save(current)
            cursor.since = now
            return True
        if status == "finalizing":
            self._finish(batch, "completed", cursor=cursor)
            return True
        return self._process(batch, cursor, now)

    def _process(self, batch: dict[str, Any], cursor: _Cursor, now: float) -> bool:
        """Answer the next line of an in-progress batch (or expire it, or wait while it is held)."""
        self._load(batch, cursor)
        faults = self.disk.faults
        answered = len(cursor.done)
        if faults.expire_after is not None and answered >= faults.expire_after:
            self._expire(batch, cursor)
            return True
        if faults.hold_after is not None and answered >= faults.hold_after:
            return False
        if now - cursor.last_line < self.state.config.batch_line_s:
            return False
        while cursor.next < len(cursor.lines) and cursor.lines[cursor.next][0] in cursor.done:
            cursor.next += 1
        if cursor.next >= len(cursor.lines):
            with self.disk.lock:
                current = self.disk.batch(batch["id"]) or batch
                if current["status"] == "in_progress":
                    current.update(status="finalizing", finalizing_at=int(time.time()))
                    self.disk.save(current)
            cursor.since = now
            return True
        custom_id, body = cursor.lines[cursor.next]
        if cursor.next in faults.fail_lines:
            status, answer = _error(500, "The server had an error processing this request (injected by the "
                                         "emulator).", None, type_="server_error")
        else:
            status, answer = self._answer(ENDPOINT_KINDS[batch["endpoint"]], body)
        line = {"id": f"batch_req_{secrets.token_hex(16)}", "custom_id": custom_id,
                "response": {"status_code": status, "request_id": new_request_id(), "body": answer},
                "error": None}
        with self.disk.lock:
            current = self.disk.batch(batch["id"]) or batch
            if current["status"] != "in_progress":
                return True  # cancelled meanwhile: this answer is not kept
            _append(self.disk.progress_path(batch["id"], "out" if status == 200 else "err"), line)
            cursor.done.add(custom_id)
            current["request_counts"]["completed" if status == 200 else "failed"] += 1
            self.disk.save(current)
        cursor.next += 1
        cursor.last_line = now
        return True

    def _answer(self, kind: Endpoint, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """One line through the direct request path: the same checks, plan and pixels."""
        config = self.state.config
        params = dict(body)
        try:
            check_json_stream(params)
            if params.get("stream") or params.get("partial_images"):
                return _error(400, "Streaming is not supported in batches.", "invalid_value", "stream")
            if kind == "edit":  # a line's body is the JSON form: images and mask by file id or URL
                params = asyncio.run(resolve_json_edit(params, self.disk.file_bytes))
        except ParseError as exc:
            return _error(400, str(exc), exc.code or "invalid_request", exc.param)
        model = str(params.get("model") or DEFAULT_MODEL)
        if is_unknown(self.state, model):
            return _error(404, unknown_model_message(model), "model_not_found", None)
        gone = is_shut_down(self.state, model)
        if gone is not None:
            return _error(404, shut_down_message(model, gone), "model_not_found", "model")
        problems = validate(kind, params, allow_retired=config.legacy) + extra_problems(kind, params)
        if problems:
            return _error(400, "; ".join(p.message for p in problems), problem_code(problems[0]),
                          problems[0].param)
        plan = plan_request(kind, params, config, None)
        images = render.render_all(plan.kind, plan.specs, plan.inputs)
        return 200, response_body(plan, images, None)

    # ------------------------------------------------------------------------------------ input, endings

    def _load(self, batch: dict[str, Any], cursor: _Cursor) -> list[dict[str, Any]]:
        """Read and check the input once per process (and what was answered before); the problems."""
        if cursor.lines:
            return []
        for kind in ("out", "err"):
            _drop_torn_tail(self.disk.progress_path(batch["id"], kind))
            for line in _read_lines(self.disk.progress_path(batch["id"], kind)):
                cursor.done.add(str(line.get("custom_id")))
        problems: list[dict[str, Any]] = []
        seen: set[str] = set()
        models: list[str] = []
        path = self.disk.file_path(batch["input_file_id"])
        with path.open("rb") as handle:
            for number, raw in enumerate(handle, start=1):
                if not raw.strip():
                    continue
                problem, item = _check_line(raw, batch["endpoint"], seen)
                if number - 1 in self.disk.faults.invalid_lines:
                    problem = ("invalid_request", "This line is not a valid request (injected by the emulator).", None)
                if problem is None and item is not None:
                    problem = _one_model(item[1], models)
                if problem:
                    problems.append({"code": problem[0], "message": problem[1], "param": problem[2],
                                     "line": number})
                elif item is not None:
                    cursor.lines.append(item)
                if len(problems) >= 10:
                    break
        if len(cursor.lines) > MAX_BATCH_LINES:
            problems.append({"code": "too_many_requests", "line": None, "param": None,
                             "message": f"The batch has {len(cursor.lines)} requests; at most "
                                        f"{MAX_BATCH_LINES:,} are allowed."})
        if not cursor.lines and not problems:
            problems.append({"code": "empty_file", "message": "The input file has no requests.",
                             "line": None, "param": None})
        if problems:
            cursor.lines.clear()
        return problems

    def _expire(self, batch: dict[str, Any], cursor: _Cursor) -> None:
        """The completion window ran out: what is not answered goes to the error file as expired."""
        missing = [cid for cid, _ in cursor.lines if cid not in cursor.done]
        with self.disk.lock:
            for custom_id in missing:
                _append(self.disk.progress_path(batch["id"], "err"),
                        {"id": f"batch_req_{secrets.token_hex(16)}", "custom_id": custom_id, "response": None,
                         "error": dict(_EXPIRED)})
            current = self.disk.batch(batch["id"]) or batch
            current["request_counts"]["failed"] += len(missing)
            self.disk.save(current)
        self._finish(batch, "expired", cursor=cursor)

    def _finish(self, batch: dict[str, Any], status: str, cursor: _Cursor | None = None,
                errors: list[dict[str, Any]] | None = None) -> None:
        """End a batch: publish what was answered as its output and error files, stamp the time."""
        with self.disk.lock:
            current = self.disk.batch(batch["id"]) or batch
            if errors is None:
                for kind, key, name in (("out", "output_file_id", "output"), ("err", "error_file_id", "errors")):
                    source = self.disk.progress_path(batch["id"], kind)
                    if source.exists() and source.stat().st_size:
                        meta = self.disk.add_file_from(source, f"batch_{name}.jsonl", "batch_output",
                                                       current.get("_output_expires_after_s"))
                        current[key] = meta["id"]
            else:
                current["errors"] = {"object": "list", "data": errors}
            current["status"] = status
            current[f"{status}_at"] = int(time.time())
            self.disk.save(current)
        self._cursors.pop(batch["id"], None)


def _check_line(raw: bytes, endpoint: str, seen: set[str],
                ) -> tuple[tuple[str, str, str | None] | None, tuple[str, dict[str, Any]] | None]:
    """(problem as (code, message, param), or the line as (custom_id, body))."""
    try:
        line = json.loads(raw)
    except ValueError:
        return ("invalid_json_line", "This line is not parseable as valid JSON.", None), None
    if not isinstance(line, dict):
        return ("invalid_request", "Each line must be a JSON object.", None), None
    custom_id = line.get("custom_id")
    if not isinstance(custom_id, str) or not custom_id:
        return ("missing_required_parameter", "Missing required parameter: 'custom_id'.", "custom_id"), None
    if custom_id in seen:
        return ("duplicate_custom_id", f"The custom_id '{custom_id}' is used more than once; each request "
                                       "in a batch needs its own.", "custom_id"), None
    seen.add(custom_id)
    if line.get("method") != "POST":
        return ("invalid_value", "Only the POST method is supported.", "method"), None
    if line.get("url") != endpoint:
        return ("invalid_value", f"The url {line.get('url')!r} does not match the batch's endpoint "
                                 f"{endpoint!r}.", "url"), None
    if not isinstance(line.get("body"), dict):
        return ("invalid_value", "The body must be a JSON object.", "body"), None
    return None, (custom_id, line["body"])


def _one_model(body: dict[str, Any], models: list[str]) -> tuple[str, str, str | None] | None:
    """OpenAI's Batch guide: an input file holds requests to one model only; a line asking another fails
    the batch at validation, naming both (the code is the API's, the wording ours)."""
    model = str(body.get("model") or DEFAULT_MODEL)
    if not models:
        models.append(model)
    if model == models[0]:
        return None
    return ("mismatched_model", f"The model '{model}' of this request does not match the model "
                                f"'{models[0]}' of the file's other requests: a batch input file may hold "
                                "requests to one model only.", "body.model")


def _append(path: Path, line: dict[str, Any]) -> None:
    """Append one whole line (a torn last line from a crash is skipped by `_read_lines`)."""
    with path.open("ab") as handle:
        handle.write(json.dumps(line, separators=(",", ":")).encode() + b"\n")


def _drop_torn_tail(path: Path) -> None:
    """Cut a line a killed process left half-written, so the next append starts a line of its own."""
    if not path.exists():
        return
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        with path.open("r+b") as handle:
            handle.truncate(data.rfind(b"\n") + 1)


def _read_lines(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    found: list[dict[str, Any]] = []
    with path.open("rb") as handle:
        for raw in handle:
            try:
                found.append(json.loads(raw))
            except ValueError:
                continue
    return found
