"""What a saved record says about the call that made it.

Records are JSON (the sidecar and the PNG chunk). Since 0.2 each says which public call made it
(`call`: generate / edit / vary / expand / refine — a turn of a conversation): a variation may go through
the edit endpoint, and guessing that from the note's wording lost the prompt of
`iw.vary(img, "make it blue")` when it was reproduced.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, TypedDict, get_args

Call = Literal["generate", "edit", "vary", "expand", "refine"]
CALLS: tuple[Call, ...] = get_args(Call)
VARIATION_PROMPT = (
    "Create a variation of this image: keep the subject, composition and style, "
    "and let details, lighting and small elements differ naturally."
)
"""What `vary()` asks for when no prompt is given (GPT image models make variations through edit)."""
_OLD_VARIATION_NOTE = "variation made through"
"""How records written before `call` existed marked a variation made through the edit endpoint."""


class ImageRecord(TypedDict, total=False):
    """One saved image's record: the JSON sidecar and the PNG chunk. docs/CONTRACTS.md lists these keys
    and a test keeps the two in step. Older records may lack `call` and `price_source`."""

    id: str
    run_id: str
    index: int
    count: int
    """Images the request asked for: fewer on disk means the run is incomplete (never served from cache)."""
    created: str
    """ISO 8601, UTC."""
    call: Call
    endpoint: str
    """The HTTP endpoint used: generate / edit / variation (a `vary` may go through edit)."""
    model: str
    prompt: str | None
    params: dict[str, Any]
    """The request's parameters as sent, without file bytes."""
    input_hashes: list[str]
    """role:sha256 of each input file (image, mask, markup), kept under inputs/ for re-runs."""
    mask_hash: str | None
    usage: dict[str, Any] | None
    cost_estimate_usd: float | None
    cost_usd: float | None
    """This image's share of the run's cost; summing a run's records gives `run_cost_usd`."""
    run_cost_usd: float | None
    price_source: Literal["official", "quoted", "user"] | None
    request_id: str | None
    elapsed_s: float
    backend: dict[str, Any]
    """kind, label, synthetic — never a key."""
    cache_key: str
    response: dict[str, Any]
    """What the response said of size, quality, background, output_format."""
    partials: int
    note: str | None
    revised_prompt: str | None
    path: str
    format: str
    width: int
    height: int
    raw_path: str | None
    """The API's own image when the saved one was composited or resized from it (kept: it was paid for)."""
    composite: dict[str, Any] | None
    """{"feather": px, "keep_unmasked": bool} for edits with a mask, expands and detail edits."""
    detail_box: list[int] | None
    """[x0, y0, x1, y1] of the crop a detail edit sent, in the original's pixels."""
    expand: dict[str, int] | None
    """{left, right, top, bottom}: pixels an expand added per side."""
    from_batch: bool
    """Made by the Batch API (then `cost_usd` is at the batch price); absent for direct calls."""
    batch_id: str | None
    """The Batch API's id of the batch that made it."""
    custom_id: str | None
    """Its line in that batch (`cell-<n>`: the n-th combination of the sweep)."""
    batch_run_id: str | None
    """The local batch sweep (`<store>/batches/<batch_run_id>/intent.json`) it belongs to."""
    session: str | None
    """The process (kernel, Voila visitor, MCP server) that ran it: the classroom report groups by it."""
    response_id: str | None
    """A conversation turn (`call` "refine"): the Responses API's id of the answer that made it."""
    previous_response_id: str | None
    """The response this turn continued (None for a thread's first turn)."""
    thread: str | None
    """The conversation it belongs to (`thr_…`); a branch starts a new thread."""
    turn: int | None
    """Its place in the conversation, from 1, counted through the threads it branched from."""
    thread_parent: dict[str, Any] | None
    """For a branch's first turn: {thread, turn, response_id} of the turn it branched from."""
    action: str | None
    """What the image tool did: generate or edit (the answer's `action`, else what was asked)."""
    mainline_model: str | None
    """The mainline model that ran the conversation (`model` is the image model)."""
    chain: list[dict[str, Any] | str] | None
    """The earlier turns, oldest first, as sent — {prompt, options, image?, mask?} (inputs by hash) — so
    `.code` can replay the conversation; records from before 2026-12-04 hold only their prompts."""
    mainline_usage: dict[str, Any] | None
    """The mainline model's tokens (`Response.usage`); `usage` is the image tool's."""


RECORD_KEYS: tuple[str, ...] = tuple(ImageRecord.__annotations__)
CONVERSATION_KEYS = ("response_id", "previous_response_id", "thread", "turn", "thread_parent", "action",
                     "mainline_model", "chain", "mainline_usage")


def not_a_turn() -> dict[str, Any]:
    """The conversation fields of a record that is not a conversation turn: every record has every key."""
    return dict.fromkeys(CONVERSATION_KEYS)


def record_call(record: Mapping[str, Any]) -> Call:
    """The call that made `record`; older records without `call` are read by their endpoint and note."""
    call = record.get("call")
    if call in CALLS:
        return call  # type: ignore[no-any-return]
    endpoint = record.get("endpoint", "generate")
    if endpoint == "variation" or str(record.get("note") or "").startswith(_OLD_VARIATION_NOTE):
        return "vary"
    return "edit" if endpoint == "edit" else "generate"


def finish_options(record: Mapping[str, Any]) -> dict[str, Any]:
    """The keyword arguments that made an edit line up (`keep_unmasked`, `feather`, `detail`, an expand's
    sides), for rerun and reproduce; empty for records without them."""
    options: dict[str, Any] = {}
    held = record.get("composite")
    if isinstance(held, Mapping):
        options["feather"] = held.get("feather", 8)
        if record_call(record) != "expand":
            options["keep_unmasked"] = bool(held.get("keep_unmasked", True))
    if record.get("detail_box"):
        options["detail"] = True
    sides = record.get("expand")
    if isinstance(sides, Mapping):
        options.update({side: int(sides.get(side, 0)) for side in ("left", "right", "top", "bottom")})
    return options
