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
import struct
import threading
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openai
import pytest
from PIL import Image

import image_widget as iw
from image_widget.base import formats, runtime
from image_widget.client import file_ids
from image_widget.client.request import resolve_store
from image_widget.emulator import Emulator
from image_widget.money import classroom, learned
from image_widget.store import History, db
from image_widget.store.index import FolderIndex
from support.images import png

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


def test_a_script_runs_a_single_request_on_its_own_thread_and_keeps_its_loop() -> None:
    async def where() -> tuple[str, asyncio.AbstractEventLoop, bool]:
        return threading.current_thread().name, asyncio.get_running_loop(), runtime.blocking_ok()

    def three() -> list[tuple[str, asyncio.AbstractEventLoop, bool]]:
        return [runtime.run_sync(where(), alone=True), runtime.run_sync(where(), alone=True), runtime.run_sync(where())]

    (first, second, other), name = in_thread(three)
    assert first[0] == second[0] == name  # not the sync bridge's thread
    assert first[1] is second[1]  # one loop per thread, kept: its SDK clients and connections too
    assert first[2] is True  # the loop's only work: the SDK's sync client may block it
    assert (other[0], other[2]) == (runtime.SYNC_LOOP.name, False)  # anything else: the bridge, never blocked


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


def test_ctrl_c_in_a_blocking_call_counts_against_the_class_budget(opts: dict[str, Any],
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C now lands in the SDK's sync call itself: the request may be on the server, so its hold is charged
    (it was released as $0)."""
    monkeypatch.setenv(classroom.ENV_VAR, "5")
    classroom.reset()

    def on_partial(index: int, image: Image.Image) -> None:
        raise KeyboardInterrupt  # the first preview: the request reached the server, no image has arrived

    with pytest.raises(KeyboardInterrupt):
        in_thread(lambda: iw.generate("a fox", partial_images=1, on_partial=on_partial, **opts))
    assert classroom.spent() > 0
    assert History(opts["store"]).entries == []


def test_two_script_threads_share_one_upload_of_the_same_input(emulator: Emulator, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """The upload in flight is awaited per loop: each script thread runs its own (it failed across loops)."""
    real = file_ids.upload

    async def slow_upload(*args: Any, **kwargs: Any) -> Any:
        await asyncio.sleep(0.3)  # both threads find the input not uploaded yet
        return await real(*args, **kwargs)

    monkeypatch.setattr(file_ids, "upload", slow_upload)
    photo = png((96, 96))
    kw = {"base_url": emulator.url, "api_key": KEY, "store": tmp_path, "model": "gpt-image-2", "quality": "low"}
    done: list[Any] = []
    threads = [threading.Thread(target=lambda: done.append(iw.edit(photo, "a hat", reuse_inputs=True, **kw)))
               for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(done) == 2


def test_a_callers_async_client_works_from_any_thread(emulator: Emulator, tmp_path: Path) -> None:
    """A caller's AsyncOpenAI is bound to the loop it was first used on: its calls stay on the bridge's loop."""
    client = openai.AsyncOpenAI(base_url=emulator.url, api_key=KEY, max_retries=0)
    kw = {"client": client, "store": tmp_path, "model": "gpt-image-2", "quality": "low", "size": "1024x1024"}
    iw.generate("a fox", **kw)
    result, _ = in_thread(lambda: iw.generate("an owl", **kw))
    assert result.paths[0].is_file()


@pytest.mark.parametrize(("width", "height", "depth", "colour"), [
    (60000, 60000, 8, 2), (2**31, 1, 8, 2), (8, 8, 8, 5), (8, 8, 3, 2)])
def test_a_png_header_pillow_refuses_is_left_to_pillow(width: int, height: int, depth: int, colour: int) -> None:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0))
    data = b"\x89PNG\r\n\x1a\n" + header + chunk(b"IDAT", zlib.compress(b"\0" * 16)) + chunk(b"IEND", b"")
    assert formats._png_info(data) is None
    assert formats.image_info(data) is None  # Pillow refuses it too: an unreadable image, as before


def test_a_png_cut_off_before_its_pixels_is_left_to_pillow() -> None:
    out = io.BytesIO()
    Image.new("RGB", (8, 8)).save(out, "PNG")
    assert formats._png_info(out.getvalue()[:40]) is None


def _watch_estimates(monkeypatch: pytest.MonkeyPatch, posts: list[tuple[str, str, str]],
                     fail: bool = False) -> list[tuple[int, str]]:
    """Every learned estimate as (how many requests had been sent by then, thread name)."""
    seen: list[tuple[int, str]] = []
    real = learned.estimate

    def estimate(*args: Any, **kwargs: Any) -> Any:
        seen.append((len(posts), threading.current_thread().name))
        if fail:
            raise RuntimeError("the estimates' index is unreadable")
        return real(*args, **kwargs)

    monkeypatch.setattr(learned, "estimate", estimate)
    return seen


def test_with_no_budget_or_cache_the_estimate_is_made_beside_the_decode_not_before_sending(
        opts: dict[str, Any], posts: list[tuple[str, str, str]], monkeypatch: pytest.MonkeyPatch) -> None:
    """Off the request's path (issue 22, n=1 overhead): the first image's save job works out the estimate and the
    cache key, before it saves (a run never learns from itself), while the caller decodes."""
    seen = _watch_estimates(monkeypatch, posts)
    first = iw.generate("a fox", **opts)
    assert seen == [(1, seen[0][1])]
    assert seen[0][1] != threading.current_thread().name
    assert "learned" not in first.estimate.text  # not from itself
    record = first.records[0]
    assert record["cost_estimate_usd"] == first.estimate.usd
    assert record["cache_key"]
    again = iw.generate("a fox", cache=True, **opts)  # the key it saved is the key a look-up computes
    assert again.cached
    assert len(posts) == 1
    second = iw.generate("an owl", **opts)
    assert "learned from 1 run" in second.estimate.text


def test_a_class_budget_still_estimates_before_sending(
        opts: dict[str, Any], posts: list[tuple[str, str, str]], monkeypatch: pytest.MonkeyPatch) -> None:
    seen = _watch_estimates(monkeypatch, posts)
    monkeypatch.setenv(classroom.ENV_VAR, "5")
    classroom.reset()
    iw.generate("a fox", **opts)
    assert seen == [(0, threading.current_thread().name)]  # the hold needs it
    assert classroom.spent() > 0


def test_an_estimate_that_fails_after_the_answer_costs_the_record_its_figure_never_the_image(
        opts: dict[str, Any], posts: list[tuple[str, str, str]], monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    _watch_estimates(monkeypatch, posts, fail=True)
    result = iw.generate("a fox", **opts)
    assert result.paths[0].exists()
    assert len(posts) == 1
    assert result.estimate.usd is None
    assert result.records[0]["cost_estimate_usd"] is None
    assert result.records[0]["cost_usd"] is not None  # what it cost is still known
    assert "could not be worked out" in caplog.text
    assert KEY not in caplog.text
    assert [e.id for e in History(opts["store"]).entries] == [result.records[0]["id"]]
