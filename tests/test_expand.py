"""Outpainting (`iw.expand`): the canvas sizes, where the image sits (anchor), the masked new area with its
overlap band, the seam, and refusals before anything is sent."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import image_widget as iw
from image_widget.emulator import Emulator
from image_widget.facts.capabilities import ValidationError
from image_widget.images.geometry import Sides, sides_for_aspect
from support.images import decode, photo

MODEL = "gpt-image-2"


@pytest.fixture
def opts(emulator: Emulator, tmp_path: Path) -> dict[str, Any]:
    return {"base_url": emulator.url, "api_key": "sk-test-expand", "store": tmp_path, "model": MODEL}


def pixels(img: Any) -> np.ndarray:
    return np.asarray(img.convert("RGB")).astype(int)


def test_expand_by_pixels_keeps_the_original_in_place(emulator: Emulator, opts: dict[str, Any]) -> None:
    source = photo((400, 300))
    result = iw.expand(source, "more meadow", left=100, top=50, bottom=30, **opts)
    out = result.images[0]
    assert out.size == (500, 380)
    assert out.mode == "RGB"  # an opaque photo stays opaque: the new area is filled
    assert result.record["expand"] == {"left": 100, "right": 0, "top": 50, "bottom": 30}
    assert result.record["call"] == "expand"
    on_disk = pixels(decode(result.paths[0].read_bytes()))
    inner = on_disk[50 + 8:50 + 300, 100 + 8:100 + 400]  # past the 8-px band on the extended sides
    assert (inner[:-8] == pixels(source)[8:-8, 8:]).all()
    # What was sent: the picture on a transparent canvas, and a mask of the new area plus an overlap band.
    sent = next(entry for entry in emulator.log if entry.endpoint == "edit")
    assert sent.params["size"] == "1200x912"  # size="match": the 500x380 canvas's aspect, at about 1 MP
    assert "mask" in sent.params


def test_the_sent_canvas_is_transparent_where_new_and_the_mask_reaches_into_the_original(
        opts: dict[str, Any], tmp_path: Path) -> None:
    from image_widget.client.edits import expand_request

    source = photo((200, 100))
    request = expand_request(source, "x", {"right": 60}, 8, MODEL, None, {})
    canvas = decode(request.files["image"][0][1])
    assert canvas.size == (260, 100)
    alpha = np.asarray(canvas.getchannel("A"))
    assert (alpha[:, 200:] == 0).all()
    assert (alpha[:, :200] == 255).all()
    edit = np.asarray(decode(request.files["mask"][1]).getchannel("A")) == 0
    assert edit[:, 200:].all()  # the new area
    assert edit[:, 192:200].all()  # an 8-px band into the original, so the seam blends
    assert not edit[:, :192].any()
    assert request.sources is not None
    assert decode(request.sources["image"][0][1]).size == (200, 100)  # the record keeps the original


@pytest.mark.parametrize(("anchor", "expected"), [
    ("center", Sides(left=328, right=328)),
    ("left", Sides(right=656)),
    ("right", Sides(left=656)),
    ("top-left", Sides(right=656)),
])
def test_aspect_and_anchor_place_the_image(anchor: str, expected: Sides) -> None:
    assert sides_for_aspect((1024, 945), "16:9", anchor) == expected


def test_a_tall_aspect_adds_rows_by_anchor() -> None:
    assert sides_for_aspect((900, 900), "9:16", "top") == Sides(bottom=700)
    assert sides_for_aspect((900, 900), "9:16", "bottom") == Sides(top=700)
    assert sides_for_aspect((900, 900), "9:16", "center") == Sides(top=350, bottom=350)


def test_expand_to_an_aspect_and_the_seam_blends(opts: dict[str, Any]) -> None:
    source = photo((600, 600))
    result = iw.expand(source, "a wider view", aspect="16:9", anchor="right", feather=12, **opts)
    out = pixels(result.images[0])
    assert result.images[0].size == (1067, 600)
    left = result.record["expand"]["left"]
    assert left == 467
    before = pixels(source)
    assert (out[:, left + 12:] == before[:, 12:]).all()  # beyond the band: the original, exactly
    # Within the 12-px band the model's pixels fade out: each column is closer to the original than the last.
    away = [np.abs(out[:, left + k] - before[:, k]).mean() for k in range(12)]
    assert away[0] > 50
    assert all(a > b for a, b in itertools.pairwise(away))
    assert result.record["composite"] == {"feather": 12, "keep_unmasked": True}
    assert "iw.expand(" in result.code
    assert "left=467" in result.code


async def test_aexpand_and_rerun(opts: dict[str, Any]) -> None:
    source = photo((256, 256))
    result = await iw.aexpand(source, "sky", top=64, **opts)
    assert result.images[0].size == (256, 320)
    again = await iw.arerun(result.record["id"], store=opts["store"], base_url=opts["base_url"],
                            api_key=opts["api_key"])
    assert again.record["expand"] == result.record["expand"]
    assert (pixels(again.images[0]) == pixels(result.images[0])).all()


@pytest.mark.parametrize(("kwargs", "param"), [
    ({"aspect": "16:9", "left": 10}, "aspect"),
    ({"aspect": "wide"}, "aspect"),
    ({"aspect": "1:1"}, "aspect"),  # already square: nothing to add
    ({"aspect": "16:9", "anchor": "middle"}, "anchor"),
    ({"left": -5}, "left"),
    ({"bottom": 2.5}, "bottom"),
    ({}, "left"),
    ({"left": 2000, "right": 2000, "top": 2000, "bottom": 2000}, "left"),  # over the 4096x4096 cap
    ({"top": 10, "feather": -1}, "feather"),
])
def test_bad_expand_parameters_are_refused_before_sending(emulator: Emulator, opts: dict[str, Any],
                                                          kwargs: dict[str, Any], param: str) -> None:
    with pytest.raises(ValidationError) as info:
        iw.expand(photo((128, 128)), "x", **kwargs, **opts)
    assert info.value.params == [param]
    assert [entry for entry in emulator.log if entry.endpoint] == []
