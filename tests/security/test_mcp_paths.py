"""The MCP server reads input files only under its allowed folders (the working folder unless it is `/` or the
home folder, the store, each `--allow-dir`), and the key never appears in what it answers or logs.

An assistant passes whatever path a model wrote. Every way out is tried — `..` in all its spellings, absolute
paths, `~`, symlinks (files and folders, in the working folder, the store and an allowed folder), a NUL byte
— as an input image, a mask, a markup and an estimate's image. Each must be a tool error naming the
parameter, the secret in the file outside must never appear in an answer, and no request may reach the
emulator. Files inside the roots are read (the control). The server runs with a canary key against an
emulator that requires it, through successes and failures whose messages echo the key; every answer,
the server's stderr and every file it wrote are searched for the key.

The module ends with `mcp paths: N tried, N refused … 0 sightings of the key`.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from mcp_types import CallToolResult

from image_widget.emulator import Emulator, Fault
from image_widget.mcp.paths import PathRefused
from image_widget.mcp.session import Session
from support.canary import Canary
from support.figures import broken, figure_fixture
from support.images import png
from support.mcp_server import IMAGES_ENDPOINTS, body, everything, server_env, stdio, text

CANARY = "sk-test-MCP-CANARY-5e1d2c3b4a"
SECRET = "TOP-SECRET-OUTSIDE-THE-ROOTS"
_CANARY = Canary(CANARY)

mcp_paths = figure_fixture(
    "mcp_paths",
    lambda c: (f"mcp paths: {c['tried']} tried, {c['refused']} refused before reading "
               f"({c['outside_read']} read outside the roots, {c['sent_for_refused']} requests sent for them), "
               f"{c['allowed']} allowed inputs read; key: searched {c['answers']} answers, the server's log and "
               f"{c['files']} files — {c['sightings']} sightings"),
    lambda c: broken(c, outside_read="contents of a file outside the roots in an answer",
                     sent_for_refused="requests sent for a refused path", sightings="sightings of the key",
                     accepted="refused paths accepted"),
)


@pytest.fixture(scope="module")
def canary_server() -> Iterator[Emulator]:
    """An emulator that accepts only the canary key, so every request really carried it."""
    with Emulator(api_key=CANARY) as server:
        yield server


@pytest.fixture
def layout(tmp_path: Path) -> dict[str, Path]:
    """work/ (the server's working folder, with store/ inside), allowed/ (an --allow-dir), and outside/ with
    files (holding SECRET) and links that lead there from each root."""
    work, allowed, outside = tmp_path / "work", tmp_path / "allowed", tmp_path / "outside"
    store = work / "store"
    for folder in (work, allowed, outside, store, work / "sub"):
        folder.mkdir(parents=True, exist_ok=True)
    (outside / "secret.png").write_bytes(png((32, 32)) + SECRET.encode())
    (outside / "secret.txt").write_text(SECRET)
    (work / "photo.png").write_bytes(png((32, 32)))
    (allowed / "ref.png").write_bytes(png((32, 32)))
    (work / "link.png").symlink_to(outside / "secret.png")
    (work / "linked-dir").symlink_to(outside, target_is_directory=True)
    (store / "stored-link.png").symlink_to(outside / "secret.png")
    (allowed / "escape.png").symlink_to(outside / "secret.png")
    (work / "sub" / "inner.png").symlink_to(work / "photo.png")  # a link that stays inside: allowed
    return {"work": work, "allowed": allowed, "outside": outside, "store": store, "tmp": tmp_path}


def refused_paths(where: dict[str, Path]) -> list[str]:
    outside = where["outside"]
    return [
        "../outside/secret.png", "sub/../../outside/secret.png", "./../outside/secret.png",
        "..\\outside\\secret.png", "store/../../outside/secret.png", "..",
        str(outside / "secret.png"), str(outside / "secret.txt"), "/etc/passwd", "/etc/hostname",
        f"{where['work']}/../outside/secret.png",
        "link.png", "linked-dir/secret.png", "store/stored-link.png", str(where["allowed"] / "escape.png"),
        "~/secret.png", "photo.png\x00.txt", "file:///etc/passwd", "/proc/self/environ", "missing.png",
        str(where["work"]),
    ]


def _searched(result: CallToolResult, counts: Counter[str]) -> str:
    seen = everything(result)
    counts["answers"] += 1
    counts["sightings"] += _CANARY.sighted(seen)
    return seen


def _images_sent(server: Emulator) -> int:
    return sum(1 for entry in server.log if entry.endpoint in IMAGES_ENDPOINTS)


async def test_paths_outside_the_roots_are_refused_before_reading(canary_server: Emulator, layout: dict[str, Path],
                                                                  mcp_paths: Counter[str],
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    canary_server.reset()
    (layout["tmp"] / "home").mkdir()
    (layout["tmp"] / "home" / "secret.png").write_bytes(png((32, 32)) + SECRET.encode())
    env = server_env(canary_server.url, CANARY, HOME=str(layout["tmp"] / "home"))
    args = ["--folder", "store", "--allow-dir", str(layout["allowed"])]
    errlog = layout["tmp"] / "server-stderr.log"
    with errlog.open("w") as err:
        async with stdio(layout["work"], env, args, errlog=err) as client:
            for path in refused_paths(layout):
                calls: list[tuple[str, dict[str, Any], str]] = [
                    ("edit_image", {"prompt": "x", "image": path}, "image"),
                    ("edit_image", {"prompt": "x", "image": ["photo.png", path]}, "image[1]"),
                    ("edit_image", {"prompt": "x", "image": "photo.png", "mask": path}, "mask"),
                    ("edit_image", {"prompt": "x", "image": "photo.png", "markup": path}, "markup"),
                    ("estimate_cost", {"call": "edit", "image": path}, "image"),
                ]
                for tool, arguments, param in calls:
                    before = _images_sent(canary_server)
                    result = await client.call_tool(tool, arguments)
                    seen = _searched(result, mcp_paths)
                    mcp_paths["tried"] += 1
                    mcp_paths["refused"] += result.is_error
                    mcp_paths["accepted"] += not result.is_error
                    mcp_paths["outside_read"] += SECRET in seen
                    mcp_paths["sent_for_refused"] += _images_sent(canary_server) - before
                    assert result.is_error, f"{tool} accepted {param}={path!r}"
                    assert text(result).startswith(f"{param}:"), f"the error names {param}: {text(result)}"
            # the control: files inside the roots (a link that stays inside too) are read and sent
            for inside in ("photo.png", "sub/inner.png", str(layout["allowed"] / "ref.png")):
                result = await client.call_tool("edit_image", {"prompt": "a hat", "image": inside, "quality": "low",
                                                               "size": "1024x1024"})
                _searched(result, mcp_paths)
                assert not result.is_error, text(result)
                mcp_paths["allowed"] += 1
    assert _images_sent(canary_server) == 3
    mcp_paths["sightings"] += _CANARY.sighted(errlog.read_bytes())


async def test_the_key_never_appears_in_answers_logs_or_files(canary_server: Emulator, layout: dict[str, Path],
                                                              mcp_paths: Counter[str]) -> None:
    canary_server.reset()
    errlog = layout["tmp"] / "server-stderr.log"
    with errlog.open("w") as err:
        async with stdio(layout["work"], server_env(canary_server.url, CANARY), ["--folder", "store"],
                         errlog=err) as client:
            made = await client.call_tool("generate_image", {"prompt": "a fox", "size": "1024x1024", "quality": "low"})
            assert not made.is_error, text(made)
            _searched(made, mcp_paths)
            image_id = body(made)["images"][0]["id"]
            for tool, arguments in (("list_images", {}), ("get_image", {"image_id": image_id}),
                                    ("get_image", {"image_id": image_id, "full": True}), ("estimate_cost", {})):
                _searched(await client.call_tool(tool, arguments), mcp_paths)
            echoes = [Fault(status=401, message=f"Incorrect API key provided: {CANARY}."),
                      Fault(status=400, message=f"bad request from {CANARY}"),
                      Fault(status=503, message=f"upstream said {CANARY}", should_retry=False)]
            for fault in echoes:
                canary_server.inject(fault)
                failed = await client.call_tool("generate_image", {"prompt": "a fox", "size": "1024x1024",
                                                                   "quality": "low"})
                assert failed.is_error, text(failed)
                seen = _searched(failed, mcp_paths)
                assert "redacted" in seen, "the echoed key was there to scrub, and was scrubbed"
            edited = await client.call_tool("edit_image", {"prompt": "a hat", "image": image_id, "quality": "low"})
            assert not edited.is_error, text(edited)
            _searched(edited, mcp_paths)
    assert all(entry.status is not None for entry in canary_server.log)  # every request carried the key
    mcp_paths["sightings"] += _CANARY.sighted(errlog.read_bytes())
    for path in layout["store"].rglob("*"):
        if path.is_file() and not path.is_symlink():
            mcp_paths["files"] += 1
            mcp_paths["sightings"] += _CANARY.sighted(path.read_bytes())
    assert mcp_paths["sightings"] == 0
    assert os.environ.get("OPENAI_API_KEY") != CANARY, "the key was only in the server's environment"


@pytest.mark.parametrize("where", ["home", "root"])
def test_the_home_folder_or_root_as_working_folder_is_not_a_root(where: str, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Desktop clients often start servers in / or the home folder: as an implicit root that would make every
    image on the disk readable, so it is left out (with a note), unless given explicitly with --allow-dir."""
    home = tmp_path / "home"
    (home / "pictures").mkdir(parents=True)
    photo = home / "pictures" / "private.png"
    photo.write_bytes(png((32, 32)))
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")  # nothing is sent: no emulator needed
    working = home if where == "home" else Path("/")
    session = Session.start(str(tmp_path / "store"), [], None, working=working)
    with pytest.raises(PathRefused, match="outside the allowed folders"):
        session.roots.read(str(photo), "image")
    (note,) = session.notes
    assert f"working folder {working} was not added" in note
    assert ("home folder" if where == "home" else "root of the file system") in note
    assert f"--allow-dir {working}" in note

    explicit = Session.start(str(tmp_path / "store"), [str(working)], None, working=working)
    assert explicit.roots.read(str(photo), "image") == photo.read_bytes()
    assert explicit.notes == []


def test_an_ordinary_working_folder_is_still_a_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    (tmp_path / "project").mkdir()
    (tmp_path / "project" / "photo.png").write_bytes(png((32, 32)))
    session = Session.start(str(tmp_path / "store"), [], None, working=tmp_path / "project")
    assert session.roots.read("photo.png", "image")
    assert session.notes == []


async def test_a_server_started_in_the_home_folder_says_it_left_it_out(canary_server: Emulator,
                                                                       tmp_path: Path) -> None:
    """The stdio server as a desktop client starts it, in the home folder: a note on stderr, and a photo there
    is refused (nothing sent)."""
    canary_server.reset()
    home = tmp_path / "home"
    home.mkdir()
    (home / "photo.png").write_bytes(png((32, 32)) + SECRET.encode())
    errlog = tmp_path / "server-stderr.log"
    with errlog.open("w") as err:
        async with stdio(home, server_env(canary_server.url, CANARY, HOME=str(home)),
                         ["--folder", str(tmp_path / "store")], errlog=err) as client:
            result = await client.call_tool("edit_image", {"prompt": "x", "image": "photo.png"})
    assert result.is_error
    assert text(result).startswith("image:"), text(result)
    assert SECRET not in everything(result)
    assert _images_sent(canary_server) == 0
    assert f"the working folder {home} was not added" in errlog.read_text()
