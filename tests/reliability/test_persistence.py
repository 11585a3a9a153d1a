"""Persistence under interruption: a kernel killed during a run, and folders that cannot be written.

Kills are real: a child Python process runs `image_widget.generate` and gets SIGKILL — while its
request is in flight, or (by a hook inside the child) at a chosen point of the save, including after the
image and its sidecar but before the folder's index has its row. Afterwards the folder must hold whole
files only (plus what every reader ignores: hidden temp files and zero-byte reserved names), `History`
must reload with the right `recovered` / `skipped` counts, the index must match the files, and a new
request — also through a freshly built widget, as after a kernel restart — must work. The index is also
deleted and overwritten with garbage under a folder in use.

The module ends with `persistence: N interruptions (K of them to the index …), N folders reloaded cleanly, …`.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

import image_widget
import image_widget as iw
from image_widget.emulator import Emulator
from image_widget.store import INDEX_FOLDER, History, Store, StoreError, index_path, read_png_record
from support import waiting
from support.figures import broken, figure_fixture
from support.held import hold, release

from .figures import audit_folder, index_mismatches

KEY = "sk-test-persist-0123456789abcdef"
MODEL, SIZE = "gpt-image-2", "256x256"
WAIT_S = 60.0  # bound for a child process (startup imports are slow on a loaded machine)

persistence = figure_fixture(
    "persistence",
    lambda c: (f"persistence: {c['interruptions']} interruptions ({c['index_faults']} of them to the index: deleted, "
               f"corrupt, killed before its row), {c['clean']} folders reloaded cleanly "
               f"({c['recovered']} image(s) recovered from their PNG chunk), {c['visible_partial']} half-written "
               f"files visible, {c['wasted']} paid requests for unwritable folders, {c['index_ok']} of "
               f"{c['index_checked']} indexes matched their files"),
    lambda c: broken(c, visible_partial="half-written files visible", wasted="paid requests wasted")
    + ([f"only {c['clean']} of {c['interruptions']} folders reloaded cleanly"]
       if c["clean"] != c["interruptions"] else [])
    + ([f"only {c['index_ok']} of {c['index_checked']} indexes matched their files"]
       if c["index_ok"] != c["index_checked"] else []),
)

# The child: a kernel running one generate. `mode` picks where it dies (see MODES).
CHILD = r'''
import os, signal, sys
from pathlib import Path
import image_widget as iw
url, folder, mode, key, model, size = sys.argv[1:7]

def die():
    os.kill(os.getpid(), signal.SIGKILL)

if mode == "mid-index":   # the image and its sidecar are in place, the index row is not
    from image_widget.store.index import FolderIndex
    FolderIndex.end_save = lambda *args, **kwargs: die()
if mode in ("mid-image", "mid-sidecar"):   # a temp file is written, not yet renamed into place
    replace = os.replace
    suffix = ".png" if mode == "mid-image" else ".json"
    def replace_or_die(src, dst, *args, **kwargs):
        if str(dst).endswith(suffix):
            die()
        return replace(src, dst, *args, **kwargs)
    os.replace = replace_or_die

iw.generate(f"killed {mode}", base_url=url, api_key=key, store=folder, model=model, size=size)
print("finished without being killed", flush=True)
'''
MODES = ("in-flight", "mid-image", "mid-sidecar", "mid-index")


@dataclass
class Child:
    proc: subprocess.Popen[str]
    folder: Path

    def wait_killed(self) -> None:
        """Wait (bounded) for the child to end, and check it was killed, not finished."""
        try:
            _, err = self.proc.communicate(timeout=WAIT_S)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise AssertionError("the child did not end in time") from None
        assert self.proc.returncode == -signal.SIGKILL, f"child ended with {self.proc.returncode}: {err[-2000:]}"


def wait_until(check: Callable[[], bool], what: str, timeout: float = WAIT_S) -> None:
    """Bounded poll for state owned by another thread or process (e.g. the emulator's log)."""
    waiting.wait_until(check, what, timeout)


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[Emulator, Emulator]]:
    """(a normal server, one that holds every request until the module ends) — private to this module."""
    with Emulator() as fast, Emulator() as stalled:
        hold(stalled)
        yield fast, stalled
        release(stalled)


@pytest.fixture(scope="module")
def children(servers: tuple[Emulator, Emulator],
             tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Child]]:
    """All kill scenarios start at once (a child's imports take seconds; in parallel they cost it once)."""
    fast, stalled = servers
    src = str(Path(image_widget.__file__).resolve().parents[1])
    env = {k: v for k, v in os.environ.items() if k not in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "IMAGE_WIDGET_DIR")}
    env["PYTHONPATH"] = os.pathsep.join([src, env.get("PYTHONPATH", "")])
    started: dict[str, Child] = {}
    for mode in MODES:
        folder = tmp_path_factory.mktemp(mode) / "out"
        url = (stalled if mode == "in-flight" else fast).url
        proc = subprocess.Popen([sys.executable, "-c", CHILD, url, str(folder), mode, KEY, MODEL, SIZE],
                                env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        started[mode] = Child(proc, folder)
    yield started
    for child in started.values():
        if child.proc.poll() is None:
            child.proc.kill()
        child.proc.communicate(timeout=WAIT_S)


def visible_partials(problems: list[str]) -> int:
    """Problems a person (or a reader) would trip over: anything but hidden temp files."""
    return sum(1 for p in problems if not p.startswith("temp file left: ."))


def check_index(folder: Path, persistence: Counter[str]) -> None:
    """The folder's index (if it has one) holds exactly what its files say, row for row."""
    persistence["index_checked"] += 1
    mismatches = index_mismatches(folder)
    assert mismatches == []
    persistence["index_ok"] += 1


def check_usable_after_restart(folder: Path, server: Emulator, before: int) -> None:
    """As after a kernel restart: a fresh widget reloads the history and a new request saves next to it."""
    from image_widget.widget import ImageWidget

    widget = ImageWidget(base_url=server.url, api_key=KEY, folder=folder, model=MODEL, size=SIZE)
    try:
        assert widget.history is not None
        assert len(widget.history) == before
        result = widget.generate("after the restart")
        assert result.paths[0].is_file()
    finally:
        widget.close()
    history = History(folder)
    assert len(history) == before + 1
    assert history.entries[0].prompt == "after the restart"


# ------------------------------------------------------------------------------------------- kills


def test_killed_while_the_request_is_in_flight(children: dict[str, Child], servers: tuple[Emulator, Emulator],
                                               persistence: Counter[str]) -> None:
    fast, stalled = servers
    child = children["in-flight"]
    persistence["interruptions"] += 1
    wait_until(lambda: any(e.endpoint == "generate" for e in stalled.log), "the child's request to arrive")
    assert stalled.in_flight == 1
    child.proc.kill()
    child.wait_killed()

    whole, problems = audit_folder(child.folder)
    persistence["visible_partial"] += visible_partials(problems)
    assert (whole, problems) == ([], [])  # nothing had arrived, so nothing (not even a temp file) is there
    history = History(child.folder)
    assert (len(history), history.skipped, history.recovered, history.problems) == (0, 0, 0, [])
    persistence["clean"] += 1
    check_usable_after_restart(child.folder, fast, before=0)
    check_index(child.folder, persistence)


@pytest.mark.parametrize("mode", ["mid-image", "mid-sidecar"])
def test_killed_while_a_file_is_being_written(mode: str, children: dict[str, Child],
                                              servers: tuple[Emulator, Emulator],
                                              persistence: Counter[str]) -> None:
    """Killed between writing a temp file and renaming it into place — of the image, or of its sidecar
    (the image is then already whole under its name): no visible file is half-written."""
    child = children[mode]
    persistence["interruptions"] += 1
    child.wait_killed()

    hidden = [p.name for p in child.folder.iterdir() if p.name.startswith(".")]
    assert len(hidden) == 1
    assert hidden[0].endswith(".tmp")
    _, problems = audit_folder(child.folder, allow_placeholders=True)
    expected = [f"temp file left: {hidden[0]}"]
    (png,) = child.folder.glob("*.png")
    history = History(child.folder)
    if mode == "mid-image":
        # the image never reached its name: only the zero-byte reserved name, which readers skip
        assert png.stat().st_size == 0
        assert (len(history), history.recovered, history.skipped) == (0, 0, 0)
    else:
        # the image is whole and carries its record in a PNG chunk; the sidecar never reached its name
        expected.append(f"{png.name} has no sidecar")
        with Image.open(png) as img:
            img.load()
            assert img.size == (256, 256)
        assert read_png_record(png.read_bytes())["prompt"] == "killed mid-sidecar"
        assert (len(history), history.recovered, history.skipped) == (1, 1, 0)
        assert history.entries[0].prompt == "killed mid-sidecar"
        assert history.runs()[0].complete
    assert problems == expected
    assert not list(child.folder.glob("*.json"))
    persistence["visible_partial"] += visible_partials([p for p in problems if "has no sidecar" not in p])
    persistence["recovered"] += history.recovered
    assert history.problems == []
    check_index(child.folder, persistence)
    persistence["clean"] += 1
    check_usable_after_restart(child.folder, servers[0], before=len(history))


def test_killed_between_the_image_and_its_index_row(children: dict[str, Child],
                                                   servers: tuple[Emulator, Emulator],
                                                   persistence: Counter[str]) -> None:
    """Both files are whole under their names; only the index missed the image. Its save's pending mark
    (or the folder's time) gives it away, and the next reader indexes it from the sidecar."""
    child = children["mid-index"]
    persistence["interruptions"] += 1
    persistence["index_faults"] += 1
    child.wait_killed()

    whole, problems = audit_folder(child.folder)
    persistence["visible_partial"] += visible_partials(problems)
    assert problems == []
    assert len(whole) == 1
    assert [m.split(":")[0] for m in index_mismatches(child.folder)] == ["not indexed", "still marked pending"]
    history = History(child.folder)
    assert (len(history), history.recovered, history.skipped, history.problems) == (1, 0, 0, [])
    assert history.entries[0].prompt == "killed mid-index"
    assert history.runs()[0].complete
    check_index(child.folder, persistence)
    persistence["clean"] += 1
    check_usable_after_restart(child.folder, servers[0], before=1)


@pytest.mark.parametrize("damage", ["deleted", "corrupt"])
def test_index_deleted_or_corrupt(damage: str, fast: Emulator, tmp_path: Path, persistence: Counter[str]) -> None:
    """The index is only a cache of the files: deleting it or overwriting it with garbage loses nothing —
    history, the cache and new requests all carry on, from an index rebuilt from the files."""
    folder = tmp_path / "out"
    earlier = iw.generate("kept", base_url=fast.url, api_key=KEY, store=folder, model=MODEL, size=SIZE, n=2)
    persistence["interruptions"] += 1
    persistence["index_faults"] += 1
    if damage == "deleted":
        shutil.rmtree(folder / INDEX_FOLDER)
    else:
        index_path(folder).write_bytes(os.urandom(16384))

    whole, problems = audit_folder(folder)
    persistence["visible_partial"] += visible_partials(problems)
    assert (sorted(whole), problems) == (sorted(earlier.paths), [])
    history = History(folder)
    assert [e.prompt for e in history] == ["kept", "kept"]
    assert (history.skipped, history.recovered, history.problems) == (0, 0, [])
    assert Store(folder).lookup(earlier.record["cache_key"]) is not None  # the cache survives
    check_index(folder, persistence)
    persistence["clean"] += 1
    check_usable_after_restart(folder, fast, before=2)


# ------------------------------------------------------------------------------------------- write errors


@pytest.fixture
def fast(servers: tuple[Emulator, Emulator]) -> Iterator[Emulator]:
    server = servers[0]
    server.reset()
    yield server
    server.reset()


def images_requests(server: Emulator) -> int:
    return sum(1 for e in server.log if e.endpoint is not None)


def test_folder_that_cannot_exist_is_refused_before_paying(fast: Emulator, tmp_path: Path,
                                                            persistence: Counter[str]) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    folder = blocker / "out"
    persistence["interruptions"] += 1
    with pytest.raises(StoreError) as info:
        iw.generate("a fox", base_url=fast.url, api_key=KEY, store=folder, model=MODEL, size=SIZE)
    assert str(folder) in str(info.value)
    assert info.value.folder == folder
    assert "Store(folder=...)" in str(info.value)
    wasted = images_requests(fast)
    persistence["wasted"] += wasted
    assert wasted == 0
    assert blocker.read_text() == "not a folder"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file"]
    history = History(folder)
    assert (len(history), history.skipped) == (0, 0)
    persistence["clean"] += 1


def failing_replace(suffix: str, code: int) -> Callable[..., Any]:
    real = os.replace

    def replace(src: Any, dst: Any, *args: Any, **kwargs: Any) -> Any:
        if str(dst).endswith(suffix):
            raise OSError(code, os.strerror(code), str(dst))
        return real(src, dst, *args, **kwargs)

    return replace


@pytest.mark.parametrize(("suffix", "code"), [(".png", errno.EROFS), (".json", errno.ENOSPC)],
                         ids=["read-only-image", "disk-full-sidecar"])
def test_write_error_is_clear_and_leaves_history_whole(fast: Emulator, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch, suffix: str, code: int,
                                                       persistence: Counter[str]) -> None:
    folder = tmp_path / "out"
    earlier = iw.generate("kept from before", base_url=fast.url, api_key=KEY, store=folder, model=MODEL, size=SIZE)
    before = sorted(p.name for p in folder.iterdir())
    persistence["interruptions"] += 1
    monkeypatch.setattr(os, "replace", failing_replace(suffix, code))
    with pytest.raises(StoreError) as info:
        iw.generate("cannot be saved", base_url=fast.url, api_key=KEY, store=folder, model=MODEL, size=SIZE, n=2)
    message = str(info.value)
    assert str(folder) in message
    assert os.strerror(code) in message
    assert info.value.errno == code
    monkeypatch.undo()

    assert sorted(p.name for p in folder.iterdir()) == before  # nothing of the failed saves is left
    whole, problems = audit_folder(folder)
    persistence["visible_partial"] += visible_partials(problems)
    assert problems == []
    assert whole == earlier.paths
    history = History(folder)
    assert [e.prompt for e in history] == ["kept from before"]
    assert (history.skipped, history.recovered, history.problems) == (0, 0, [])
    assert Store(folder).lookup(earlier.record["cache_key"]) is not None
    check_index(folder, persistence)
    persistence["clean"] += 1

    again = iw.generate("works again", base_url=fast.url, api_key=KEY, store=folder, model=MODEL, size=SIZE)
    assert json.loads(again.paths[0].with_suffix(".json").read_text())["prompt"] == "works again"
    assert len(History(folder)) == 2
