"""The same tools over streamable HTTP: `python -m image_widget.mcp --http PORT` listens on 127.0.0.1 only,
and the SDK's HTTP client lists, generates, edits with a mask, lists and gets; a bad option or a refused
path is a tool error and nothing reaches the emulator.
"""

from __future__ import annotations

import base64
import io
import socket
from pathlib import Path

import psutil
from mcp import Client
from PIL import Image

from image_widget.emulator import Emulator
from image_widget.store import History
from support.mcp_server import IMAGES_ENDPOINTS, body, http_server, pictures, server_env, text

KEY = "sk-test-mcp-http-0123456789abcdef"


def _listening_addresses(port: int) -> set[str]:
    return {c.laddr.ip for c in psutil.net_connections("inet")
            if c.status == psutil.CONN_LISTEN and c.laddr.port == port}


async def test_the_tools_over_streamable_http(emulator: Emulator, tmp_path: Path) -> None:
    Image.new("RGB", (48, 32), (20, 120, 200)).save(tmp_path / "photo.png")
    with http_server(tmp_path, server_env(emulator.url, KEY), ["--folder", "store"]) as url:
        port = int(url.rsplit(":", 1)[1].split("/")[0])
        assert _listening_addresses(port) == {"127.0.0.1"}, "the MCP server listens on loopback only"
        async with Client(url, read_timeout_seconds=60) as client:
            names = {tool.name for tool in (await client.list_tools()).tools}
            assert names == {"generate_image", "edit_image", "refine_image", "list_images", "get_image",
                             "estimate_cost"}
            bad = await client.call_tool("generate_image", {"prompt": "a fox", "quality": "ultra"})
            assert bad.is_error
            assert "quality" in body(bad)["params"]
            refused = await client.call_tool("edit_image", {"prompt": "x", "image": "/etc/passwd"})
            assert refused.is_error
            assert "outside the allowed folders" in text(refused)
            assert not [e for e in emulator.log if e.endpoint in IMAGES_ENDPOINTS], "nothing is sent for those"

            made = await client.call_tool("generate_image", {"prompt": "a lighthouse", "size": "1024x1024",
                                                             "quality": "low"})
            assert not made.is_error, text(made)
            edited = await client.call_tool("edit_image", {"prompt": "a storm", "image": "photo.png", "quality": "low",
                                                           "mask": {"x": 0, "y": 0, "width": 24, "height": 32}})
            assert not edited.is_error, text(edited)
            listed = body(await client.call_tool("list_images", {"call": "edit"}))
            assert [item["id"] for item in listed["images"]] == [body(edited)["images"][0]["id"]]
            got = await client.call_tool("get_image", {"image_id": body(made)["images"][0]["id"], "max_side": 128})
            assert max(Image.open(io.BytesIO(base64.b64decode(pictures(got)[0].data))).size) == 128
    assert [e.endpoint for e in emulator.log if e.endpoint in IMAGES_ENDPOINTS] == ["generate", "edit"]
    assert "mask" in next(e for e in emulator.log if e.endpoint == "edit").params
    assert len(History(tmp_path / "store")) == 2
    with socket.socket() as probe:  # stopped: the port is free again
        probe.bind(("127.0.0.1", port))
