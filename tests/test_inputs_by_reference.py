"""Inputs by URL and file id, uploaded once (issue 19): edits name images by reference in OpenAI's JSON
form; sweeps upload each shared input once; a server without JSON edits gets multipart (remembered);
a file the server lost is uploaded again once; wrong references are refused before anything is paid."""

from __future__ import annotations

import base64
import io
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import httpx2
import pytest
from PIL import Image

import image_widget as iw
from image_widget.client import file_ids, json_edit, refs
from image_widget.emulator import Emulator, image_refs
from image_widget.images import ImageInputError
from support import spec
from support.images import mask_png, png
from support.raw_api import AUTH, upload

KEY = "sk-test"


@pytest.fixture
def http(emulator: Emulator) -> Iterator[httpx2.Client]:
    with httpx2.Client(base_url=emulator.url, headers=AUTH, timeout=30) as client:
        yield client


def run_kw(emulator: Emulator, tmp_path: Path) -> dict[str, Any]:
    return {"base_url": emulator.url, "api_key": KEY, "store": tmp_path / "out", "model": "gpt-image-2"}


def edits(emulator: Emulator) -> list[Any]:
    return [e for e in emulator.log if e.endpoint == "edit"]


def uploads(emulator: Emulator) -> list[Any]:
    return [e for e in emulator.log if e.endpoint == "files" and e.method == "POST"]


def test_an_image_by_file_id_is_sent_by_reference(emulator: Emulator, http: httpx2.Client, tmp_path: Path) -> None:
    file_id = upload(http, "vision", png((128, 96)))["id"]
    result = iw.edit(file_id, "a red door", **run_kw(emulator, tmp_path))
    assert result.images[0].size == (128, 96), "size=auto keeps the input's size at the emulator"
    sent = edits(emulator)[-1]
    assert sent.status == 200
    assert sent.params["refs"] == {"images": [{"file_id": file_id}]}, "named by id, never uploaded by us"
    assert len(uploads(emulator)) == 1, "only the test's own upload"


def test_an_image_by_loopback_url(emulator: Emulator, tmp_path: Path) -> None:
    url = f"{emulator.origin}/_emulator/files/{emulator.state.keep_file(png((64, 64)), 'png')}"
    iw.edit(url, "a red door", **run_kw(emulator, tmp_path))
    assert edits(emulator)[-1].params["refs"] == {"images": [{"image_url": url}]}


def test_a_reused_input_is_uploaded_once_and_named_by_id_after(emulator: Emulator, tmp_path: Path) -> None:
    photo = png((96, 96))
    kw = run_kw(emulator, tmp_path)
    iw.edit(photo, "one", **kw)                                  # first use: multipart, no upload
    assert "refs" not in edits(emulator)[-1].params
    iw.edit(photo, "two", reuse_inputs=True, **kw)               # reuse: uploaded once…
    iw.edit(photo, "three", **kw)                                # …and named by id from then on
    assert len(uploads(emulator)) == 1
    ids = [e.params["refs"]["images"][0]["file_id"] for e in edits(emulator)[1:]]
    assert len(set(ids)) == 1


def test_an_edit_sweep_uploads_each_shared_input_once(emulator: Emulator, tmp_path: Path) -> None:
    refs = [png((64, 64), colour=(10 * i, 100, 50)) for i in range(3)]
    sweep = iw.sweep("a {thing}", thing=["door", "cat", "owl", "tree"], quality=["low", "high"], image=refs,
                     mask=mask_png((64, 64), (0, 0, 30, 30)), progress=False, **run_kw(emulator, tmp_path))
    assert not sweep.failures
    assert len(edits(emulator)) == 8
    assert len(uploads(emulator)) == 4, "3 references + 1 mask, each once, for 8 cells"
    for entry in edits(emulator):
        assert all("file_id" in ref for ref in entry.params["refs"]["images"])


def test_the_json_bodies_validate(emulator: Emulator, tmp_path: Path) -> None:
    from image_widget.client import json_edit
    from image_widget.client.backend import resolve_backend

    seen: list[dict[str, Any]] = []
    real = json_edit.build

    async def spy(*args: Any, **kwargs: Any) -> dict[str, Any]:
        body = await real(*args, **kwargs)
        seen.append(body)
        return body

    json_edit.build = spy  # type: ignore[assignment]
    try:
        iw.edit([png((64, 64)), png((32, 32))], "x", mask=mask_png((64, 64), (0, 0, 9, 9)), reuse_inputs=True,
                partial_images=1, **run_kw(emulator, tmp_path))
    finally:
        json_edit.build = real  # type: ignore[assignment]
    assert seen
    for body in seen:
        spec.check("EditImageBodyJsonParam", body)
    assert resolve_backend(None, emulator.url, KEY).server_identity == emulator.url


def test_a_server_without_json_edits_gets_multipart_and_is_remembered(emulator: Emulator, tmp_path: Path) -> None:
    emulator.configure(json_edits=False)
    kw = run_kw(emulator, tmp_path)
    result = iw.edit(png((64, 64)), "x", reuse_inputs=True, **kw)
    assert result.images
    statuses = [e.status for e in edits(emulator)]
    assert statuses == [400, 200], "refused once (a 400 is not billed), then sent as multipart"
    iw.edit(png((64, 64)), "again", reuse_inputs=True, **kw)
    assert [e.status for e in edits(emulator)] == [400, 200, 200], "remembered: no second refusal"
    assert file_ids.multipart_only(tmp_path / "out", iw.client.backend.resolve_backend(None, emulator.url, KEY))


def test_a_file_the_server_lost_is_uploaded_again_once(emulator: Emulator, http: httpx2.Client, tmp_path: Path) -> None:
    kw = run_kw(emulator, tmp_path)
    photo = png((80, 80))
    iw.edit(photo, "x", reuse_inputs=True, **kw)
    first = edits(emulator)[-1].params["refs"]["images"][0]["file_id"]
    assert http.delete(f"/files/{first}").status_code == 200
    iw.edit(photo, "y", reuse_inputs=True, **kw)
    last = edits(emulator)[-1]
    assert last.status == 200
    assert last.params["refs"]["images"][0]["file_id"] != first
    assert [e.status for e in edits(emulator)] == [200, 400, 200]
    assert len(uploads(emulator)) == 2


REFUSED = [
    ("unknown file id", "file-doesnotexist123", "no file"),
    ("another host offline", "https://images.example.com/photo.png", "only from this machine"),
]


@pytest.mark.parametrize(("case", "image", "words"), REFUSED, ids=[c for c, _, _ in REFUSED])
def test_bad_references_are_refused_before_any_edit(emulator: Emulator, tmp_path: Path, case: str, image: str,
                                                   words: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    kw = {"store": tmp_path / "out", "model": "gpt-image-2"}
    if case == "unknown file id":
        kw.update(base_url=emulator.url, api_key=KEY)
    from image_widget.emulator import shared_emulator

    before = len(shared_emulator().log) if case != "unknown file id" else 0
    with pytest.raises(iw.images.ImageInputError, match=words):
        iw.edit(image, "x", **kw)
    assert not edits(emulator)
    if case != "unknown file id":  # the offline default: nothing reached the shared emulator either
        assert len(shared_emulator().log) == before


def test_seventeen_references_are_refused_before_any_edit(emulator: Emulator, http: httpx2.Client,
                                                         tmp_path: Path) -> None:
    file_id = upload(http, "vision", png((32, 32)))["id"]
    with pytest.raises(iw.images.ImageInputError, match="16"):
        iw.edit([file_id] * 17, "x", **run_kw(emulator, tmp_path))
    assert not edits(emulator)


class _Flood(BaseHTTPRequestHandler):
    """A picture URL that sends 20 MB, saying its length or not; `finished` if all of it was taken."""

    finished: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        if self.path == "/declared":
            self.send_header("Content-Length", str(20 * 2**20))
        self.end_headers()
        try:
            for _ in range(320):
                self.wfile.write(b"\0" * 65536)
            self.finished.append(self.path)
        except OSError:  # the client stopped reading: what the limit is for
            pass

    def log_message(self, *_args: Any) -> None:
        pass


@pytest.mark.parametrize("path", ["/declared", "/undeclared"])
def test_a_download_stops_at_the_limit(emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                       path: str) -> None:
    """An image by URL is read only up to the limit (its declared length refused at once; a server that
    does not say is cut off there), not taken whole into memory first."""
    monkeypatch.setattr(refs, "MAX_DOWNLOAD_BYTES", 256 * 1024)
    _Flood.finished = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Flood)
    server.protocol_version = "HTTP/1.0"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with pytest.raises(ImageInputError, match="larger than"):
            iw.edit(f"http://127.0.0.1:{server.server_port}{path}", "a red door", **run_kw(emulator, tmp_path))
    finally:
        server.shutdown()
        server.server_close()
    assert _Flood.finished == []
    assert edits(emulator) == []


def test_an_input_too_big_for_a_data_url_goes_by_file_id(emulator: Emulator, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """`ImageRefParam.image_url` is at most 20,971,520 characters (~15 MB of image as a data URL): a bigger
    input beside a URL is uploaded and named by file id; the emulator refuses a longer URL as the API does."""
    monkeypatch.setattr(json_edit, "IMAGE_URL_MAX", 200)  # a small picture stands in for a 16 MB one
    url = f"{emulator.origin}/_emulator/files/{emulator.state.keep_file(png((64, 64)), 'png')}"
    big = png((96, 96))
    assert len(base64.b64encode(big)) > 200
    iw.edit([url, big], "a red door", **run_kw(emulator, tmp_path))
    sent = edits(emulator)[-1].params["refs"]["images"]
    assert sent[0] == {"image_url": url}
    assert set(sent[1]) == {"file_id"}
    assert len(uploads(emulator)) == 1


def test_the_emulator_refuses_an_image_url_longer_than_the_description_allows(
        http: httpx2.Client, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(image_refs, "IMAGE_URL_MAX", 200)
    long_url = "data:image/png;base64," + base64.b64encode(png((96, 96))).decode()
    answer = http.post("/images/edits", json={"model": "gpt-image-2", "prompt": "a red door",
                                             "images": [{"image_url": long_url}]})
    assert answer.status_code == 400
    assert answer.json()["error"]["param"] == "images[0].image_url"
    assert "maximum length" in answer.json()["error"]["message"]


def test_a_json_edit_refusal_names_the_json_field(http: httpx2.Client) -> None:
    """A bad image inside a JSON edit is named as the JSON form names it (`images[1]`), with the type its data
    URL declared — not the multipart form's `image` with an invented file name and type."""
    gif = io.BytesIO()
    Image.new("RGB", (64, 64)).save(gif, "GIF")
    body = {"model": "gpt-image-2", "prompt": "a red door",
            "images": [{"image_url": "data:image/png;base64," + base64.b64encode(png((64, 64))).decode()},
                       {"image_url": "data:image/gif;base64," + base64.b64encode(gif.getvalue()).decode()}]}
    answer = http.post("/images/edits", json=body)
    assert answer.status_code == 400
    spec.check("ErrorResponse", answer.json())
    error = answer.json()["error"]
    assert error["param"] == "images[1]"
    assert error["message"].startswith("images[1] is gif")
    assert "image.png" not in error["message"]


def test_a_custom_size_edit_goes_as_multipart(emulator: Emulator, http: httpx2.Client, tmp_path: Path) -> None:
    """The JSON form's `size` is an enum (EditImageBodyJsonParam): a custom size went in a JSON edit anyway.
    The picture named by id is read once and sent as the multipart form, which takes any WxH."""
    file_id = upload(http, "vision", png((192, 128)))["id"]
    iw.edit(file_id, "a red door", size="1248x832", **run_kw(emulator, tmp_path))
    sent = edits(emulator)[-1]
    assert sent.status == 200
    assert "refs" not in sent.params, "sent as multipart, not by reference"
    assert sent.params["size"] == "1248x832"


def test_the_emulator_refuses_a_custom_size_in_a_json_edit(http: httpx2.Client) -> None:
    body = {"model": "gpt-image-2", "prompt": "a red door", "size": "1248x832",
            "images": [{"image_url": "data:image/png;base64," + base64.b64encode(png((64, 64))).decode()}]}
    answer = http.post("/images/edits", json=body)
    assert answer.status_code == 400
    spec.check("ErrorResponse", answer.json())
    assert answer.json()["error"]["param"] == "size"
    assert "'1024x1536'" in answer.json()["error"]["message"]


def test_a_batch_edit_with_a_custom_size_is_refused_before_upload(emulator: Emulator, tmp_path: Path) -> None:
    with pytest.raises(iw.ValidationError, match="a Batch API edit is a JSON edit"):
        iw.sweep("a {thing}", thing=["door"], image=png((96, 64)), size="1248x832", batch=True,
                 **run_kw(emulator, tmp_path))
    assert not [e for e in emulator.log if e.method == "POST"]


def test_a_batch_edit_with_a_multipart_only_field_is_refused_before_upload(emulator: Emulator,
                                                                           tmp_path: Path) -> None:
    """`complexity` is no field of the JSON edit form: a batch line carried it anyway."""
    with pytest.raises(iw.ValidationError, match="complexity: a Batch API edit is a JSON edit"):
        iw.sweep("a {thing}", thing=["door"], image=png((96, 64)), complexity="high", batch=True,
                 **run_kw(emulator, tmp_path))
    assert not [e for e in emulator.log if e.method == "POST"]
