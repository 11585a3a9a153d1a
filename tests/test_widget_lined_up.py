"""The widget's edits that line up (no browser: traits stand in for the page, as in test_widget.py):
size="match" when editing starts, held pixels, the record's fields, detail, expand mode, markup, and the
code that "Copy code" gives."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from image_widget.emulator import Emulator
from image_widget.facts.capabilities import ValidationError
from image_widget.widget import ImageWidget
from support.images import decode, encode, mask_png, png
from test_widget import KEY, Sent, image_requests, msg

Make = Callable[..., tuple[ImageWidget, Sent]]


@pytest.fixture
def make(emulator: Emulator, tmp_path: Path) -> Iterator[Make]:
    """Widgets on the test's emulator and folder, closed afterwards (as test_widget.py's `make_widget`)."""
    made: list[ImageWidget] = []

    def build(**options: Any) -> tuple[ImageWidget, Sent]:
        widget = ImageWidget(base_url=emulator.url, api_key=KEY, folder=tmp_path / "out", **options)
        sent = Sent()
        widget.comm.send = sent
        made.append(widget)
        return widget, sent

    yield build
    for widget in made:
        widget.close()


def markup_png(size: tuple[int, int]) -> bytes:
    """A red guidance stroke on a transparent layer, as the page draws it."""
    layer = Image.new("RGBA", size, (0, 0, 0, 0))
    layer.paste((255, 0, 0, 255), (10, 10, 40, 14))
    return encode(layer)


def test_editing_starts_with_size_match_and_the_result_holds_the_photo(make: Make,
                                                                      emulator: Emulator) -> None:
    w, _ = make(prompt="a hat")
    assert w.options["size"] == "1024x1024"
    source = png((1536, 1024))
    msg(w, {"type": "add_inputs", "names": ["photo.png"]}, [source])
    assert w.options["mode"] == "edit"
    assert w.options["size"] == "match"
    assert w.problems == {}
    box = (600, 300, 800, 500)
    w.mask = mask_png((1536, 1024), box)
    result = w.generate()
    assert image_requests(emulator)[-1].params["size"] == "1536x1024"
    out = np.asarray(w.images[0].convert("RGB")).astype(int)
    before = np.asarray(decode(source).convert("RGB")).astype(int)
    assert out.shape == before.shape  # not square: it lines up with the photo
    held = np.ones(before.shape[:2], dtype=bool)
    held[box[1] - 8:box[3] + 8, box[0] - 8:box[2] + 8] = False
    assert (out[held] == before[held]).all()
    record = result.record
    assert w.results[0]["id"] == record["id"]
    assert record["composite"] == {"feather": 8, "keep_unmasked": True}
    assert Path(record["raw_path"]).is_file()
    # Back to Generate: "match" means nothing there, so the size becomes a real one again.
    w.options = {**w.options, "mode": "generate"}
    assert w.options["size"] == "1024x1024"


def test_feather_keep_unmasked_and_detail_reach_the_call_and_the_copied_code(make: Make) -> None:
    w, _ = make(prompt="a hat")
    msg(w, {"type": "add_inputs", "names": ["photo.png"]}, [png((1024, 768))])
    w.mask = mask_png((1024, 768), (100, 100, 160, 150))
    result = w.generate(feather=0, keep_unmasked=False, detail=True)
    record = result.record
    assert record["composite"] == {"feather": 0, "keep_unmasked": False}
    assert record["detail_box"] is not None
    code = w.results[0]["code"]
    assert "feather=0" in code
    assert "keep_unmasked=False" in code
    assert "detail=True" in code


def test_detail_without_a_mask_is_a_problem(make: Make, emulator: Emulator) -> None:
    w, _ = make(prompt="a hat")
    msg(w, {"type": "add_inputs", "names": ["photo.png"]}, [png((256, 256))])
    w.options = {**w.options, "detail": True}
    assert "detail" in w.problems
    with pytest.raises(ValidationError):
        w.generate()
    assert image_requests(emulator) == []


def test_expand_mode_sends_the_canvas_and_gives_the_bigger_picture(make: Make, emulator: Emulator) -> None:
    w, _ = make(prompt="more sky")
    msg(w, {"type": "add_inputs", "names": ["photo.png"]}, [png((400, 300))])
    w.options = {**w.options, "mode": "expand"}
    assert w.options["size"] == "match"  # kept from edit mode
    assert "expand" in w.problems  # no new canvas yet
    w.options = {**w.options, "expand": {"left": 0, "right": 0, "top": 100, "bottom": 0}}
    assert w.problems == {}
    result = w.generate()
    assert result.images[0].size == (400, 400)
    assert result.record["expand"] == {"left": 0, "right": 0, "top": 100, "bottom": 0}
    sent = image_requests(emulator)[-1]
    assert sent.endpoint == "edit"
    assert sent.params["size"] == "1024x1024"
    assert w.results[0]["code"].startswith("iw.expand(")
    assert w.results[0]["size"] == "400x400"  # the card says what was saved, not what the API was asked for
    assert w.status["message"].startswith("1 image")
    # Removing the picture leaves nothing to expand: back to Generate, with a real size.
    msg(w, {"type": "remove_input", "id": w.inputs[0]["id"]})
    assert w.options["mode"] == "generate"
    assert w.options["size"] == "1024x1024"


def test_markup_goes_to_models_that_take_it_and_never_with_a_mask(make: Make, emulator: Emulator) -> None:
    w, _ = make(prompt="make it red", model="gpt-image-2.5-flare")
    msg(w, {"type": "add_inputs", "names": ["photo.png"]}, [png((256, 256))])
    w.markup = markup_png((256, 256))
    assert w.markup is not None
    assert w.markup.mode == "RGBA"
    assert w.get_state("markup")["markup"] == w.markup.png  # the page's bytes go back out as they came
    assert w.problems == {}
    w.generate()
    assert "markup" in image_requests(emulator)[-1].params
    # A mask as well: both controls are named, and nothing is sent.
    w.mask = mask_png((256, 256), (0, 0, 32, 32))
    assert "markup" in w.problems
    assert "mask" in w.problems
    with pytest.raises(ValidationError):
        w.generate()
    assert len(image_requests(emulator)) == 1
    # A model without markup: a problem, not a silent drop.
    w.mask = None
    w.options = {**w.options, "model": "gpt-image-2"}
    assert "markup" in w.problems
    # A new first image clears the markup, like the mask.
    msg(w, {"type": "use_as_input", "id": w.results[0]["id"], "role": "edit"})
    assert w.markup is None


def test_an_empty_markup_layer_is_not_sent(make: Make, emulator: Emulator) -> None:
    w, _ = make(prompt="x", model="gpt-image-2.5-flare")
    msg(w, {"type": "add_inputs", "names": ["photo.png"]}, [png((128, 128))])
    w.markup = encode(Image.new("RGBA", (128, 128), (0, 0, 0, 0)))
    w.generate()
    assert "markup" not in image_requests(emulator)[-1].params


def test_what_the_page_writes_is_kept_in_range(make: Make) -> None:
    w, _ = make(feather=100)
    assert w.options["feather"] == 64
    w.options = {**w.options, "mode": "expand", "expand": {"left": 120.4, "right": -8, "top": None}, "feather": 3.6}
    assert w.options["expand"] == {"left": 120, "right": 0, "top": 0, "bottom": 0}
    assert w.options["feather"] == 4
    w.options = {**w.options, "expand": {"left": "wide"}, "keep_unmasked": "yes"}
    assert w.options["expand"] is None
    assert w.options["keep_unmasked"] is True
