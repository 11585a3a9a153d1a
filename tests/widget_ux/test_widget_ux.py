"""ImageWidget as people use it (issue 14): what the kernel does so the page can say the right thing.

Same style as tests/test_widget.py, whose helpers and fixtures this reuses (see conftest.py): traits
stand in for the front end's writes, messages go straight to the handler, and the real emulator answers.
"""

from __future__ import annotations

from collections.abc import Callable

from image_widget.emulator import Emulator
from image_widget.widget import ImageWidget
from test_widget import Sent, finish, msg, png

MakeWidget = Callable[..., tuple[ImageWidget, Sent]]


# ------------------------------------------------------------------------------- item 5: the last input


def test_removing_the_only_input_goes_back_to_generate(make_widget: MakeWidget, emulator: Emulator) -> None:
    w, _ = make_widget(prompt="a lighthouse")
    msg(w, {"type": "add_inputs", "names": ["photo.png"]}, [png((64, 64))])
    assert w.options["mode"] == "edit"
    msg(w, {"type": "remove_input", "id": w.inputs[0]["id"]})
    assert w.options["mode"] == "generate"
    assert w.problems == {}  # no "edit needs at least one input image" left behind
    msg(w, {"type": "generate"})
    finish(w)
    assert w.status["state"] == "done", w.error
    assert [e.endpoint for e in emulator.log if e.endpoint is not None] == ["generate"]


def test_variation_is_left_alone_when_the_inputs_go(make_widget: MakeWidget) -> None:
    """Only the automatic edit is undone: a person who chose Variation keeps it (and is told to add an image)."""
    w, _ = make_widget(prompt="x", mode="variation")
    msg(w, {"type": "add_inputs", "names": ["photo.png"]}, [png((64, 64))])
    msg(w, {"type": "remove_input", "id": w.inputs[0]["id"]})
    assert w.options["mode"] == "variation"
    assert "image" in w.problems
