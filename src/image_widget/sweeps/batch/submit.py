"""Planning a batch sweep and getting it to the server exactly once.

`plan_run` checks everything (arguments, each request, the budget at the batch price) before a byte is
written; it then writes the input files and the intent. `advance` uploads and creates what the intent
still lacks, recording each file id and batch id the moment it is known. A part marked `creating` with
no batch id may have been created by a process that died before recording it: it is looked up among
the server's batches by the run id in its metadata before anything is created again.
"""

from __future__ import annotations

import hashlib
import re
import warnings
from collections.abc import Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from image_widget.base.errors import (
    APIRequestError,
    BudgetError,
    ConnectionFailedError,
    RequestTimedOutError,
    scrub,
    translate_error,
)
from image_widget.client import file_ids
from image_widget.client.backend import Backend, safe_url
from image_widget.client.json_edit import JSON_FIELDS
from image_widget.facts import capabilities
from image_widget.facts.prices import as_overrides
from image_widget.facts.table import JSON_EDIT_SIZES
from image_widget.store import Store
from image_widget.sweeps.batch import edits
from image_widget.sweeps.batch.intent import PART_KEY, RUN_KEY, Intent, held, matching, same_request
from image_widget.sweeps.batch.plan import (
    GENERATIONS_URL,
    EstimateSum,
    Limits,
    Part,
    body_of,
    refuse_edits,
    write_parts,
)
from image_widget.sweeps.cells import iter_cells, split_axes

_LOOKBACK_S = 3600
"""How far before the intent's time the server's batch list is searched (clocks differ)."""


def plan_run(template: str, store_folder: Path, backend: Backend, *, max_cost: float | None,
             limits: Limits | None = None, again: bool = False, **axes: Any) -> Intent:
    """Check the sweep and the budget, then write the input files and the intent (nothing is sent). The same
    sweep asked again of the same server returns its earlier run instead (`again=True`: a new one)."""
    refuse_edits(axes)
    models = axes.get("model", capabilities.DEFAULT_MODEL)
    edit = edits.take(axes, Store(store_folder), str(models[0] if isinstance(models, list | tuple) else models),
                      backend)
    lists, fields, run = split_axes(template, **axes)
    where = f"{file_ids.backend_fingerprint(backend)} {sorted((stored_query(backend) or {}).items())}"
    fingerprint = same_request(template, lists, edit.to_json() if edit is not None else None, where)
    earlier = None if again else matching(store_folder, fingerprint)
    unsent = [p for p in earlier.parts if p.batch_id is None and not p.creating] if earlier is not None else []
    if earlier is not None and not unsent:
        _say_earlier(earlier, "nothing new is sent or paid")
        return earlier
    prices = run.get("prices")
    estimate = EstimateSum(as_overrides(prices), store_folder, backend.synthetic)
    problems: list[str] = []
    endpoint: capabilities.Endpoint = "edit" if edit is not None else "generate"
    for cell in iter_cells(template, lists, fields):
        cell.options.setdefault("model", capabilities.DEFAULT_MODEL)
        body = _line_body(cell, edit)
        fields_only = {k: v for k, v in body.items() if k not in ("images", "mask")}
        if len(problems) < 5:  # an edit's images and mask are checked once, by `edits.take`
            problems += [f"{cell.prompt!r}: {p.message}"
                         for p in capabilities.validate(endpoint, fields_only) if p.param != "image"]
            beyond = sorted(set(fields_only) - {*JSON_FIELDS, "stream"}) if edit is not None else []
            if beyond:
                problems.append(f"{', '.join(beyond)}: a Batch API edit is a JSON edit, whose fields are "
                                f"{', '.join(JSON_FIELDS)} (OpenAI's description, EditImageBodyJsonParam); "
                                "run the sweep directly (batch=False) to use the others")
            if edit is not None and fields_only.get("size", "auto") not in JSON_EDIT_SIZES:
                problems.append(f"size={fields_only['size']!r}: a Batch API edit is a JSON edit, which takes only "
                                f"{', '.join(JSON_EDIT_SIZES)} (OpenAI's description, EditImageBodyJsonParam.size); "
                                "pick one of those, or run the sweep directly (batch=False) for a custom size")
        estimate.add(fields_only, [edit.size] * len(edit.images) if edit is not None else None)
    if problems:
        raise capabilities.ValidationError([capabilities.Problem("sweep", "; ".join(problems[:5]))])
    cells = 1
    for values in lists.values():
        cells *= len(values)
    cost = estimate.cost
    if earlier is not None:  # partly sent: the parts not sent yet go now, checked against today's max_cost
        share = sum(p.lines for p in unsent) / max(1, sum(p.lines for p in earlier.parts))
        _check_budget(estimate.high * share if cost.usd is not None else None,
                      cost.note if cost.usd is None else f"{cost.text}, its unsent {share:.0%}", max_cost, cells)
        _say_earlier(earlier, f"its {len(unsent)} part(s) not sent yet are sent now, the rest is not sent again")
        return earlier
    _check_budget(estimate.high if cost.usd is not None else None, cost.note if cost.usd is None else cost.text,
                  max_cost, cells)
    model = ", ".join(dict.fromkeys(str(m) for m in lists.get("model", [capabilities.DEFAULT_MODEL])))
    shared = backend.kind == "emulator"  # this process's own emulator: its port changes; a standalone one's does not
    intent = Intent.new(store_folder, template=template, lists=lists, fields=fields, cells=cells,
                        estimate_usd=cost.usd, estimate_text=cost.text, model=model, backend=backend.describe(),
                        base_url=None if shared or not backend.base_url else safe_url(backend.base_url),
                        default_query=None if shared else stored_query(backend), prices=_plain(prices),
                        edit=edit.to_json() if edit is not None else None, fingerprint=fingerprint)
    intent.parts = write_parts(intent.folder, _bodies(template, lists, fields, edit), limits or Limits(),
                               url=edits.EDITS_URL if edit is not None else GENERATIONS_URL)
    intent.save()  # the durable intent, before any upload or create
    return intent


def _say_earlier(earlier: Intent, what: str) -> None:
    warnings.warn(f"this batch sweep was already made on {earlier.created} (run {earlier.run_id[:8]}): returning "
                  f"that run; {what}. Pass again=True for a new batch", UserWarning, stacklevel=5)


_SECRET_PARAM = re.compile(r"key|secret|token|sig|password|auth", re.IGNORECASE)


def stored_query(backend: Backend) -> dict[str, str] | None:
    """The query a resumed handle must send again (Azure's `?api-version=`): the base URL's and the given
    client's `default_query`; a parameter whose name or value looks like a credential is left out."""
    query = dict(parse_qsl(urlsplit(backend.base_url or "").query, keep_blank_values=True))
    if backend._client is not None:
        query.update({str(k): str(v) for k, v in (getattr(backend._client, "default_query", None) or {}).items()})
    kept = {k: v for k, v in query.items()
            if not _SECRET_PARAM.search(k) and backend.scrub(v) == v and scrub(v) == v}
    return kept or None


def _plain(prices: Any) -> dict[str, Any] | None:
    """`prices=` as JSON for the intent (given as rates), so a resumed run prices its lines the same."""
    if isinstance(prices, Mapping) and all(isinstance(v, Mapping) for v in prices.values()):
        return {str(k): dict(v) for k, v in prices.items()}
    return None


def _bodies(template: str, lists: dict[str, list[Any]], fields: list[str],
            edit: edits.BatchEdit | None) -> Iterator[tuple[int, dict[str, Any]]]:
    for index, cell in enumerate(iter_cells(template, lists, fields)):
        cell.options.setdefault("model", capabilities.DEFAULT_MODEL)
        yield index, _line_body(cell, edit)


def _line_body(cell: Any, edit: edits.BatchEdit | None) -> dict[str, Any]:
    """A line's body: the cell's request, and for an edit its inputs (placeholders until bound) and the
    size it asks for (`match` resolved for the first image)."""
    body = body_of(cell)
    if edit is None:
        return body
    body["size"] = edit.line_size(str(body["model"]), body.get("size"))
    return {**body, **edit.refs()}


def _check_budget(usd: float | None, text: str, max_cost: float | None, cells: int) -> None:
    if max_cost is None:
        return
    if usd is None:
        raise BudgetError(f"cannot check max_cost=${max_cost:.2f}: no price is known for {text}. Teach it with one "
                          "direct run of the model (iw.generate, or iw.sweep(..., max_cost=..., learn=True)), give "
                          "the price (iw.set_price or prices=), or pass max_cost=None; nothing was uploaded")
    if usd > max_cost:  # the upper end of the learned range: a batch cannot be stopped half-billed
        raise BudgetError(f"the batch's estimate {text} for {cells} requests is over max_cost=${max_cost:.2f}; "
                          "nothing was uploaded — reduce the combinations, n or quality, or raise max_cost")


async def advance(intent: Intent, client: Any, backend: Backend) -> None:
    """Upload and create every part that has no batch id yet, exactly once each — one submitter at a time
    per run, each starting from what the others recorded."""
    async with held(intent.folder / "submit.lock"):
        intent.merge_from_disk()
        if intent.discarded and any(p.batch_id is None for p in intent.parts):
            raise RuntimeError(f"batch sweep {intent.run_id} was discarded: its parts not at the server are "
                               "never sent (run the sweep again to submit it anew)")
        await _advance_locked(intent, client, backend)


async def _advance_locked(intent: Intent, client: Any, backend: Backend) -> None:
    for part in intent.parts:
        if part.batch_id is not None:
            continue
        if part.creating:
            found = await find_batch(intent, part, client, backend)
            if found is not None:
                _adopt(intent, part, found)
                continue
        if part.file_id is None:
            await edits.bind(intent, part, client, backend, intent.folder.parent.parent)
            data = (intent.folder / part.path).read_bytes()
            if hashlib.sha256(data).hexdigest() != part.sha256:
                raise RuntimeError(f"{intent.folder / part.path} changed since it was planned; not uploading it")
            uploaded = await call(backend, client.files.create(
                file=(f"{intent.run_id}-{part.index}.jsonl", data, "application/jsonl"), purpose="batch"))
            part.file_id = uploaded.id
            intent.save()
        part.creating = True
        intent.save()
        try:
            batch = await call(backend, client.with_options(max_retries=0).batches.create(
                input_file_id=part.file_id, endpoint=edits.EDITS_URL if intent.edit else GENERATIONS_URL,
                completion_window="24h",
                metadata=intent.metadata(part)))
        except (ConnectionFailedError, RequestTimedOutError):
            found = await find_batch(intent, part, client, backend)  # it may have been created all the same
            if found is None:
                raise
            batch = found
        _adopt(intent, part, batch)


def _adopt(intent: Intent, part: Part, batch: Any) -> None:
    part.batch_id = batch.id
    part.status = batch.status
    part.creating = False
    intent.save()


async def find_batch(intent: Intent, part: Part, client: Any, backend: Backend) -> Any:
    """The server's batch carrying this run id and part in its metadata, or None."""
    since = datetime.fromisoformat(intent.created).timestamp() - _LOOKBACK_S
    try:
        async for batch in client.batches.list(limit=100):
            meta = batch.metadata or {}
            if meta.get(RUN_KEY) == intent.run_id and meta.get(PART_KEY) == str(part.index):
                return batch
            if batch.created_at < since:
                break
    except APIRequestError:
        raise
    except Exception as exc:  # noqa: BLE001 - SDK failures become our readable (scrubbed) errors
        raise translate_error(exc, backend) from None
    return None


async def call(backend: Backend, awaitable: Any) -> Any:
    """Await one SDK call; its failure becomes our readable error, the key scrubbed."""
    try:
        return await awaitable
    except Exception as exc:  # noqa: BLE001 - every SDK failure becomes one readable error type
        raise translate_error(exc, backend) from None
