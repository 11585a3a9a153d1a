"""Pure functions that build the widget's trait payloads (see docs/PROTOCOL.md).

Kept apart from `widget.py` so the rules — which options a model keeps, what request the options
make, the code string that reproduces a run, the error banner — can be tested without a kernel.
Nothing here touches traits, threads or the network.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypedDict

from image_widget import capabilities
from image_widget.capabilities import Endpoint, FileTuple, Problem, caps_for
from image_widget.errors import APIRequestError, banner_text, scrub

Mode = Literal["generate", "edit", "variation"]
MODES: tuple[Mode, ...] = ("generate", "edit", "variation")
HISTORY_RUNS = 30
"""How many runs the `history` trait keeps, so a saved notebook stays small."""
HISTORY_THUMB_PX = 96
RESULT_THUMB_PX = 160
PREVIEW_PX = 512

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
}
OPTION_KEYS = tuple(DEFAULT_OPTIONS)


class ErrorBanner(TypedDict):
    title: str
    message: str
    hint: str
    code: str | None
    status: int | None


class Notice(TypedDict):
    type: Literal["notice"]
    level: Literal["info", "warning"]
    message: str


def notice(message: str, level: Literal["info", "warning"] = "info") -> Notice:
    return {"type": "notice", "level": level, "message": message}


# --------------------------------------------------------------------------------------------- options


def models_for_picker(model: str | None = None, server: str | None = None) -> list[str]:
    """The chosen model, current models, models only the server lists, then the retired ones (legacy servers)."""
    from image_widget.lifecycle import server_lifecycles

    current = [name for name in capabilities.MODELS if capabilities.caps_for(name, server).usable]
    listed = server_lifecycles(server) if server is not None else None
    only_server = sorted(name for name, life in (listed or {}).items()
                         if name not in capabilities.MODELS and life.status() != "shut down")
    names = [*current, *only_server, *(name for name in capabilities.MODELS if name not in current)]
    return names if model is None or model in names else [model, *names]


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
        size in caps["sizes"]
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
    return out


# --------------------------------------------------------------------------------------------- requests


@dataclass
class Plan:
    """What the current options would send: the validation view and the `api` call to make.

    `endpoint`/`wire` mirror what `client.request.run` validates (files as upload tuples, `stream` added), so
    the problems the widget shows are the ones the API call would raise. `call` names the api
    function (`generate`, `edit`, `vary`) and `kwargs` are its keyword options (files excluded).
    """

    mode: Mode
    endpoint: Endpoint
    wire: dict[str, Any]
    call: Literal["generate", "edit", "vary"]
    prompt: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    use_mask: bool = False


def _opt(options: Mapping[str, Any], key: str) -> Any:
    value = options.get(key)
    return None if value == "" else value


def plan_request(options: Mapping[str, Any], uploads: Sequence[FileTuple], mask_png: bytes | None) -> Plan:
    """The request the options make, given the input uploads and the painted mask (PNG or None)."""
    mode = options.get("mode") if options.get("mode") in MODES else "generate"
    model = options.get("model") or capabilities.DEFAULT_MODEL
    prompt = options.get("prompt")
    prompt_text = prompt if isinstance(prompt, str) else ""
    partial = options.get("partial_images")
    streaming = isinstance(partial, int) and not isinstance(partial, bool) and partial > 0
    common: dict[str, Any] = {"model": model, "size": _opt(options, "size"), "quality": _opt(options, "quality"),
                              "n": options.get("n"), "background": _opt(options, "background"),
                              "output_format": _opt(options, "output_format"),
                              "output_compression": options.get("output_compression")}
    if mode == "generate":
        kwargs = {**common, "moderation": _opt(options, "moderation")}
        plan = Plan("generate", "generate", {"prompt": prompt}, "generate", prompt_text, kwargs)
    elif mode == "edit":
        kwargs = {**common, "input_fidelity": _opt(options, "input_fidelity")}
        wire: dict[str, Any] = {"prompt": prompt, "image": list(uploads)}
        use_mask = bool(mask_png) and bool(uploads)
        if use_mask and mask_png is not None:
            wire["mask"] = ("mask.png", mask_png, "image/png")
        plan = Plan("edit", "edit", wire, "edit", prompt_text, kwargs, use_mask)
    else:
        plan = _plan_variation(model, prompt_text, common, options, uploads)
    if streaming and plan.endpoint != "variation":
        plan.kwargs["partial_images"] = partial
    plan.kwargs = {k: v for k, v in plan.kwargs.items() if v is not None}
    plan.wire.update(plan.kwargs)
    if "partial_images" in plan.kwargs:
        plan.wire["stream"] = True
    return plan


def _plan_variation(model: str, prompt: str, common: dict[str, Any], options: Mapping[str, Any],
                    uploads: Sequence[FileTuple]) -> Plan:
    """Mirror `client.api.avary`: the real variations endpoint only for a usable model that has it, else edit."""
    caps = caps_for(model)
    first = list(uploads[:1])
    if "variation" in caps.endpoints and caps.usable and caps.known:
        kwargs = {"model": model, "size": common["size"], "n": common["n"]}
        return Plan("variation", "variation", {"image": first[0] if first else None}, "vary", prompt, kwargs)
    from image_widget.records import VARIATION_PROMPT

    kwargs = {**common, "input_fidelity": _opt(options, "input_fidelity")}
    wire = {"prompt": prompt.strip() or VARIATION_PROMPT, "image": first}
    return Plan("variation", "edit", wire, "vary", prompt, kwargs)


def problems_of(plan: Plan) -> dict[str, str]:
    """`capabilities.validate` of the plan as {parameter: message}; several for one name are joined."""
    return problems_dict(capabilities.validate(plan.endpoint, plan.wire))


def problems_dict(problems: Sequence[Problem]) -> dict[str, str]:
    out: dict[str, str] = {}
    for problem in problems:
        out[problem.param] = f"{out[problem.param]}; {problem.message}" if problem.param in out \
            else problem.message
    return out


# --------------------------------------------------------------------------------------------- payloads


def _money(usd: float | None) -> str:
    from image_widget.cost import format_usd

    return "unknown" if usd is None else format_usd(usd)


def result_item(record: Mapping[str, Any], thumb: bytes, code: str) -> dict[str, Any]:
    """One entry of the `results` trait, from a stored image's record."""
    params: Mapping[str, Any] = record.get("params") or {}
    response: Mapping[str, Any] = record.get("response") or {}
    per_image = record.get("cost_usd")  # records carry each image's share of the run's cost
    return {
        "id": str(record.get("id", "")),
        "width": record.get("width"),
        "height": record.get("height"),
        "format": record.get("format"),
        "thumb": thumb,
        "prompt": record.get("prompt") or "",
        "model": record.get("model") or "",
        "size": response.get("size") or params.get("size") or "",
        "quality": response.get("quality") or params.get("quality") or "",
        "cost_text": _money(per_image),
        "code": code,
    }


#: Record fields compared besides `params`, first in the differences list. `size` and `quality` fall
#: back to what the response reported when the request left them to the API.
COMPARE_FIELDS = ("prompt", "model", "endpoint", "size", "quality")
_MISSING = object()


def _compare_value(record: Mapping[str, Any], key: str) -> Any:
    params: Mapping[str, Any] = record.get("params") or {}
    if key in ("prompt", "model", "endpoint"):
        value = record.get(key, _MISSING)
        return params.get(key, _MISSING) if value is _MISSING else value
    if key in params:
        return params[key]
    if key in ("size", "quality"):
        response: Mapping[str, Any] = record.get("response") or {}
        return response.get(key, _MISSING)
    return _MISSING


def compare_records(a: Mapping[str, Any], b: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The parameters two stored images differ in: `[{param, a, b}]`, for the compare view.

    Looks at every key of either record's `params` plus prompt/model/endpoint/size/quality; a key
    only one side has is a difference, with `None` (JSON null) for the side that lacks it. Fixed
    fields come first, then params keys in the order they appear (A's, then B's).
    """
    params_a: Mapping[str, Any] = a.get("params") or {}
    params_b: Mapping[str, Any] = b.get("params") or {}
    keys = list(dict.fromkeys([*COMPARE_FIELDS, *params_a, *params_b]))
    out: list[dict[str, Any]] = []
    for key in keys:
        va, vb = _compare_value(a, key), _compare_value(b, key)
        if va is _MISSING and vb is _MISSING:
            continue
        if va is _MISSING or vb is _MISSING or va != vb or isinstance(va, bool) != isinstance(vb, bool):
            out.append({"param": key, "a": None if va is _MISSING else va, "b": None if vb is _MISSING else vb})
    return out


def compare_item(record: Mapping[str, Any]) -> dict[str, Any]:
    """One entry of a `compare` reply's `items`: what the compare view shows under an image."""
    return {
        "id": str(record.get("id", "")),
        "prompt": record.get("prompt") or "",
        "model": record.get("model") or "",
        "params": dict(record.get("params") or {}),
        "created": str(record.get("created") or ""),
        "cost_text": _money(record.get("cost_usd")),
        "width": record.get("width"),
        "height": record.get("height"),
    }


def history_run(records: Sequence[Mapping[str, Any]], thumbs: Sequence[bytes]) -> dict[str, Any]:
    """One entry of the `history` trait: a run and one small thumb per image."""
    first = records[0] if records else {}
    return {
        "run_id": str(first.get("run_id", "")),
        "prompt": first.get("prompt") or "",
        "created": str(first.get("created") or ""),
        "model": first.get("model") or "",
        "items": [{"id": str(r.get("id", "")), "thumb": t} for r, t in zip(records, thumbs, strict=True)],
    }


def merge_history(new: Sequence[dict[str, Any]], old: Sequence[dict[str, Any]],
                  limit: int = HISTORY_RUNS) -> list[dict[str, Any]]:
    """`new` runs before `old` ones (both newest first), each run once, at most `limit`."""
    seen: set[str] = set()
    merged: list[dict[str, Any]] = []
    for run in [*new, *old]:
        if run["run_id"] in seen:
            continue
        seen.add(run["run_id"])
        merged.append(run)
    return merged[:limit]


def cost_payload(estimate: Any, last: Any, session: Any, *, synthetic: bool) -> dict[str, Any]:
    """The `cost` trait from `cost.Cost` values (None = no run yet). Unknown stays `null`, never guessed."""
    suffix = " (emulator: nothing billed)" if synthetic else ""
    return {
        "estimate_text": estimate.text if estimate is not None else "unknown",
        "estimate_usd": estimate.usd if estimate is not None else None,
        "last_text": (last.text + suffix) if last is not None else "",
        "last_usd": last.usd if last is not None else None,
        "session_text": (session.text + suffix) if session is not None else "$0.000",
        "session_usd": session.usd if session is not None else 0.0,
    }


# --------------------------------------------------------------------------------------------- errors


def error_banner(exc: BaseException, secrets: Sequence[str | None] = ()) -> ErrorBanner:
    """The `error` trait for an exception: a title, what happened, and what to do next. Never a key.

    API failures read their title and next step from `errors.ADVICE` (via `errors.banner_text`).
    """
    from image_widget.images import ImageInputError
    from image_widget.store import StoreError

    if isinstance(exc, capabilities.ValidationError):
        banner = ErrorBanner(title="Not sent — fix the options", message=str(exc),
                             hint="Fix the options marked in the form; nothing was sent to the API.",
                             code="invalid_options", status=None)
    elif isinstance(exc, APIRequestError):
        title, message, hint = banner_text(exc)
        banner = ErrorBanner(title=title, message=message, hint=hint, code=exc.code or exc.kind or None,
                             status=exc.status)
    elif isinstance(exc, ImageInputError):
        banner = ErrorBanner(title="Unusable input image", message=str(exc),
                             hint="Use a PNG, JPEG or WebP image (under 50 MB); nothing was sent.",
                             code="invalid_image", status=None)
    elif isinstance(exc, StoreError):
        banner = ErrorBanner(title="Could not save the image", message=str(exc),
                             hint="Pass folder=... to ImageWidget (or set IMAGE_WIDGET_DIR) to a writable "
                                  "folder.", code="store_error", status=None)
    else:
        banner = ErrorBanner(title="Unexpected error", message=f"{type(exc).__name__}: {exc}",
                             hint="This is likely a bug in image_widget; the traceback is in the kernel log.",
                             code=type(exc).__name__, status=None)
    banner["title"] = scrub(banner["title"], secrets)
    banner["message"] = scrub(banner["message"], secrets)
    banner["hint"] = scrub(banner["hint"], secrets)
    return banner
