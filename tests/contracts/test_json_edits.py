"""The emulator takes JSON edits as OpenAI's description documents them (`EditImageBodyJsonParam`): images
by data URL, by Files API id and by URL (loopback only, offline), and refuses each wrong form with an
`ErrorResponse` whose `param` names the field path."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http import server as http_server
from typing import Any

import httpx2
import pytest

from image_widget.emulator import Emulator
from support import spec
from support.images import mask_png, png
from support.raw_api import AUTH, data_url, sse_events, upload


@pytest.fixture
def http(emulator: Emulator) -> Iterator[httpx2.Client]:
    with httpx2.Client(base_url=emulator.url, headers=AUTH, timeout=30) as client:
        yield client


@pytest.fixture(scope="module")
def picture_server() -> Iterator[str]:
    """A plain HTTP server on 127.0.0.1 serving one PNG at /photo.png (an image 'on the web', offline)."""
    data = png((96, 64))

    class Handler(http_server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path != "/photo.png":
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = http_server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/photo.png"
    server.shutdown()



def edit(http: httpx2.Client, body: dict[str, Any]) -> httpx2.Response:
    spec_errors = spec.errors("EditImageBodyJsonParam", body)
    answer = http.post("/images/edits", json=body)
    if answer.status_code == 200:
        assert not spec_errors, f"a body the description refuses was accepted: {spec_errors}"
    return answer


BASE = {"prompt": "add a red door", "model": "gpt-image-2"}


def test_by_data_url(http: httpx2.Client) -> None:
    answer = edit(http, {**BASE, "images": [{"image_url": data_url(png((64, 64)))}]})
    assert answer.status_code == 200, answer.text
    spec.check("ImagesResponse", answer.json())


def test_by_file_id_with_a_mask_by_file_id(http: httpx2.Client, emulator: Emulator) -> None:
    image = upload(http, "vision", png((64, 64)))["id"]
    mask = upload(http, "vision", mask_png((64, 64), (8, 8, 40, 40)), "mask.png")["id"]
    answer = edit(http, {**BASE, "images": [{"file_id": image}], "mask": {"file_id": mask}})
    assert answer.status_code == 200, answer.text
    spec.check("ImagesResponse", answer.json())
    logged = [e for e in emulator.log if e.endpoint == "edit"][-1].params
    assert logged["image"][0]["bytes"] == len(png((64, 64))), "the emulator edited the file's own bytes"


def test_by_loopback_url_and_several_images(http: httpx2.Client, picture_server: str) -> None:
    refs = [{"image_url": picture_server}, {"image_url": data_url(png((32, 32)))}]
    answer = edit(http, {**BASE, "images": refs, "size": "1024x1024"})
    assert answer.status_code == 200, answer.text
    spec.check("ImagesResponse", answer.json())


def test_stream_events_of_a_json_edit_validate(http: httpx2.Client) -> None:
    answer = edit(http, {**BASE, "images": [{"image_url": data_url(png((64, 64)))}], "stream": True,
                         "partial_images": 1})
    assert answer.status_code == 200, answer.text
    events = sse_events(answer.text)
    assert [e["type"] for e in events] == ["image_edit.partial_image", "image_edit.completed"]
    for event in events:
        spec.check("ImageEditStreamEvent", event)


REFUSED = [
    ("both", {"images": [{"image_url": data_url(png()), "file_id": "file-x"}]}, "images[0]"),
    ("neither", {"images": [{}]}, "images[0]"),
    ("no images", {}, "images"),
    ("17 images", {"images": [{"image_url": data_url(png((16, 16)))}] * 17}, "images"),
    ("unknown file", {"images": [{"image_url": data_url(png())}, {"file_id": "file-nope"}]}, "images[1].file_id"),
    ("other host", {"images": [{"image_url": "https://example.com/photo.png"}]}, "images[0].image_url"),
    ("not a URL", {"images": [{"image_url": "photo.png"}]}, "images[0].image_url"),
    ("bad data URL", {"images": [{"image_url": "data:image/png;base64,@@@"}]}, "images[0].image_url"),
    ("mask of another size", {"images": [{"image_url": data_url(png((64, 64)))}],
                              "mask": {"image_url": data_url(mask_png((32, 32), (0, 0, 8, 8)))}}, "mask"),
    ("mask unknown file", {"images": [{"image_url": data_url(png())}], "mask": {"file_id": "file-gone"}},
     "mask.file_id"),
]


@pytest.mark.parametrize(("case", "body", "param"), REFUSED, ids=[c for c, _, _ in REFUSED])
def test_refused_with_the_field_path(http: httpx2.Client, case: str, body: dict[str, Any], param: str) -> None:
    answer = edit(http, {**BASE, **body})
    assert answer.status_code == 400, answer.text
    spec.check("ErrorResponse", answer.json())
    assert answer.json()["error"]["param"] == param, case
    if case == "other host":
        assert "only from this machine" in answer.json()["error"]["message"]


def test_deleted_and_expired_files_are_gone(http: httpx2.Client, emulator: Emulator) -> None:
    deleted = upload(http, "vision", png())["id"]
    assert http.delete(f"/files/{deleted}").status_code == 200
    short = http.post("/files", data={"purpose": "vision", "expires_after[anchor]": "created_at",
                                      "expires_after[seconds]": "3600"},
                      files={"file": ("p.png", png(), "image/png")}).json()
    spec.check("OpenAIFile", short)
    assert short["expires_at"] == short["created_at"] + 3600
    assert edit(http, {**BASE, "images": [{"file_id": short["id"]}]}).status_code == 200
    emulator.batches_runner.disk.clock_skew_s = 3601  # an hour later
    for file_id in (deleted, short["id"]):
        answer = edit(http, {**BASE, "images": [{"file_id": file_id}]})
        assert answer.status_code == 400
        assert answer.json()["error"]["param"] == "images[0].file_id"
        assert http.get(f"/files/{file_id}").status_code == 404


def test_a_multipart_mask_of_another_size_is_refused(http: httpx2.Client) -> None:
    mask = mask_png((64, 32), (0, 0, 8, 8))
    answer = http.post("/images/edits", data=BASE, files=[("image", ("a.png", png((64, 64)), "image/png")),
                                                          ("mask", ("m.png", mask, "image/png"))])
    assert answer.status_code == 400
    spec.check("ErrorResponse", answer.json())
    assert answer.json()["error"]["param"] == "mask"
    assert "64x32" in answer.json()["error"]["message"]
    assert "64x64" in answer.json()["error"]["message"]


def test_files_list_filters_and_pages(http: httpx2.Client) -> None:
    ids = [upload(http, purpose, png((16, 16)))["id"] for purpose in ("vision", "user_data", "vision")]
    vision = http.get("/files", params={"purpose": "vision"}).json()
    spec.check("ListFilesResponse", vision)
    assert {f["purpose"] for f in vision["data"]} == {"vision"}
    assert {ids[0], ids[2]} <= {f["id"] for f in vision["data"]}
    first = http.get("/files", params={"limit": 1, "order": "asc"}).json()
    spec.check("ListFilesResponse", first)
    assert first["has_more"] is True
    assert len(first["data"]) == 1
    rest = http.get("/files", params={"after": first["last_id"], "order": "asc"}).json()
    assert first["last_id"] not in {f["id"] for f in rest["data"]}
    bad = http.get("/files", params={"limit": 0})
    assert bad.status_code == 400
    spec.check("ErrorResponse", bad.json())
    assert json.loads(bad.text)["error"]["param"] == "limit"


def test_files_survive_an_emulator_restart(tmp_path: Any) -> None:
    with Emulator(batch_folder=tmp_path) as first, httpx2.Client(base_url=first.url, headers=AUTH) as client:
        file_id = upload(client, "vision", png((40, 40)))["id"]
    with Emulator(batch_folder=tmp_path) as second, httpx2.Client(base_url=second.url, headers=AUTH) as client:
        assert client.get(f"/files/{file_id}").status_code == 200
        answer = client.post("/images/edits", json={**BASE, "images": [{"file_id": file_id}]})
        assert answer.status_code == 200, answer.text
