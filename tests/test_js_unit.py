"""The front end's unit tests (vitest, js/tests/*.test.ts) run without a browser; running them from
pytest puts them in the suite CI runs (scripts/test.sh). They cover the mask raster, undo/redo, the
mask's pixel codec, request/reply matching and upload batching."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_vitest_suite_passes() -> None:
    npm = shutil.which("npm")
    assert npm is not None, "npm is needed for the front-end unit tests (scripts/setup.sh installs it)"
    assert (ROOT / "node_modules" / ".bin" / "vitest").exists(), "vitest is missing: run `npm ci`"
    proc = subprocess.run(
        [npm, "run", "--silent", "test"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "CI": "1", "NO_COLOR": "1", "FORCE_COLOR": "0"},
        check=False,
    )
    assert proc.returncode == 0, f"vitest failed:\n{proc.stdout[-8000:]}\n{proc.stderr[-4000:]}"
    assert " passed" in proc.stdout, proc.stdout[-2000:]
