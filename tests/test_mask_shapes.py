"""A mask of another size (issue 23, item 1): the same shape is scaled, and the warning says so; another shape
is refused before anything is sent, naming both sizes and the ways out; `resize_mask=` crops, pads or
stretches on request, and what it did is said."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import image_widget as iw
from image_widget.emulator import Emulator
from image_widget.images import ImageInputError, ImageInputWarning, prepare_mask
from support.images import decode, photo

KEY = "sk-test"


def _edits(emulator: Emulator) -> int:
    return len([e for e in emulator.log if e.endpoint == "edit"])


def _alpha(upload: tuple[str, bytes, str]) -> np.ndarray:
    return np.asarray(decode(upload[1]).convert("RGBA"))[..., 3]


def test_a_mask_of_another_shape_is_refused_before_anything_is_sent(emulator: Emulator, tmp_path: Path) -> None:
    mask = np.zeros((300, 512), bool)
    mask[100:200, 100:300] = True
    with pytest.raises(ImageInputError) as caught:
        iw.edit(photo((1024, 1024)), "a door", mask=mask, base_url=emulator.url, api_key=KEY, store=tmp_path)
    text = str(caught.value)
    for words in ("512x300", "1024x1024", "nothing was sent", "resize_mask='crop'", "'pad'", "'stretch'"):
        assert words in text
    assert _edits(emulator) == 0


def test_a_mask_of_the_same_shape_is_scaled_and_said(emulator: Emulator, tmp_path: Path) -> None:
    mask = np.zeros((256, 384), bool)
    mask[64:128, 96:192] = True
    with pytest.warns(ImageInputWarning, match=r"384x256 scaled \(same shape\) to 768x512"):
        result = iw.edit(photo((768, 512)), "a door", mask=mask, base_url=emulator.url, api_key=KEY, store=tmp_path)
    assert result.images
    assert _edits(emulator) == 1


@pytest.mark.parametrize(("how", "inside", "outside"), [
    ("crop", (100, 300), (500, 100)),   # the middle 300x300 (x 106..405), scaled ×2: marked x 0..387, y 200..399
    ("pad", (300, 300), (10, 300)),     # padded to 512x512 with keep: the marked band moves
    ("stretch", (150, 300), (500, 500)),
])
def test_resize_mask_fits_as_asked(how: str, inside: tuple[int, int], outside: tuple[int, int]) -> None:
    mask = np.zeros((300, 512), bool)
    mask[100:200, 100:300] = True   # marked: x 100..299, y 100..199 of a 512x300 mask
    with pytest.warns(ImageInputWarning, match=how if how != "stretch" else "stretched"):
        upload = prepare_mask(mask, (600, 600), resize=how)
    alpha = _alpha(upload)
    assert alpha.shape == (600, 600)
    x, y = inside
    assert alpha[y, x] == 0, f"{how}: ({x}, {y}) is edited"
    ox, oy = outside
    assert alpha[oy, ox] == 255, f"{how}: ({ox}, {oy}) is kept"


def test_crop_takes_the_masks_middle() -> None:
    mask = np.zeros((300, 600), bool)
    mask[:, 150:450] = True  # the middle square of a 2:1 mask, all marked
    with pytest.warns(ImageInputWarning):
        alpha = _alpha(prepare_mask(mask, (300, 300), resize="crop"))
    assert (alpha == 0).all(), "cropping to the middle keeps exactly the marked square"


def test_an_unknown_resize_mask_names_the_choices() -> None:
    with pytest.raises(ImageInputError, match="resize_mask must be one of 'scale', 'stretch', 'crop', 'pad'"):
        prepare_mask(Image.new("L", (10, 10), 255), (20, 20), resize="squash")


def test_a_bad_size_names_every_rule_it_breaks_and_the_range() -> None:
    from image_widget.facts import capabilities

    (problem,) = capabilities.validate("generate", {"prompt": "a", "model": "gpt-image-2", "size": "4000x1000"})
    for words in ("divisible by 16", "aspect ratio must be between 1:3 and 3:1", "at most 3840 pixels a side",
                  "allowed: sides a multiple of 16"):
        assert words in problem.message, words


def test_the_widget_shows_no_estimate_while_the_size_is_invalid(emulator: Emulator, tmp_path: Path) -> None:
    w = iw.ImageWidget(base_url=emulator.url, api_key=KEY, folder=tmp_path)
    try:
        w.options = {**w.options, "model": "gpt-image-2", "size": "1024x1024"}
        assert w.cost["estimate_usd"] is not None
        w.options = {**w.options, "size": "13x13"}
        assert w.cost["estimate_usd"] is None
        assert w.cost["estimate_text"] == "no estimate until the size is valid"
        assert "size" in w.problems
    finally:
        w.close()
