"""The emulator fuzzed from OpenAI's description (schemathesis): requests generated from every schema of
the operations it serves, valid and not. No answer may be a server error, every 4xx is an `ErrorResponse`,
and every JSON 200 validates as the operation's documented answer. Bounded and derandomised: the same
examples every run, a few seconds per operation."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from image_widget.emulator import Emulator
from support import spec
from support.raw_api import AUTH

SCHEMA = schemathesis.openapi.from_dict(spec.spec())
EXAMPLES = 25

# (path, method, the documented JSON answer of a 200) for each operation the emulator serves
OPERATIONS = [
    ("/images/generations", "POST", "ImagesResponse"),
    ("/images/edits", "POST", "ImagesResponse"),
    ("/images/variations", "POST", "ImagesResponse"),
    ("/files", "GET", "ListFilesResponse"),
    ("/files", "POST", "OpenAIFile"),
    ("/files/{file_id}", "GET", "OpenAIFile"),
    ("/files/{file_id}", "DELETE", "DeleteFileResponse"),
    ("/files/{file_id}/content", "GET", None),
    ("/batches", "POST", "Batch"),
    ("/batches", "GET", "ListBatchesResponse"),
    ("/batches/{batch_id}", "GET", "Batch"),
    ("/batches/{batch_id}/cancel", "POST", "Batch"),
    ("/models", "GET", "ListModelsResponse"),
    ("/models/{model}", "GET", "Model"),
    ("/responses", "POST", "Response"),
    ("/responses/{response_id}", "GET", "Response"),
    ("/responses/{response_id}", "DELETE", None),
]
ERROR_SCHEMA = {("/responses/{response_id}", "DELETE"): "Error"}
"""Where the description documents another error body than `ErrorResponse` (its 404 here is an `Error`)."""


@pytest.mark.parametrize(("path", "method", "answer"), OPERATIONS, ids=[f"{m} {p}" for p, m, _ in OPERATIONS])
def test_fuzzed_requests_get_documented_answers(emulator: Emulator, path: str, method: str, answer: str | None) -> None:
    statuses: list[int] = []

    @settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(SCHEMA[path][method].as_strategy())
    def one(case: Any) -> None:
        response = case.call(base_url=emulator.url, headers=AUTH, timeout=60)
        statuses.append(response.status_code)
        spec.FUZZ["requests"] += 1
        assert response.status_code < 500, f"{case.method} {case.formatted_path}: {response.text[:300]}"
        kind = response.headers.get("content-type", [""])
        kind = kind[0] if isinstance(kind, list) else kind
        if 400 <= response.status_code < 500:
            documented = ERROR_SCHEMA.get((path, method), "ErrorResponse")
            spec.check("ErrorResponse" if response.status_code != 404 else documented, response.json())
        elif response.status_code == 200 and answer is not None and kind.startswith("application/json"):
            spec.check(answer, response.json())

    one()
    spec.FUZZ["server errors"] += sum(s >= 500 for s in statuses)
    assert statuses, "requests were generated and sent"
