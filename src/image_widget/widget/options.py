"""The `options` trait's rules: every key present, and only choices the chosen model has.

Pure functions (no traits, threads or network), so the rules can be tested without a kernel. The
widget applies them whenever `options` changes (see `ImageWidget._options_changed`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from image_widget.facts import capabilities
from image_widget.facts.capabilities import caps_for
from image_widget.images.composite import MAX_FEATHER
from image_widget.images.geometry import MATCH, SIDES

Mode = Literal["generate", "edit", "variation", "expand"]
MODES: tuple[Mode, ...] = ("generate", "edit", "variation", "expand")
LINED_UP_MODES: tuple[Mode, ...] = ("edit", "expand")
"""Modes whose results line up with the first input: `size` may be "match" (and is, when they start)."""

#: The `options` trait with every key present. `size`/`quality` default to the cheapest priced choice.
DEFAULT_OPTIONS: dict[str, Any] = {
    "prompt": "",
    "mode": "generate",
    "model": capabilities.DEFAULT_MODEL,
    "size": "1024x1024",
    "quality": "low",
    "n": 1,
    "background": "auto",
    "output_format": "png",
    "output_compression": None,
    "moderation": "auto",
    "input_fidelity": None,
    "partial_images": 0,
    "keep_unmasked": True,
    "feather": 8,
    "detail": False,
    "expand": None,
}
OPTION_KEYS = tuple(DEFAULT_OPTIONS)
#: Options where an explicit None means "unset" rather than "use the default".
_NULLABLE = ("output_compression", "input_fidelity", "expand")


def models_for_picker(model: str | None = None, server: str | None = None) -> list[str]:
    """The chosen model, current models, models only the server lists, then the retired ones (legacy servers)."""
    from image_widget.facts.lifecycle import server_lifecycles

    current = [name for name in capabilities.MODELS if capabilities.caps_for(name, server).usable]
    listed = server_lifecycles(server) if server is not None else None
    only_server = sorted(name for name, life in (listed or {}).items()
                         if name not in capabilities.MODELS and life.status() != "shut down")
    names = [*current, *only_server, *(name for name in capabilities.MODELS if name not in current)]
    return names if model is None or model in names else [model, *names]


def model_labels(names: list[str], server: str | None = None) -> dict[str, dict[str, Any]]:
    """How the picker shows each model: its name, "(shuts down DATE)" once a date is announced, and for a
    shut-down one "(shut down DATE)", disabled — from the lifecycle data, so the page keeps no dates."""
    labels: dict[str, dict[str, Any]] = {}
    for name in names:
        life = capabilities.caps_for(name, server).lifecycle
        status = life.status()
        if status == "shut down":
            labels[name] = {"label": f"{name} (shut down {life.shutdown})", "retired": True}
        elif status == "deprecated":
            labels[name] = {"label": f"{name} (shuts down {life.shutdown})", "retired": False}
        else:
            labels[name] = {"label": name, "retired": False}
    return labels


def initial_options(given: Mapping[str, Any], server: str | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """`(options, capabilities)` for a new widget: the defaults fitted to the model, then what was given.

    What the caller passed explicitly is kept as is (even when the model lacks it), so `problems`
    reports it instead of the widget silently changing it.
    """
    explicit = {k: v for k, v in given.items() if v is not None or k in _NULLABLE}
    model = str(explicit.get("model") or capabilities.DEFAULT_MODEL)
    described = capabilities.describe(model, server)
    start = {"model": model, "mode": explicit.get("mode")}
    options = into_mode(merge_options(start), None, described["sizes"])
    return clamp_lined_up({**clamp_options(options, described), **explicit}), described


def into_mode(options: dict[str, Any], old_mode: object, sizes: Sequence[str]) -> dict[str, Any]:
    """Entering edit or expand from another mode picks `size="match"`: the result then lines up with the
    input (a 1536x1024 photo no longer comes back square). A size chosen within those modes stays;
    leaving them, "match" becomes 1024x1024 (or the model's first size), as other modes cannot match."""
    lined_up = options.get("mode") in LINED_UP_MODES
    if lined_up and old_mode not in LINED_UP_MODES:
        return {**options, "size": MATCH}
    if not lined_up and options.get("size") == MATCH:
        return {**options, "size": _first_available(("1024x1024", "auto"), sizes)}
    return options


PER_MODE = ("n",)
"""Options each mode keeps for itself: n=2 chosen for Generate must not make Expand pay for two images."""


class ModeMemory:
    """What each mode was last set to (`PER_MODE`): leaving a mode keeps its values, entering one brings its
    own back (the defaults the first time). A value changed in the same write as the mode is the person's
    choice for the new mode and is kept."""

    def __init__(self) -> None:
        self._kept: dict[str, dict[str, Any]] = {}

    def switch(self, new: Mapping[str, Any], old: Mapping[str, Any]) -> dict[str, Any]:
        if old.get("mode") is not None:
            self._kept[str(old["mode"])] = {key: old.get(key) for key in PER_MODE}
        kept = self._kept.get(str(new.get("mode")), {})
        out = dict(new)
        for key in PER_MODE:
            if new.get(key) == old.get(key):
                out[key] = kept.get(key, DEFAULT_OPTIONS[key])
        return out


def merge_options(options: Mapping[str, Any] | None, base: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Every option key present: `options` over `base` over the defaults; unknown keys are dropped."""
    merged = {**DEFAULT_OPTIONS, **(base or {})}
    for key, value in (options or {}).items():
        if key in DEFAULT_OPTIONS:
            merged[key] = value
    return merged


def _first_available(preferred: Sequence[str], allowed: Sequence[str]) -> str | None:
    for value in preferred:
        if value in allowed:
            return value
    return allowed[0] if allowed else None


def clamp_options(options: Mapping[str, Any], caps: Mapping[str, Any]) -> dict[str, Any]:
    """Reset options the model (described by `capabilities.describe`) lacks to sensible defaults.

    Used when the model changes, so switching models never leaves an impossible choice selected.
    """
    out = dict(options)
    model = str(caps.get("model") or out.get("model") or capabilities.DEFAULT_MODEL)
    rule = caps_for(model).sizes
    size = out.get("size")
    size_ok = isinstance(size, str) and (
        (size == MATCH and out.get("mode") in LINED_UP_MODES)
        or size in caps["sizes"]
        or (caps["custom_size"] and (wh := capabilities.parse_size(size)) is not None
            and not capabilities.custom_size_problem(wh[0], wh[1], rule)))
    if not size_ok:
        out["size"] = _first_available(("1024x1024", "auto"), caps["sizes"])
    if out.get("quality") not in caps["qualities"]:
        out["quality"] = _first_available(("low", "auto"), caps["qualities"])
    n = out.get("n")
    n_max = int(caps["n_max"])
    out["n"] = min(max(n, 1), n_max) if isinstance(n, int) and not isinstance(n, bool) else 1
    if out.get("output_format") not in caps["output_formats"]:
        out["output_format"] = _first_available(("png",), caps["output_formats"])
    backgrounds = caps["backgrounds"]
    if out.get("background") not in backgrounds:
        out["background"] = _first_available(("auto",), backgrounds)
    if out.get("background") == "transparent" and out.get("output_format") not in caps["transparent_formats"]:
        out["background"] = _first_available(("auto",), backgrounds)
    if out.get("output_format") not in caps["compressible_formats"]:
        out["output_compression"] = None
    if not caps["moderation"]:
        out["moderation"] = None
    elif out.get("moderation") is None:
        out["moderation"] = "auto"
    if out.get("input_fidelity") not in caps["input_fidelity"]:
        out["input_fidelity"] = None
    partial = out.get("partial_images")
    top = int(caps["max_partial_images"]) if caps["streaming"] else 0
    out["partial_images"] = min(max(partial, 0), top) if isinstance(partial, int) and not isinstance(
        partial, bool) else 0
    if out.get("mode") not in MODES:
        out["mode"] = "generate"
    return clamp_lined_up(out)


def clamp_lined_up(out: dict[str, Any]) -> dict[str, Any]:
    """keep_unmasked and detail are booleans, feather 0..64 px, expand None or whole pixels per side.

    Applied on every change (not only a new model's): the page writes these directly."""
    out = dict(out)
    for key in ("keep_unmasked", "detail"):
        if not isinstance(out.get(key), bool):
            out[key] = DEFAULT_OPTIONS[key]
    feather = out.get("feather")
    out["feather"] = min(max(round(feather), 0), MAX_FEATHER) if isinstance(feather, int | float) and not isinstance(
        feather, bool) and math.isfinite(feather) else DEFAULT_OPTIONS["feather"]
    sides = out.get("expand")
    if sides is not None:
        values = [sides.get(k) or 0 for k in SIDES] if isinstance(sides, Mapping) else []
        good = bool(values) and all(isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
                                    for v in values)
        # Pixels from a drag may arrive as floats: whole pixels, never negative.
        out["expand"] = {k: max(0, round(v)) for k, v in zip(SIDES, values, strict=True)} if good else None
    return out
