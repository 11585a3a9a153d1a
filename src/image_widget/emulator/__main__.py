"""`python -m image_widget.emulator --port 8123`: serve the emulator until Ctrl-C."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence

from image_widget.base.emulators import announce, withdraw
from image_widget.emulator.server import Emulator, is_loopback


def main(argv: Sequence[str] | None = None) -> int:
    """Start an emulator, print its base_url on one line, and serve until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m image_widget.emulator",
                                     description="Offline OpenAI-compatible Images API (synthetic images).")
    parser.add_argument("--port", type=int, default=0, help="port to listen on (default: any free port)")
    parser.add_argument("--host", default="127.0.0.1",
                        help="interface (default 127.0.0.1; anything else exposes the emulator beyond this machine)")
    parser.add_argument("--legacy", action="store_true", help="serve retired DALL·E 2 variations")
    parser.add_argument("--latency", type=float, default=0.0, metavar="S", help="delay before each response")
    parser.add_argument("--partial-interval", type=float, default=0.05, metavar="S",
                        help="time between streamed partial images")
    parser.add_argument("--no-mask-leak", action="store_true",
                        help="edits change only the masked area (the real models also change pixels outside it)")
    parser.add_argument("--batch-folder", metavar="DIR",
                        help="keep uploaded files and batches here, so they outlive this server (default: a "
                             "temporary folder)")
    parser.add_argument("--batch-step", type=float, default=0.0, metavar="S",
                        help="time a batch spends in each status step (validating, finalizing)")
    parser.add_argument("--batch-line", type=float, default=0.0, metavar="S", help="time each batch line takes")
    args = parser.parse_args(argv)
    if not is_loopback(args.host):
        print(f"warning: listening on {args.host}, not loopback; anyone who can reach it can use it",
              file=sys.stderr)
    stop = threading.Event()
    # Installed before the URL is printed: a Ctrl-C (or SIGTERM) that comes right after it, before the
    # wait below begins, must still stop the server cleanly instead of escaping as KeyboardInterrupt.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    try:
        emulator = Emulator(legacy=args.legacy, latency_s=args.latency, partial_interval_s=args.partial_interval,
                            mask_leak=not args.no_mask_leak, host=args.host, port=args.port, allow_remote=True,
                            batch_folder=args.batch_folder, batch_step_s=args.batch_step,
                            batch_line_s=args.batch_line).start()
    except (ValueError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    marker = announce(emulator.url, emulator.state.instance)  # its runs are then emulator runs, never billed ones
    print(emulator.url, flush=True)
    try:
        stop.wait()
    finally:
        withdraw(marker)
        emulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
