"""The MCP server as an assistant's client meets it: the SDK's own client starts `python -m image_widget.mcp`
over stdio against the emulator, lists the tools, generates, edits with a mask, lists and gets — and a bad
option or a refused path is a tool error that names the parameter, with no request in the emulator's log.
"""

from __future__ import annotations

import base64
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image

from image_widget.emulator import Emulator
from image_widget.store import History, Store
from support.images import png
from support.mcp_server import IMAGES_ENDPOINTS, body, everything, pictures, server_env, stdio, text

KEY = "sk-test-mcp-0123456789abcdef"
TOOLS = {"generate_image", "edit_image", "refine_image", "list_images", "get_image", "estimate_cost"}


def _images_requests(emulator: Emulator) -> list[str]:
    return [entry.endpoint or "" for entry in emulator.log if entry.endpoint in IMAGES_ENDPOINTS]


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    (tmp_path / "work").mkdir()
    return tmp_path / "work"


async def test_lists_the_tools_with_input_schemas(emulator: Emulator, workdir: Path) -> None:
    async with stdio(workdir, server_env(emulator.url, KEY), ["--folder", "store"]) as client:
        listed = {tool.name: tool for tool in (await client.list_tools()).tools}
    assert set(listed) == TOOLS
    generate = listed["generate_image"].input_schema
    assert generate["required"] == ["prompt"]
    for option in ("model", "size", "quality", "n", "background", "output_format", "output_compression",
                   "moderation", "complexity", "frame_count", "frame_duration_ms", "svg", "safety_identifier"):
        assert option in generate["properties"], f"generate_image lacks the API option {option}"
    edit = listed["edit_image"].input_schema
    assert set(edit["required"]) == {"prompt", "image"}
    assert {"mask", "markup", "input_fidelity"} <= set(edit["properties"])
    mask_kinds = json.dumps(edit["properties"]["mask"])
    assert '"string"' in mask_kinds, "a mask is a file path"
    assert '"object"' in mask_kinds, "or a rectangle"
    assert set(listed["list_images"].input_schema["properties"]) >= {"prompt", "model", "since", "until"}
    assert "full" in listed["get_image"].input_schema["properties"]
    assert not _images_requests(emulator)


async def test_generate_edit_with_a_mask_list_and_get(emulator: Emulator, workdir: Path) -> None:
    Image.new("RGB", (64, 48), (200, 30, 30)).save(workdir / "photo.png")
    async with stdio(workdir, server_env(emulator.url, KEY), ["--folder", "store"]) as client:
        made = await client.call_tool("generate_image", {"prompt": "a watercolor fox", "size": "1024x1024",
                                                         "quality": "low", "n": 2})
        assert not made.is_error, text(made)
        answer = body(made)
        assert answer["backend"].startswith("Custom server http://127.0.0.1")
        assert len(answer["images"]) == 2
        assert len(pictures(made)) == 2
        for saved in answer["images"]:
            assert Path(saved["path"]).is_file()
            assert Path(saved["path"]).with_suffix(".json").is_file()
        for picture in pictures(made):
            data = base64.b64decode(picture.data)
            assert len(data) < 1024 * 1024
            assert max(Image.open(io.BytesIO(data)).size) <= 512

        rect = {"x": 8, "y": 4, "width": 16, "height": 10}
        edited = await client.call_tool("edit_image", {"prompt": "add a red scarf", "image": "photo.png",
                                                       "mask": rect, "size": "1024x1024", "quality": "low"})
        assert not edited.is_error, text(edited)
        first_id = answer["images"][0]["id"]
        mask_file = workdir / "mask.png"
        painted = Image.new("RGBA", (1024, 1024), (0, 0, 0, 255))
        painted.paste((0, 0, 0, 0), (100, 100, 400, 300))  # transparent = edit
        painted.save(mask_file)
        by_id = await client.call_tool("edit_image", {"prompt": "make it night", "image": first_id,
                                                      "mask": "mask.png", "quality": "low"})
        assert not by_id.is_error, text(by_id)

        listed = await client.call_tool("list_images", {"prompt": "FOX"})
        assert {item["id"] for item in body(listed)["images"]} == {img["id"] for img in answer["images"]}
        everything_listed = await client.call_tool("list_images", {"limit": 50})
        assert body(everything_listed)["total"] == 4
        today = datetime.now(UTC).date()
        since_today = await client.call_tool("list_images", {"since": today.isoformat(), "model": "gpt-image-2"})
        assert body(since_today)["total"] == 4
        until_yesterday = await client.call_tool("list_images", {"until": (today - timedelta(days=1)).isoformat()})
        assert body(until_yesterday)["total"] == 0
        other_model = await client.call_tool("list_images", {"model": "gpt-image-1.5"})
        assert body(other_model)["total"] == 0
        bad_date = await client.call_tool("list_images", {"since": "last tuesday"})
        assert bad_date.is_error
        assert text(bad_date).startswith("since must be a date")
        too_big = await client.call_tool("get_image", {"image_id": first_id, "max_side": 5000})
        assert too_big.is_error
        assert text(too_big).startswith("max_side must be from 16 to 1024")
        got = await client.call_tool("get_image", {"image_id": first_id})
        full = await client.call_tool("get_image", {"image_id": first_id, "full": True})

    assert _images_requests(emulator) == ["generate", "edit", "edit"]
    mask_edit = next(e for e in emulator.log if e.endpoint == "edit")
    assert "mask" in mask_edit.params, "the rectangle reached the API as a mask"
    # the same store, the same records: what the widget's History reads
    history = History(workdir / "store")
    assert len(history) == 4
    record = next(img for img in history if img.id == body(edited)["images"][0]["id"]).record
    assert record["call"] == "edit"
    assert record["prompt"] == "add a red scarf"
    mask_hash = next(h.split(":", 1)[1] for h in record["input_hashes"] if h.startswith("mask:"))
    assert mask_hash == mask_edit.params["mask"]["sha256"]
    mask = Image.open(io.BytesIO(Store(workdir / "store").load_input(mask_hash)))
    assert mask.size == (64, 48)
    alpha = mask.getchannel("A")
    assert (alpha.getpixel((8, 4)), alpha.getpixel((23, 13))) == (0, 0), "inside the rectangle: edit"
    assert (alpha.getpixel((7, 4)), alpha.getpixel((24, 13))) == (255, 255), "outside it: keep"

    shown = body(got)
    assert shown["path"] == answer["images"][0]["path"]
    assert "import image_widget as iw" in shown["code"]
    assert max(Image.open(io.BytesIO(base64.b64decode(pictures(got)[0].data))).size) <= 512
    assert base64.b64decode(pictures(full)[0].data) == Path(shown["path"]).read_bytes()


BAD_OPTIONS = [
    ({"size": "999x1"}, "size"),
    ({"quality": "ultra"}, "quality"),
    ({"n": 50}, "n"),
    ({"output_compression": 50}, "output_compression"),
    ({"background": "transparent", "output_format": "jpeg"}, "background"),
    ({"model": "dall-e-2"}, "model"),
    ({"moderation": "none"}, "moderation"),
]


async def test_bad_options_and_refused_paths_are_tool_errors_and_nothing_is_sent(emulator: Emulator,
                                                                                 workdir: Path) -> None:
    Image.new("RGB", (32, 32)).save(workdir / "ok.png")
    async with stdio(workdir, server_env(emulator.url, KEY), ["--folder", "store"]) as client:
        for options, param in BAD_OPTIONS:
            result = await client.call_tool("generate_image", {"prompt": "a fox", **options})
            assert result.is_error, f"{options} was accepted"
            assert param in body(result)["params"], text(result)
            assert param in text(result)
            assert "Nothing was sent" in text(result)
        bad_edit = await client.call_tool("edit_image", {"prompt": "x", "image": "ok.png", "quality": "ultra"})
        assert bad_edit.is_error
        assert "quality" in text(bad_edit)
        outside_rect = await client.call_tool("edit_image", {"prompt": "x", "image": "ok.png",
                                                             "mask": {"x": 30, "y": 0, "width": 8, "height": 8}})
        assert outside_rect.is_error
        assert "mask" in text(outside_rect)
        assert "32x32" in text(outside_rect)
        for path in ("../secret.png", "/etc/hostname", "missing.png"):
            refused = await client.call_tool("edit_image", {"prompt": "x", "image": path})
            assert refused.is_error
            assert text(refused).startswith(f"image: {path!r}"), text(refused)
        wrong_type = await client.call_tool("generate_image", {"prompt": "x", "n": "many"})
        assert wrong_type.is_error
        assert "n\n" in text(wrong_type), text(wrong_type)
    assert not _images_requests(emulator), "a refused request reached the API"


async def test_max_cost_refuses_before_sending(emulator: Emulator, workdir: Path) -> None:
    async with stdio(workdir, server_env(emulator.url, KEY), ["--folder", "store", "--max-cost", "0.01"]) as client:
        estimate = body(await client.call_tool("estimate_cost", {"size": "1024x1024", "quality": "low"}))
        assert 0 < estimate["estimate_usd"] < 0.01
        assert estimate["within_budget"] is True
        first = await client.call_tool("generate_image", {"prompt": "a fox", "size": "1024x1024", "quality": "low"})
        assert not first.is_error, text(first)
        spent = body(first)["budget"]["spent_usd"]
        assert spent > 0
        second = await client.call_tool("generate_image", {"prompt": "a fox", "size": "1024x1024",
                                                           "quality": "low", "n": 2})
        assert second.is_error
        assert "max_cost" in text(second)
        assert "nothing was sent" in text(second)
        assert body(second)["budget"]["spent_usd"] == spent
    assert _images_requests(emulator) == ["generate"]


async def test_without_a_key_it_uses_the_offline_emulator_and_every_answer_says_so(workdir: Path) -> None:
    photo = workdir / "photo.png"
    photo.write_bytes(png((40, 40)))
    async with stdio(workdir, server_env(None, None), ["--folder", "store"]) as client:
        results = [
            await client.call_tool("generate_image", {"prompt": "a fox", "size": "1024x1024", "quality": "low"}),
            await client.call_tool("edit_image", {"prompt": "a hat", "image": "photo.png", "quality": "low"}),
            await client.call_tool("list_images", {}),
            await client.call_tool("estimate_cost", {}),
            await client.call_tool("generate_image", {"prompt": "a fox", "size": "1x1"}),
        ]
        results.append(await client.call_tool("get_image", {"image_id": body(results[2])["images"][0]["id"]}))
    assert [r.is_error for r in results] == [False, False, False, False, True, False]
    for result in results:
        assert "Offline emulator" in text(result), everything(result)
        assert "synthetic" in text(result), everything(result)
        assert body(result)["synthetic"] is True


async def test_an_svg_without_a_preview_is_still_an_answer_with_its_path(emulator: Emulator, workdir: Path) -> None:
    """The images are paid for and saved before the previews are made: one Pillow cannot read (SVG) is named in
    the answer instead of turning it into an error, and a GIF is previewed from its first frame."""
    async with stdio(workdir, server_env(emulator.url, KEY), ["--folder", "store"]) as client:
        svg = await client.call_tool("generate_image", {"prompt": "a logo", "output_format": "svg", "quality": "low",
                                                        "size": "1024x1024"})
        gif = await client.call_tool("generate_image", {"prompt": "a spinning star", "output_format": "gif",
                                                        "frame_count": 3, "quality": "low", "size": "1024x1024"})
    assert not svg.is_error, text(svg)
    saved = body(svg)["images"][0]["path"]
    assert saved.endswith(".svg")
    assert body(svg)["no_preview"] == [saved]
    assert pictures(svg) == []
    assert not gif.is_error, text(gif)
    assert len(pictures(gif)) == 1
    assert pictures(gif)[0].mime_type == "image/jpeg"
    assert _images_requests(emulator) == ["generate", "generate"]


async def test_a_model_the_server_has_shut_down_is_refused_before_sending(emulator: Emulator, workdir: Path) -> None:
    """The server's own `GET /v1/models` dates apply to the MCP checks as to every call: the table still has
    gpt-image-2.5-flare as current, the server says it shut down, and nothing is sent."""
    emulator.configure(models={"gpt-image-2.5-flare": "2026-11-20"})
    async with stdio(workdir, server_env(emulator.url, KEY), ["--folder", "store"]) as client:
        gone = await client.call_tool("generate_image", {"prompt": "a fox", "model": "gpt-image-2.5-flare"})
    assert gone.is_error
    assert body(gone)["params"] == ["model"]
    assert "shut down on 2026-11-20" in text(gone)
    assert _images_requests(emulator) == []
