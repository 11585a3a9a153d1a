"""What the current options would send, and what is wrong with it (the `problems` trait).

Pure functions: the widget shows exactly the problems the API call would raise, without sending.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from image_widget.facts import capabilities
from image_widget.facts.capabilities import KNOWN_PARAMS, Endpoint, FileTuple, Problem, caps_for
from image_widget.images.geometry import MATCH, check_sides, match_size
from image_widget.widget.options import MODES, Mode


@dataclass
class Plan:
    """What the current options would send: the validation view and the `api` call to make.

    `endpoint`/`wire` mirror what `api._run` validates (files as upload tuples, `stream` added), so
    the problems the widget shows are the ones the API call would raise. `call` names the api
    function (`generate`, `edit`, `vary`) and `kwargs` are its keyword options (files excluded).
    """

    mode: Mode
    endpoint: Endpoint
    wire: dict[str, Any]
    call: Literal["generate", "edit", "vary", "expand"]
    prompt: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    use_mask: bool = False
    use_markup: bool = False
    extra: list[Problem] = field(default_factory=list)
    """Problems of the widget's own options (detail, expand) that the API's validation cannot see."""


def _opt(options: Mapping[str, Any], key: str) -> Any:
    value = options.get(key)
    return None if value == "" else value


def plan_request(options: Mapping[str, Any], uploads: Sequence[FileTuple], mask_png: bytes | None,
                 markup_png: bytes | None = None) -> Plan:
    """The request the options make, given the input uploads, the painted mask and the drawn markup (PNG or None)."""
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
        plan = _plan_edit(options, common, prompt_text, uploads, mask_png, markup_png)
    elif mode == "expand":
        plan = _plan_expand(options, common, prompt_text, uploads)
    else:
        plan = _plan_variation(model, prompt_text, common, options, uploads)
    if streaming and plan.endpoint != "variation":
        plan.kwargs["partial_images"] = partial
    plan.kwargs = {k: v for k, v in plan.kwargs.items() if v is not None}
    plan.wire.update({k: v for k, v in plan.kwargs.items() if k in KNOWN_PARAMS[plan.endpoint] and k != "size"})
    if "size" in plan.kwargs and "size" not in plan.wire:
        plan.wire["size"] = plan.kwargs["size"]
    if plan.wire.get("size", "") is None:
        del plan.wire["size"]
    if "partial_images" in plan.kwargs:
        plan.wire["stream"] = True
    return plan


def _first_size(uploads: Sequence[FileTuple]) -> tuple[int, int] | None:
    info = capabilities.image_info(uploads[0][1]) if uploads else None
    return info[0] if info is not None else None


def _sent_size(size: object, model: str, shape: tuple[int, int] | None) -> object:
    """`match` as the size it resolves to for `shape` (what the API will see); other sizes as they are."""
    if size != MATCH:
        return size
    return match_size(caps_for(model).sizes, shape) if shape is not None else None


def _plan_edit(options: Mapping[str, Any], common: dict[str, Any], prompt: str, uploads: Sequence[FileTuple],
               mask_png: bytes | None, markup_png: bytes | None) -> Plan:
    """An edit: the mask holds the unmasked pixels (keep_unmasked, feather, detail); markup goes only
    where the model takes it — with a mask too, validation names both (the API refuses the pair)."""
    kwargs = {**common, "input_fidelity": _opt(options, "input_fidelity")}
    wire: dict[str, Any] = {"prompt": options.get("prompt"), "image": list(uploads),
                            "size": _sent_size(common["size"], common["model"], _first_size(uploads))}
    use_mask = bool(mask_png) and bool(uploads)
    use_markup = bool(markup_png) and bool(uploads)
    extra: list[Problem] = []
    if use_mask and mask_png is not None:
        wire["mask"] = ("mask.png", mask_png, "image/png")
        kwargs.update(keep_unmasked=options.get("keep_unmasked"), feather=options.get("feather"),
                      detail=options.get("detail"))
    elif options.get("detail") is True:
        extra.append(Problem("detail", "detail=True needs a mask: the detail box is cropped around the masked area",
                             "Detail needs a painted mask — paint the area to edit"))
    if use_markup and markup_png is not None:
        wire["markup"] = ("markup.png", markup_png, "image/png")
    return Plan("edit", "edit", wire, "edit", prompt, kwargs, use_mask, use_markup, extra)


def _plan_expand(options: Mapping[str, Any], common: dict[str, Any], prompt: str,
                 uploads: Sequence[FileTuple]) -> Plan:
    """Expand: the first input on a larger canvas (options.expand: pixels per side)."""
    kwargs = {**common, "input_fidelity": _opt(options, "input_fidelity"), "feather": options.get("feather")}
    sides = options.get("expand")
    extra: list[Problem] = []
    try:
        added = check_sides(dict(sides) if isinstance(sides, Mapping) else {})
    except ValueError as exc:
        added = None
        extra.append(Problem("expand", f"expand: {exc}", "Expand needs new canvas on at least one side — drag an "
                                                        "edge of the image or pick an aspect"))
    first = _first_size(uploads)
    shape = added.canvas(first) if added is not None and first is not None else first
    wire: dict[str, Any] = {"prompt": options.get("prompt"), "image": list(uploads[:1]),
                            "size": _sent_size(common["size"], common["model"], shape)}
    if added is not None:
        kwargs.update(added.as_dict())
    return Plan("expand", "edit", wire, "expand", prompt, kwargs, extra=extra)


def _plan_variation(model: str, prompt: str, common: dict[str, Any], options: Mapping[str, Any],
                    uploads: Sequence[FileTuple]) -> Plan:
    """Mirror `api.avary`: the real variations endpoint only for a usable model that has it, else edit."""
    caps = caps_for(model)
    first = list(uploads[:1])
    if "variation" in caps.endpoints and caps.usable and caps.known:
        kwargs = {"model": model, "size": common["size"], "n": common["n"]}
        return Plan("variation", "variation", {"image": first[0] if first else None}, "vary", prompt, kwargs)
    from image_widget.base.records import VARIATION_PROMPT

    kwargs = {**common, "input_fidelity": _opt(options, "input_fidelity")}
    wire = {"prompt": prompt.strip() or VARIATION_PROMPT, "image": first}
    return Plan("variation", "edit", wire, "vary", prompt, kwargs)


def validate_plan(plan: Plan) -> list[Problem]:
    """Every problem of the plan: the API's validation of what would be sent, then the widget's own."""
    return [*capabilities.validate(plan.endpoint, plan.wire), *plan.extra]


def problems_of(plan: Plan) -> dict[str, str]:
    """`validate_plan` as the `problems` trait (see `problems_dict`)."""
    return problems_dict(validate_plan(plan))


def problems_dict(problems: Sequence[Problem]) -> dict[str, str]:
    """{parameter: sentence} in the widget's words (`Problem.person`), for every parameter involved.

    A problem that involves several controls (`Problem.also`) is listed under each of them with the same
    sentence, its own parameter first; the page shows it once and marks every control. Several
    sentences for one name are joined with "; ".
    """
    out: dict[str, str] = {}
    for problem in problems:
        for param in (problem.param, *problem.also):
            said = out.get(param)
            if said is None:
                out[param] = problem.person
            elif problem.person not in said.split("; "):
                out[param] = f"{said}; {problem.person}"
    return out
