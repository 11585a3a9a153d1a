"""Edits on the Batch API: the same image(s) and mask for every line, uploaded once and named by file id.

A Batch line's body is JSON, and OpenAI's API description gives `/v1/images/edits` a JSON form whose
images are `ImageRefParam`s (`file_id` or URL) — so an edit sweep can go to the Batch API at half price.
The intent is written before anything is sent, so the input files cannot hold file ids yet: each line names
its inputs as `iw-input:<sha256>` (the store keeps the bytes under `inputs/`). `bind` uploads every input
once (the folder's hash → file id map is reused; purpose `vision`), records the ids in the intent, then
rewrites the part with the real ids before it is uploaded — a process killed in between uploads an input
again at worst (an upload is free), never a batch twice. On collection each image gets the direct edit's
promise: laid onto the original outside the mask and its feather, the API's own image kept under `raw/`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from image_widget import images
from image_widget.base.formats import content_type
from image_widget.base.runtime import run_sync
from image_widget.client import file_ids, refs
from image_widget.client.edits import Holding, lined_up_edit
from image_widget.client.finish import Finish
from image_widget.facts import capabilities
from image_widget.facts.table import json_edit_rule
from image_widget.images import composite
from image_widget.images.geometry import MATCH, match_size
from image_widget.store.atomic import atomic_write

if TYPE_CHECKING:
    from image_widget.client.backend import Backend
    from image_widget.store import Store
    from image_widget.sweeps.batch.intent import Intent
    from image_widget.sweeps.batch.plan import Part

EDITS_URL = "/v1/images/edits"
PLACEHOLDER = "iw-input:"
EDIT_KEYS = ("image", "mask", "keep_unmasked", "feather")
"""A batch edit's inputs and how its results are held: the same for every line (never axes)."""


@dataclass
class BatchEdit:
    """What every line of an edit batch shares (kept in the intent as `edit`)."""

    images: list[str]
    """sha256 of each input image as sent (kept in the store's inputs/)."""
    mask: str | None
    keep_unmasked: bool
    feather: int
    size: tuple[int, int]
    """The first image's size: `size="match"` and the composite are resolved against it."""

    def to_json(self) -> dict[str, Any]:
        return {"images": self.images, "mask": self.mask, "keep_unmasked": self.keep_unmasked,
                "feather": self.feather, "size": list(self.size)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> BatchEdit:
        w, h = data["size"]
        return cls(list(data["images"]), data.get("mask"), bool(data["keep_unmasked"]), int(data["feather"]), (w, h))

    def refs(self) -> dict[str, Any]:
        out: dict[str, Any] = {"images": [{"file_id": PLACEHOLDER + sha} for sha in self.images]}
        if self.mask is not None:
            out["mask"] = {"file_id": PLACEHOLDER + self.mask}
        return out

    def line_size(self, model: str, size: object) -> str:
        """The size a line asks for: `match` (the default with a mask) resolved for the first image, among the
        sizes a JSON edit takes (a batch line is one: `json_edit_rule`)."""
        if size in (None, MATCH) and (self.mask is not None or size == MATCH):
            return match_size(json_edit_rule(capabilities.caps_for(model).sizes), self.size)
        return str(size) if size is not None else "auto"


def take(axes: dict[str, Any], store: Store, model: str, backend: Backend) -> BatchEdit | None:
    """Pop an edit sweep's inputs from `axes`, check and keep them (nothing is sent); None for generations.
    An image or mask given by URL or file id is read first (its pixels size and hold every line's result)."""
    given = {k: axes.pop(k) for k in EDIT_KEYS if k in axes}
    if "image" not in given:
        if given:
            raise ValueError(f"{next(iter(given))}= needs image=: it belongs to an edit batch")
        return None
    for key in ("image", "mask"):
        if key in given and refs.has_refs(given[key]):
            given[key] = run_sync(refs.resolve(given[key], key, backend))[0]
    holding = Holding(bool(given.get("keep_unmasked", True)), int(given.get("feather", composite.DEFAULT_FEATHER)))
    request = lined_up_edit(given["image"], "check", given.get("mask"), None, model, None, {}, holding)
    for key in ("image", "mask"):
        for item in request.uploads(key):
            store.save_input(item[1])
    first = request.uploads("image")[0]
    info = capabilities.image_info(first[1])
    size = info[0] if info else (1024, 1024)
    masks = request.uploads("mask")
    return BatchEdit([images.sha256(i[1]) for i in request.uploads("image")],
                     images.sha256(masks[0][1]) if masks else None, holding.keep_unmasked, holding.feather, size)


BATCH_WINDOW_S = 24 * 3600
"""A batch may run this long (its `completion_window`): an input file must outlive it."""


async def bind(intent: Intent, part: Part, client: Any, backend: Backend, store_folder: Path) -> None:
    """Upload the inputs a part names (once per folder and server; again if the server no longer has them or
    they would expire during the batch) and write their ids into the part."""
    if intent.edit is None or part.bound:
        return
    edit = BatchEdit.from_json(intent.edit)
    known = file_ids.FileIds(store_folder, backend)
    for sha in [*edit.images, *([edit.mask] if edit.mask else [])]:
        if sha in intent.input_files:
            continue
        file_id = known.get(sha, margin_s=BATCH_WINDOW_S + file_ids.EXPIRY_MARGIN_S)
        if file_id is not None and not await file_ids.still_there(client, file_id):
            known.forget({file_id})  # deleted or expired at the server: every line naming it would fail
            file_id = None
        if file_id is None:
            kept = next(iter((store_folder / "inputs").glob(f"{sha}.*")), None)
            if kept is None:
                raise RuntimeError(f"input {sha[:12]}… of batch sweep {intent.run_id} is missing from "
                                   f"{store_folder / 'inputs'}; it cannot be uploaded")
            data = kept.read_bytes()
            file_id, expires = await file_ids.upload(client, kept.name, data, content_type(data))
            known.put(sha, file_id, expires)
        intent.input_files[sha] = file_id
        intent.save()
    path = intent.folder / part.path
    text = path.read_text(encoding="utf-8")
    for sha, file_id in intent.input_files.items():
        text = text.replace(PLACEHOLDER + sha, file_id)
    data = text.encode("utf-8")
    atomic_write(path, data)
    part.sha256, part.bytes, part.bound = hashlib.sha256(data).hexdigest(), len(data), True
    intent.save()


def finish_for(intent: Intent, store: Store) -> Finish | None:
    """The `Finish` every image of an edit batch gets on collection (None: saved as it came)."""
    if intent.edit is None:
        return None
    edit = BatchEdit.from_json(intent.edit)
    original = images.decode_image(_input(store, edit.images[0]))
    area = None
    if edit.mask is not None:
        area = composite.edit_area(images.decode_image(_input(store, edit.mask)).convert("RGBA"))
        if area.size != original.size:
            area = area.resize(original.size)
    if area is None:
        return None
    return Finish(original, (0, 0, *original.size), area if edit.keep_unmasked else None, edit.feather,
                  edit.keep_unmasked, masked=True)


def _input(store: Store, sha: str) -> bytes:
    path = next(iter((store.folder / "inputs").glob(f"{sha}.*")), None)
    if path is None:
        raise FileNotFoundError(f"input {sha} is not in {store.folder / 'inputs'}")
    return path.read_bytes()


__all__ = ["EDITS_URL", "BatchEdit", "bind", "finish_for", "take"]
