"""A recognisable fake key must never show up anywhere a person, a log or a file could see it.

The key `CANARY` is set as OPENAI_API_KEY and passed as `api_key`, and the servers here *require* it
(so every request really carried it). Then every kind of failure is triggered — 401 (a real refusal,
and a server that echoes the key back), 403, 429, 500, dropped connections, broken streams, a timeout,
a refused connection, validation, bad input, an unwritable folder — and a few successes, and the key is
searched for (raw, UTF-16 and base64) in: str/repr/tracebacks of every exception, every Result's repr
and HTML, every record, every file written (images with their PNG chunks, sidecars, inputs), every log
record at DEBUG from every logger (openai's, httpx2's, httpcore2's, uvicorn's, ours), everything
printed, the emulator's request log, the Backend, and the widget's state and messages.

The module ends with `secrets: N places searched … 0 sightings of the key`.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import socket
import traceback
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import image_widget as iw
from image_widget.base.errors import APIRequestError
from image_widget.base.runtime import run_sync
from image_widget.client.api import Result
from image_widget.client.backend import resolve_backend
from image_widget.client.options import RunOptions
from image_widget.emulator import Emulator, Fault
from image_widget.facts.capabilities import ValidationError
from image_widget.images import ImageInputError
from image_widget.store import StoreError
from support.canary import Canary
from support.figures import broken, figure_fixture
from support.images import png

CANARY = "sk-test-CANARY-7f3a9c1e5b"
MODEL, SIZE = "gpt-image-2", "256x256"

secrets = figure_fixture(
    "secrets",
    lambda c: (f"secrets: {c['error_paths']} error paths and {c['successes']} successful runs; searched "
               f"{c['texts']} texts, {c['files']} files, {c['log_records']} log records — "
               f"{c['sightings']} sightings of the key"),
    lambda c: broken(c, sightings="sightings of the key"),
)


_CANARY = Canary(CANARY)
sighted = _CANARY.sighted


def test_the_search_would_find_the_key() -> None:
    """The search is not blind: it finds the key plain, in base64 (as in a Basic auth header or a data
    URL), in UTF-16, and inside a PNG chunk."""
    assert sighted(f"Authorization: Bearer {CANARY}")
    assert sighted(base64.b64encode(f"user:{CANARY}".encode()))
    assert sighted(b"xx" + base64.b64encode(b"a" + CANARY.encode()))
    assert sighted(CANARY.encode("utf-16-le"))
    assert sighted(b"\x89PNG....iTXtimage_widget\x00\x00\x00\x00\x00{\"k\": \"" + CANARY.encode() + b"\"}")
    assert not sighted("sk-test-[redacted] and sk-[redacted]")


class Haystack:
    """Everything gathered for the search, counted by kind."""

    def __init__(self, counts: Counter[str]) -> None:
        self.counts = counts
        self.places: list[tuple[str, str | bytes]] = []

    def text(self, where: str, value: object) -> None:
        self.counts["texts"] += 1
        self.places.append((where, value if isinstance(value, str | bytes) else repr(value)))

    def exception(self, where: str, exc: BaseException) -> None:
        """What anyone sees of an error: str, repr, the traceback as printed, and its attributes."""
        self.text(f"{where}: str", str(exc))
        self.text(f"{where}: repr", repr(exc))
        self.text(f"{where}: traceback", "".join(traceback.format_exception(exc)))
        self.text(f"{where}: attributes", {k: v for k, v in vars(exc).items() if k != "_arrived"})

    def result(self, where: str, result: Result) -> None:
        self.text(f"{where}: repr", repr(result))
        self.text(f"{where}: html", result._repr_html_())
        self.text(f"{where}: records", json.dumps(result.records, default=str))
        self.text(f"{where}: backend", repr(result.backend))
        self.text(f"{where}: backend.describe", json.dumps(result.backend.describe()))

    def files(self, root: Path) -> None:
        for path in sorted(root.rglob("*")):
            if path.is_file():
                self.counts["files"] += 1
                self.places.append((f"file {path.relative_to(root)}", path.read_bytes()))

    def sightings(self) -> list[str]:
        return [where for where, blob in self.places if sighted(blob)]


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[Emulator, Emulator]]:
    """(a server that only accepts CANARY, one that accepts another key) — both private to this module."""
    with Emulator(api_key=CANARY) as ours, Emulator(api_key="sk-someone-else-0123456789") as theirs:
        yield ours, theirs


@pytest.fixture
def server(servers: tuple[Emulator, Emulator]) -> Iterator[Emulator]:
    servers[0].reset()
    yield servers[0]
    servers[0].reset()


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


SLOW_S = 1.5


def test_the_key_appears_nowhere(server: Emulator, servers: tuple[Emulator, Emulator], tmp_path: Path,
                                 monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
                                 capfd: pytest.CaptureFixture[str], secrets: Counter[str]) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", CANARY)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.delenv("OPENAI_LOG", raising=False)
    caplog.set_level(logging.DEBUG)  # a user who turns every logger up to DEBUG
    for name in ("openai", "httpx2", "httpcore2", "httpx", "httpcore", "uvicorn", "uvicorn.error", "image_widget"):
        caplog.set_level(logging.DEBUG, logger=name)
    hay = Haystack(secrets)
    out = tmp_path / "out"
    base = {"base_url": server.url, "store": out, "model": MODEL, "size": SIZE}
    fast = 10  # retry-after-ms: keeps retried failures quick

    failures: list[tuple[str, Fault | None, dict[str, Any], type[BaseException]]] = [
        ("401 echoing the key", Fault(status=401, message=f"Incorrect API key provided: {CANARY}."), {},
         APIRequestError),
        ("401 injected", Fault(status=401), {}, APIRequestError),
        ("403", Fault.unverified(), {}, APIRequestError),
        ("429 twice", Fault.rate_limit(retry_after=0.01), {"_twice": True}, APIRequestError),
        ("500", Fault(status=500, retry_after_ms=fast), {}, APIRequestError),
        ("503 echoing the key", Fault(status=503, retry_after_ms=fast, message=f"upstream said {CANARY}"),
         {"max_retries": 0}, APIRequestError),
        ("drop", Fault(kind="drop"), {}, APIRequestError),
        ("drop mid-stream", Fault(kind="drop", after=2), {"partial_images": 1, "n": 2}, APIRequestError),
        ("error event echoing the key", Fault(kind="error_event", message=f"failed for {CANARY}"),
         {"partial_images": 1}, APIRequestError),
        ("malformed event", Fault(kind="malformed_event"), {"partial_images": 1}, APIRequestError),
        ("truncated base64", Fault(kind="truncated_b64"), {}, APIRequestError),
        ("empty data", Fault(kind="empty_data"), {}, APIRequestError),
        ("timeout", Fault(kind="slow", seconds=SLOW_S), {"timeout": 0.5, "max_retries": 0}, APIRequestError),
        ("connection refused", None, {"base_url": closed_port_url(), "max_retries": 0}, APIRequestError),
        ("wrong key: a real 401", None, {"base_url": servers[1].url}, APIRequestError),
        ("validation", None, {"n": 11}, ValidationError),
        ("bad image", None, {"_edit": b"not an image"}, ImageInputError),
        ("unwritable folder", None, {"store": tmp_path / "a-file" / "out"}, StoreError),
    ]
    (tmp_path / "a-file").write_text("not a folder")
    for number, (name, fault, extra, expected) in enumerate(failures):
        options = {**base, **extra}
        twice = options.pop("_twice", False)
        image = options.pop("_edit", None)
        if fault is not None:
            server.inject(*([fault, fault] if twice else [fault]))
        # half of the calls pass the key, half find it in OPENAI_API_KEY
        if number % 2:
            options["api_key"] = CANARY
        with pytest.raises(expected) as info:
            attempt(name, image, options)
        hay.exception(name, info.value)
        secrets["error_paths"] += 1
    assert server.pending_faults == []

    # successes: generate, streamed generate with n=2, edit with a mask, async — files, records, chunks
    results = [
        iw.generate("a fox", api_key=CANARY, **base),
        iw.generate("a fox, streamed", partial_images=1, n=2, **base),
        iw.edit(png(colour=(20, 140, 90)), "add a hat", mask=_mask(), api_key=CANARY, **base),
        run_sync(iw.agenerate("an async fox", **base)),
    ]
    for index, result in enumerate(results):
        hay.result(f"result {index}", result)
        secrets["successes"] += 1
    authorised = [e for e in server.log if e.status == 200]
    assert authorised, "the servers accept only CANARY, so these requests really carried it"

    # the widget: its synced state, every message it sent, its repr and the error it shows
    _widget_haystack(hay, server, tmp_path / "widget", secrets)

    # backends, built from the argument and from the environment
    for backend in (resolve_backend(api_key=CANARY), resolve_backend(), resolve_backend(base_url=server.url)):
        hay.text("backend repr", repr(backend))
        hay.text("backend str", str(backend))
        hay.text("backend describe", json.dumps(backend.describe()))
        hay.text("backend label", backend.label)

    # the emulator's request logs, every file written, every log record, everything printed
    for emulator in servers:  # what the server received (the faults we injected hold the key on purpose)
        received = [{k: v for k, v in e.to_dict().items() if k != "fault"} for e in emulator.log]
        hay.text("emulator log", json.dumps(received, default=str))
    hay.files(tmp_path)
    for record in caplog.records:
        secrets["log_records"] += 1
        hay.places.append((f"log {record.name}", logging.Formatter("%(name)s %(message)s").format(record)))
    printed = capfd.readouterr()
    hay.text("stdout", printed.out)
    hay.text("stderr", printed.err)

    found = hay.sightings()
    secrets["sightings"] += len(found)
    assert found == []
    # and the search saw what it should have: SDK debug logs, images on disk, the echoed key (scrubbed)
    assert any(r.name.startswith("openai") and r.levelno == logging.DEBUG for r in caplog.records)
    assert any(r.name.startswith("httpx2") for r in caplog.records)
    assert secrets["files"] >= 10
    assert any("[redacted" in str(blob) for where, blob in hay.places if "echoing the key" in where)


def attempt(name: str, image: bytes | None, options: dict[str, Any]) -> Result:
    if image is not None:
        return iw.edit(image, "add a hat", **options)
    return iw.generate(f"a fox ({name})", **options)


def _mask() -> Any:
    import numpy as np

    mask = np.zeros((64, 64), dtype=bool)
    mask[8:32, 8:32] = True
    return mask


def _widget_haystack(hay: Haystack, server: Emulator, folder: Path, counts: Counter[str]) -> None:
    from ipywidgets.widgets.widget import _remove_buffers

    from image_widget.widget import ImageWidget

    sent: list[Any] = []
    widget = ImageWidget(api_key=CANARY, base_url=server.url, folder=folder, prompt="a fox", model=MODEL,
                         size=SIZE)
    widget.comm.send = lambda data=None, metadata=None, buffers=None: sent.append((data, [bytes(b) for b in
                                                                                          buffers or []]))
    try:
        server.inject(Fault(status=401, message=f"Incorrect API key provided: {CANARY}."))
        with pytest.raises(APIRequestError):
            widget.generate()
        hay.text("widget error trait", json.dumps(widget.error))
        counts["error_paths"] += 1
        widget.generate("a second fox")
        counts["successes"] += 1
        state, _paths, buffers = _remove_buffers(widget.get_state())
        hay.text("widget state", json.dumps(state, default=str))
        for index, buffer in enumerate(buffers):
            hay.text(f"widget state buffer {index}", bytes(buffer))
        hay.text("widget repr", repr(widget))
        for index, (data, message_buffers) in enumerate(sent):
            hay.text(f"widget message {index}", json.dumps(data, default=str))
            for buffer in message_buffers:
                hay.text(f"widget message {index} buffer", buffer)
        assert sent, "the widget sent nothing: the message capture is not working"
    finally:
        widget.close()


def test_our_code_does_not_turn_on_sdk_logging(server: Emulator, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """The SDK (and its transport) log at DEBUG only when the *user* asks; image_widget never does —
    neither through OPENAI_LOG nor by setting a logger's level or adding a handler."""
    monkeypatch.delenv("OPENAI_LOG", raising=False)
    names = ("openai", "openai._base_client", "httpx2", "httpcore2", "httpx", "httpcore")
    before = {n: (logging.getLogger(n).level, list(logging.getLogger(n).handlers)) for n in names}
    root_before = (logging.getLogger().level, list(logging.getLogger().handlers))
    iw.generate("a fox", api_key=CANARY, base_url=server.url, store=tmp_path, model=MODEL, size=SIZE)
    import image_widget.widget  # noqa: F401 - importing the widget must not change logging either

    assert "OPENAI_LOG" not in os.environ
    assert {n: (logging.getLogger(n).level, list(logging.getLogger(n).handlers)) for n in names} == before
    assert (logging.getLogger().level, list(logging.getLogger().handlers)) == root_before


def test_the_emulator_never_echoes_the_key(servers: tuple[Emulator, Emulator]) -> None:
    """A wrong key gets the API's 401 text, which does not repeat the key (unlike some servers)."""
    theirs = servers[1]
    request = urllib.request.Request(
        f"{theirs.url}/images/generations", method="POST",
        data=json.dumps({"prompt": "a fox", "model": MODEL}).encode(),
        headers={"Authorization": f"Bearer {CANARY}", "Content-Type": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(request, timeout=10)
    body = info.value.read()
    headers = str(info.value.headers)
    assert info.value.code == 401
    assert b"Incorrect API key provided" in body
    assert not sighted(body)
    assert not sighted(headers)
    assert not sighted(json.dumps([e.to_dict() for e in theirs.log], default=str))


def test_run_options_never_show_the_key(server: Emulator, tmp_path: Path) -> None:
    """A traceback that prints locals, or a debugger, shows reprs: the options a call carries keep the key out."""
    options = RunOptions(base_url=server.url, api_key=CANARY, store=tmp_path)
    assert CANARY not in repr(options)
    chat = iw.Chat(base_url=server.url, api_key=CANARY, folder=tmp_path)
    assert CANARY not in repr(chat)
    assert CANARY not in repr(vars(chat))
