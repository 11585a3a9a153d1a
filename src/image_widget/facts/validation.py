"""Check a request against its model's row before anything is sent, and say every problem at once.

A person fixing a request wants all of its problems in one go, each naming the parameter and what is
allowed, so `validate` collects instead of raising on the first. The rules are read from the table
(`facts/table.py`); nothing here names a model.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeGuard

from image_widget.base.formats import MB, FileTuple, image_info, sniff_format
from image_widget.base.wording import MODE_NAMES, either, fmt_name, formats_text, images_text, value_text
from image_widget.base.wording import label as option_label
from image_widget.facts.table import (
    COMPLEXITIES,
    COMPRESSIBLE_FORMATS,
    DEFAULT_MODEL,
    ENDPOINTS,
    KNOWN_PARAMS,
    MODELS,
    MODERATIONS,
    SVG_EFFORTS,
    TRANSPARENT_FORMATS,
    Endpoint,
    ModelCaps,
    SizeRule,
    caps_for,
)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a request: the parameter it concerns and a sentence a person can act on.

    `message` is the exact text errors carry (`ValidationError`); `text` says it in the words of the
    widget's controls when it differs, and `also` names the other parameters involved (a transparent
    background is as much the format's problem as the background's).
    """

    param: str
    message: str
    text: str = ""
    also: tuple[str, ...] = ()

    def __str__(self) -> str:
        return self.message

    @property
    def person(self) -> str:
        """The sentence for a person: `text`, else `message`."""
        return self.text or self.message


class ValidationError(ValueError):
    """Raised before any request is sent; carries every problem found, not just the first."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(p.message for p in self.problems))

    @property
    def params(self) -> list[str]:
        return [p.param for p in self.problems]


_SIZE_RE = re.compile(r"^([1-9][0-9]{0,5})x([1-9][0-9]{0,5})$")


def parse_size(size: str) -> tuple[int, int] | None:
    """`"1536x1024"` → (1536, 1024); None for `auto` or anything malformed."""
    match = _SIZE_RE.match(size)
    return (int(match.group(1)), int(match.group(2))) if match else None


def _fmt(values: Sequence[str]) -> str:
    return ", ".join(values) if values else "none"


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class _Checker:
    """Collects problems for one request; each method checks one parameter against the caps."""

    def __init__(self, endpoint: Endpoint, params: Mapping[str, Any], caps: ModelCaps,
                 allow_retired: bool = False) -> None:
        self.endpoint = endpoint
        self.allow_retired = allow_retired
        self.p = {k: v for k, v in params.items() if v is not None}
        self.caps = caps
        self.problems: list[Problem] = []
        self.fmt = str(self.p.get("output_format", "png"))

    def add(self, param: str, message: str, text: str = "", also: Sequence[str] = ()) -> None:
        self.problems.append(Problem(param, message, text, tuple(also)))

    def one_of(self, param: str, allowed: Sequence[str], why: str = "") -> None:
        if param not in self.p:
            return
        value, name = self.p[param], self.caps.name
        if not allowed:
            self.add(param, f"{param} is not supported by model {name}{why}; leave it unset",
                     f"{name} has no {option_label(param)} setting — leave it on default")
        elif value not in allowed:
            self.add(param, f"{param}={value!r} is not allowed for model {name}; allowed: {_fmt(allowed)}{why}",
                     f"{option_label(param)} {value_text(param, value)} is not available for {name} — choose "
                     f"{either([value_text(param, v) for v in allowed])}")

    def int_range(self, param: str, low: int, high: int, text: str = "", also: Sequence[str] = ()) -> None:
        if param not in self.p:
            return
        value = self.p[param]
        if not _is_int(value):
            self.add(param, f"{param} must be a whole number from {low} to {high}, got {value!r}",
                     f"{option_label(param)} must be a whole number from {low} to {high}")
        elif not low <= value <= high:
            self.add(param, f"{param}={value} is out of range; allowed: {low} to {high}",
                     f"{text or f'{option_label(param)} goes from {low} to {high}'} — you asked for {value}", also)

    def run(self) -> list[Problem]:
        caps = self.caps
        if not caps.usable and not self.allow_retired:
            self.add("model", caps.lifecycle.message(caps.name))
            return self.problems
        if self.endpoint not in caps.endpoints:
            hint = " (image_widget.vary() does variations through edit for GPT image models)" \
                if self.endpoint == "variation" else ""
            self.add("model", f"model {caps.name} has no {self.endpoint} endpoint; "
                              f"it supports {_fmt(sorted(caps.endpoints))}{hint}",
                     f"{caps.name} has no {MODE_NAMES.get(self.endpoint, self.endpoint)} mode — choose "
                     f"{either([MODE_NAMES.get(e, e) for e in sorted(caps.endpoints)])} or another model", ("mode",))
            return self.problems
        self.unknown_params()
        if self.endpoint != "variation":
            self.prompt()
        svg = self.fmt == "svg"
        self.int_range("n", 1, 1 if svg else caps.n_max,
                       "SVG output makes 1 image per request" if svg
                       else f"{caps.name} makes 1 to {images_text(caps.n_max)} per request",
                       ("output_format",) if svg else ())
        self.size()
        self.one_of("quality", caps.qualities)
        self.format_rules()
        self.one_of("moderation", MODERATIONS if caps.moderation else ())
        self.one_of("complexity", COMPLEXITIES if caps.complexity else ())
        self.streaming()
        self.legacy()
        for key in ("safety_identifier", "user"):
            if key in self.p and not isinstance(self.p[key], str):
                self.add(key, f"{key} must be a string, got {type(self.p[key]).__name__}")
        if self.endpoint in ("edit", "variation"):
            self.images()
        if self.endpoint == "edit":
            self.one_of("input_fidelity", caps.input_fidelity,
                        "" if caps.input_fidelity else " (omit it for this model)")
            self.mask_and_markup()
        return self.problems

    def unknown_params(self) -> None:
        for key in sorted(set(self.p) - KNOWN_PARAMS[self.endpoint]):
            self.add(key, f"{key} is not a parameter of the {self.endpoint} endpoint; "
                          f"known: {_fmt(sorted(KNOWN_PARAMS[self.endpoint]))}")

    def prompt(self) -> None:
        prompt = self.p.get("prompt")
        if not isinstance(prompt, str):
            self.add("prompt", f"prompt is required and must be text, got {type(prompt).__name__}")
        elif not prompt.strip():
            self.add("prompt", "prompt is empty; describe the image you want",
                     "The prompt is empty — describe the image you want")
        elif "\x00" in prompt:
            self.add("prompt", "prompt contains a NUL character (\\x00); remove it")
        elif len(prompt) > self.caps.prompt_max:
            self.add("prompt", f"prompt is {len(prompt):,} characters; model {self.caps.name} allows at most "
                               f"{self.caps.prompt_max:,}",
                     f"The prompt is {len(prompt):,} characters — {self.caps.name} takes at most "
                     f"{self.caps.prompt_max:,}")

    def size(self) -> None:
        if "size" not in self.p:
            return
        size, rule = self.p["size"], self.caps.sizes
        if not isinstance(size, str):
            self.add("size", f"size must be a string like '1024x1024', got {size!r}")
            return
        if size in rule.fixed:
            return
        wh = parse_size(size)
        allowed = _fmt(rule.fixed) + (" or a custom WxH" if rule.custom else "")
        if not rule.custom or wh is None:
            self.add("size", f"size={size!r} is not allowed for model {self.caps.name}; allowed: {allowed}",
                     f"Size {size} is not available for {self.caps.name} — choose "
                     f"{either([*rule.fixed, *(['a custom WxH'] if rule.custom else [])])}")
            return
        w, h = wh
        why = custom_size_problem(w, h, rule)
        if why:
            self.add("size", f"size={size!r} is not allowed for model {self.caps.name}: {why}",
                     f"Size {size} does not work for {self.caps.name}: {why}")

    def format_rules(self) -> None:
        caps, fmt = self.caps, self.fmt
        formats = [f for f in caps.output_formats if (f != "gif" or caps.gif) and (f != "svg" or caps.svg)]
        self.one_of("output_format", formats)
        self.one_of("background", caps.backgrounds)
        if self.p.get("background") == "transparent" and fmt not in TRANSPARENT_FORMATS:
            self.add("background", f"background='transparent' needs output_format png or webp, got {fmt}",
                     f"Transparent background needs {formats_text(TRANSPARENT_FORMATS)} — Format is {fmt_name(fmt)}",
                     ("output_format",))
        if "output_compression" in self.p:
            if fmt not in COMPRESSIBLE_FORMATS:
                self.add("output_compression",
                         f"output_compression works only with output_format webp or jpeg, got {fmt}",
                         f"Compression works only with {formats_text(COMPRESSIBLE_FORMATS)} — Format is "
                         f"{fmt_name(fmt)}", ("output_format",))
            else:
                self.int_range("output_compression", 0, 100)
        for key in ("frame_count", "frame_duration_ms"):
            if key in self.p and fmt != "gif":
                self.add(key, f"{key} works only with output_format gif, got {fmt}")
        if fmt == "gif":
            self.int_range("frame_count", 2, 16)
            self.int_range("frame_duration_ms", 0, 655_350)
        svg = self.p.get("svg")
        if svg is not None and fmt != "svg":
            self.add("svg", f"svg options work only with output_format svg, got {fmt}")
        elif svg is not None and fmt == "svg":
            self.svg_options(svg)

    def svg_options(self, svg: object) -> None:
        if not isinstance(svg, Mapping) or not isinstance(svg.get("model", ""), str):
            self.add("svg", "svg must be a dict like {'model': '…', 'reasoning': {'effort': 'low'}}")
            return
        reasoning = svg.get("reasoning") or {}
        effort = reasoning.get("effort") if isinstance(reasoning, Mapping) else "?"
        if effort is not None and effort not in SVG_EFFORTS:
            self.add("svg", f"svg reasoning effort={effort!r} is not allowed; allowed: {_fmt(SVG_EFFORTS)}")

    def streaming(self) -> None:
        stream = bool(self.p.get("stream"))
        if stream and not self.caps.streaming:
            self.add("stream", f"model {self.caps.name} does not stream",
                     f"{self.caps.name} does not stream previews — turn Partial previews off")
        if stream and self.fmt in ("gif", "svg"):
            self.add("stream", f"output_format {self.fmt} cannot stream; turn partial previews off",
                     f"{fmt_name(self.fmt)} output cannot stream — turn Partial previews off", ("output_format",))
        if "partial_images" in self.p:
            if not stream:
                self.add("partial_images", "partial_images needs stream=True")
            self.int_range("partial_images", 0, self.caps.max_partial_images)

    def legacy(self) -> None:
        for key in ("response_format", "style"):
            if key in self.p and not self.caps.legacy_params:
                self.add(key, f"{key} is a legacy DALL·E parameter; model {self.caps.name} always returns "
                              f"base64 images{'; describe the style in the prompt' if key == 'style' else ''}")

    def images(self) -> None:
        images = self.p.get("image")
        files = list(images) if isinstance(images, list | tuple) and not _is_file(images) else [images]
        if images is None or not files:
            self.add("image", f"{self.endpoint} needs at least one input image",
                     f"{MODE_NAMES.get(self.endpoint, self.endpoint)} needs an input image — add one",
                     ("mode",))
            return
        limit = 1 if self.endpoint == "variation" else self.caps.max_input_images
        if len(files) > limit:
            self.add("image", f"{len(files)} input images given; model {self.caps.name} takes at most {limit}",
                     f"{self.caps.name} takes at most {images_text(limit)} — remove {len(files) - limit}")
        for index, item in enumerate(files):
            self.one_file("image", index, item)
        if self.endpoint == "variation" and self.caps.square_variation_input and _is_file(files[0]):
            info = image_info(files[0][1])
            if info is not None and info[0][0] != info[0][1]:
                w, h = info[0]
                self.add("image", f"image is {w}x{h}; the variations endpoint of {self.caps.name} needs a square image")

    def one_file(self, param: str, index: int, item: object) -> None:
        label = f"{param}[{index}]" if param == "image" else param
        if not _is_file(item):
            self.add(param, f"{label} must be a (filename, bytes, content_type) tuple, got {type(item).__name__}")
            return
        name, data, ctype = item
        fmt = sniff_format(data)
        if ctype in ("", "application/octet-stream"):
            self.add(param, f"{label} ({name}) was sent as {ctype or 'no type'}; send it as image/png, "
                            "image/webp or image/jpeg")
        allowed = ("png",) if param in ("mask", "markup") else self.caps.input_formats
        if fmt not in allowed:
            self.add(param, f"{label} ({name}) is {fmt or 'not an image'}; allowed: {_fmt(allowed)}",
                     f"{name} is {f'a {fmt_name(fmt)}' if fmt else 'not an image'} — use {formats_text(allowed)}")
        limit = self.caps.mask_max_bytes if param == "mask" else self.caps.input_image_max_bytes
        if len(data) >= limit:
            self.add(param, f"{label} ({name}) is {len(data) / MB:.1f} MB; it must be under {limit // MB} MB",
                     f"{name} is {len(data) / MB:.1f} MB — it must be under {limit // MB} MB")

    def mask_and_markup(self) -> None:
        has_mask, has_markup = "mask" in self.p, "markup" in self.p
        if has_mask and not self.caps.mask:
            self.add("mask", f"model {self.caps.name} does not take a mask")
        if has_markup and not self.caps.markup:
            self.add("markup", f"markup is not supported by model {self.caps.name}; models with markup: "
                               f"{_fmt([m for m, c in MODELS.items() if c.markup])}")
        if has_mask and has_markup:
            self.add("markup", "mask and markup cannot be combined; send one of them",
                     "Markup and a mask cannot be sent together — clear one of them", ("mask",))
        if has_mask and self.fmt == "gif":
            self.add("mask", "output_format gif does not support a mask")
        first = _first_image(self.p.get("image"))
        for param in ("mask", "markup"):
            if param in self.p:
                self.one_file(param, 0, self.p[param])
                self.overlay_pixels(param, self.p[param], first)

    def overlay_pixels(self, param: str, item: object, first: object) -> None:
        if not _is_file(item) or sniff_format(item[1]) != "png":
            return
        info = image_info(item[1])
        if info is None:
            return
        (w, h), has_alpha = info
        first_info = image_info(first[1]) if _is_file(first) else None
        if first_info is not None and first_info[0] != (w, h):
            fw, fh = first_info[0]
            self.add(param, f"{param} is {w}x{h} but the first image is {fw}x{fh}; they must be the same size")
        if not has_alpha:
            self.add(param, f"{param} has no alpha channel; transparent pixels (alpha 0) mark the area to edit")


def custom_size_problem(w: int, h: int, rule: SizeRule) -> str:
    """Why a custom WxH breaks `rule` — every rule it breaks, then the allowed range — or '' when it is fine.

    One rule at a time sends a person round in circles (13x13: "divisible by 16" — and then "too small")."""
    broken = []
    if w % rule.multiple_of or h % rule.multiple_of:
        broken.append(f"width and height must both be divisible by {rule.multiple_of}")
    if max(w, h) / min(w, h) > rule.max_aspect:
        broken.append(f"the aspect ratio must be between 1:{rule.max_aspect:g} and {rule.max_aspect:g}:1")
    if max(w, h) > rule.max_edge:
        broken.append(f"at most {rule.max_edge} pixels a side")
    if w * h > rule.max_pixels:
        broken.append(f"at most {rule.max_pixels:,} pixels in all")
    if w * h < rule.min_pixels:
        broken.append(f"at least {rule.min_pixels:,} pixels in all are needed")
    if not broken:
        return ""
    pixels = (f"{rule.min_pixels:,}–{rule.max_pixels:,}" if rule.min_pixels else f"at most {rule.max_pixels:,}")
    allowed = (f"allowed: sides a multiple of {rule.multiple_of}, at most {rule.max_edge} px, {pixels} pixels "
               f"in all, aspect 1:{rule.max_aspect:g} to {rule.max_aspect:g}:1 (e.g. 1024x1024, 1536x864, 3840x2160)")
    return "; ".join(broken) + f" — {allowed}"


def _is_file(item: object) -> TypeGuard[FileTuple]:
    return (isinstance(item, tuple) and len(item) == 3 and isinstance(item[0], str)
            and isinstance(item[1], bytes | bytearray) and isinstance(item[2], str))


def _first_image(images: object) -> object:
    if _is_file(images):
        return images
    if isinstance(images, list | tuple) and images:
        return images[0]
    return None


def validate(endpoint: Endpoint, params: Mapping[str, Any], *, allow_retired: bool = False,
             server: str | None = None) -> list[Problem]:
    """Every problem with a request as it would be sent, each naming the parameter and what is allowed.

    `allow_retired` is for legacy OpenAI-compatible servers that still serve DALL·E 2 (variations).
    `server` applies that server's own model dates (see `caps_for`).
    """
    if endpoint not in ENDPOINTS:
        return [Problem("endpoint", f"endpoint must be one of {_fmt(ENDPOINTS)}, got {endpoint!r}")]
    model = params.get("model")
    if model is None:
        model = DEFAULT_MODEL
    if not isinstance(model, str) or not model.strip():
        return [Problem("model", f"model must be a model name such as {DEFAULT_MODEL}, got {model!r}")]
    return _Checker(endpoint, params, caps_for(model, server), allow_retired).run()


def check(endpoint: Endpoint, params: Mapping[str, Any], *, allow_retired: bool = False,
          server: str | None = None) -> None:
    """Raise `ValidationError` listing every problem; return quietly when the request is fine."""
    problems = validate(endpoint, params, allow_retired=allow_retired, server=server)
    if problems:
        raise ValidationError(problems)
