"""The widget's refine box: a conversation (Responses API, `iw.Chat`) under the current result.

Each send is a turn on the widget's job runner, like Generate (one at a time, Cancel, streamed previews,
results and history as for any run). The `conversation` trait is the strip the page shows: the thread's
turns (with the turns it branched from) as small thumbnails, and the turn the next send continues from —
the latest, or the one a person clicked (then the send branches from it). A mask painted on that turn's
image (after "Paint a mask on this turn", which makes it the mask canvas) goes as `input_image_mask`.
The strip is read from the store, so it comes back after a kernel restart.
"""

from __future__ import annotations

import hashlib
from collections.abc import Coroutine, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from image_widget.base import runtime
from image_widget.store import History, StoredImage
from image_widget.widget.jobs import BUSY_MESSAGE, Job, JobBusyError
from image_widget.widget.serialization import edit_png
from image_widget.widget.thumbs import history_thumb

if TYPE_CHECKING:
    import threading

    from image_widget.chat import Chat
    from image_widget.client.result import Result
    from image_widget.store import Store
    from image_widget.widget.connection import Connection
    from image_widget.widget.inputs import Inputs
    from image_widget.widget.jobs import JobRunner
    from image_widget.widget.runs import Runs

_TURN_OPTIONS = ("size", "quality", "background", "output_format", "output_compression")


class ConversationHost(Protocol):
    """What the refine box needs of its widget (`core.ImageWidget`)."""

    _lock: threading.RLock
    _connection: Connection
    _inputs: Inputs
    _runner: JobRunner
    _runs: Runs
    _store: Store
    options: dict[str, Any]
    status: dict[str, Any]
    error: dict[str, Any]
    preview: bytes
    mask: Any
    conversation: dict[str, Any]

    def _notice(self, message: str, level: str = "info") -> None: ...


class Conversation:
    """Starts turns and keeps the `conversation` trait (see the module's docstring)."""

    def __init__(self, widget: ConversationHost) -> None:
        self._widget = widget
        self._chat: Chat | None = None
        self.selected: str | None = None
        """The image id of the turn the next send continues from (None: the latest, or a new thread)."""

    # ------------------------------------------------------------------ the strip

    def load_latest(self) -> None:
        """Background, at start: the folder's latest thread, so the strip survives a restart."""
        latest = History(self._widget._store.folder).filter(call="refine", sort="newest")
        if len(latest):
            self._show(latest[0].record)

    def select(self, image_id: object) -> None:
        """A click on a turn: the next send continues from it (a branch unless it is the latest)."""
        turns = {t["id"] for t in self._widget.conversation.get("turns", [])}
        if not isinstance(image_id, str) or image_id not in turns:
            self._widget._notice(f"refine_select: {image_id!r} is not a turn of the conversation shown", "warning")
            return
        self.selected = image_id
        with self._widget._lock:
            self._widget.conversation = {**self._widget.conversation, "selected": image_id}

    def new_thread(self) -> None:
        """The next send starts a new conversation (from the current result, if there is one)."""
        self._chat, self.selected = None, None
        with self._widget._lock:
            self._widget.conversation = {"thread": None, "turns": [], "selected": None}

    def _show(self, record: Mapping[str, Any], selected: str | None = None) -> None:
        """The strip for `record`'s thread: its own turns after the turns it branched from. A turn already
        on the strip keeps its thumbnail (a 20-turn thread would otherwise decode 20 images every turn)."""
        folder = self._widget._store.folder
        chain = _chain(folder, str(record.get("thread")))
        shown = {t["id"]: t["thumb"] for t in self._widget.conversation.get("turns", []) if t.get("thumb")}
        missing = [stored for stored in chain if stored.id not in shown]
        shown.update(zip([s.id for s in missing], runtime.io_pool().map(history_thumb, missing), strict=True))
        turns = [{"id": stored.id, "turn": stored.record.get("turn"), "prompt": stored.record.get("prompt"),
                  "action": stored.record.get("action"), "thread": stored.record.get("thread"),
                  "thumb": shown[stored.id]} for stored in chain]
        with self._widget._lock:
            self._widget.conversation = {"thread": record.get("thread"), "turns": turns,
                                         "selected": selected or (turns[-1]["id"] if turns else None)}

    # ------------------------------------------------------------------ sending

    def start(self, prompt: object, *, from_python: bool = False) -> Job | None:
        """A turn from the refine box (or `ImageWidget.refine`): continue, branch or begin, on the job runner."""
        w = self._widget
        if w._runner.running:
            w._notice(BUSY_MESSAGE, "warning")
            if from_python:
                raise JobBusyError
            return None
        try:
            chat, image = self._chat_for_next()
            mask = self._painted_mask(chat)
            options = {k: w.options[k] for k in _TURN_OPTIONS if w.options.get(k) is not None}
            if w.options.get("partial_images"):
                options["partial_images"] = w.options["partial_images"]
            text = prompt if isinstance(prompt, str) else ""
            chat.estimate(text, image=image, mask=mask, **options)  # every check now: a bad turn is not started
        except (ValueError, KeyError) as exc:
            if from_python:
                raise
            w._notice(w._connection.scrub(str(exc)), "warning")
            return None
        return w._runner.start(lambda job: self._job(job, chat, text, image, mask, options), w._runs.finished)

    def _chat_for_next(self) -> tuple[Chat, bytes | None]:
        from image_widget.chat import Chat

        w = self._widget
        kwargs = {**w._connection.request_kwargs(), "folder": w._store, "image_model": w.options.get("model")}
        kwargs.pop("cache", None)
        turns = w.conversation.get("turns") or []
        target = self.selected or (turns[-1]["id"] if turns else None)
        if target is not None:
            record = w._store.load(target).record
            if self._chat is not None and self._chat.response_id == record.get("response_id"):
                return self._chat, None
            latest = turns[-1]["id"] if turns else None
            chat = Chat(**kwargs)
            if target == latest and record.get("thread") == w.conversation.get("thread"):
                return chat.continue_from(record), None
            return chat.branch(record), None
        current = w._runs.latest_paths[0] if w._runs.latest_paths else None
        return Chat(**kwargs), (current.read_bytes() if current is not None else None)

    def _painted_mask(self, chat: Chat) -> bytes | None:
        """The painted mask, when the canvas is the image of the turn being continued."""
        w = self._widget
        mask = edit_png(w.mask)
        sources = w._inputs.sources()
        if mask is None or not sources or chat.last_path is None or not isinstance(sources[0], bytes):
            return None
        same = hashlib.sha256(sources[0]).digest() == hashlib.sha256(chat.last_path.read_bytes()).digest()
        return mask if same else None

    def _job(self, job: Job, chat: Chat, prompt: str, image: bytes | None, mask: bytes | None,
             options: dict[str, Any]) -> Coroutine[Any, Any, Result]:
        w = self._widget
        with w._lock:
            w.error = {}
            w.preview = b""
            w.status = {"state": "running", "message": f"Refining with {chat.image_model} ({chat.model})…",
                        "job_id": job.id, "started_ms": job.started_ms}
        return self._run(job, chat, prompt, image, mask, options)

    async def _run(self, job: Job, chat: Chat, prompt: str, image: bytes | None, mask: bytes | None,
                   options: dict[str, Any]) -> Result:
        result = await chat.asend(prompt, image=image, mask=mask, on_partial=self._widget._runs.on_partial,
                                  **options)
        self._chat, self.selected = chat, None
        self._widget._runs.show_result(job, result)
        self._show(result.record)
        return result


def _chain(folder: Any, thread: str) -> list[StoredImage]:
    """A thread's turns in order, after the turns of the threads it branched from (up to the branch point)."""
    own = list(History(folder).filter(thread=thread))
    if not own:
        return []
    parent = own[0].record.get("thread_parent") or {}
    if not parent.get("thread"):
        return own
    before = [s for s in _chain(folder, str(parent["thread"])) if int(s.record.get("turn") or 0) <= int(parent["turn"])]
    return [*before, *own]
