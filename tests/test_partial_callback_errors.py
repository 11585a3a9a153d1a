"""An `on_partial` callback that raises must not lose the image it previews: the stream is paid for, so it is
read to its end and saved; the error is one warning and previews stop (generate and a conversation turn)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import image_widget as iw
from image_widget.emulator import Emulator

KEY = "sk-test"


class Broken:
    """A preview callback with a bug in it."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, index: int, image: Any) -> None:
        self.calls += 1
        raise ZeroDivisionError("a bug in the preview code")


def test_generate_keeps_the_image_when_on_partial_raises(emulator: Emulator, tmp_path: Path) -> None:
    callback = Broken()
    with pytest.warns(RuntimeWarning, match="on_partial raised ZeroDivisionError"):
        result = iw.generate("a fox", partial_images=2, on_partial=callback, quality="low", base_url=emulator.url,
                             api_key=KEY, store=tmp_path)
    assert callback.calls == 1  # previews stop after the first error
    assert result.paths[0].is_file()
    assert result.images[0].size == (1024, 1024)
    assert sum(1 for e in emulator.log if e.method == "POST") == 1


def test_a_turn_keeps_the_image_when_on_partial_raises(emulator: Emulator, tmp_path: Path) -> None:
    callback = Broken()
    chat = iw.Chat(base_url=emulator.url, api_key=KEY, folder=tmp_path, size="1024x1024", quality="low")
    with pytest.warns(RuntimeWarning, match="on_partial raised ZeroDivisionError"):
        result = chat.send("a fox", partial_images=2, on_partial=callback)
    assert callback.calls == 1
    assert result.paths[0].is_file()
    assert "recovered" not in " ".join(result.notes)  # read to its end, not fetched again
    assert chat.turn == 1
    assert sum(1 for e in emulator.log if e.method == "POST") == 1
