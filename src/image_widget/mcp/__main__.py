"""`image-widget mcp` / `python -m image_widget.mcp`: serve the tools over stdio, or streamable HTTP on
127.0.0.1 with `--http PORT`.

The argument parser needs only the standard library, so `--help` works without the `mcp` extra; running
the server without it prints what to install.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

EXTRA_MISSING = ('image-widget mcp needs the MCP Python SDK, which comes with the "mcp" extra:\n'
                 '    pip install "image_widget[mcp]"')


def parser(prog: str = "image-widget mcp") -> argparse.ArgumentParser:
    parse = argparse.ArgumentParser(
        prog=prog, description="An MCP server for AI assistants: generate and edit images with the OpenAI Images "
                               "API, saved to the image_widget folder. Without OPENAI_API_KEY it uses the "
                               "offline emulator (synthetic images).")
    parse.add_argument("--http", type=int, metavar="PORT",
                       help="serve streamable HTTP on 127.0.0.1:PORT (path /mcp) instead of stdio")
    parse.add_argument("--folder", metavar="DIR",
                       help="where images are saved (default: $IMAGE_WIDGET_DIR, else ./image-widget-output)")
    parse.add_argument("--allow-dir", action="append", default=[], metavar="DIR",
                       help="another folder input images may be read from (repeatable); the image folder is "
                            "always allowed, and so is the working folder unless it is / or the home folder")
    parse.add_argument("--max-cost", type=float, metavar="USD",
                       help="the most this server session may spend, by the price table's estimates; requests "
                            "that would go over it are refused before they are sent")
    return parse


def main(argv: Sequence[str] | None = None, prog: str = "image-widget mcp") -> int:
    args = parser(prog).parse_args(argv)
    if args.max_cost is not None and args.max_cost < 0:
        print("error: --max-cost must be 0 or more", file=sys.stderr)
        return 2
    if args.http is not None and not 0 < args.http < 65536:
        print("error: --http needs a port from 1 to 65535", file=sys.stderr)
        return 2
    try:
        import mcp.server.mcpserver  # noqa: F401 - only to say what is missing
    except ImportError:
        print(EXTRA_MISSING, file=sys.stderr)
        return 2
    import anyio

    from image_widget.mcp.paths import PathRefused
    from image_widget.mcp.server import build_server
    from image_widget.mcp.session import Session

    try:
        session = Session.start(args.folder, args.allow_dir, args.max_cost)
    except PathRefused as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for note in session.notes:
        print(note, file=sys.stderr, flush=True)
    server = build_server(session)
    if args.http is None:
        anyio.run(server.run_stdio_async)
    else:
        print(f"image-widget mcp: http://127.0.0.1:{args.http}/mcp ({session.backend.label}); "
              f"images in {session.store.folder}", file=sys.stderr, flush=True)
        anyio.run(lambda: server.run_streamable_http_async(host="127.0.0.1", port=args.http))
    return 0


if __name__ == "__main__":
    sys.exit(main(prog="python -m image_widget.mcp"))
