"""OpenAI's published API description (tests/contracts/openapi-images.json, an extract of
openai/openai-openapi at f85dbe2, 2026-08-21, MIT licence, Copyright (c) OpenAI) as the judge of every
request and answer: one validator per component schema, Draft 2020-12.

OpenAI's live answers carry ``null`` for unset optional fields although the schemas don't say so, so a
property that its object does not require may also be null. Nothing else is loosened: where the newer SDK
knows more than the extract, the deviation is listed in docs/CONTRACTS.md and passed explicitly by the
test (``allow=``), never by widening the schema here.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

SPEC_PATH = Path(__file__).resolve().parent.parent / "contracts" / "openapi-images.json"
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
    return _nullable_optionals(copy.deepcopy(spec()["components"]))


@cache
def validator(name: str) -> Draft202012Validator:
    if name not in spec()["components"]["schemas"]:
        raise KeyError(f"no schema {name!r} in the API description")
    return Draft202012Validator({"$ref": f"#/components/schemas/{name}", "components": _components()})


def errors(name: str, instance: Any) -> list[str]:
    """Every way ``instance`` breaks schema ``name`` (empty when it validates)."""
    CHECKED.add(name)
    CASES[0] += 1
    return [_describe(e) for e in validator(name).iter_errors(instance)]


def check(name: str, instance: Any) -> None:
    """Assert ``instance`` validates against component schema ``name``."""
    found = errors(name, instance)
    assert not found, f"{name}: " + "; ".join(found[:5])


def _describe(error: ValidationError) -> str:
    path = "/".join(str(p) for p in error.absolute_path) or "(root)"
    return f"{path}: {error.message[:300]}"
