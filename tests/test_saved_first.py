"""Saved first, shown at once (issue 22, click → page): once every image of a run is on disk, `on_saved` gets
them before anything decodes them; the widget sends them to the page as they came (`results_saved`, a message,
not state) and a run the page started holds its decodes and thumbnails until a page says it drew them
(`results_shown`), at most `SHOWN_WAIT_S`; a run started from Python never waits for a page."""

from __future__ import annotations

import base64
import io
import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

import image_widget as iw
from image_widget import images
from image_widget.client.result import SavedImage
from image_widget.emulator import Emulator, Fault
from image_widget.widget import ImageWidget
from image_widget.widget import runs as runs_mod
from support import waiting
from support.full_disk import full_disk_for

KEY = "sk-test-SAVEDFIRST0123456789"


class Sent:
    """Every custom message the widget sends (content, buffers)."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def __call__(self, data: Any = None, metadata: Any = None, buffers: Any = None) -> None:
        if (data or {}).get("method") == "custom":
            with self._lock:
                self.messages.append(data["content"])

    def of(self, kind: str) -> list[dict[str, Any]]:
        with self._lock:
            return [m for m in self.messages if m.get("type") == kind]


@pytest.fixture
def widget(emulator: Emulator, tmp_path: Path) -> Iterator[tuple[ImageWidget, Sent]]:
    w = ImageWidget(base_url=emulator.url, api_key=KEY, folder=tmp_path / "out", prompt="a red fox", n=2)
    sent = Sent()
    w.comm.send = sent
    yield w, sent
    w.close()


def pixels(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGBA"))


def test_a_page_started_run_sends_its_saved_images_then_waits_for_the_page(
        widget: tuple[ImageWidget, Sent], monkeypatch: pytest.MonkeyPatch) -> None:
    w, sent = widget
    monkeypatch.setattr(runs_mod, "SHOWN_WAIT_S", 60.0)
    w._handle_custom_msg({"type": "generate"}, [])
    waiting.wait_until(lambda: bool(sent.of("results_saved")), "the saved images to be sent", 30)
    (saved,) = sent.of("results_saved")
    assert len(saved["items"]) == 2
    for item in saved["items"]:
        stored = w._store.load(item["id"])  # on disk before it was shown
        assert item["mime"] == "image/png"
        assert (pixels(base64.b64decode(item["b64"])) == pixels(stored.data())).all()
        assert (item["width"], item["prompt"]) == (1024, "a red fox")
        assert not {"thumb", "code", "snippet"} & set(item)
    assert saved["job_id"] in w._runs._shown  # held: decodes and thumbnails wait for the page (≤ SHOWN_WAIT_S)
    assert w.results == []
    assert w.running
    w._handle_custom_msg({"type": "results_shown", "job_id": saved["job_id"]}, [])
    assert w.wait(30)
    assert [r["id"] for r in w.results] == [item["id"] for item in saved["items"]]
    assert w.status["state"] == "done"


def test_a_run_started_from_python_never_waits_for_a_page(
        widget: tuple[ImageWidget, Sent], monkeypatch: pytest.MonkeyPatch) -> None:
    w, sent = widget
    monkeypatch.setattr(runs_mod, "SHOWN_WAIT_S", 60.0)
    done: list[Any] = []
    runner = threading.Thread(target=lambda: done.append(w.generate()), daemon=True)
    runner.start()
    runner.join(30)
    assert [len(r.images) for r in done] == [2]  # no answer from a page was needed
    assert len(sent.of("results_saved")) == 1  # a page shown meanwhile still gets them at once


def test_on_saved_gets_every_image_on_disk_before_any_is_decoded(
        emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    order: list[str] = []
    real = images.decode_image
    monkeypatch.setattr(images, "decode_image", lambda data, *a, **k: order.append("decode") or real(data, *a, **k))
    got: list[list[SavedImage]] = []

    def on_saved(saved: list[SavedImage]) -> None:
        order.append("on_saved")
        assert all(Path(s.record["path"]).exists() for s in saved)
        got.append(saved)

    result = iw.generate("a red fox", n=3, base_url=emulator.url, api_key=KEY, store=tmp_path, on_saved=on_saved)
    assert order == ["on_saved", "decode", "decode", "decode"]
    (saved,) = got
    assert [s.record["id"] for s in saved] == [r["id"] for r in result.records]
    assert all(s.mime == "image/png" for s in saved)
    for s, image in zip(saved, result.images, strict=True):
        assert (pixels(s.data) == np.asarray(image.convert("RGBA"))).all()


def test_an_on_saved_that_fails_is_logged_and_the_run_goes_on(
        emulator: Emulator, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    def broken(saved: list[SavedImage]) -> None:
        raise RuntimeError("the view went away")

    with caplog.at_level(logging.ERROR, logger="image_widget"):
        result = iw.generate("a red fox", base_url=emulator.url, api_key=KEY, store=tmp_path, on_saved=broken)
    assert len(result.images) == 1
    assert result.paths[0].exists()
    assert "on_saved failed" in caplog.text
    assert KEY not in caplog.text


def test_a_run_too_large_to_send_at_once_waits_for_its_thumbnails(
        widget: tuple[ImageWidget, Sent], monkeypatch: pytest.MonkeyPatch) -> None:
    w, sent = widget
    monkeypatch.setattr(runs_mod, "SHOWN_WAIT_S", 60.0)
    monkeypatch.setattr(runs_mod, "SHOWN_BYTES_MAX", 1000)
    w._handle_custom_msg({"type": "generate"}, [])
    assert w.wait(30)  # nothing sent, so nothing to wait for
    assert sent.of("results_saved") == []
    assert len(w.results) == 2


def test_a_run_that_ends_without_its_results_is_not_shown_early(
        widget: tuple[ImageWidget, Sent], emulator: Emulator) -> None:
    """A stream that broke after its images arrived: they are saved (paid for) and kept in History, but the run
    failed, so the page is not shown them as the run's results (no `results_saved`, and no wait for the page)."""
    w, sent = widget
    w.options = {**w.options, "partial_images": 1}
    emulator.inject(Fault(kind="drop", after=4))
    w._handle_custom_msg({"type": "generate"}, [])
    assert w.wait(30)
    assert w.status["state"] == "error"
    assert sent.of("results_saved") == []
    assert list(w.folder.glob("*.png"))


def test_a_lined_up_edit_is_shown_as_the_png_it_was_saved_as(emulator: Emulator, tmp_path: Path) -> None:
    source = Image.new("RGB", (256, 256), "white")
    mask = np.zeros((256, 256), bool)
    mask[64:192, 64:192] = True
    got: list[list[SavedImage]] = []
    result = iw.edit(source, "a red square", mask=mask, output_format="jpeg", base_url=emulator.url, api_key=KEY,
                     store=tmp_path, on_saved=got.append)
    ((shown,),) = got
    assert result.records[0]["format"] == "png"  # the composite onto the source
    assert shown.mime == "image/png"
    assert Image.open(io.BytesIO(shown.data)).format == "PNG"
    shown.record["prompt"] = "changed by the callback"
    assert result.records[0]["prompt"] == "a red square"  # the callback gets a copy


def test_a_conversation_turn_calls_on_saved_and_a_batch_sweep_refuses_it(emulator: Emulator, tmp_path: Path) -> None:
    got: list[list[SavedImage]] = []
    chat = iw.Chat(base_url=emulator.url, api_key=KEY, folder=tmp_path, on_saved=got.append)
    result = chat.send("a red fox")
    assert [[s.record["id"] for s in saved] for saved in got] == [[r["id"] for r in result.records]]
    with pytest.raises(TypeError, match="on_saved is not available with batch=True"):
        iw.sweep("a {animal}", animal=["fox"], batch=True, base_url=emulator.url, api_key=KEY, store=tmp_path,
                 on_saved=got.append)


def test_a_run_is_saved_in_two_index_transactions_and_shown_before_its_rows(
        emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Four images: one transaction marks them pending, one adds their rows (it was two per image); `on_saved`
    comes between — the images are on disk, their rows not yet in the index."""
    from image_widget.store import index as index_mod

    iw.generate("warm up the folder", base_url=emulator.url, api_key=KEY, store=tmp_path)
    counted = {"n": 0}
    real = index_mod.db.transaction

    def transaction(conn: Any) -> Any:
        counted["n"] += 1
        return real(conn)

    monkeypatch.setattr(index_mod.db, "transaction", transaction)
    rows_when_shown: list[int] = []

    def on_saved(saved: list[SavedImage]) -> None:
        import sqlite3

        from image_widget.store import index_path
        conn = sqlite3.connect(index_path(tmp_path))
        ids = [s.record["id"] for s in saved]
        rows_when_shown.append(conn.execute(f"SELECT COUNT(*) FROM images WHERE id IN ({','.join('?' * len(ids))})",
                                            ids).fetchone()[0])
        conn.close()

    result = iw.generate("a red fox", n=4, base_url=emulator.url, api_key=KEY, store=tmp_path, on_saved=on_saved)
    assert len(result.paths) == 4
    assert rows_when_shown == [0]
    assert counted["n"] == 2


def test_a_run_with_an_image_that_could_not_be_saved_is_not_shown(
        emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """One image of four hit a full disk: `on_saved` got the other three, then the run failed. Found by a review."""
    full_disk_for(monkeypatch, lambda path: path.name.endswith("-2.json"))
    got: list[list[SavedImage]] = []
    with pytest.raises(OSError, match="No space left on device"):
        iw.generate("a red fox", n=4, base_url=emulator.url, api_key=KEY, store=tmp_path, on_saved=got.append)
    assert got == []
