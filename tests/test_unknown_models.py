"""A misspelt model (issue 23, item 2): OpenAI answers a name it does not know with 404 `model_not_found`;
the emulator answers the same (validated as an `ErrorResponse`), and the client says so before sending, with
the closest known name — while a custom server keeps its own names."""

from __future__ import annotations

from pathlib import Path

import httpx2
import pytest

import image_widget as iw
from image_widget.base.errors import APIRequestError
from image_widget.emulator import Emulator, shared_emulator
from image_widget.facts.capabilities import ValidationError
from support import spec
from support.raw_api import AUTH


def test_the_emulator_answers_an_unknown_model_as_openai_does(emulator: Emulator) -> None:
    with httpx2.Client(base_url=emulator.url, headers=AUTH) as http:
        answer = http.post("/images/generations", json={"prompt": "a fox", "model": "gpt-imagine-9"})
    assert answer.status_code == 404
    spec.check("ErrorResponse", answer.json())
    assert answer.json()["error"] == {"message": "The model `gpt-imagine-9` does not exist or you do not have "
                                                 "access to it.", "type": "invalid_request_error", "param": None,
                                      "code": "model_not_found"}


def test_the_client_refuses_a_misspelt_model_before_sending(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    before = len(shared_emulator().log)
    with pytest.raises(ValidationError, match=r"unknown model 'gpt-imagine-9' — did you mean gpt-image-2\?"):
        iw.generate("a fox", model="gpt-imagine-9", store=tmp_path)
    assert len(shared_emulator().log) == before, "nothing was sent"


def test_a_custom_server_keeps_its_own_names(emulator: Emulator, tmp_path: Path) -> None:
    emulator.configure(models={"house-painter-1": None})  # a name only this server serves
    result = iw.generate("a fox", model="house-painter-1", base_url=emulator.url, api_key="sk-test", store=tmp_path)
    assert result.images
    with pytest.raises(APIRequestError, match="does not exist") as caught:  # and its own 404 comes through clearly
        iw.generate("a fox", model="house-painter-9", base_url=emulator.url, api_key="sk-test", store=tmp_path)
    assert caught.value.status == 404
    assert caught.value.code == "model_not_found"
