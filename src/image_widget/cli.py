"""`image-widget`: the command line, one subcommand per program (`mcp`, `emulator`).

Each subcommand's own parser does the work; this only dispatches, so `image-widget mcp --help` shows the
MCP server's options.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

USAGE = """usage: image-widget {mcp,emulator} [options]

  mcp        an MCP server for AI assistants (image-widget mcp --help)
  emulator   the offline Images API emulator for other programs (image-widget emulator --help)
"""


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    command, rest = (args[0], args[1:]) if args else ("", [])
    if command == "mcp":
        from image_widget.mcp.__main__ import main as mcp_main

        return mcp_main(rest)
    if command == "emulator":
        from image_widget.emulator.__main__ import main as emulator_main

        return emulator_main(rest)
    print(USAGE, file=sys.stdout if command in ("-h", "--help") else sys.stderr, end="")
    return 0 if command in ("-h", "--help") else 2


if __name__ == "__main__":
    sys.exit(main())
