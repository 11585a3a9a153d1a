"""What the conversation tests share: a Chat's keywords against the emulator, and the turns it was sent."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from image_widget.emulator import Emulator

KEY = "sk-test"


def chat_kw(emulator: Emulator, tmp_path: Path) -> dict[str, Any]:
    return {"base_url": emulator.url, "api_key": KEY, "folder": tmp_path / "out", "size": "1024x1024",
            "quality": "low"}


def turns_sent(emulator: Emulator) -> list[Any]:
    return [e for e in emulator.log if e.method == "POST" and e.path.rstrip("/").endswith("/responses")]
