"""What each MCP tool does, on the same core as the widget: validate, budget, call, save, summarise.

Every request goes through `image_widget.client.api` (so it is validated by the capability table, saved
to the store with its record before anything is shown, and priced from the same table). Each function
returns a JSON-ready summary and the previews to show; `server.py` turns them into MCP results.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

from image_widget import images
from image_widget.client import api, refs
from image_widget.client.edits import Holding, lined_up_edit
from image_widget.client.models import ensure_live
from image_widget.client.options import RunOptions
from image_widget.client.reproduce import runnable_code
from image_widget.client.request import run
from image_widget.client.wire import Request, request_params
from image_widget.facts import capabilities
from image_widget.facts import cost as pricing
from image_widget.mcp import budgeting
from image_widget.mcp.previews import Preview, full_image, preview
from image_widget.mcp.session import BudgetRefused, Session
from image_widget.money import learned
from image_widget.store import History, StoredImage

Outcome = tuple[dict[str, Any], list[Preview]]
LIST_LIMIT = 100
MAX_SIDE = 1024
PROMPT_SHOWN = 300
NO_RETRIES = 0
"""The SDK may not retry on its own: a timed-out call may already be billed, and only the call that returns is
counted. The assistant can call again, and then the budget sees the second call."""


async def _check(endpoint: capabilities.Endpoint, wire: Mapping[str, Any], session: Session) -> None:
    """Every problem with the request, each naming its parameter, before anything is sent — with the server's own
    model dates, as the request path reads them (a GET of its model list, once per session, never billed)."""
    server = None
    if not session.backend.synthetic:
        await ensure_live(session.backend)
        server = session.backend.cache_identity
    capabilities.check(endpoint, wire, server=server)


async def generate(session: Session, prompt: str, options: dict[str, Any], previews: bool) -> Outcome:
    params = request_params(prompt=prompt, **options)
    params.setdefault("model", capabilities.DEFAULT_MODEL)
    request = Request("generate", params, {}, None)
    return await _send(session, request, previews)


async def edit(session: Session, prompt: str, image: str | Sequence[str], mask: str | Mapping[str, Any] | None,
               markup: str | None, options: dict[str, Any], previews: bool) -> Outcome:
    """An edit built once, as `iw.edit` builds it (a mask lines the result up with the image, so `size` becomes
    the size that matches it): the budget is checked on that request and that request is sent."""
    files, image_refs = await _inputs(session, image)
    if isinstance(mask, str) and refs.as_ref(mask) is not None:  # a mask by URL or file id: read once
        mask_input: Any = (await refs.resolve(mask, "mask", session.backend))[0]
    else:
        mask_input = session.mask(mask, files[0]) if mask is not None else None
    markup_input = session.roots.read(markup, "markup") if markup is not None else None
    model = options.pop("model", None) or capabilities.DEFAULT_MODEL
    request = lined_up_edit(files, prompt, mask_input, markup_input, model, None, dict(options), Holding())
    refs.attach(request, image_refs, files)
    return await _send(session, request, previews)


async def _inputs(session: Session, image: str | Sequence[str]) -> tuple[list[bytes], list[refs.Ref | None]]:
    """The input images' bytes: paths and ids from the allowed roots, URLs and file ids read once (they are
    then sent by reference, never uploaded)."""
    given = [image] if isinstance(image, str) else list(image)
    image_refs = [refs.as_ref(item) for item in given]
    local = iter(session.inputs([g for g, r in zip(given, image_refs, strict=True) if r is None]) if
                 any(r is None for r in image_refs) else [])
    files: list[bytes] = []
    for index, (item, ref) in enumerate(zip(given, image_refs, strict=True)):
        param = "image" if len(given) == 1 else f"image[{index}]"
        files.append(next(local) if ref is None else (await refs.resolve(item, param, session.backend))[0])
    return files, image_refs


async def _send(session: Session, request: Request, previews: bool) -> Outcome:
    """Check, reserve (pessimistically), send once without retries, settle: the request that was budgeted
    is the one that goes out, and a call that may have been billed is never repeated behind the budget."""
    request.params.setdefault("model", capabilities.DEFAULT_MODEL)
    await _check(request.endpoint, request.wire_params(), session)
    taught = _learned(session, request)
    estimate = taught.cost()
    reservation = budgeting.reservation(taught.budget(), request.params, request.input_sizes(),
                                        capped=session.budget.limit is not None)
    reserved = await session.budget.reserve(reservation)
    try:
        result = await run(request, RunOptions(store=session.store, max_retries=NO_RETRIES))
    except Exception as exc:
        await session.budget.release_if_refused(reserved, exc)
        raise
    await session.budget.settle(reserved, result.cost)
    summary = {**result_summary(result, estimate), "reserved_usd": round(reserved, 6)}
    return summary, previews_of(summary, result.paths, previews)


def estimate_cost(session: Session, options: dict[str, Any], call: Literal["generate", "edit"],
                  image: str | Sequence[str] | None) -> Outcome:
    """The estimate from the price table, after the same checks a request gets (without its images)."""
    params = request_params(prompt="estimate", **options)
    params.setdefault("model", capabilities.DEFAULT_MODEL)
    # an edit's images come later: every other problem is reported now
    problems = [p for p in capabilities.validate(call, params) if p.param != "image"]
    if problems:
        raise capabilities.ValidationError(problems)
    sizes: list[tuple[int, int]] = []
    if call == "edit" and image is not None:
        for data in session.inputs(image):
            info = capabilities.image_info(data)
            if info is None:
                raise images.ImageInputError("image: not an image (PNG, JPEG or WebP)")
            sizes.append(info[0])
    taught = _learned(session, {**params, "call": call}, sizes)
    estimate = taught.cost()
    try:
        asked = {k: v for k, v in params.items() if k != "prompt"}  # the prompt is not known yet
        reserve = budgeting.reservation(taught.budget(), asked, sizes, capped=session.budget.limit is not None)
    except BudgetRefused:
        reserve = pricing.Cost.unknown()
    summary = {"model": params["model"], "estimate": estimate.text, "estimate_usd": estimate.usd,
               "upper_bound": estimate.upper_bound, "note": estimate.note, "reserved_usd": reserve.usd,
               "within_budget": _within(session, reserve)}
    return summary, []


def list_images(session: Session, filters: dict[str, Any], limit: int, offset: int) -> Outcome:
    if not 1 <= limit <= LIST_LIMIT:
        raise ValueError(f"limit must be from 1 to {LIST_LIMIT}, got {limit}")
    if offset < 0:
        raise ValueError(f"offset must be 0 or more, got {offset}")
    for key in ("since", "until"):
        if filters.get(key) is not None:
            filters[key] = _when(key, filters[key])
    view = History(session.store.folder).filter(**{k: v for k, v in filters.items() if v is not None})
    found = view[offset:offset + limit]
    return {"total": len(view), "offset": offset, "images": [_item(img) for img in found]}, []


def get_image(session: Session, image_id: str, full: bool, max_side: int) -> Outcome:
    if not 16 <= max_side <= MAX_SIDE:
        raise ValueError(f"max_side must be from 16 to {MAX_SIDE} pixels, got {max_side}")
    stored = stored_image(session, image_id)
    record = stored.record
    summary = {**_item(stored), "params": record.get("params"), "cost": record.get("cost_usd"),
               "input_hashes": record.get("input_hashes"), "note": record.get("note"),
               "code": runnable_code(record)}
    shown = full_image(stored.path, str(record.get("format", ""))) if full else preview(stored.path, max_side)
    summary["shown"] = f"{'full image' if full else 'preview'} {shown.width}x{shown.height} ({shown.mime_type})"
    return summary, [shown]


# -- helpers


def stored_image(session: Session, image_id: str) -> StoredImage:
    """The saved image `image_id`, or a ValueError naming the parameter and where the ids come from."""
    try:
        return session.store.load(image_id)
    except KeyError:
        raise ValueError(f"image_id: no image {image_id!r} in {session.store.folder}; list_images gives the ids") \
            from None


def _learned(session: Session, request: Request | Mapping[str, Any],
             inputs: list[tuple[int, int]] | None = None) -> learned.Estimate:
    """The estimate learned from the session folder's runs (emulator runs only for the emulator), else the
    published figure; for an edit without a learned figure, priced with its input images' sizes."""
    found = learned.estimate(request, session.store.folder, synthetic=session.backend.synthetic)
    if found.origin == "published" and inputs and isinstance(request, Mapping):
        params = dict(request)
        n = params.get("n")
        cost = pricing.estimate(str(params.get("model")), quality=params.get("quality"), size=params.get("size"),
                                n=n if isinstance(n, int) and not isinstance(n, bool) else 1, endpoint="edit",
                                inputs=inputs, input_fidelity=params.get("input_fidelity"))
        return learned.Estimate(cost.usd, cost.usd, cost.usd, "published", 0, cost.text, cost.note, published=cost)
    return found


def _within(session: Session, estimate: pricing.Cost) -> bool | None:
    limit = session.budget.limit
    if limit is None:
        return True
    if estimate.usd is None:
        return None
    return session.budget.committed + estimate.usd <= limit + 1e-12


def _when(param: str, value: object) -> date | datetime:
    text = str(value)
    try:
        return date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{param} must be a date like 2026-11-29 or a time like 2026-11-29T14:00:00, "
                         f"got {text[:40]!r}") from None


def _item(img: StoredImage) -> dict[str, Any]:
    """One image as list_images shows it: enough to choose, small enough for a hundred."""
    record = img.record
    prompt = record.get("prompt") or ""
    return {"id": img.id, "path": str(img.path), "created": record.get("created"), "call": record.get("call"),
            "model": record.get("model"),
            "prompt": prompt if len(prompt) <= PROMPT_SHOWN else prompt[:PROMPT_SHOWN] + "…",
            "size": f"{record.get('width')}x{record.get('height')}", "format": record.get("format"),
            "cost_usd": record.get("cost_usd")}


def result_summary(result: api.Result, estimate: pricing.Cost) -> dict[str, Any]:
    return {"images": [{"id": r.get("id"), "path": str(p), "size": f"{r.get('width')}x{r.get('height')}",
                        "format": r.get("format")} for r, p in zip(result.records, result.paths, strict=True)],
            "model": result.record.get("model"), "cost": result.cost.text, "cost_usd": result.cost.usd,
            "estimate": estimate.text, "estimate_usd": estimate.usd, "cached": result.cached,
            "request_id": result.request_id,
            "notes": list(result.notes)}


def previews_of(summary: dict[str, Any], paths: Sequence[Path], wanted: bool) -> list[Preview]:
    """One preview per image: 512 px for one or two, 256 px for more, so ten stay about a megabyte.

    The images are paid for and saved by now, so one that cannot be previewed (SVG) is named, not an error."""
    if not wanted:
        return []
    side = 512 if len(paths) <= 2 else 256
    shown: list[Preview] = []
    for path in paths:
        try:
            shown.append(preview(path, side))
        except (OSError, ValueError, SyntaxError):  # Pillow's errors for files it cannot read
            summary.setdefault("no_preview", []).append(str(path))
    return shown
