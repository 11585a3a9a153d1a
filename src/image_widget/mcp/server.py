"""The MCP tools, registered on the official SDK's `MCPServer`: generate_image, edit_image, refine_image (a
conversation turn), list_images, get_image and estimate_cost.

Each tool answers with a short JSON text (and the same as structured content) plus small previews. A
refused request — a bad option, a path outside the allowed folders, over the budget — is a tool error
whose text names the parameter, and nothing was sent. Every answer names the backend (and says so when
the images are the offline emulator's), and the key never appears in one (`Session.scrub`).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Awaitable, Callable, Mapping
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import MCPServer
from mcp_types import CallToolResult, ContentBlock, ImageContent, TextContent, ToolAnnotations
from pydantic import Field

from image_widget.base.errors import APIRequestError
from image_widget.facts import capabilities
from image_widget.facts.capabilities import ValidationError
from image_widget.images import ImageInputError
from image_widget.mcp import refine, tools
from image_widget.mcp.paths import PathRefused
from image_widget.mcp.session import BudgetRefused, Session
from image_widget.store import StoreError

_SIZES = ", ".join(("auto", *capabilities.STANDARD_SIZES))
Model = Annotated[str | None, Field(description=f"Image model; default {capabilities.DEFAULT_MODEL}. Current: "
                                                f"{', '.join(capabilities.current_models())}")]
Size = Annotated[str | None, Field(description=f"{_SIZES}; some models take any WxH (sides divisible by 16)")]
Quality = Annotated[str | None, Field(description=", ".join(capabilities.GPT_QUALITIES) + " (more on some models)")]
Count = Annotated[int | None, Field(description="How many images (1-10; the model's limit applies)")]
Background = Annotated[str | None, Field(description=", ".join(capabilities.BACKGROUNDS)
                                         + "; transparent needs png or webp")]
OutputFormat = Annotated[str | None, Field(description=", ".join(capabilities.GPT_FORMATS)
                                           + " (gif and svg only where the model has them)")]
Compression = Annotated[int | None, Field(description="0-100, only with webp or jpeg")]
Complexity = Annotated[str | None, Field(description=", ".join(capabilities.COMPLEXITIES) + " (where supported)")]
Frames = Annotated[int | None, Field(description="gif only: 2-16 frames")]
FrameMs = Annotated[int | None, Field(description="gif only: delay per frame in ms")]
Svg = Annotated[dict[str, Any] | None, Field(description="svg only: {'model': ..., 'reasoning': {'effort': ...}}")]
Safety = Annotated[str | None, Field(description="An id for your end user, for OpenAI's abuse checks")]
Previews = Annotated[bool, Field(description="Include small previews (at most 512 px) in the answer")]
ImageRef = Annotated[str | list[str], Field(description="A file path (under the working folder, the image folder "
                                                        "or an --allow-dir), an image id from list_images, an "
                                                        "https URL or an OpenAI file id (file-…), or a list of "
                                                        "them (up to 16; the mask applies to the first)")]
Mask = Annotated[str | dict[str, int] | None, Field(
    description="The area to change: a mask file path, https URL or file id (transparent or white = edit), "
                "or a rectangle {x, y, width, height} in the first image's pixels")]

INSTRUCTIONS = ("Generates and edits images with the OpenAI Images API and saves every image, with its record, "
                "to the image_widget folder (the same gallery the notebook widget shows). Images come back as "
                "small previews plus their saved path; get_image gives more.")


def build_server(session: Session) -> MCPServer[Any]:
    """An `MCPServer` whose tools act for `session`."""
    server: MCPServer[Any] = MCPServer("image-widget", instructions=INSTRUCTIONS, log_level="WARNING")
    paid = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=False, open_world_hint=True)
    reading = ToolAnnotations(read_only_hint=True, open_world_hint=False)

    @server.tool(annotations=paid)
    async def generate_image(  # noqa: PLR0913 - one argument per API option
        prompt: Annotated[str, Field(description="What to draw")],
        model: Model = None, size: Size = None, quality: Quality = None, n: Count = None,
        background: Background = None, output_format: OutputFormat = None, output_compression: Compression = None,
        moderation: Annotated[str | None, Field(description="low or auto")] = None,
        complexity: Complexity = None, frame_count: Frames = None, frame_duration_ms: FrameMs = None,
        svg: Svg = None, safety_identifier: Safety = None, previews: Previews = True,
    ) -> CallToolResult:
        """Generate images from a prompt; each is saved with its record before it is returned."""
        options = {"model": model, "size": size, "quality": quality, "n": n, "background": background,
                   "output_format": output_format, "output_compression": output_compression,
                   "moderation": moderation, "complexity": complexity, "frame_count": frame_count,
                   "frame_duration_ms": frame_duration_ms, "svg": svg, "safety_identifier": safety_identifier}
        return await answer(session, lambda: tools.generate(session, prompt, options, previews))

    @server.tool(annotations=paid)
    async def edit_image(  # noqa: PLR0913 - one argument per API option
        prompt: Annotated[str, Field(description="What to change")],
        image: ImageRef, mask: Mask = None,
        markup: Annotated[str | None, Field(description="A transparent PNG drawn over the first image "
                                                        "(models with markup only; never with a mask)")] = None,
        input_fidelity: Annotated[str | None, Field(description="high or low, where the model has it")] = None,
        model: Model = None, size: Size = None, quality: Quality = None, n: Count = None,
        background: Background = None, output_format: OutputFormat = None, output_compression: Compression = None,
        complexity: Complexity = None, safety_identifier: Safety = None, previews: Previews = True,
    ) -> CallToolResult:
        """Edit one or more images (by path or id), optionally only inside a mask; results are saved."""
        options = {"model": model, "size": size, "quality": quality, "n": n, "background": background,
                   "output_format": output_format, "output_compression": output_compression,
                   "complexity": complexity, "safety_identifier": safety_identifier, "input_fidelity": input_fidelity}
        options = {k: v for k, v in options.items() if v is not None}
        return await answer(session, lambda: tools.edit(session, prompt, image, mask, markup, options, previews))

    @server.tool(annotations=paid)
    async def refine_image(  # noqa: PLR0913 - one argument per API option
        prompt: Annotated[str, Field(description="What to make or change in this turn of the conversation")],
        thread: Annotated[str | None, Field(description="Continue this conversation (thr_…, from an earlier "
                                                        "refine_image answer) from its latest turn")] = None,
        image_id: Annotated[str | None, Field(description="Continue from this image: a turn (branching when it is "
                                                          "not its thread's latest) or any saved image (a new "
                                                          "conversation that edits it)")] = None,
        mask: Mask = None, size: Size = None, quality: Quality = None, background: Background = None,
        output_format: OutputFormat = None, output_compression: Compression = None,
        model: Annotated[str | None, Field(description="The mainline model that runs the conversation "
                                                       "(default: a current one)")] = None,
        image_model: Model = None, previews: Previews = True,
    ) -> CallToolResult:
        """One turn of an image conversation (OpenAI's Responses API): make an image, then refine it turn by turn
        ("make it night", "add a lantern"); every turn is saved, priced and continues the previous response."""
        options = {"size": size, "quality": quality, "background": background, "output_format": output_format,
                   "output_compression": output_compression}
        options = {k: v for k, v in options.items() if v is not None}
        return await answer(session, lambda: refine.refine(session, prompt, thread, image_id, mask, options, previews,
                                                           model=model, image_model=image_model))

    @server.tool(annotations=reading)
    async def list_images(
        prompt: Annotated[str | None, Field(description="Text the prompt contains (any case)")] = None,
        model: Annotated[str | None, Field(description="Only this model")] = None,
        since: Annotated[str | None, Field(description="From this UTC date (2026-11-29) or time")] = None,
        until: Annotated[str | None, Field(description="Up to this UTC date (inclusive) or time")] = None,
        call: Annotated[Literal["generate", "edit", "vary", "expand", "refine"] | None,
                        Field(description="Which call made it (refine: a conversation turn)")] = None,
        thread: Annotated[str | None, Field(description="Only this conversation's turns, in order")] = None,
        limit: Annotated[int, Field(description=f"At most this many (1-{tools.LIST_LIMIT})")] = 20,
        offset: Annotated[int, Field(description="Skip this many (for the next page)")] = 0,
    ) -> CallToolResult:
        """The saved images, newest first, with their ids, paths, prompts and costs (no pixels)."""
        filters = {"prompt": prompt, "model": model, "since": since, "until": until, "call": call, "thread": thread}
        return await answer(session, lambda: _now(tools.list_images(session, filters, limit, offset)))

    @server.tool(annotations=reading)
    async def get_image(
        image_id: Annotated[str, Field(description="An id from list_images or a generate/edit answer")],
        full: Annotated[bool, Field(description="Send the full image instead of a preview (up to 8 MB)")] = False,
        max_side: Annotated[int, Field(description=f"Longest side of the preview, 16-{tools.MAX_SIDE} px")] = 512,
    ) -> CallToolResult:
        """One saved image: its record, saved path and code to recreate it, with a small preview."""
        return await answer(session, lambda: _now(tools.get_image(session, image_id, full, max_side)))

    @server.tool(annotations=reading)
    async def estimate_cost(
        model: Model = None, size: Size = None, quality: Quality = None, n: Count = None,
        call: Annotated[Literal["generate", "edit"], Field(description="generate or edit")] = "generate",
        image: Annotated[str | list[str] | None, Field(description="For an edit: its input images (path or id), "
                                                                   "whose tokens are billed too")] = None,
        input_fidelity: Annotated[str | None, Field(description="For an edit: high or low")] = None,
    ) -> CallToolResult:
        """What a request would cost by the published price table, and whether it fits --max-cost."""
        options = {"model": model, "size": size, "quality": quality, "n": n, "input_fidelity": input_fidelity}
        return await answer(session, lambda: _now(tools.estimate_cost(session, options, call, image)))

    return server


async def _now(outcome: tools.Outcome) -> tools.Outcome:
    return outcome


_REFUSALS = (ValidationError, ImageInputError, PathRefused, BudgetRefused, ValueError, KeyError, APIRequestError,
             StoreError)


async def answer(session: Session, work: Callable[[], Awaitable[tools.Outcome]]) -> CallToolResult:
    """Run one tool's work and shape its answer; every failure becomes a tool error without the key."""
    try:
        summary, shown = await work()
    except _REFUSALS as exc:
        return _error(session, exc)
    except Exception as exc:  # noqa: BLE001 - an MCP client gets a scrubbed message, never a traceback
        return _error(session, exc, unexpected=True)
    body = {**summary, **session.about()}
    content: list[ContentBlock] = [TextContent(type="text", text=_dump(session, body))]
    content += [ImageContent(type="image", data=base64.b64encode(p.data).decode("ascii"), mime_type=p.mime_type)
                for p in shown]
    return CallToolResult(content=content, structured_content=json.loads(_dump(session, body)))


def _error(session: Session, exc: BaseException, unexpected: bool = False) -> CallToolResult:
    if isinstance(exc, ValidationError):
        text = "Nothing was sent — " + "; ".join(p.message for p in exc.problems)
        params = exc.params
    else:
        text = str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc)
        if unexpected:
            text = f"{type(exc).__name__}: {text}"
        params = []
    body: dict[str, Any] = {"error": session.scrub(text), "params": params, **session.about()}
    lines = [body["error"], *([body["notice"]] if "notice" in body else [])]
    return CallToolResult(content=[TextContent(type="text", text=session.scrub("\n".join(lines)))],
                          structured_content=json.loads(_dump(session, body)), is_error=True)


def _dump(session: Session, body: Mapping[str, Any]) -> str:
    return session.scrub(json.dumps(body, ensure_ascii=False, default=str))
