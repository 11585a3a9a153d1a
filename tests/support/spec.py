"""OpenAI's published API description (tests/contracts/openapi-images.json, an extract of
openai/openai-openapi at f85dbe2, 2026-08-21, MIT licence, Copyright (c) OpenAI) as the judge of every
request and answer: one validator per component schema, Draft 2020-12.

OpenAI's live answers carry ``null`` for unset optional fields although the schemas don't say so, so a
property that its object does not require may also be null. Nothing else is loosened: where the newer SDK
knows more than the extract, the deviation is listed in docs/CONTRACTS.md and passed explicitly by the
test (``allow=``), never by widening the schema here.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

SPEC_PATH = Path(__file__).resolve().parent.parent / "contracts" / "openapi-images.json"
SDK_TYPES = "openai/types"


@dataclass(frozen=True)
class Deviation:
    """Something the installed SDK (newer than the extract) documents and the extract does not."""

    name: str
    field: str
    """The last key of the JSON path the error is at (e.g. `size`)."""
    allowed: Callable[[Any], bool]
    sdk_file: str
    not_in: tuple[str, ...] = ()
    """Schemas the SDK says nothing about for this field, where the extract alone is the judge."""


_WXH = re.compile(r"^[1-9][0-9]*x[1-9][0-9]*$")
DEVIATIONS = (
    # not in JSON edits: the SDK sends edits as multipart only, and the extract's EditImageBodyJsonParam.size
    # lists auto, 1024x1024, 1536x1024 and 1024x1536 alone
    Deviation("custom sizes (any WxH on the 16-px grid for gpt-image-2 and 2.5)", "size",
              lambda v: isinstance(v, str) and bool(_WXH.match(v)), f"{SDK_TYPES}/image_generate_params.py",
              not_in=("EditImageBodyJsonParam",)),
    Deviation("quality xhigh and max (2.5 models)", "quality", lambda v: v in ("xhigh", "max"),
              f"{SDK_TYPES}/images_response.py"),
    Deviation("gif and svg output", "output_format", lambda v: v in ("gif", "svg"), f"{SDK_TYPES}/images_response.py"),
    Deviation("complexity (low / medium / high)", "complexity", lambda v: v in ("low", "medium", "high"),
              f"{SDK_TYPES}/image_generate_params.py"),
    Deviation("gif frames", "frame_count", lambda v: isinstance(v, int) and 2 <= v <= 16,
              f"{SDK_TYPES}/image_generate_params.py"),
    Deviation("gif frame delay", "frame_duration_ms", lambda v: isinstance(v, int) and v > 0,
              f"{SDK_TYPES}/image_generate_params.py"),
    Deviation("svg author model", "svg", lambda v: isinstance(v, dict), f"{SDK_TYPES}/image_generate_params.py"),
    Deviation("newer image models (2.5 / 2.6 and dated snapshots)", "model",
              lambda v: isinstance(v, str) and v.startswith("gpt-image-"), f"{SDK_TYPES}/image_model.py"),
)
"""Each deviation from the extract the tests accept, with the SDK file that documents it (docs/CONTRACTS.md
lists the same). An error is forgiven only at that field and only for a value the SDK allows."""

FUZZ: Counter[str] = Counter()  # requests the fuzzing sent (tests/contracts/test_fuzz.py)
CHECKED: set[str] = set()  # schema names validated in this process (the CI figure counts them)
CASES = [0]  # instances validated in this process


@cache
def spec() -> dict[str, Any]:
    return json.loads(SPEC_PATH.read_text(encoding="utf-8"))


def _nullable_optionals(node: Any) -> Any:
    """A copy where each object property that is not required may also be null."""
    if isinstance(node, list):
        return [_nullable_optionals(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _nullable_optionals(value) for key, value in node.items()}
    props = out.get("properties")
    if isinstance(props, dict):
        required = set(out.get("required", []))
        out["properties"] = {
            name: (schema if name in required else {"anyOf": [schema, {"type": "null"}]})
            for name, schema in props.items()
        }
    return out


@cache
def _components() -> dict[str, Any]:
    return _nullable_optionals(spec()["components"])  # builds new dicts and lists: the spec stays as read


@cache
def validator(name: str) -> Draft202012Validator:
    if name not in spec()["components"]["schemas"]:
        raise KeyError(f"no schema {name!r} in the API description")
    return Draft202012Validator({"$ref": f"#/components/schemas/{name}", "components": _components()})


def errors(name: str, instance: Any) -> list[str]:
    """Every way ``instance`` breaks schema ``name`` (empty when it validates)."""
    CHECKED.add(name)
    CASES[0] += 1
    return [_describe(e) for top in validator(name).iter_errors(instance) for e in _remaining(top, name)]


def _remaining(error: ValidationError, name: str) -> list[ValidationError]:
    """The errors left once the listed deviations are forgiven: an `anyOf`/`oneOf` holds when any one
    branch has nothing left; otherwise the branch closest to validating speaks for it."""
    if error.validator in ("anyOf", "oneOf") and error.context:
        branches: dict[Any, list[ValidationError]] = {}
        for sub in error.context:
            branches.setdefault(sub.relative_schema_path[0], []).append(sub)
        left = [[r for sub in subs for r in _remaining(sub, name)] for subs in branches.values()]
        return [] if any(not branch for branch in left) else min(left, key=len)
    return [] if _deviation(error, name) else [error]


def _deviation(error: ValidationError, name: str) -> bool:
    path = list(error.absolute_path)
    key = path[-1] if path else None
    return any(d.field == key and d.allowed(error.instance) and name not in d.not_in for d in DEVIATIONS)


def check(name: str, instance: Any) -> None:
    """Assert ``instance`` validates against component schema ``name``."""
    found = errors(name, instance)
    assert not found, f"{name}: " + "; ".join(found[:5])


def counts() -> dict[str, Any]:
    """This process's tallies, to hand to the xdist controller (`absorb` adds them there)."""
    return {"checked": sorted(CHECKED), "cases": CASES[0], "fuzz": dict(FUZZ)}


def absorb(other: dict[str, Any]) -> None:
    """Add a worker's tallies (from `counts`) to this process's."""
    CHECKED.update(other.get("checked", []))
    CASES[0] += int(other.get("cases", 0))
    FUZZ.update(other.get("fuzz", {}))


def figure() -> str | None:
    """The CI figure line, or None when no contract was checked in this process."""
    if not CASES[0]:
        return None
    return (f"contracts: {len(CHECKED)} schemas, {CASES[0]} cases checked against OpenAI's description; "
            f"fuzz: {FUZZ['requests']} requests, {FUZZ['server errors']} server errors")


def _describe(error: ValidationError) -> str:
    path = "/".join(str(p) for p in error.absolute_path) or "(root)"
    return f"{path}: {error.message[:300]}"
