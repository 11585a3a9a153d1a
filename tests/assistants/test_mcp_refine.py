"""The MCP `refine_image` tool (issue 20, item 6), over stdio with the SDK's own client: a conversation of
three turns by thread, a branch by image id, a mask file on the current turn, a new conversation that edits
a saved image — each turn saved in the same store — and bad turns refused before anything is sent."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from image_widget.emulator import Emulator
from image_widget.store import History
from support.mcp_server import body, server_env, stdio, text

KEY = "sk-test-mcp-0123456789abcdef"


def turns_sent(emulator: Emulator) -> int:
    return sum(1 for e in emulator.log if e.method == "POST" and e.path.rstrip("/").endswith("/responses"))


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    (tmp_path / "work").mkdir()
    return tmp_path / "work"


async def test_refine_by_thread_branch_by_image_id_and_a_mask(emulator: Emulator, workdir: Path) -> None:
    options = {"size": "1024x1024", "quality": "low"}
    async with stdio(workdir, server_env(emulator.url, KEY), ["--folder", "store"]) as client:
        first = await client.call_tool("refine_image", {"prompt": "a red fox in snow", **options})
        assert not first.is_error, text(first)
        fox = body(first)
        assert fox["turn"] == 1
        assert fox["thread"].startswith("thr_")
        assert fox["previous_response_id"] is None
        night = body(await client.call_tool("refine_image", {"prompt": "make it night", "thread": fox["thread"],
                                                             **options}))
        assert night["turn"] == 2
        assert night["previous_response_id"] == fox["response_id"]

        mask = Image.new("RGBA", (1024, 1024), (0, 0, 0, 255))
        mask.paste((0, 0, 0, 0), (300, 0, 700, 300))  # transparent = edit
        mask.save(workdir / "hat.png")
        hat = body(await client.call_tool("refine_image", {"prompt": "give it a hat", "thread": fox["thread"],
                                                           "mask": "hat.png", **options}))
        assert hat["turn"] == 3
        assert hat["previous_response_id"] == night["response_id"]

        branch = body(await client.call_tool("refine_image", {"prompt": "make it autumn",
                                                              "image_id": fox["images"][0]["id"], **options}))
        assert branch["previous_response_id"] == fox["response_id"]
        assert branch["thread"] != fox["thread"]

        listed = body(await client.call_tool("list_images", {"thread": fox["thread"]}))
        assert [i["prompt"] for i in listed["images"]] == ["a red fox in snow", "make it night", "give it a hat"]
    saved = History(workdir / "store").filter(call="refine")
    assert len(saved) == 4
    assert any(h.startswith("mask:") for s in saved for h in s.record["input_hashes"])
    assert turns_sent(emulator) == 4


async def test_a_saved_image_starts_a_conversation_that_edits_it(emulator: Emulator, workdir: Path) -> None:
    async with stdio(workdir, server_env(emulator.url, KEY), ["--folder", "store"]) as client:
        made = body(await client.call_tool("generate_image", {"prompt": "a lighthouse", "quality": "low"}))
        turn = body(await client.call_tool("refine_image", {"prompt": "make it stormy",
                                                            "image_id": made["images"][0]["id"]}))
    assert turn["turn"] == 1
    (saved,) = History(workdir / "store").filter(call="refine")
    assert saved.record["action"] == "edit"


async def test_bad_turns_are_tool_errors_and_nothing_is_sent(emulator: Emulator, workdir: Path) -> None:
    async with stdio(workdir, server_env(emulator.url, KEY), ["--folder", "store"]) as client:
        for arguments, says in (
            ({"prompt": "  "}, "prompt"),
            ({"prompt": "x", "thread": "thr_nothere"}, "thread"),
            ({"prompt": "x", "image_id": "nope"}, "image_id"),
            ({"prompt": "x", "mask": "hat.png"}, "mask"),
            ({"prompt": "x", "size": "13x13"}, "size"),
        ):
            refused = await client.call_tool("refine_image", arguments)
            assert refused.is_error, arguments
            assert says in text(refused), (arguments, text(refused))
    assert turns_sent(emulator) == 0
