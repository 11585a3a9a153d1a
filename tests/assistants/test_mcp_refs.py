"""The MCP server's edit_image takes an image by OpenAI file id or URL (issue 19): it is read once for the
checks and sent by reference in the JSON edit form, never uploaded by the server; an unknown id is refused
before anything is sent. The tools run in this process against the emulator, as `server.py` calls them."""

from __future__ import annotations

from pathlib import Path

import httpx2
import pytest

from image_widget.client.backend import resolve_backend
from image_widget.emulator import Emulator
from image_widget.images import ImageInputError
from image_widget.mcp import tools
from image_widget.mcp.paths import AllowedRoots
from image_widget.mcp.session import Budget, Session
from image_widget.store import Store
from support.images import png
from support.raw_api import AUTH, upload

KEY = "sk-test"


def _session(emulator: Emulator, work: Path, monkeypatch: pytest.MonkeyPatch) -> Session:
    monkeypatch.setenv("OPENAI_BASE_URL", emulator.url)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    store = Store(work / "store")
    return Session(store, AllowedRoots.of(work, store.folder), resolve_backend(), Budget(None))


async def test_edit_image_by_file_id_is_sent_by_reference(emulator: Emulator, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    with httpx2.Client(base_url=emulator.url, headers=AUTH) as http:
        file_id = upload(http, "vision", png((96, 64)))["id"]
    session = _session(emulator, tmp_path, monkeypatch)
    summary, _ = await tools.edit(session, "add a red door", file_id, None, None, {"model": "gpt-image-2"}, False)
    assert summary["images"][0]["size"] == "96x64", "saved at the input's size"
    (sent,) = [e for e in emulator.log if e.endpoint == "edit"]
    assert sent.status == 200
    assert sent.params["refs"] == {"images": [{"file_id": file_id}]}
    posts = [e for e in emulator.log if e.endpoint == "files" and e.method == "POST"]
    assert len(posts) == 1, "only the test's own upload: the server sent the id, not the picture"


async def test_an_unknown_file_id_is_refused_before_anything_is_sent(emulator: Emulator, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    session = _session(emulator, tmp_path, monkeypatch)
    with pytest.raises(ImageInputError, match="no file 'file-unknown1234'"):
        await tools.edit(session, "x", "file-unknown1234", None, None, {"model": "gpt-image-2"}, False)
    assert not [e for e in emulator.log if e.endpoint == "edit"]
