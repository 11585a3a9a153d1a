"""Where a sync call runs and what it costs on the way (issue 22, item 3: the n=1 and conversation-turn targets).

A script's `iw.generate` / `Chat.send` runs on its caller's thread, on that thread's own loop, with the SDK's sync
client: no hand-off to the sync bridge's thread and back, no async transport. Anything that runs several
requests at once (a sweep) or is called inside a running loop (Jupyter) keeps the async client. Ctrl-C during a
blocking stream still saves the images that had arrived. A folder's store and index are opened once per process,
and a run saved here is not read back for the next estimate. The speed itself is measured by the benchmarks.
"""

from __future__ import annotations

import asyncio
import io
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openai
import pytest
from PIL import Image

import image_widget as iw
from image_widget.base import formats, runtime
from image_widget.client.request import resolve_store
from image_widget.emulator import Emulator
from image_widget.money import learned
from image_widget.store import History, db
from image_widget.store.index import FolderIndex

KEY = "sk-test"


@pytest.fixture
def opts(emulator: Emulator, tmp_path: Path) -> dict[str, Any]:
    return {"base_url": emulator.url, "api_key": KEY, "store": tmp_path, "model": "gpt-image-2", "quality": "low",
            "size": "1024x1024"}


@pytest.fixture
def posts(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str, str]]:
    """Every SDK `post` as (client kind, path, thread name)."""
    seen: list[tuple[str, str, str]] = []
    for cls in (openai.OpenAI, openai.AsyncOpenAI):
        real = cls.post

        def post(self: Any, path: str, *args: Any, _real: Any = real, _kind: str = cls.__name__,
                 **kwargs: Any) -> Any:
            seen.append((_kind, path, threading.current_thread().name))
            return _real(self, path, *args, **kwargs)

        monkeypatch.setattr(cls, "post", post)
    return seen


def in_thread(fn: Callable[[], Any]) -> tuple[Any, str]:
    """Run `fn` on a new plain thread (no event loop, like a script): its result and the thread's name."""
    out: list[Any] = []
    errors: list[BaseException] = []

    def target() -> None:
        try:
            out.append(fn())
        except BaseException as exc:  # noqa: BLE001 - re-raised on the test's thread
            errors.append(exc)

    thread = threading.Thread(target=target, name="a-script")
    thread.start()
    thread.join(60)
    if errors:
        raise errors[0]
    return out[0], thread.name


def test_a_script_runs_the_coroutine_on_its_own_thread_and_keeps_its_loop() -> None:
    async def where() -> tuple[str, asyncio.AbstractEventLoop, bool]:
        return threading.current_thread().name, asyncio.get_running_loop(), runtime.blocking_ok()

    def twice() -> list[tuple[str, asyncio.AbstractEventLoop, bool]]:
        return [runtime.run_sync(where()), runtime.run_sync(where(), alone=True)]

    (first, second), name = in_thread(twice)
    assert first[0] == second[0] == name  # not the sync bridge's thread
    assert first[1] is second[1]  # one loop per thread, kept: its SDK clients and connections too
    assert (first[2], second[2]) == (False, True)  # only a call that sends one request may block its loop


def test_inside_a_running_loop_the_bridge_hands_over_and_never_blocks() -> None:
    async def where() -> tuple[str, bool]:
        return threading.current_thread().name, runtime.blocking_ok()

    async def jupyter_cell() -> tuple[str, bool]:
        return runtime.run_sync(where(), alone=True)  # a cell's sync call, inside the kernel's running loop

    name, blocking = asyncio.run(jupyter_cell())
    assert name == runtime.SYNC_LOOP.name
    assert blocking is False  # the bridge's loop is shared: it must never be blocked


def test_generate_in_a_script_sends_with_the_sync_client_on_the_callers_thread(
        opts: dict[str, Any], posts: list[tuple[str, str, str]]) -> None:
    result, name = in_thread(lambda: iw.generate("a fox", **opts))
    assert result.paths[0].is_file()
    assert posts == [("OpenAI", "/images/generations", name)]


def test_chat_send_in_a_script_sends_with_the_sync_client_on_the_callers_thread(
        emulator: Emulator, tmp_path: Path, posts: list[tuple[str, str, str]]) -> None:
    chat = iw.Chat(base_url=emulator.url, api_key=KEY, folder=tmp_path, size="1024x1024", quality="low")
    _, name = in_thread(lambda: (chat.send("a red fox in snow"), chat.send("make it night")))
    assert posts == [("OpenAI", "/responses", name)] * 2
    assert [stored.record["turn"] for stored in History(tmp_path).filter(thread=chat.thread).entries] == [1, 2]


def test_a_sweep_keeps_the_async_client_so_its_cells_run_side_by_side(
        opts: dict[str, Any], posts: list[tuple[str, str, str]]) -> None:
    result = iw.sweep("a {animal}", animal=["fox", "owl"], progress=False, **opts)
    assert not result.failures
    assert [kind for kind, path, _ in posts if path == "/images/generations"] == ["AsyncOpenAI"] * 2


def test_ctrl_c_during_a_blocking_stream_saves_what_arrived_then_interrupts(opts: dict[str, Any]) -> None:
    previews: list[int] = []

    def on_partial(index: int, image: Image.Image) -> None:
        previews.append(index)
        if len(previews) == 2:  # the second image's preview: the first image is complete (and paid for)
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        in_thread(lambda: iw.generate("a fox", n=2, partial_images=1, on_partial=on_partial, **opts))
    kept = [stored.record for stored in History(opts["store"]).entries]
    assert [(r["index"], r["count"]) for r in kept] == [(0, 2)]  # saved, and marked as an incomplete run
    assert Path(kept[0]["path"]).is_file()


def test_requests_into_one_folder_open_its_index_once(opts: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[Path] = []
    real = db.connect
    def connect(path: Path, *args: Any, **kwargs: Any) -> Any:
        opened.append(path)
        return real(path, *args, **kwargs)

    monkeypatch.setattr(db, "connect", connect)
    for prompt in ("a fox", "an owl", "a hare", "a wren"):
        iw.generate(prompt, **opts)
    files = [path for path in opened if Path(path).name == "images.sqlite"]
    assert len(files) == 2  # the store's index and the estimates' (a store made per request opened it each time)
    assert resolve_store(opts["store"]) is resolve_store(str(opts["store"]))


def test_a_run_saved_here_is_not_read_back_for_the_next_estimate(opts: dict[str, Any],
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    iw.generate("a fox", **opts)
    queries: list[str] = []
    real = FolderIndex.rows

    def rows(self: FolderIndex, sql: str, *args: Any, **kwargs: Any) -> list[tuple[Any, ...]]:
        queries.append(sql)
        return real(self, sql, *args, **kwargs)

    monkeypatch.setattr(FolderIndex, "rows", rows)
    second = iw.generate("an owl", **opts)
    assert "learned from 1 run" in second.estimate.text
    assert not [q for q in queries if q.startswith(learned._DETAIL)]  # the first run was known from its save
    third = learned.estimate({"model": "gpt-image-2", "quality": "low", "size": "1024x1024"}, opts["store"])
    assert third.runs == 2


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "L", "LA", "P", "I;16"])
def test_a_png_header_reads_as_pillow_reads_it(mode: str) -> None:
    for transparency in (None, 0):
        if transparency is not None and mode in ("RGBA", "LA", "I;16"):
            continue
        out = io.BytesIO()
        extra = {} if transparency is None else {"transparency": (0, 0, 0) if mode == "RGB" else 0}
        Image.new(mode, (37, 21)).save(out, "PNG", **extra)
        data = out.getvalue()
        with Image.open(io.BytesIO(data)) as img:
            pillow = (img.size, img.mode in ("RGBA", "LA", "PA") or "transparency" in img.info)
        assert formats._png_info(data) == pillow
        assert formats.image_info(data) == pillow


def test_a_damaged_png_header_is_left_to_pillow() -> None:
    out = io.BytesIO()
    Image.new("RGB", (8, 8)).save(out, "PNG")
    data = bytearray(out.getvalue())
    data[17] ^= 0xFF  # the width, now disagreeing with the header's checksum
    assert formats._png_info(bytes(data)) is None
    assert formats._png_info(b"\x89PNG\r\n\x1a\n" + b"\0" * 30) is None
