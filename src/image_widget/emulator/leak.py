"""How the emulator mimics the real models' mask leakage: pixels outside the mask change a little too.

GPT image models treat the mask as guidance and re-render the whole picture, so colours outside the
painted area drift (users measured about half of the protected pixels changed). The emulator does
the same, deterministically: each channel outside the mask moves by a few levels hashed from the
prompt and index, so the raw result measurably leaks while staying close to the original.
"""

from __future__ import annotations

import hashlib

from PIL import Image


def shifts(prompt: str, index: int) -> tuple[int, int, int]:
    """Per-channel shift in levels (2‥5), hashed from the prompt and the image index."""
    digest = hashlib.sha256(f"leak\x1f{index}\x1f{prompt}".encode()).digest()
    return 2 + digest[0] % 4, 2 + digest[1] % 4, 2 + digest[2] % 4


def leaked(img: Image.Image, prompt: str, index: int) -> Image.Image:
    """`img` (RGB) with every channel moved by its shift: up in the darker half, down in the lighter,
    so no value clips and every pixel changes."""
    tables: list[int] = []
    for shift in shifts(prompt, index):
        tables += [v + shift if v < 128 else v - shift for v in range(256)]
    return img.point(tables)
