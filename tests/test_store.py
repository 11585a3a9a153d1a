"""store.py: atomic saves, safe names, the PNG record chunk, reload after restart, cache lookups."""

from __future__ import annotations

import io
import json
import os
import threading
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, PngImagePlugin

from image_widget import store as store_mod
from image_widget.store import INDEX_FOLDER, History, Store, StoreError, cache_key, read_png_record
from image_widget.store import scan as scan_mod
from support.images import encode, jpeg, noise


def png_bytes(size: tuple[int, int] = (48, 32), seed: int = 0) -> bytes:
    """Incompressible RGBA pixels: each seed its own content."""
    return encode(noise(size, "RGBA", seed))


def record(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "run_id": "0123456789abcdef0123456789abcdef",
        "index": 0,
        "created": "2026-11-01T12:03:04+00:00",
        "endpoint": "generate",
        "model": "gpt-image-1-mini",
        "prompt": "a red fox in the snow",
        "params": {"prompt": "a red fox in the snow", "model": "gpt-image-1-mini", "n": 1},
        "cache_key": "key-1",
        "usage": {"input_tokens": 10, "output_tokens": 100},
    }
    base.update(overrides)
    return base


def files_in(folder: Path) -> list[str]:
    """The folder's files apart from the index's folder, which every save keeps up to date."""
    return sorted(p.name for p in folder.iterdir() if p.name != INDEX_FOLDER)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return tmp_path / "out"


# ------------------------------------------------------------------------------------------- saving


def test_folder_resolution(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("IMAGE_WIDGET_DIR", raising=False)
    assert Store().folder == tmp_path / "image-widget-output"
    monkeypatch.setenv("IMAGE_WIDGET_DIR", str(tmp_path / "env"))
    assert Store().folder == tmp_path / "env"
    assert Store(tmp_path / "arg").folder == tmp_path / "arg"
    assert Store("rel").folder == tmp_path / "rel"  # resolved at construction
    assert not (tmp_path / "env").exists()  # created lazily, on first save


def test_save_writes_image_sidecar_and_png_chunk(folder: Path) -> None:
    data = png_bytes()
    rec = record()
    path = Store(folder).save(data, "png", rec)

    assert path.parent == folder
    assert path.name == "20261101-120304-01234567-0.png"
    assert files_in(folder) == [path.stem + ".json", path.name]  # no temp files left
    for key, value in {"id": path.stem, "path": str(path), "format": "png", "width": 48, "height": 32}.items():
        assert rec[key] == value  # filled in the caller's record too

    sidecar = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    assert sidecar == rec
    with Image.open(path) as img:
        assert isinstance(img, PngImagePlugin.PngImageFile)
        assert json.loads(img.text["image_widget"]) == rec
        assert json.loads(img.info["image_widget"])["prompt"] == "a red fox in the snow"
        saved_pixels = img.convert("RGBA").tobytes()
    with Image.open(io.BytesIO(data)) as original:
        assert saved_pixels == original.tobytes()
    assert read_png_record(path.read_bytes()) == rec


def test_png_chunk_leaves_every_original_byte_in_place(folder: Path) -> None:
    data = png_bytes()
    saved = Store(folder).save(data, "png", record()).read_bytes()
    idat = data.index(b"IDAT") - 4
    assert saved.startswith(data[:idat])  # signature, IHDR: untouched
    assert saved.endswith(data[idat:])  # the pixel data and IEND: untouched
    assert b"iTXt" in saved[idat:len(saved) - len(data) + idat]  # the record sits before the pixels


def test_png_record_readable_without_decoding_pixels(folder: Path) -> None:
    path = Store(folder).save(png_bytes(), "png", record(prompt="no decode"))
    with Image.open(path) as img:
        assert json.loads(img.info["image_widget"])["prompt"] == "no decode"


def test_non_png_formats_and_sniffing(folder: Path) -> None:
    store = Store(folder)
    rec = record()
    path = store.save(jpeg((40, 24)), "jpeg", rec)
    assert path.suffix == ".jpg"
    assert (rec["format"], rec["width"], rec["height"]) == ("jpeg", 40, 24)
    # the bytes decide the extension, so the file opens with the right decoder
    rec2 = record(index=1)
    assert store.save(png_bytes(), "webp", rec2).suffix == ".png"
    assert rec2["format"] == "png"


def test_missing_fields_are_filled(folder: Path) -> None:
    rec: dict[str, Any] = {"prompt": "x", "model": "m"}
    path = Store(folder).save(png_bytes(), "png", rec)
    assert rec["index"] == 0
    assert len(rec["run_id"]) == 32
    assert datetime.fromisoformat(rec["created"]).tzinfo is not None
    assert path.stem == rec["id"]


@pytest.mark.parametrize(
    "prompt",
    ["../../etc/passwd", "a/b\\c", "nul\x00byte", "x" * 10_000, "🦊 émoji ☃ / ..", "CON", ""],
)
def test_names_never_contain_prompt_text(folder: Path, prompt: str) -> None:
    rec = record(prompt=prompt, run_id="../" + prompt, params={"prompt": prompt})
    path = Store(folder).save(png_bytes(), "png", rec)
    assert path.parent == folder
    assert store_mod._OUR_NAME_RE.match(path.stem)
    assert History(folder).entries[0].prompt == prompt  # the text survives in the record


def test_bad_index_and_empty_data_are_refused(folder: Path) -> None:
    store = Store(folder)
    with pytest.raises(ValueError, match="index"):
        store.save(png_bytes(), "png", record(index="../1"))
    with pytest.raises(ValueError, match="no image bytes"):
        store.save(b"", "png", record())
    with pytest.raises(ValueError, match="format"):
        store.save(b"not an image", "../png", record())
    assert not folder.exists() or files_in(folder) == []


def test_names_are_collision_free(folder: Path) -> None:
    store = Store(folder)
    paths = [store.save(png_bytes(seed=i), "png", record()) for i in range(3)]
    assert len({p.name for p in paths}) == 3
    assert [p.stem for p in paths] == ["20261101-120304-01234567-0", "20261101-120304-01234567-0_1",
                                       "20261101-120304-01234567-0_2"]
    # each sidecar belongs to its own image
    for seed, path in enumerate(paths):
        assert json.loads(path.with_suffix(".json").read_text())["id"] == path.stem
        assert Image.open(path).tobytes() == noise((48, 32), "RGBA", seed).tobytes()


def test_different_formats_never_share_a_sidecar(folder: Path) -> None:
    store = Store(folder)
    first = store.save(png_bytes(), "png", record())
    second = store.save(jpeg((40, 24)), "jpeg", record())
    assert first.stem != second.stem
    assert len(History(folder)) == 2


def test_concurrent_saves_do_not_collide(folder: Path) -> None:
    store = Store(folder)
    paths: list[Path] = []

    def work() -> None:
        paths.append(store.save(png_bytes(), "png", record()))

    def work_jpeg() -> None:
        paths.append(store.save(jpeg((40, 24)), "jpeg", record()))

    threads = [threading.Thread(target=work if i % 2 else work_jpeg) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({p.name for p in paths}) == 8
    assert len(History(folder)) == 8


def test_folder_under_a_file_raises_store_error(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    store = Store(blocker / "out")
    with pytest.raises(StoreError) as info:
        store.save(png_bytes(), "png", record())
    assert str(blocker / "out") in str(info.value)
    assert info.value.folder == blocker / "out"
    assert isinstance(info.value.cause, OSError)
    assert files_in(tmp_path) == ["a-file"]


@pytest.mark.parametrize("fail_on_call", [1, 2])  # 1: the image rename, 2: the sidecar rename
def test_write_failure_leaves_nothing(folder: Path, monkeypatch: pytest.MonkeyPatch, fail_on_call: int) -> None:
    store = Store(folder)
    store.save(png_bytes(), "png", record(run_id="ffffffff", cache_key="other"))  # an earlier image stays
    before = files_in(folder)
    real_replace = os.replace
    calls = {"n": 0}

    def flaky_replace(src: Any, dst: Any) -> None:
        calls["n"] += 1
        if calls["n"] == fail_on_call:
            raise OSError(28, "No space left on device")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", flaky_replace)
    rec = record()
    with pytest.raises(StoreError, match="No space left on device") as info:
        store.save(png_bytes(), "png", rec)
    assert str(folder) in str(info.value)
    assert info.value.errno == 28
    assert files_in(folder) == before  # no image, no temp file, no sidecar
    assert "path" not in rec  # the caller's record is not claimed to be saved
    monkeypatch.setattr(os, "replace", real_replace)
    assert len(History(folder)) == 1
    assert store.lookup("key-1") is None


def test_sidecar_failure_removes_the_image_too(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_replace = os.replace
    calls: list[str] = []

    def replace_then_fail(src: str, dst: str) -> None:
        if Path(dst).parent.name == INDEX_FOLDER:  # the first save in a folder also moves its new index in place
            real_replace(src, dst)
            return
        calls.append(dst)
        if str(dst).endswith(".json"):
            raise OSError(28, "No space left on device")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace_then_fail)
    with pytest.raises(StoreError, match="No space left on device"):
        Store(folder).save(png_bytes(), "png", record())
    assert len(calls) == 2
    assert files_in(folder) == []


def test_saved_files_are_fsynced_off_the_callers_path(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from image_widget import store as store_module

    synced: list[int] = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(fd), real_fsync(fd))[1])
    Store(folder).save(png_bytes(), "png", record())
    store_module.flush()
    assert len(synced) >= 3  # image, sidecar, folder


# ------------------------------------------------------------------------------------------- History


def save_run(store: Store, *, run_id: str, n: int, created: str, prompt: str = "a fox",
             model: str = "gpt-image-1-mini", key: str = "key-1", indices: list[int] | None = None,
             **extra: Any) -> list[Path]:
    return [
        store.save(png_bytes(seed=i), "png",
                   record(run_id=run_id, index=i, created=created, prompt=prompt, model=model, cache_key=key,
                          params={"prompt": prompt, "n": n}, **extra))
        for i in (range(n) if indices is None else indices)
    ]


def test_history_reloads_from_a_fresh_instance(folder: Path) -> None:
    store = Store(folder)
    save_run(store, run_id="aaaaaaaa", n=2, created="2026-11-01T10:00:00+00:00", prompt="Old Fox")
    save_run(store, run_id="bbbbbbbb", n=1, created="2026-11-02T10:00:00+00:00", prompt="new owl",
             model="gpt-image-2")

    history = History(folder)  # as after a kernel restart
    assert len(history) == 3
    assert [e.prompt for e in history] == ["new owl", "Old Fox", "Old Fox"]  # newest first
    assert [e.index for e in history.entries[1:]] == [0, 1]  # a run's images in index order
    assert history[0].id == history.entries[0].id
    assert [e.id for e in history[1:]] == [e.id for e in history.entries[1:]]
    runs = history.runs()
    assert [r.run_id for r in runs] == ["bbbbbbbb", "aaaaaaaa"]
    assert [len(r) for r in runs] == [1, 2]
    assert runs[1].complete
    assert "3 image(s) in 2 run(s)" in repr(history)
    assert len(repr(history)) < 200

    img = history[0].image()
    assert img.size == (48, 32)
    assert history[0].data() == history[0].path.read_bytes()
    assert history[0].record["path"] == str(history[0].path)


def test_history_filter(folder: Path) -> None:
    store = Store(folder)
    save_run(store, run_id="aaaaaaaa", n=1, created="2026-10-30T23:59:00+00:00", prompt="A Red FOX")
    save_run(store, run_id="bbbbbbbb", n=1, created="2026-11-01T08:00:00+00:00", prompt="a blue owl",
             model="gpt-image-2")
    save_run(store, run_id="cccccccc", n=1, created="2026-11-02T08:00:00+00:00", prompt="red owl")
    history = History(folder)

    def prompts(found: list[Any]) -> list[str]:
        return [f.prompt for f in found]

    assert prompts(history.filter(prompt="red")) == ["red owl", "A Red FOX"]
    assert prompts(history.filter(prompt="OWL", model="gpt-image-2")) == ["a blue owl"]
    assert prompts(history.filter(model="GPT-IMAGE-1-MINI")) == ["red owl", "A Red FOX"]
    assert prompts(history.filter(since=date(2026, 11, 1))) == ["red owl", "a blue owl"]
    assert prompts(history.filter(until=date(2026, 11, 1))) == ["a blue owl", "A Red FOX"]  # whole day
    assert prompts(history.filter(since=datetime(2026, 11, 1, 9, tzinfo=UTC))) == ["red owl"]
    assert prompts(history.filter(since=datetime(2026, 10, 31), until=datetime(2026, 11, 1, 8))) == [
        "a blue owl"]  # naive = UTC, bounds inclusive
    assert history.filter(prompt="zebra") == []
    assert len(history.filter()) == 3


def test_damaged_folder_is_skipped_not_fatal(folder: Path) -> None:
    store = Store(folder)
    good = save_run(store, run_id="aaaaaaaa", n=1, created="2026-11-01T10:00:00+00:00")[0]
    bad_json = save_run(store, run_id="bbbbbbbb", n=1, created="2026-11-01T11:00:00+00:00")[0]
    bad_json.with_suffix(".json").write_text("{not json", encoding="utf-8")
    no_image = save_run(store, run_id="cccccccc", n=1, created="2026-11-01T12:00:00+00:00")[0]
    no_image.unlink()
    not_a_dict = save_run(store, run_id="dddddddd", n=1, created="2026-11-01T13:00:00+00:00")[0]
    not_a_dict.with_suffix(".json").write_text("[1, 2]", encoding="utf-8")
    (folder / "binary.json").write_bytes(b"\xff\xfe\x00garbage")
    # leftovers of a killed process: temp files and an empty reserved name
    (folder / ".20261101-100000-aaaaaaaa-0.png.x1y2.tmp").write_bytes(b"\x89PNG half")
    (folder / ".20261101-100000-aaaaaaaa-0.json.abcd.tmp").write_text("{")
    (folder / "20261101-140000-eeeeeeee-0.png").write_bytes(b"")

    history = History(folder)
    assert [e.id for e in history] == [good.stem]
    assert history.skipped == 4
    assert len(history.problems) == 4
    assert "4 skipped" in repr(history)
    assert Store(folder).lookup("key-1") is not None  # the store's own scan is just as tolerant


def test_png_without_sidecar_is_recovered_from_its_chunk(folder: Path) -> None:
    path = save_run(Store(folder), run_id="aaaaaaaa", n=1, created="2026-11-01T10:00:00+00:00",
                    prompt="kept")[0]
    path.with_suffix(".json").unlink()  # as if the process died between the two writes
    history = History(folder)
    assert [e.prompt for e in history] == ["kept"]
    assert history.recovered == 1
    assert history.skipped == 0


def test_history_of_a_missing_folder_is_empty(tmp_path: Path) -> None:
    history = History(tmp_path / "nowhere")
    assert len(history) == 0
    assert history.runs() == []
    assert list(history) == []


def test_history_follows_a_moved_folder(folder: Path, tmp_path: Path) -> None:
    save_run(Store(folder), run_id="aaaaaaaa", n=1, created="2026-11-01T10:00:00+00:00")
    moved = folder.rename(tmp_path / "moved")
    entry = History(moved)[0]
    assert entry.path.parent == moved
    assert entry.image().size == (48, 32)


# ---------------------------------------------------------------------------------------- load / index


def test_load(folder: Path) -> None:
    store = Store(folder)
    path = save_run(store, run_id="aaaaaaaa", n=1, created="2026-11-01T10:00:00+00:00")[0]
    found = Store(folder).load(path.stem)
    assert found.path == path
    assert found.record["id"] == path.stem
    assert found.data() == path.read_bytes()
    assert path.stem in store
    with pytest.raises(KeyError):
        store.load("20990101-000000-00000000-0")
    with pytest.raises(KeyError):
        store.load("../etc/passwd")


def test_load_finds_images_saved_by_another_instance(folder: Path) -> None:
    reader = Store(folder)
    assert len(reader) == 0  # index built (empty)
    path = save_run(Store(folder), run_id="aaaaaaaa", n=1, created="2026-11-01T10:00:00+00:00")[0]
    assert reader.load(path.stem).path == path
    assert reader.lookup("key-1") is not None


def test_index_is_scanned_once(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    save_run(Store(folder), run_id="aaaaaaaa", n=1, created="2026-11-01T10:00:00+00:00")
    store = Store(folder)
    scans = {"n": 0}
    real_scan = scan_mod.read_folder

    def counting_scan(path: Path, *args: Any) -> Any:
        scans["n"] += 1
        return real_scan(path, *args)

    monkeypatch.setattr(scan_mod, "read_folder", counting_scan)
    for _ in range(5):
        assert store.lookup("key-1") is not None
    save_run(store, run_id="bbbbbbbb", n=1, created="2026-11-01T11:00:00+00:00", key="key-2")
    assert store.lookup("key-2") is not None  # updated on save, no rescan
    assert scans["n"] == 0  # the index on disk was current: not even the first use reads the folder
    assert all(isinstance(s.record, dict) for s in store._index().values())


# ------------------------------------------------------------------------------------------- cache


def test_cache_key_is_stable_and_sensitive() -> None:
    params = {"prompt": "a fox", "model": "gpt-image-1-mini", "size": "1024x1024", "n": 2}
    key = cache_key("generate", params, ["h1"])
    assert len(key) == 64
    assert key == cache_key("generate", dict(reversed(list(params.items()))), ["h1"])  # key order
    # streaming and unset options do not change the image
    assert key == cache_key("generate", {**params, "stream": True, "partial_images": 2}, ["h1"])
    assert key == cache_key("generate", {**params, "quality": None}, ["h1"])
    # everything else does
    assert key != cache_key("edit", params, ["h1"])
    assert key != cache_key("generate", {**params, "n": 3}, ["h1"])
    assert key != cache_key("generate", {**params, "prompt": "a fox "}, ["h1"])
    assert key != cache_key("generate", {**params, "quality": "low"}, ["h1"])
    assert key != cache_key("generate", params, [])
    assert key != cache_key("generate", params, ["h2"])
    assert cache_key("edit", params, ["a", "b"]) != cache_key("edit", params, ["b", "a"])
    assert cache_key("generate", {"x": b"abc"}, []) == cache_key("generate", {"x": b"abc"}, [])


def test_lookup_returns_the_latest_complete_run(folder: Path) -> None:
    store = Store(folder)
    assert store.lookup("key-1") is None
    old = save_run(store, run_id="aaaaaaaa", n=2, created="2026-11-01T10:00:00+00:00")
    # a newer run that was cut off after one of its two images: never served
    save_run(store, run_id="bbbbbbbb", n=2, created="2026-11-02T10:00:00+00:00", indices=[1])
    found = store.lookup("key-1")
    assert found is not None
    assert [s.path for s in found] == old
    assert [s.index for s in found] == [0, 1]

    newer = save_run(store, run_id="cccccccc", n=2, created="2026-11-03T10:00:00+00:00", indices=[1, 0])
    found = store.lookup("key-1")
    assert found is not None
    assert [s.path for s in found] == sorted(newer)  # ordered by index
    assert Store(folder).lookup("key-1") == found  # same answer after a restart
    assert store.lookup("other-key") is None


def test_lookup_uses_count_over_n_and_skips_deleted_files(folder: Path) -> None:
    store = Store(folder)
    # asked for 3, the response returned 2 (count=2): complete
    paths = save_run(store, run_id="aaaaaaaa", n=3, created="2026-11-01T10:00:00+00:00", indices=[0, 1],
                     count=2)
    assert store.lookup("key-1") is not None
    paths[0].unlink()  # the user deleted a file: do not serve a broken run
    assert store.lookup("key-1") is None


def test_history_add_run_puts_a_new_run_first_without_rereading(folder: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    store = Store(folder)
    save_run(store, run_id="a" * 32, n=1, created="2026-11-01T10:00:00+00:00")
    history = History(folder)
    newer = save_run(store, run_id="b" * 32, n=2, created="2026-11-01T11:00:00+00:00")
    run = [store.load(p.stem) for p in reversed(newer)]
    monkeypatch.setattr("image_widget.store.scan.read_folder", lambda _folder: pytest.fail("the folder was read again"))
    history.add_run(run)
    assert [e.run_id for e in history.entries] == ["b" * 32, "b" * 32, "a" * 32]
    assert [e.index for e in history.entries[:2]] == [0, 1]
    assert len(history.runs()) == 2
