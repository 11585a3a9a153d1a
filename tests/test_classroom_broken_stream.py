"""A stream that breaks after some images arrived saves them (they are paid for): the session's spend, which
the classroom budget (`IMAGE_WIDGET_BUDGET_USD`) checks, must count them too."""

from __future__ import annotations

from pathlib import Path

import pytest

import image_widget as iw
from image_widget.base.errors import BrokenStreamError
from image_widget.emulator import Emulator, Fault
from image_widget.money import classroom


def test_images_saved_from_a_broken_stream_are_charged(emulator: Emulator, tmp_path: Path) -> None:
    before = classroom.spent()
    emulator.inject(Fault(kind="drop", after=4))  # after the first image's completed event
    with pytest.raises(BrokenStreamError) as broke:
        iw.generate("a bird", n=2, partial_images=1, quality="low", base_url=emulator.url, api_key="sk-test",
                    store=tmp_path, max_retries=0)
    assert broke.value.saved, "an image arrived and was saved"
    assert classroom.spent() > before
