"""Runs through a standalone emulator (`python -m image_widget.emulator`, reached by `base_url=`) are emulator runs.

They were recorded as billed runs of a custom server: they taught the real API's estimates, showed as money
spent in `iw.spend` and counted as billed everywhere a record says where it ran. The server now leaves a marker
in the user's cache folder while it runs; a loopback `base_url` (or a client pointed at it) with a live marker
resolves to a synthetic backend.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import openai
import pytest

import image_widget as iw
from image_widget.base import emulators
from image_widget.client.backend import resolve_backend
from image_widget.money import learned

SRC = str(Path(__file__).resolve().parents[1] / "src")


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A marker folder of the test's own, for this process and the server it starts."""
    monkeypatch.setenv(emulators.ENV_MARKERS, str(tmp_path / "markers"))
    monkeypatch.setattr(emulators, "_RECHECK_S", 0.0)  # each check reads the marker again
    monkeypatch.setattr(emulators, "_RECHECK_FAILED_S", 0.0)
    return tmp_path / "markers"


@pytest.fixture
def standalone(cache: Path) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    proc = subprocess.Popen([sys.executable, "-m", "image_widget.emulator", "--port", "0"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": SRC})
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        yield url, proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            proc.wait(10)


def test_runs_through_it_are_recorded_as_emulator_runs(standalone: tuple[str, subprocess.Popen[str]],
                                                        tmp_path: Path) -> None:
    url, _ = standalone
    result = iw.generate("a fox", model="gpt-image-2", quality="low", size="1024x1024", base_url=url,
                         api_key="sk-local", store=tmp_path / "out")
    backend = result.records[0]["backend"]
    assert backend["synthetic"] is True
    assert "Offline emulator at http://127.0.0.1:" in backend["label"]
    ask = {"model": "gpt-image-2", "quality": "low", "size": "1024x1024"}
    assert learned.estimate(ask, tmp_path / "out", synthetic=False).runs == 0  # never teaches the real API's price
    assert learned.estimate(ask, tmp_path / "out", synthetic=True).runs == 1
    assert list(iw.spend(tmp_path / "out")["kind"]) == ["emulator"]  # not money spent


def test_a_client_pointed_at_it_is_synthetic_too(standalone: tuple[str, subprocess.Popen[str]]) -> None:
    url, _ = standalone
    client = openai.OpenAI(base_url=url, api_key="sk-local", max_retries=0)
    try:
        assert resolve_backend(client=client).synthetic is True
    finally:
        client.close()


def test_once_it_stops_its_port_is_an_ordinary_server_again(standalone: tuple[str, subprocess.Popen[str]],
                                                             cache: Path) -> None:
    url, proc = standalone
    assert resolve_backend(base_url=url).synthetic is True
    proc.send_signal(signal.SIGINT)
    assert proc.wait(10) == 0
    assert not list(cache.glob("*.json"))  # it took its marker with it
    assert resolve_backend(base_url=url).synthetic is False


def test_a_marker_left_by_a_killed_server_is_ignored_and_removed(cache: Path) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                          check=True)
    folder = emulators.marker_folder()
    folder.mkdir(parents=True)
    marker = folder / "8123.json"
    marker.write_text(json.dumps({"pid": int(dead.stdout), "url": "http://127.0.0.1:8123/v1", "instance": "x"}),
                      encoding="utf-8")
    assert resolve_backend(base_url="http://127.0.0.1:8123/v1", api_key="sk-x").synthetic is False
    assert not marker.exists()


def test_a_marker_is_trusted_only_if_its_server_answers_as_that_emulator(
        standalone: tuple[str, subprocess.Popen[str]], cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A marker left behind, its port now served by another server (a billing proxy, say), or a pid that cannot
    be checked (Windows): that server's runs must not look free."""
    url, _ = standalone
    assert emulators.announced(url) is True
    marker = next(emulators.marker_folder().glob("*.json"))
    other = json.loads(marker.read_text(encoding="utf-8"))
    marker.write_text(json.dumps({**other, "instance": "another-server"}), encoding="utf-8")
    assert resolve_backend(base_url=url, api_key="sk-x").synthetic is False
    monkeypatch.setattr(emulators, "running", lambda pid: None)  # as on Windows: the pid cannot be asked
    assert resolve_backend(base_url=url, api_key="sk-x").synthetic is False
    assert emulators.announce("https://api.example.com/v1", "x") is None  # only this machine's servers
    assert emulators.announced("https://api.example.com/v1") is False
