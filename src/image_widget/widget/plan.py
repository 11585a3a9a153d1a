"""What the current options would send, and what is wrong with it (the `problems` trait).

Pure functions: the widget shows exactly the problems the API call would raise, without sending.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from image_widget import capabilities
from image_widget.capabilities import Endpoint, FileTuple, Problem, caps_for
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
    """Mirror `api.avary`: the real variations endpoint only for a usable model that has it, else edit."""
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
    """`capabilities.validate` of the plan as the `problems` trait (see `problems_dict`)."""
    return problems_dict(capabilities.validate(plan.endpoint, plan.wire))


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
