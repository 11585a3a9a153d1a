"""The widget takes inputs by file id or https URL (issue 19): `w.add_inputs("file-…")` and the page's
"Add by URL or file id" (`add_refs`) read the image once for its thumbnail, and the edit names it by
reference instead of uploading it; a bad reference is answered with the reason and adds nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest

from image_widget import ImageWidget
from image_widget.emulator import Emulator
from image_widget.images import ImageInputError
from support.images import png
from support.raw_api import AUTH, upload

KEY = "sk-test"


@pytest.fixture
def widget(emulator: Emulator, tmp_path: Path) -> Iterator[ImageWidget]:
    w = ImageWidget(base_url=emulator.url, api_key=KEY, folder=tmp_path / "out")
    sent: list[dict[str, object]] = []
    w.comm.send = lambda data=None, metadata=None, buffers=None: sent.append(data or {})  # type: ignore[method-assign]
    w.sent = sent  # type: ignore[attr-defined]
    yield w
    w.close()


def test_add_inputs_by_file_id_edits_by_reference(widget: ImageWidget, emulator: Emulator) -> None:
    with httpx2.Client(base_url=emulator.url, headers=AUTH) as http:
        file_id = upload(http, "vision", png((96, 64)))["id"]
    widget.add_inputs(file_id)
    assert [i["name"] for i in widget.inputs] == [file_id]
    assert widget.options["mode"] == "edit"
    widget.generate("add a red door", model="gpt-image-2", size="1024x1024")
    (sent,) = [e for e in emulator.log if e.endpoint == "edit"]
    assert sent.params["refs"] == {"images": [{"file_id": file_id}]}


def test_the_pages_add_refs_answers_what_it_could_not_add(widget: ImageWidget) -> None:
    widget._handle_custom_msg({"type": "add_refs", "refs": ["file-missing0000"], "upload_id": "u1"}, [])
    answers = [m["content"] for m in widget.sent if isinstance(m.get("content"), dict)  # type: ignore[attr-defined]
               and m["content"].get("type") == "upload_progress"]
    assert answers[-1]["done"] is True
    assert answers[-1]["added"] == []
    assert "no file 'file-missing0000'" in answers[-1]["problems"][0]
    assert widget.inputs == []


def test_add_inputs_with_an_unknown_file_id_raises_and_adds_nothing(widget: ImageWidget) -> None:
    with pytest.raises(ImageInputError, match="no file"):
        widget.add_inputs(png((32, 32)), "file-missing0000")
    assert widget.inputs == []
