"""The API description loads and its validators judge: a generation answer from the emulator validates as
`ImagesResponse`, and a body missing its required prompt does not validate as `CreateImageRequest`."""

from __future__ import annotations

import openai

from support import spec


def test_generation_answer_validates_as_images_response(emulator_client: openai.OpenAI) -> None:
    raw = emulator_client.images.with_raw_response.generate(prompt="a fox", model="gpt-image-2", size="1024x1024")
    spec.check("ImagesResponse", raw.http_response.json())


def test_a_request_without_prompt_is_not_a_create_image_request() -> None:
    assert spec.errors("CreateImageRequest", {"model": "gpt-image-2"})
    assert not spec.errors("CreateImageRequest", {"prompt": "a fox", "model": "gpt-image-2", "user": None})


def test_a_listed_deviation_is_forgiven_only_for_values_the_sdk_allows() -> None:
    base = {"created": 1, "data": [{"b64_json": "AAAA"}]}
    assert not spec.errors("ImagesResponse", {**base, "size": "2048x1152"}), "custom size (SDK) forgiven"
    assert spec.errors("ImagesResponse", {**base, "size": "huge"}), "not a WxH: still an error"
    assert spec.errors("ImagesResponse", {**base, "quality": "ultra"}), "an unlisted quality: still an error"
    assert spec.errors("ImagesResponse", {"data": []}), "a missing required field is never forgiven"
