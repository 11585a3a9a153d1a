"""What each Images API model accepts, as data: one `ModelCaps` row per model, and the lookup.

Validation (`validation.py`), the widget's enabled options (`capabilities.describe`) and the emulator's
checks all read this table, so a rule lives in exactly one place. Values come from the installed openai
SDK's `openai/types/image_*.py` (see ../shared/API-NOTES.md). An unknown model name (a custom server)
gets the permissive profile.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

from image_widget.base.formats import MB
from image_widget.facts.lifecycle import Lifecycle, Status, lifecycle_of, server_lifecycles

Endpoint = Literal["generate", "edit", "variation"]

ENDPOINTS: tuple[Endpoint, ...] = ("generate", "edit", "variation")
STANDARD_SIZES = ("1024x1024", "1536x1024", "1024x1536")
GPT_QUALITIES = ("low", "medium", "high", "auto")
GPT_FORMATS = ("png", "webp", "jpeg", "gif", "svg")
BACKGROUNDS = ("transparent", "opaque", "auto")
COMPLEXITIES = ("low", "medium", "high")
MODERATIONS = ("low", "auto")
SVG_EFFORTS = ("none", "minimal", "low", "medium", "high", "xhigh", "max")
INPUT_FORMATS = ("png", "webp", "jpeg")
TRANSPARENT_FORMATS = ("png", "webp")
IMAGE_URL_MAX = 20_971_520
"""`ImageRefParam.image_url.maxLength` in OpenAI's description (a data URL of ~15 MB of image at most)."""
COMPRESSIBLE_FORMATS = ("webp", "jpeg")

JSON_EDIT_SIZES = ("auto", *STANDARD_SIZES)
"""The sizes a JSON edit takes (OpenAI's description, `EditImageBodyJsonParam.size`: an enum, where the multipart
form takes any WxH): a custom size goes as multipart, and a Batch API edit (JSON lines) matches within these."""


def json_edit_rule(rule: SizeRule) -> SizeRule:
    """`rule` as a JSON edit allows it: its listed sizes that the JSON form takes, no custom ones."""
    return replace(rule, fixed=tuple(s for s in rule.fixed if s in JSON_EDIT_SIZES), custom=False)

#: Every request field the API knows, per endpoint. Anything else is rejected.
_COMMON = ("prompt", "model", "n", "size", "quality", "background", "output_format", "output_compression",
           "partial_images", "stream", "frame_count", "frame_duration_ms", "svg", "complexity",
           "safety_identifier", "user", "response_format")
KNOWN_PARAMS: dict[Endpoint, frozenset[str]] = {
    "generate": frozenset((*_COMMON, "moderation", "style")),
    "edit": frozenset((*_COMMON, "image", "input_fidelity", "mask", "markup")),
    "variation": frozenset(("image", "model", "n", "size", "response_format", "user")),
}


@dataclass(frozen=True)
class SizeRule:
    """Sizes a model takes: a fixed list, and optionally any WxH within limits."""

    fixed: tuple[str, ...] = ("auto", *STANDARD_SIZES)
    custom: bool = False
    multiple_of: int = 16
    max_edge: int = 3840
    max_pixels: int = 3840 * 2160
    min_pixels: int = 0
    max_aspect: float = 3.0
    experimental_above_pixels: int = 2560 * 1440


@dataclass(frozen=True)
class ModelCaps:
    """One model's capabilities. `describe()` turns this into JSON for the widget."""

    name: str
    note: str = ""
    previews: tuple[tuple[str, str], ...] = ()
    """(parameter, value) pairs OpenAI calls a preview for this model, e.g. ("background", "transparent"):
    shown next to that control when the value is chosen, not as a standing note."""
    lifecycle: Lifecycle = field(default_factory=Lifecycle)
    """Announced dates (see `lifecycle.py`); filled in from the lifecycle table by `caps_for`."""
    endpoints: frozenset[Endpoint] = frozenset({"generate", "edit"})
    sizes: SizeRule = field(default_factory=SizeRule)
    qualities: tuple[str, ...] = GPT_QUALITIES
    output_formats: tuple[str, ...] = GPT_FORMATS
    backgrounds: tuple[str, ...] = BACKGROUNDS
    n_max: int = 10
    prompt_max: int = 32_000
    max_input_images: int = 16
    input_image_max_bytes: int = 50 * MB
    input_formats: tuple[str, ...] = INPUT_FORMATS
    mask: bool = True
    mask_max_bytes: int = 4 * MB
    markup: bool = False
    input_fidelity: tuple[str, ...] = ()
    moderation: bool = True
    streaming: bool = True
    max_partial_images: int = 3
    gif: bool = True
    svg: bool = True
    complexity: bool = True
    legacy_params: bool = False
    """Takes DALL·E-era `response_format` / `style` (legacy servers only)."""
    square_variation_input: bool = False
    """The legacy variations endpoint wants a square image."""
    known: bool = True

    @property
    def status(self) -> Status:
        """current / deprecated / shut down, as of today (computed, never stored)."""
        return self.lifecycle.status()

    @property
    def usable(self) -> bool:
        return self.status != "shut down"

    @property
    def replacement(self) -> str | None:
        return self.lifecycle.replacement


_GPT = ModelCaps(name="gpt-image")
_CUSTOM_SIZES = SizeRule(custom=True)


def _dalle(name: str, endpoints: frozenset[Endpoint], sizes: tuple[str, ...], qualities: tuple[str, ...],
           n_max: int, prompt_max: int) -> ModelCaps:
    """A retired DALL·E row: kept so errors can name the replacement and legacy servers still work."""
    return ModelCaps(
        name=name, endpoints=endpoints,
        sizes=SizeRule(fixed=sizes), qualities=qualities, output_formats=("png",), backgrounds=(),
        n_max=n_max, prompt_max=prompt_max, max_input_images=1, input_image_max_bytes=4 * MB,
        input_formats=("png",), moderation=False, streaming=False, max_partial_images=0, gif=False,
        svg=False, complexity=False, legacy_params=True, square_variation_input="variation" in endpoints,
    )


def _build_table() -> dict[str, ModelCaps]:
    rows: list[ModelCaps] = [
        replace(_GPT, name="gpt-image-1.5", input_fidelity=("high", "low")),
        # OpenAI's API description (ImageGenTool.background, CreateImageRequest.background): "For
        # gpt-image-2 and gpt-image-2-2026-04-21, this support is in preview."
        replace(_GPT, name="gpt-image-2", sizes=_CUSTOM_SIZES, previews=(("background", "transparent"),)),
        replace(_GPT, name="gpt-image-2.5-sunburst", sizes=_CUSTOM_SIZES, markup=True,
                qualities=(*GPT_QUALITIES, "xhigh", "max")),
        replace(_GPT, name="gpt-image-2.5-flare", sizes=_CUSTOM_SIZES, markup=True,
                qualities=(*GPT_QUALITIES, "xhigh", "max")),
        replace(_GPT, name="gpt-image-2.6-sunburst"),
        replace(_GPT, name="gpt-image-2.6-flare"),
        replace(_GPT, name="gpt-image-1-mini", input_fidelity=("low",)),
        replace(_GPT, name="chatgpt-image-latest"),
        replace(_GPT, name="gpt-image-1"),
        _dalle("dall-e-2", frozenset(ENDPOINTS), ("256x256", "512x512", "1024x1024"), ("standard",), 10, 1000),
        _dalle("dall-e-3", frozenset({"generate"}), ("1024x1024", "1792x1024", "1024x1792"),
               ("standard", "hd"), 1, 4000),
    ]
    table = {row.name: row for row in rows}
    for snapshot, base in SNAPSHOTS.items():
        table[snapshot] = replace(table[base], name=snapshot)
    return {name: replace(row, lifecycle=lifecycle_of(name)) for name, row in table.items()}


#: Dated snapshots share their base model's rules.
SNAPSHOTS: dict[str, str] = {
    "gpt-image-2-2026-04-21": "gpt-image-2",
    "gpt-image-2.5-sunburst-2026-09-08": "gpt-image-2.5-sunburst",
    "gpt-image-2.5-flare-2026-09-08": "gpt-image-2.5-flare",
    "gpt-image-1.5-2025-12-16": "gpt-image-1.5",
}
MODELS: dict[str, ModelCaps] = _build_table()
DEFAULT_MODEL = "gpt-image-2"
"""A current model with no announced shutdown (see the README's "Models and dates" for why this one)."""

#: Rules for a model name we do not know (a custom OpenAI-compatible server): let the server decide.
PERMISSIVE = ModelCaps(
    name="(unknown)",
    note="unknown model: only basic checks are applied",
    endpoints=frozenset(ENDPOINTS),
    sizes=SizeRule(custom=True, multiple_of=1, max_edge=16384, max_pixels=16384 * 16384, max_aspect=1e9),
    qualities=(*GPT_QUALITIES, "xhigh", "max", "standard", "hd"),
    markup=True,
    input_fidelity=("high", "low"),
    legacy_params=True,
    known=False,
)


LISTED_BY_SERVER_NOTE = "listed by the server but not in image_widget's table: only basic checks are applied"


def caps_for(model: str, server: str | None = None) -> ModelCaps:
    """The capabilities of `model`; the permissive profile for names not in the table.

    `server` (a backend's cache identity) applies what that server's `GET /v1/models` said about the
    model's dates, when it was read (see `image_widget.client.models`).
    """
    found = MODELS.get(model)
    if found is None:
        found = replace(PERMISSIVE, name=model)
        if server is not None and model in (server_lifecycles(server) or {}):
            found = replace(found, note=LISTED_BY_SERVER_NOTE)
    if server is None:
        return found
    return replace(found, lifecycle=lifecycle_of(model, server))


def current_models() -> list[str]:
    """Models that can be used today, in table order (snapshots included)."""
    return [name for name, caps in MODELS.items() if caps.usable]
