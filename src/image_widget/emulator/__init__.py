"""An offline, OpenAI-compatible Images API for tests, demos and notebooks without an API key.

`Emulator` runs a real HTTP server on 127.0.0.1 (uvicorn in a daemon thread) that validates requests
with the same rules as the client, answers with synthetic images, streams partial previews and can be
told to misbehave (`Fault`). Importing this package is cheap: the web stack loads when one starts.
"""

from __future__ import annotations

from image_widget.emulator.server import Emulator, shared_emulator
from image_widget.emulator.state import Config, Fault, RequestLog

__all__ = ["Config", "Emulator", "Fault", "RequestLog", "shared_emulator"]
