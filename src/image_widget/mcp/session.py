"""What one MCP server session knows: where images go, which files it may read, the backend, the budget.

The tools (`tools.py`) ask it for inputs (`inputs`, `mask`) and for permission to spend (`reserve`), so
the rules for paths and money live here once and every tool obeys them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image

from image_widget.base.errors import APIRequestError
from image_widget.client.backend import Backend, resolve_backend
from image_widget.facts import cost as pricing
from image_widget.mcp.paths import AllowedRoots, PathRefused, as_list, too_broad
from image_widget.store import Store
from image_widget.store.layout import is_image_id

EMULATOR_SAYS = ("Offline emulator: no OPENAI_API_KEY was set, so the images are synthetic and nothing is "
                 "billed. Set OPENAI_API_KEY for the server to use OpenAI.")


class BudgetRefused(ValueError):
    """The request's estimate would take the session over `--max-cost` (or cannot be known); nothing was sent."""


@dataclass
class Budget:
    """What this session may spend (`limit`, USD; None = no cap) and has committed so far.

    An estimate is reserved before a request is sent and replaced by the actual cost when it is known,
    so two calls at once cannot both slip under the cap. A failed request keeps its reservation: a
    request that reached the API may have been billed.
    """

    limit: float | None = None
    committed: float = 0.0
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)

    async def reserve(self, estimate: pricing.Cost) -> float:
        """Reserve `estimate`, or raise `BudgetRefused` saying what is left."""
        async with self._lock:
            if self.limit is None:
                amount = estimate.usd or 0.0
            elif estimate.usd is None:
                raise BudgetRefused(f"max_cost: the server's budget is ${self.limit:.2f}, and the cost of this request "
                                    f"cannot be estimated ({estimate.note}); nothing was sent. Pick a model with "
                                    "published prices, e.g. gpt-image-2")
            else:
                amount = estimate.usd
                if self.committed + amount > self.limit + 1e-12:
                    raise BudgetRefused(
                        f"max_cost: this request is estimated at {estimate.text}, and this session has already "
                        f"spent {pricing.format_usd(self.committed)} of its "
                        f"{pricing.format_usd(self.limit)} budget (--max-cost); nothing was sent. Ask for fewer "
                        "images, a lower quality or a smaller size")
            self.committed += amount
            return amount

    async def settle(self, reserved: float, actual: pricing.Cost) -> None:
        """Swap a reservation for the actual cost when that is known."""
        if actual.usd is not None:
            async with self._lock:
                self.committed += actual.usd - reserved

    async def release_if_refused(self, reserved: float, exc: BaseException) -> None:
        """Give a reservation back when the server refused the request before any work (a 4xx answer with
        nothing saved): that request was never billed. Anything else may have been, and stays counted."""
        if isinstance(exc, APIRequestError) and exc.status is not None and 400 <= exc.status < 500 and not exc.saved:
            await self.settle(reserved, pricing.Cost.of(0.0))

    def describe(self) -> dict[str, Any]:
        left = None if self.limit is None else max(self.limit - self.committed, 0.0)
        return {"max_cost_usd": self.limit, "spent_usd": round(self.committed, 6),
                "left_usd": None if left is None else round(left, 6)}


@dataclass
class Session:
    """One server run: its store, allowed roots, backend and budget."""

    store: Store
    roots: AllowedRoots
    backend: Backend
    budget: Budget
    run_options: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    """What the person starting the server should know (printed to stderr at start): e.g. that the working
    folder was not made a root."""

    @classmethod
    def start(cls, folder: str | None, allow_dirs: Sequence[str], max_cost: float | None,
              working: Path | None = None) -> Session:
        store = Store(folder)
        working = working or Path.cwd()
        why = too_broad(working)
        roots = AllowedRoots.of(working, store.folder, allow_dirs, working_is_root=why is None)
        notes = []
        if why is not None and working.resolve() not in roots.roots:  # not given as an --allow-dir either
            notes.append(f"image-widget mcp: the working folder {working} was not added to the folders input "
                         f"images may be read from: {why}, so every image under it would be readable. Input "
                         f"images may come from {', '.join(roots.describe())}; add folders with --allow-dir "
                         f"(--allow-dir {working} allows this one)")
        backend = resolve_backend()
        return cls(store, roots, backend, Budget(max_cost), notes=notes)

    def about(self) -> dict[str, Any]:
        """What every tool result carries: the backend (never the key), the store, the budget."""
        about: dict[str, Any] = {"backend": self.backend.label, "synthetic": self.backend.synthetic,
                                 "folder": str(self.store.folder), "budget": self.budget.describe()}
        if self.backend.synthetic:
            about["notice"] = EMULATOR_SAYS
        return about

    def scrub(self, text: str) -> str:
        return self.backend.scrub(text)

    # -- inputs

    def input_path(self, item: str, param: str) -> Path:
        """An image id from the store's history, else a file under the allowed roots."""
        if isinstance(item, str) and is_image_id(item) and "." not in item:
            try:
                return self.store.load(item).path
            except KeyError:
                pass
        return self.roots.resolve(item, param)

    def inputs(self, image: str | Sequence[str]) -> list[bytes]:
        items = as_list(image)
        if not items:
            raise PathRefused("image: give at least one file path or image id")
        out: list[bytes] = []
        for index, item in enumerate(items):
            param = "image" if len(items) == 1 else f"image[{index}]"
            out.append(self.roots.read(str(self.input_path(item, param)), param))  # ids too: the store is a root
        return out

    def mask(self, mask: str | Mapping[str, Any], first: bytes) -> bytes | Image.Image:
        """A mask file (alpha 0 or white = edit), or a rectangle {x, y, width, height} in the first image's
        pixels made into a mask (white = edit)."""
        if isinstance(mask, str):
            return self.roots.read(mask, "mask")
        import io

        with Image.open(io.BytesIO(first)) as img:
            w, h = img.size
        rect = {}
        for key in ("x", "y", "width", "height"):
            value = mask.get(key)
            if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
                raise ValueError(f"mask: a rectangle needs whole numbers x, y, width, height; {key}={value!r}")
            rect[key] = int(value)
        x, y, rw, rh = rect["x"], rect["y"], rect["width"], rect["height"]
        if x < 0 or y < 0 or rw < 1 or rh < 1 or x + rw > w or y + rh > h:
            raise ValueError(f"mask: the rectangle x={x}, y={y}, width={rw}, height={rh} must lie inside the "
                             f"first image, which is {w}x{h} pixels")
        area = Image.new("L", (w, h), 0)
        area.paste(255, (x, y, x + rw, y + rh))
        return area
