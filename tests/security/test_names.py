"""Names and addresses: saved file names never come from prompt text, every file lands inside the store
folder, the emulator listens on loopback only, and HTML built on the Python side escapes what it shows.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

import image_widget as iw
from image_widget.base.errors import APIRequestError
from image_widget.emulator import Emulator, Fault, shared_emulator
from image_widget.facts.capabilities import ValidationError
from image_widget.images import ImageInputError
from image_widget.store import INDEX_FOLDER, History, StoreError

KEY = "sk-test-names-0123456789abcdef"
MODEL, SIZE = "gpt-image-2", "256x256"
OUR_NAME = re.compile(r"^\d{8}-\d{6}-[0-9a-f]{8}-\d+(?:_\d+)?\.(?:png|json)$")
INPUT_NAME = re.compile(r"^[0-9a-f]{64}\.(?:png|jpg|webp)$")
INDEX_NAME = re.compile(r"^images\.sqlite(?:-wal|-shm|-journal)?$")

PROMPTS = {
    "dot-dot-slash": "../../../../etc/passwd",
    "absolute-path": "/tmp/evil.png",
    "slashes": "a/b/c/d.png",
    "backslashes": "..\\..\\Windows\\System32\\drivers\\etc\\hosts",
    "dots-only": "..",
    "windows-device": "CON",
    "shell": "$(rm -rf ~) `reboot` ; | & > out.png",
    "glob-and-reserved": '*?[]<>:"|',
    "url-encoded": "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "home": "~/.ssh/id_rsa",
    "control-chars": "fox\x01\x1b[31m\r\nred\ttab\x7f",
    "leading-dash": "-rf --no-preserve-root",
    "5000-chars": "a fox " * 833 + "ab",
    "emoji": "🦊🎨 a fox painting 👩🏽‍🎨 with 🇯🇵 flags",
    "rtl": "ثعلب أحمر \u202egnp.exe\u202c שועל",
    "combining-and-zero-width": "f\u0301o\u0308x\u200b\u200d\ufeff",
    "html": "<script>alert('x')</script><img src=x onerror=alert(1)>",
}


@pytest.mark.parametrize("prompt", list(PROMPTS.values()), ids=list(PROMPTS))
def test_file_names_never_come_from_the_prompt(prompt: str, emulator: Emulator, tmp_path: Path) -> None:
    store = tmp_path / "store"
    result = iw.generate(prompt, base_url=emulator.url, api_key=KEY, store=store, model=MODEL, size=SIZE)
    edited = iw.edit(result.images[0], prompt, base_url=emulator.url, api_key=KEY, store=store, model=MODEL,
                     size=SIZE)
    assert result.record["prompt"] == prompt  # kept exactly, as data
    assert edited.record["prompt"] == prompt

    # everything written is inside the store folder, and nothing else appeared next to it
    assert [p.name for p in tmp_path.iterdir()] == ["store"]
    root = store.resolve()
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert len(written) >= 4  # two images, two sidecars (+ the edit's input)
    for path in written:
        real = path.resolve()
        assert root in real.parents, f"{real} is outside {root}"
        name = path.name
        if path.parent == store:
            assert OUR_NAME.match(name), name
        elif path.parent == store / INDEX_FOLDER:
            assert INDEX_NAME.match(name), name  # the index has fixed names
        else:
            assert path.parent == store / "inputs"
            assert INPUT_NAME.match(name), name
    for path in [*result.paths, *edited.paths]:
        assert path.parent == store
    words = {w for w in re.split(r"[^0-9A-Za-z]+", prompt) if len(w) >= 3 and not w.isdigit()}
    for path in written:
        stem = path.stem.lower()
        assert not any(word.lower() in stem for word in words if not re.fullmatch(r"[0-9a-f]+", word.lower()))
    history = History(store)
    assert len(history) == 2
    assert history.skipped == 0
    assert {e.prompt for e in history} == {prompt}


def test_prompts_that_cannot_be_names_or_text_are_refused(emulator: Emulator, tmp_path: Path) -> None:
    """NUL cannot be in a file name or a prompt: it is refused before anything is written or sent."""
    with pytest.raises(ValidationError, match="NUL"):
        iw.generate("../\x00/etc/passwd", base_url=emulator.url, api_key=KEY, store=tmp_path, model=MODEL,
                    size=SIZE)
    assert list(tmp_path.iterdir()) == []
    assert [e for e in emulator.log if e.endpoint] == []


# ------------------------------------------------------------------------------------------- loopback


def listening_addresses(port: int) -> list[str]:
    """The local IPs of sockets in LISTEN state on `port`, read from the OS, not from the emulator."""
    return sorted(c.laddr.ip for c in psutil.net_connections(kind="inet")
                  if c.laddr and c.laddr.port == port and c.status == psutil.CONN_LISTEN)


@pytest.fixture
def fresh() -> Iterator[Emulator]:
    with Emulator() as server:
        yield server


def test_the_emulator_listens_on_loopback_only(fresh: Emulator, emulator: Emulator) -> None:
    for server in (fresh, emulator, shared_emulator()):
        assert server.address[0] == "127.0.0.1"
        assert listening_addresses(server.port) == ["127.0.0.1"]
        assert server.url.startswith("http://127.0.0.1:")


@pytest.mark.parametrize("host", ["0.0.0.0", "", "::", "192.168.1.10", "10.0.0.1", "example.com"])
def test_a_non_loopback_host_is_refused(host: str) -> None:
    with pytest.raises(ValueError, match="loopback only"):
        Emulator(host=host)


# ------------------------------------------------------------------------------------------- HTML


def test_result_html_escapes_what_it_shows(emulator: Emulator, tmp_path: Path) -> None:
    """Model names and folders come from users and servers: `_repr_html_` shows them as text."""
    script = "<script>alert('model')</script>"
    folder = tmp_path / "<img src=x onerror=alert(1)>"
    emulator.configure(models={script: None})  # a server that serves this name (others answer model_not_found)
    result = iw.generate("<b>bold</b>", base_url=emulator.url, api_key=KEY, store=folder, model=script, size=SIZE)
    assert script in repr(result)  # an unknown model name goes to the server and into the record as is
    shown = result._repr_html_()
    assert "<script>" not in shown
    assert "<img" not in shown
    assert "&lt;script&gt;" in shown
    assert shown.startswith("<pre>")
    assert shown.endswith("</pre>")
    assert html.unescape(shown[len("<pre>"):-len("</pre>")]) == repr(result)


def test_errors_carrying_markup_are_plain_text(emulator: Emulator, tmp_path: Path) -> None:
    """Error messages from the server are kept verbatim as text; no error type renders itself as HTML."""
    markup = "<script>alert('err')</script>"
    emulator.inject(Fault(status=400, message=markup))
    with pytest.raises(APIRequestError) as info:
        iw.generate("a fox", base_url=emulator.url, api_key=KEY, store=tmp_path, model=MODEL, size=SIZE)
    assert markup in str(info.value)
    for kind in (APIRequestError, ValidationError, ImageInputError, StoreError):
        assert not hasattr(kind, "_repr_html_")
        assert not hasattr(kind, "_repr_markdown_")
