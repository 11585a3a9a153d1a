"""Commands from the page (`model.send({type, …}, buffers)`): one handler per type, see docs/PROTOCOL.md.

The TypedDicts say what each command should carry; the page is not trusted to send it, so every
handler checks the fields it uses. A handler that fails becomes a warning notice with secrets
scrubbed, never an exception in the kernel. Types that are not ours (anywidget's own) are ignored.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Literal, NotRequired, Protocol, TypedDict

from image_widget.widget.inputs import UploadTooLargeError
from image_widget.widget.options import merge_options
from image_widget.widget.payloads import compare_item, compare_records, mime_of, upload_progress

if TYPE_CHECKING:
    import threading

    from image_widget.store import Store
    from image_widget.widget.connection import Connection
    from image_widget.widget.conversation import Conversation
    from image_widget.widget.history_pages import HistoryPages
    from image_widget.widget.inputs import Inputs
    from image_widget.widget.jobs import JobRunner
    from image_widget.widget.live import LiveGallery
    from image_widget.widget.runs import Runs

log = logging.getLogger(__name__)


class CommandHost(Protocol):
    """What the commands act on (`core.ImageWidget`): its parts, a few traits, and `send` to the page."""

    _lock: threading.RLock
    _connection: Connection
    _inputs: Inputs
    _live: LiveGallery
    _pages: HistoryPages
    _conversation: Conversation
    _runner: JobRunner
    _runs: Runs
    _store: Store
    options: dict[str, Any]
    status: dict[str, Any]
    error: dict[str, Any]

    def send(self, content: Any, buffers: Any = None) -> None: ...

    def _notice(self, message: str, level: str = "info") -> None: ...


class Generate(TypedDict, total=False):
    type: Literal["generate"]
    options: dict[str, Any]  # the page's options: a state update sent just before may still be held back


class Cancel(TypedDict):
    type: Literal["cancel"]


class FetchImage(TypedDict):
    type: Literal["fetch_image"]
    id: str
    request_id: Any


class UseAsInput(TypedDict, total=False):
    type: Literal["use_as_input"]
    id: str
    role: Literal["edit", "reference"]


class AddInputs(TypedDict):
    type: Literal["add_inputs"]
    names: list[str]  # one per buffer
    upload_id: NotRequired[str]  # when given, the kernel answers with `upload_progress` instead of notices


class AddInputChunk(TypedDict):
    type: Literal["add_input_chunk"]
    upload_id: str
    index: int
    total: int
    name: str


class RemoveInput(TypedDict):
    type: Literal["remove_input"]
    id: str


class MoveInput(TypedDict):
    type: Literal["move_input"]
    id: str
    to: int


class Compare(TypedDict):
    type: Literal["compare"]
    ids: list[str]  # exactly two image ids
    request_id: Any


class HistoryMore(TypedDict):
    type: Literal["history_more"]  # the next page of runs (same search) after the last one shown


class HistorySearch(TypedDict):
    type: Literal["history_search"]
    query: str  # runs whose prompt contains this (case-insensitive); "" = back to the newest runs


class Refine(TypedDict):
    type: Literal["refine"]
    prompt: str  # a turn of the conversation in the refine box (continues or branches from `selected`)


class RefineSelect(TypedDict):
    type: Literal["refine_select"]
    id: str  # the turn (image id) the next refine continues from


class View(TypedDict):
    type: Literal["view"]
    view_id: str
    shown: bool  # sent on render and every live.HEARTBEAT_S while shown (True), and at cleanup (False)


def _history_more(w: CommandHost, _msg: HistoryMore, _buffers: list[bytes]) -> None:
    w._pages.more()


def _history_search(w: CommandHost, msg: HistorySearch, _buffers: list[bytes]) -> None:
    query = msg.get("query")
    w._pages.search(query if isinstance(query, str) else "")


def _view(w: CommandHost, msg: View, _buffers: list[bytes]) -> None:
    view_id = msg.get("view_id")
    if isinstance(view_id, str) and view_id:
        w._live.view(view_id, msg.get("shown") is True)


def _generate(w: CommandHost, msg: Generate, _buffers: list[bytes]) -> None:
    # ipywidgets holds a state update back while an earlier one is unanswered, but sends custom
    # messages at once: a snapshot of the options in the message cannot be overtaken.
    snapshot = msg.get("options")
    if isinstance(snapshot, dict) and not w._runner.running:
        merged = merge_options(snapshot, w.options)
        if merged != w.options:
            w.options = merged
    w._runs.start(from_python=False)


def _cancel(w: CommandHost, _msg: Cancel, _buffers: list[bytes]) -> None:
    if not w._runner.cancel():
        w._notice("Nothing is running.")


def _fetch_image(w: CommandHost, msg: FetchImage, _buffers: list[bytes]) -> None:
    """Reply with one stored image at full resolution; an unknown id gets `mime: null` and no buffer."""
    image_id, request_id = str(msg.get("id", "")), msg.get("request_id")
    reply: dict[str, Any] = {"type": "image", "id": image_id, "request_id": request_id}
    try:
        stored = w._store.load(image_id)
        data = stored.data()
    except (KeyError, OSError) as exc:
        w.send({**reply, "mime": None, "error": w._connection.scrub(str(exc))}, [])
        return
    w.send({**reply, "mime": mime_of(stored.record, stored.path)}, [data])


def _use_as_input(w: CommandHost, msg: UseAsInput, _buffers: list[bytes]) -> None:
    """`edit`: the inputs become this image (mode → edit); `reference`: it is appended."""
    image_id = str(msg.get("id", ""))
    try:
        stored = w._store.load(image_id)
        data = stored.data()
    except (KeyError, OSError) as exc:
        w._notice(f"Cannot use {image_id} as input: {exc}", "warning")
        return
    entry = w._inputs.make(f"{image_id}{stored.path.suffix}", data, index=0)
    if entry is None:
        return
    if msg.get("role", "edit") == "reference":
        w._inputs.replace([*w._inputs, entry])
        return
    w._inputs.replace([entry])  # a new first input: the mask is cleared
    if w.options.get("mode") != "edit":
        w.options = {**w.options, "mode": "edit"}


def _upload_started(w: CommandHost) -> None:
    """A new upload clears the previous error (a refusal, a failed run) unless a run is going on."""
    with w._lock:
        if w._runner.running:
            return
        if w.error:
            w.error = {}
        if w.status.get("state") == "error":
            w.status = {**w.status, "state": "idle", "message": ""}


def _add_inputs(w: CommandHost, msg: AddInputs, buffers: list[bytes]) -> None:
    """Add the files; with an `upload_id`, answer `upload_progress` (what was added, what not, and why)."""
    _upload_started(w)
    upload_id = msg.get("upload_id")
    answer = isinstance(upload_id, str) and bool(upload_id)
    received = sum(len(b) for b in buffers)
    names = msg.get("names") or []
    problems: list[str] | None = [] if answer else None
    if len(names) != len(buffers):
        w._inputs.report(f"add_inputs: {len(names)} names but {len(buffers)} files; nothing added", problems)
        added: list[str] = []
    else:
        added = w._inputs.add_files(list(zip((str(n) for n in names), buffers, strict=True)), problems)
    if answer:
        w.send(upload_progress(str(upload_id), received, done=True, added=added, problems=problems or []))


def _add_input_chunk(w: CommandHost, msg: AddInputChunk, buffers: list[bytes]) -> None:
    """Keep one piece; each is answered with `upload_progress`, the last after the file was added (or not)."""
    upload_id = str(msg.get("upload_id", ""))
    index, total = msg.get("index"), msg.get("total")
    if not upload_id or not isinstance(index, int) or not isinstance(total, int) or not 0 <= index < total \
            or len(buffers) != 1:
        w._notice("add_input_chunk: malformed chunk ignored", "warning")
        return
    if index == 0:
        _upload_started(w)
    try:
        done = w._inputs.chunks.add(upload_id, index, total, str(msg.get("name", "upload")), buffers[0])
    except UploadTooLargeError as exc:
        w.send(upload_progress(upload_id, len(buffers[0]), done=True, problems=[str(exc)]))
        return
    if done is None:
        w.send(upload_progress(upload_id, len(buffers[0]), done=False))
        return
    problems: list[str] = []
    added = w._inputs.add_files([done], problems)
    w.send(upload_progress(upload_id, len(buffers[0]), done=True, added=added, problems=problems))


def _remove_input(w: CommandHost, msg: RemoveInput, _buffers: list[bytes]) -> None:
    w._inputs.remove(msg.get("id"))


def _move_input(w: CommandHost, msg: MoveInput, _buffers: list[bytes]) -> None:
    to = msg.get("to")
    if isinstance(to, int):
        w._inputs.move(msg.get("id"), to)


def _compare(w: CommandHost, msg: Compare, _buffers: list[bytes]) -> None:
    """Two stored images side by side: their records, what differs, and both full images."""
    ids, request_id = msg.get("ids"), msg.get("request_id")
    reply: dict[str, Any] = {"type": "compare", "request_id": request_id, "items": [], "differences": []}
    if not isinstance(ids, list) or len(ids) != 2 or not all(isinstance(i, str) for i in ids):
        w.send({**reply, "error": "compare needs exactly two image ids"}, [])
        return
    try:
        stored = [w._store.load(image_id) for image_id in ids]
        data = [s.data() for s in stored]
    except (KeyError, OSError) as exc:
        w.send({**reply, "error": w._connection.scrub(str(exc))}, [])
        return
    items = [{**compare_item(s.record), "mime": mime_of(s.record, s.path)} for s in stored]
    differences = compare_records(stored[0].record, stored[1].record)
    w.send({**reply, "items": items, "differences": differences}, data)


class AddRefs(TypedDict):
    type: Literal["add_refs"]
    refs: list[str]  # https URLs or OpenAI file ids (file-…), each read once by the kernel
    upload_id: NotRequired[str]  # answered with `upload_progress`, like an upload


def _add_refs(w: CommandHost, msg: AddRefs, _buffers: list[bytes]) -> None:
    """Add inputs by URL or file id; with an `upload_id`, answer `upload_progress` (added, refused and why)."""
    _upload_started(w)
    upload_id = msg.get("upload_id")
    problems: list[str] = []
    given = [str(r) for r in msg.get("refs") or [] if str(r).strip()]
    added = w._inputs.add_refs(given, problems)
    if isinstance(upload_id, str) and upload_id:
        w.send(upload_progress(upload_id, 0, done=True, added=added, problems=problems))
    else:
        for text in problems:
            w._notice(text, "warning")


def _refine(w: CommandHost, msg: Refine, _buffers: list[bytes]) -> None:
    w._conversation.start(msg.get("prompt"))


def _refine_select(w: CommandHost, msg: RefineSelect, _buffers: list[bytes]) -> None:
    w._conversation.select(msg.get("id"))


def _refine_new(w: CommandHost, _msg: Any, _buffers: list[bytes]) -> None:
    w._conversation.new_thread()


class OptionsPatch(TypedDict):
    type: Literal["options_patch"]
    seq: int  # the page's count of patches: answered with `options_applied` once this one is applied
    view: str  # which view counted it (two views of one widget count apart)
    changes: dict[str, Any]  # only the keys the page changed


def _options_patch(w: CommandHost, msg: OptionsPatch, _buffers: list[bytes]) -> None:
    """Apply the keys the page changed onto the kernel's options as they are now (a Python change to other
    keys made meanwhile survives; of two changes to one key the later one here wins), then say so."""
    changes = msg.get("changes")
    if isinstance(changes, dict) and changes:
        merged = merge_options(changes, w.options)
        if merged != w.options:
            w.options = merged
    w.send({"type": "options_applied", "seq": msg.get("seq"), "view": msg.get("view")})


class ResultsShown(TypedDict):
    type: Literal["results_shown"]
    job_id: str  # the run whose saved images (`results_saved`) the page has drawn


def _results_shown(w: CommandHost, msg: ResultsShown, _buffers: list[bytes]) -> None:
    w._runs.shown(str(msg.get("job_id", "")))


def _ping(w: CommandHost, msg: Any, _buffers: list[bytes]) -> None:
    """The page asks whether this kernel still listens (a restart from elsewhere is silent otherwise)."""
    w.send({"type": "pong", "request_id": msg.get("request_id")})


#: Each handler takes its own TypedDict; the table can only promise "a dict with this `type`".
Handler = Callable[[CommandHost, Any, list[bytes]], None]
HANDLERS: dict[str, Handler] = {
    "generate": _generate,
    "cancel": _cancel,
    "fetch_image": _fetch_image,
    "use_as_input": _use_as_input,
    "add_inputs": _add_inputs,
    "add_input_chunk": _add_input_chunk,
    "add_refs": _add_refs,
    "remove_input": _remove_input,
    "move_input": _move_input,
    "compare": _compare,
    "history_more": _history_more,
    "history_search": _history_search,
    "view": _view,
    "refine": _refine,
    "refine_select": _refine_select,
    "refine_new": _refine_new,
    "ping": _ping,
    "results_shown": _results_shown,
    "options_patch": _options_patch,
}


def dispatch(w: CommandHost, content: Any, buffers: Sequence[Any] | None) -> None:
    """The widget's `on_msg` callback: run the handler for `content["type"]`, if it is one of ours."""
    if not isinstance(content, dict):
        return
    kind = content.get("type")
    handler = HANDLERS.get(kind) if isinstance(kind, str) else None
    if handler is None:
        return  # anywidget's own commands and unknown types are not ours
    try:
        handler(w, content, [bytes(b) for b in buffers or []])
    except Exception as exc:
        log.exception("image_widget: %s message failed", kind)
        text = f"{kind} failed: {w._connection.scrub(str(exc))}"
        upload_id = content.get("upload_id")
        if kind in ("add_inputs", "add_input_chunk", "add_refs") and isinstance(upload_id, str) and upload_id:
            w.send(upload_progress(upload_id, 0, done=True, problems=[text]))  # the page stops waiting
        else:
            w._notice(text, "warning")
