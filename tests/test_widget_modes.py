"""Settings do not leak between modes unseen (issue 23, item 7): each mode keeps its own image count, so
n=2 chosen for Generate does not make Expand (or Edit, or Variation) pay for two images; going back brings
Generate's own count back; a count set together with the mode is the person's choice and stays."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from image_widget import ImageWidget
from image_widget.emulator import Emulator


@pytest.fixture
def widget(emulator: Emulator, tmp_path: Path) -> Iterator[ImageWidget]:
    w = ImageWidget(base_url=emulator.url, api_key="sk-test", folder=tmp_path / "out")
    yield w
    w.close()


def test_each_mode_keeps_its_own_count(widget: ImageWidget) -> None:
    widget.options = {**widget.options, "n": 2}
    widget.options = {**widget.options, "mode": "expand"}
    assert widget.options["n"] == 1, "Expand starts from its own count, not Generate's"
    widget.options = {**widget.options, "n": 3}
    widget.options = {**widget.options, "mode": "generate"}
    assert widget.options["n"] == 2, "Generate's own count comes back"
    widget.options = {**widget.options, "mode": "expand"}
    assert widget.options["n"] == 3


def test_a_count_given_with_the_mode_is_kept(widget: ImageWidget) -> None:
    widget.options = {**widget.options, "n": 2}
    widget.options = {**widget.options, "mode": "edit", "n": 4}
    assert widget.options["n"] == 4


def test_expand_after_generate_n2_sends_one_image(widget: ImageWidget, emulator: Emulator) -> None:
    from support.images import png

    widget.generate("a fox", n=2, quality="low")
    widget.add_inputs(png((256, 256)))
    widget.options = {**widget.options, "mode": "expand", "expand": {"left": 64, "right": 64, "top": 0, "bottom": 0}}
    result = widget.generate("more sky")
    assert len(result.images) == 1
    sent = [e for e in emulator.log if e.endpoint == "edit"][-1]
    assert sent.params.get("n") in (None, 1, "1")
