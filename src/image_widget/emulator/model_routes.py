"""GET /v1/models and /v1/models/{id}: the model list with shutdown dates, as OpenAI serves it.

The list is the capability table's models that are not shut down yet (by the table's dates, as of
`IMAGE_WIDGET_TODAY` or today), plus what a test set with `configure(models={id: date or None})`:
that overrides a table date or adds a model the table lacks. A table model whose date has passed is
gone from the list; a configured one stays listed with its date. Past its date, requests are refused.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from image_widget.emulator.responses import error_response
from image_widget.emulator.state import EmulatorState
from image_widget.facts.capabilities import MODELS
from image_widget.facts.lifecycle import Lifecycle, today

_CREATED = 1_767_225_600  # 2026-01-01: a fixed, plausible creation time


def shutdown_dates(state: EmulatorState) -> dict[str, str | None]:
    """Every model this server knows → its shutdown date (None: none announced)."""
    dates = {name: caps.lifecycle.shutdown for name, caps in MODELS.items()}
    dates.update(state.config.models)
    return dates


def is_shut_down(state: EmulatorState, model: str) -> str | None:
    """The shutdown date when `model` is shut down on this server (configured so, or past the table's date;
    a `legacy` server still runs the retired models), else None: answered as `GET /v1/models/{id}` is."""
    if state.config.legacy and model not in state.config.models:
        return None
    day = shutdown_dates(state).get(model)
    return day if day is not None and Lifecycle(shutdown=day).status() == "shut down" else None


def is_unknown(state: EmulatorState, model: str) -> bool:
    """A name neither the model table nor this server's configured models has: OpenAI answers such a
    request with 404 `model_not_found` (jdmnk/codex-imagegen-cli#18, noahgsolomon/brainrot.js#32)."""
    return model not in MODELS and model not in state.config.models


def shut_down_message(model: str, day: str) -> str:
    """A request for a model past its shutdown: a 404 `model_not_found`, as `GET /v1/models/{id}` answers."""
    return f"The model '{model}' has been retired: it was shut down on {day}."


def unknown_model_message(model: str) -> str:
    return f"The model `{model}` does not exist or you do not have access to it."


def _model(model_id: str, shutdown: str | None) -> dict[str, Any]:
    return {"id": model_id, "object": "model", "created": _CREATED, "owned_by": "system", "shutdown_date": shutdown}


def _listed(state: EmulatorState) -> dict[str, str | None]:
    """Table models not yet shut down, and every model a test configured (also past its date)."""
    now = today()
    listed = {name: day for name, day in shutdown_dates(state).items()
              if day is None or Lifecycle(shutdown=day).status(now) != "shut down"}
    return {**listed, **state.config.models}


def model_routes(state: EmulatorState) -> list[Route]:
    async def list_models(_request: Request) -> Response:
        return JSONResponse({"object": "list", "data": [_model(m, d) for m, d in _listed(state).items()]})

    async def get_model(request: Request) -> Response:
        model_id = str(request.path_params["model"])
        listed = _listed(state)
        if model_id not in listed:
            return error_response(404, f"The model '{model_id}' does not exist or you do not have access to it.",
                                  param="model", code="model_not_found")
        return JSONResponse(_model(model_id, listed[model_id]))

    return [Route("/v1/models", list_models, methods=["GET"]),
            Route("/v1/models/{model:path}", get_model, methods=["GET"])]
