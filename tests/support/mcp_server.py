"""Starting `python -m image_widget.mcp` for a test, as an MCP client would: over stdio (the SDK's own
`stdio_client` spawns it) or as a streamable HTTP server on a free loopback port.

The server is a separate process, so it gets its settings the way a user's client gives them: the
environment (the emulator's URL and a key, the test day) and command-line arguments.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from mcp import Client
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp_types import CallToolResult, ImageContent, TextContent

from support import processes, waiting

SRC = Path(__file__).resolve().parents[2] / "src"
IMAGES_ENDPOINTS = ("generate", "edit", "variation")


def server_env(base_url: str | None, key: str | None, **extra: str) -> dict[str, str]:
    """What the server process sees: this checkout's sources first, the test day, and the backend (or, with
    no base_url and key, nothing: the server then uses its own offline emulator)."""
    env = {"PYTHONPATH": os.pathsep.join(p for p in (str(SRC), os.environ.get("PYTHONPATH", "")) if p),
           "IMAGE_WIDGET_TODAY": os.environ["IMAGE_WIDGET_TODAY"], "PYTHONUNBUFFERED": "1"}
    if base_url is not None:
        env["OPENAI_BASE_URL"] = base_url
    if key is not None:
        env["OPENAI_API_KEY"] = key
    return {**env, **extra}


def stdio(workdir: Path, env: Mapping[str, str], args: Sequence[str] = (), errlog: IO[str] | None = None) -> Client:
    """An MCP client that starts the server over stdio in `workdir` (not entered yet: `async with`)."""
    params = StdioServerParameters(command=sys.executable, args=["-m", "image_widget.mcp", *args],
                                   env=dict(env), cwd=str(workdir))
    if errlog is None:
        return Client(params, read_timeout_seconds=60)
    return Client(stdio_client(params, errlog=errlog), read_timeout_seconds=60)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


@contextmanager
def http_server(workdir: Path, env: Mapping[str, str], args: Sequence[str] = (),
                log: Path | None = None) -> Iterator[str]:
    """`python -m image_widget.mcp --http PORT` running in `workdir`; yields its URL, stops it after."""
    port = free_port()
    out = (log or workdir / "mcp-http.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "image_widget.mcp", "--http", str(port), *args], cwd=workdir,
                            env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL)
    try:

        def up() -> bool:
            assert proc.poll() is None, (log or workdir / "mcp-http.log").read_text()[-3000:]
            return _accepts(port)

        waiting.wait_until(up, "the MCP HTTP server to listen", 60, interval=0.05)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        processes.stop(proc)
        out.close()


def text(result: CallToolResult) -> str:
    """The text of a tool result (its first block)."""
    block = result.content[0]
    assert isinstance(block, TextContent)
    return block.text


def body(result: CallToolResult) -> dict[str, Any]:
    """The structured answer of a tool (the same as its JSON text for a success)."""
    assert result.structured_content is not None
    return dict(result.structured_content)


def pictures(result: CallToolResult) -> list[ImageContent]:
    return [block for block in result.content if isinstance(block, ImageContent)]


def everything(result: CallToolResult) -> str:
    """All a client received, as one text (for searching)."""
    return json.dumps(result.model_dump(mode="json"), ensure_ascii=False)
