"""`iw.Chat`: refine an image by conversation through the Responses API, with branches and resume.

    chat = iw.Chat()                      # a current mainline model and image model (lifecycle decides)
    r1 = chat.send("a red fox in snow")
    r2 = chat.send("make it night")
    autumn = chat.branch(r1).send("make it autumn")   # back to turn 1, a new thread from there

Each turn is one `POST /v1/responses` with the image_generation tool and the previous turn's
`previous_response_id`; its image is saved like every other (History, gallery, search, export), and its
record carries the thread, the turn and both response ids, so `Chat.resume()` continues after a restart.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from image_widget import images
from image_widget.base.errors import APIRequestError
from image_widget.base.runtime import run_sync
from image_widget.chat import money
from image_widget.chat.call import send_turn
from image_widget.chat.turn import TOOL_OPTIONS, Context, Turn, build_turn
from image_widget.client import persist
from image_widget.client.backend import own_loop_ok, resolve_backend
from image_widget.client.models import ensure_live, unknown_model
from image_widget.client.options import RunOptions
from image_widget.client.rate_limits import SDK_RETRIES, Flight
from image_widget.client.reproduce import chain_entry, record_entry
from image_widget.client.request import resolve_store
from image_widget.client.result import Result
from image_widget.client.wire import PartialCallback
from image_widget.facts.capabilities import Problem, ValidationError
from image_widget.facts.lifecycle import lifecycle_of, warn_once
from image_widget.facts.mainline import default_image_model, default_mainline
from image_widget.facts.prices import as_overrides
from image_widget.money import classroom
from image_widget.store import History, StoredImage, StoreError, cache_key

__all__ = ["Chat"]

RECOVERED_NOTE = ("the stream broke after the server began this turn; the finished response was fetched with "
                  "GET /v1/responses/{id} instead of sending the turn again (nothing was paid twice)")


class Chat:
    """A conversation that makes and refines images, one turn at a time; see the module's docstring.

    `model`: the mainline model (default: the newest current one with a known price); `image_model`: the
    image tool's model; `folder`: the store; other keywords are image options for every turn (size,
    quality, background, output_format, output_compression, moderation, input_fidelity, partial_images)
    or run options (client, base_url, api_key, max_retries — 429s only: nothing that may have reached the
    server is sent again —, timeout, prices).
    """

    def __init__(self, model: str | None = None, image_model: str | None = None, folder: Any = None,
                 **options: Any) -> None:
        if folder is not None:
            options["store"] = folder
        self._run = RunOptions.pop_from(options)  # what stays are the image options
        self._backend = resolve_backend(self._run.client, self._run.base_url, self._run.api_key)
        server = None if self._backend.synthetic else self._backend.cache_identity
        self.model = model or default_mainline(server)
        self.image_model = image_model or default_image_model(server)
        self.options = dict(options)
        self._store = resolve_store(self._run.store)
        self.thread = f"thr_{uuid.uuid4().hex[:12]}"
        self.turn = 0
        self.response_id: str | None = None
        self._image_size: tuple[int, int] | None = None
        self._chain: list[dict[str, Any] | str] = []
        """The earlier turns as sent (`reproduce.chain_entry`; a prompt alone from an older record)."""
        self._parent: dict[str, Any] | None = None
        self._last_mainline: dict[str, Any] | None = None
        self.last_path: Path | None = None
        """The image of the turn this chat continues from (None before its first turn)."""
        self._busy = threading.Lock()

    # -------------------------------------------------------------------------------- continuing

    @property
    def folder(self) -> Any:
        return self._store.folder

    def continue_from(self, record: Mapping[str, Any], *, same_thread: bool = True) -> Chat:
        """Point this chat at `record`'s turn: its thread (resuming, as `resume` does) or, with
        `same_thread=False`, a new branch from it (as `branch` does). Returns the chat."""
        if same_thread:
            self.thread = str(record["thread"])
            self._parent = None
        else:
            self._parent = {"thread": record.get("thread"), "turn": record.get("turn"),
                            "response_id": record.get("response_id")}
        self.turn = int(record.get("turn") or 0)
        self.response_id = str(record["response_id"])
        self._image_size = _size_of(record)
        self._chain = [*(record.get("chain") or []), record_entry(record)]
        self._last_mainline = record.get("mainline_usage")
        self.last_path = Path(str(record["path"])) if record.get("path") else None
        return self

    def branch(self, turn: Result | StoredImage | Mapping[str, Any] | str) -> Chat:
        """A new Chat that continues from `turn` (a Result, a record, a stored image or a response id) in a
        new thread whose parent is that turn; this chat is left as it is."""
        record = self._find(turn)
        twin = Chat(self.model, self.image_model, client=self._run.client, base_url=self._run.base_url,
                    api_key=self._run.api_key, store=self._store, max_retries=self._run.max_retries,
                    timeout=self._run.timeout, prices=self._run.prices, **self.options)
        return twin.continue_from(record, same_thread=False)

    def _find(self, turn: Result | StoredImage | Mapping[str, Any] | str) -> Mapping[str, Any]:
        if isinstance(turn, Result):
            record: Mapping[str, Any] = turn.record
        elif isinstance(turn, StoredImage):
            record = turn.record
        elif isinstance(turn, str):
            found = History(self.folder).filter(response_id=turn)
            if not len(found):
                raise ValidationError([Problem("response_id", f"response_id {turn!r}: no turn with that response id in "
                                                              f"{self.folder}: branch from a turn of this folder")])
            record = found[0].record
        else:
            record = turn
        if not record.get("response_id") or not record.get("thread"):
            raise ValidationError([Problem("turn", "branch() takes a conversation turn (a Result of Chat.send, "
                                                   "its record, or a response id); this one has no response_id")])
        return record

    @classmethod
    def resume(cls, folder: Any = None, thread: str | None = None, **options: Any) -> Chat:
        """The latest thread in `folder` (or `thread`) continued from its last turn, e.g. after a restart, with
        that turn's models and image options (size, quality, …) unless `options` name others."""
        chat = cls(folder=folder, **options)
        history = History(chat.folder).filter(call="refine", thread=thread, sort="newest")
        latest = history[0] if len(history) else None
        if latest is None:
            where = f"thread {thread!r}" if thread else "any conversation"
            raise ValidationError([Problem("thread", f"thread: no turn of {where} in {chat.folder}; start one with "
                                                     "iw.Chat().send(prompt)")])
        record = latest.record
        chat.model = str(record.get("mainline_model") or chat.model)
        chat.image_model = str(record.get("model") or chat.image_model)
        sent = record.get("params") or {}  # the thread's image options go on, unless given again here
        chat.options = {**{k: v for k, v in sent.items() if k in TOOL_OPTIONS and k != "action"}, **chat.options}
        return chat.continue_from(record, same_thread=True)

    def turns(self) -> list[StoredImage]:
        """This thread's turns in order (a branch's own turns; its parent is `record['thread_parent']`)."""
        return list(History(self.folder).filter(thread=self.thread))

    def __repr__(self) -> str:
        return (f"Chat(thread={self.thread!r}, turn={self.turn}, model={self.model!r}, "
                f"image_model={self.image_model!r}, response_id={self.response_id!r})")

    # -------------------------------------------------------------------------------- sending

    def send(self, prompt: str, image: images.ImageInput | Sequence[images.ImageInput] | None = None,
             mask: images.MaskInput | None = None, **options: Any) -> Result:
        """One turn: `prompt` (and optionally new `image`s and a `mask` for the current image); returns the
        same `Result` as `iw.generate`. See `asend`."""
        return run_sync(self.asend(prompt, image, mask, **options), alone=own_loop_ok(self._run.client))

    async def asend(self, prompt: str, image: images.ImageInput | Sequence[images.ImageInput] | None = None,
                    mask: images.MaskInput | None = None, *, on_partial: PartialCallback | None = None,
                    **options: Any) -> Result:
        """Async twin of `send`. `on_partial(index, image)` gets streamed previews (`partial_images=1..3`)."""
        if not self._busy.acquire(blocking=False):
            raise RuntimeError("a turn of this chat is still being sent; wait for it, or branch() to try "
                               "another way from the same turn")
        try:
            return await self._send(prompt, image, mask, on_partial, {**self.options, **options})
        finally:
            self._busy.release()

    def estimate(self, prompt: str, image: images.ImageInput | Sequence[images.ImageInput] | None = None,
                 mask: images.MaskInput | None = None, **options: Any) -> money.TurnEstimate:
        """What the next turn would cost (image tool + mainline tokens, each with its source), after the same
        checks `send` makes; nothing is sent."""
        turn = self._turn(prompt, image, mask, None, {**self.options, **options})
        return self._estimate(turn)

    def _turn(self, prompt: str, image: Any, mask: Any, on_partial: PartialCallback | None,
              options: dict[str, Any]) -> Turn:
        server = None if self._backend.synthetic else self._backend.cache_identity
        self._check_models(self._backend, server)
        context = Context(self.response_id, self._image_size)
        return build_turn(prompt, mainline=self.model, image_model=self.image_model, context=context, image=image,
                          mask=mask, on_partial=on_partial, options=options, server=server)

    def _estimate(self, turn: Turn) -> money.TurnEstimate:
        return money.estimate(turn, self._store.folder, synthetic=self._backend.synthetic,
                              context_size=self._image_size, last_mainline=self._last_mainline,
                              prices=as_overrides(self._run.prices))

    async def _send(self, prompt: str, image: Any, mask: Any, on_partial: PartialCallback | None,
                    options: dict[str, Any]) -> Result:
        backend = self._backend
        if not backend.synthetic:
            await ensure_live(backend)
        turn = self._turn(prompt, image, mask, on_partial, options)
        prices = as_overrides(self._run.prices)
        disk = self._store
        try:
            disk.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(disk.folder, exc, "create the folder") from exc
        # Made before sending, on this thread: ~0.3 ms now that estimates read each run once (issue 22). Made on
        # another thread while the turn was on its way, it cost more than that in GIL hand-offs.
        early = self._estimate(turn)
        key = cache_key("responses", {**turn.request.params, "backend": backend.cache_identity,
                                      "previous_response_id": self.response_id, "mainline": self.model},
                        turn.request.file_hashes())
        client = backend.async_client(max_retries=SDK_RETRIES, timeout=self._run.timeout)
        held = classroom.hold(early.high, early.text)
        started = time.monotonic()
        flight, saving, answered = Flight(), None, False
        try:
            try:
                answer = await send_turn(client, turn.body(), backend, retries=int(self._run.max_retries or 0),
                                         on_partial=turn.request.on_partial, flight=flight)
            except APIRequestError as exc:
                raise _gone_response(exc, turn.previous_response_id) from None
            answered = True
            saving = persist.Saving(turn.request, disk, backend, self.image_model, key, early.cost, prices,
                                    started=started, on_saved=self._run.on_saved)
            saving.actual = money.actual(turn, answer.image_usage, answer.usage, answer.meta, prices)
            saving.fields = self._fields(turn, answer.response_id, answer.action, answer.usage)
            result = persist.save(saving, answer.as_sdk_response())
        except BaseException as exc:  # nothing out: not billed; an answer that came: paid, even if it was not saved
            owed = saving.owed(held) if saving is not None else None
            owed = held if answered and owed is None else owed  # its cost could not be worked out: what it held
            classroom.release_failed(held, exc if flight.out else None, exc, owed)
            raise
        classroom.release(held, paid=result.cost.usd)
        if answer.recovered:
            result.notes.append(RECOVERED_NOTE)
        self._advance(turn, answer.response_id, result, answer.usage)
        return result

    def _check_models(self, backend: Any, server: str | None) -> None:
        problems: list[Problem] = []
        unknown = unknown_model(self.image_model, backend)
        if unknown is not None:
            problems.append(Problem("image_model", unknown))
        gone = lifecycle_of(self.model, server)
        if gone.status() == "shut down":
            problems.append(Problem("model", gone.message(self.model)))
        if problems:
            raise ValidationError(problems)
        warn_once(self.model, server)
        warn_once(self.image_model, server)

    def _fields(self, turn: Turn, response_id: str, action: str | None,
                usage: dict[str, Any] | None) -> dict[str, Any]:
        return {"response_id": response_id, "previous_response_id": turn.previous_response_id,
                "thread": self.thread, "turn": self.turn + 1,
                "thread_parent": self._parent,
                "action": action or turn.action, "mainline_model": self.model, "chain": list(self._chain),
                "mainline_usage": usage}

    def _advance(self, turn: Turn, response_id: str, result: Result, usage: dict[str, Any] | None) -> None:
        self.turn += 1
        self.response_id = response_id
        self._parent = None  # only a branch's first turn names where it branched from
        self._image_size = _size_of(result.record) or self._image_size
        self._chain.append(chain_entry(turn.request.params, turn.request.file_hashes()))
        self._last_mainline = usage
        self.last_path = result.paths[0] if result.paths else self.last_path


def _gone_response(exc: APIRequestError, previous: str | None) -> APIRequestError:
    """The server's 400 for a response it no longer has, said with what it means and the way on."""
    if exc.param != "previous_response_id" or previous is None:
        return exc
    detail = (f"the server has no response {previous}, which this thread continues (previous_response_id): it "
              "was deleted, has expired (stored responses are kept 30 days by default, OpenAI's forum) or was "
              "made with another server or key; nothing was billed")
    hint = ("go on from the turn's image instead: chat.send(prompt, image=chat.last_path) starts a new "
            "conversation from it")
    return type(exc)(detail, status=exc.status, code=exc.code, param=exc.param, request_id=exc.request_id,
                     hint=hint, origin=exc.origin)


def _size_of(record: Mapping[str, Any]) -> tuple[int, int] | None:
    width, height = record.get("width"), record.get("height")
    return (int(width), int(height)) if isinstance(width, int) and isinstance(height, int) else None
