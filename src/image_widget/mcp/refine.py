"""The MCP `refine_image` tool: one conversation turn (Responses API) on the server's store.

Which conversation it continues: a `thread` (its latest turn), an `image_id` of a turn (that turn: the
same thread when it is the thread's latest turn, else a branch from it), an `image_id` of any other saved
image (a new conversation that starts by editing it), or neither (a new conversation). The turn is checked,
priced and reserved against the budget before it is sent, once, without retries — like the other tools.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from image_widget.chat import Chat
from image_widget.mcp import tools
from image_widget.mcp.session import Session
from image_widget.store import History

__all__ = ["refine"]


def _chat_for(session: Session, thread: str | None, image_id: str | None,
              models: dict[str, str | None]) -> tuple[Chat, bytes | None]:
    """The chat to send on, and the image to start from when the conversation is new."""
    options: dict[str, Any] = {"folder": session.store, "max_retries": tools.NO_RETRIES,
                               **{k: v for k, v in models.items() if v is not None}}
    if thread is not None and image_id is not None:
        raise ValueError("give thread or image_id, not both: image_id already names a turn of a thread")
    if thread is not None:
        return Chat.resume(thread=thread, **options), None
    if image_id is None:
        return Chat(**options), None
    stored = tools.stored_image(session, image_id)
    record = stored.record
    if record.get("call") != "refine" or not record.get("response_id"):
        return Chat(**options), stored.path.read_bytes()
    latest = History(session.store.folder).filter(thread=str(record["thread"]), sort="newest")
    if len(latest) and latest[0].record.get("response_id") == record["response_id"]:
        return Chat.resume(thread=str(record["thread"]), **options), None
    return Chat(**options).branch(record), None


async def refine(session: Session, prompt: str, thread: str | None, image_id: str | None,  # noqa: PLR0913
                 mask: str | Mapping[str, Any] | None, options: dict[str, Any], previews: bool, *,
                 model: str | None = None, image_model: str | None = None) -> tools.Outcome:
    """Check, reserve, send once, settle; the answer names the thread and turn to continue from."""
    chat, start = _chat_for(session, thread, image_id, {"model": model, "image_model": image_model})
    mask_input: Any = None
    if mask is not None:
        base = start if start is not None else _last_image(chat)
        if base is None:
            raise ValueError("mask: a mask needs an image to apply to: give image_id (an image or a turn) or "
                             "thread, or send a first turn without a mask")
        mask_input = session.mask(mask, base)
    estimate = chat.estimate(prompt, image=start, mask=mask_input, **options)
    reserved = await session.budget.reserve(estimate.budget() if session.budget.limit is not None else estimate.cost)
    try:
        result = await chat.asend(prompt, image=start, mask=mask_input, **options)
    except Exception as exc:
        await session.budget.release_if_refused(reserved, exc)
        raise
    await session.budget.settle(reserved, result.cost)
    record = result.record
    summary = {**tools.result_summary(result, estimate.cost), "reserved_usd": round(reserved, 6),
               "thread": record.get("thread"), "turn": record.get("turn"), "response_id": record.get("response_id"),
               "previous_response_id": record.get("previous_response_id"),
               "revised_prompt": record.get("revised_prompt"), "mainline_model": record.get("mainline_model")}
    return summary, tools.previews_of(summary, result.paths, previews)


def _last_image(chat: Chat) -> bytes | None:
    """The image of the turn the chat continues from (what a mask on the next turn is painted over)."""
    path = chat.last_path
    return path.read_bytes() if path is not None else None
