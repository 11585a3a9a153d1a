"""Debian's Chromium and the built front end: shared by the browser tests, the screenshot script and
the benchmarks (BROWSER-TESTS.md says what works here; never a browser Playwright downloads)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BUNDLE = ROOT / "src" / "image_widget" / "static" / "widget.js"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def needs_build() -> bool:
    """True when the bundle is missing or older than any front-end source."""
    if not BUNDLE.exists():
        return True
    built = BUNDLE.stat().st_mtime
    sources = [*(ROOT / "js").rglob("*"), ROOT / "package.json", ROOT / "tsconfig.json"]
    return any(p.is_file() and p.stat().st_mtime > built for p in sources)


def ensure_bundle() -> Path:
    """Build src/image_widget/static/ with npm when it is missing or stale; return the bundle."""
    if needs_build():
        npm = shutil.which("npm")
        if npm is None:
            raise RuntimeError("npm is needed to build src/image_widget/static/widget.js")
        if not (ROOT / "node_modules").exists():
            subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=ROOT, check=True)
        subprocess.run([npm, "run", "build"], cwd=ROOT, check=True, env={**os.environ})
    return BUNDLE
