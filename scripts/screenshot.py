"""Take the README screenshots of the real widget in JupyterLab: docs/screenshot.png (JupyterLab Light)
and docs/screenshot-dark.png (JupyterLab Dark).

    python scripts/screenshot.py                      # both
    python scripts/screenshot.py --theme dark --out /tmp/dark.png

Uses the end-to-end test machinery (tests/jupyter/conftest.py): a JupyterLab server with throwaway
config dirs, Debian's Chromium, and a notebook whose widget has no key, so the kernel's offline
emulator answers (the widget says its images are synthetic). In the page: type a prompt, upload a
picture, paint a mask stroke, ask for two images, generate, wait for the results, then capture the
widget element in the chosen JupyterLab theme.
"""

from __future__ import annotations

import argparse
import io
import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))  # what pytest does for the conftests this script reuses

from playwright.sync_api import sync_playwright  # noqa: E402
from tests.jupyter.conftest import (  # noqa: E402
    SETUP_CELLS,
    Deadline,
    NotebookPage,
    _start,
    _stop,
    write_notebook,
)
from tests.support.chromium import CHROMIUM, CHROMIUM_ARGS, needs_build  # noqa: E402

WIDTH = 1200
"""CSS px of the widget in the shot (device scale 1, so the PNG is this wide too)."""
PROMPT = "Add a small red bicycle leaning against the house"
THEMES = {"light": ("JupyterLab Light", ROOT / "docs" / "screenshot.png"),
          "dark": ("JupyterLab Dark", ROOT / "docs" / "screenshot-dark.png")}


def scene(width: int, height: int) -> bytes:
    """A small landscape (sky, sun, hills, a house) to paint a mask on."""
    img = Image.new("RGB", (width, height))
    draw = ImageDraw.Draw(img)
    for y in range(height):
        t = y / height
        draw.line([(0, y), (width, y)], fill=(int(90 + 120 * t), int(150 + 70 * t), int(230 - 30 * t)))
    draw.ellipse([width * 0.72, height * 0.1, width * 0.86, height * 0.1 + width * 0.14], fill=(255, 214, 90))
    draw.polygon([(0, height * 0.7), (width * 0.35, height * 0.45), (width * 0.7, height * 0.72), (0, height)],
                 fill=(70, 140, 80))
    draw.polygon([(width * 0.3, height), (width * 0.75, height * 0.5), (width, height * 0.68), (width, height)],
                 fill=(50, 115, 70))
    draw.rectangle([width * 0.42, height * 0.6, width * 0.58, height * 0.82], fill=(230, 220, 200))
    draw.polygon([(width * 0.4, height * 0.6), (width * 0.5, height * 0.48), (width * 0.6, height * 0.6)],
                 fill=(170, 60, 50))
    draw.rectangle([width * 0.48, height * 0.7, width * 0.52, height * 0.82], fill=(120, 80, 50))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def use_theme(nb: NotebookPage, name: str) -> None:
    """Switch JupyterLab to theme `name` and wait until its variables apply."""
    nb.page.evaluate("(name) => window.jupyterapp.commands.execute('apputils:change-theme', { theme: name })", name)
    nb.page.wait_for_function(
        "(name) => document.body.dataset.jpThemeName === name"
        " && getComputedStyle(document.body).getPropertyValue('--jp-layout-color0').trim() !== ''",
        arg=name, timeout=nb.deadline.ms())


def shoot(out: Path, theme: str) -> None:
    if needs_build():  # as the test fixture does: build the front end when missing or stale
        subprocess.run(["npm", "run", "build"], cwd=ROOT, check=True)
    with tempfile.TemporaryDirectory(prefix="iw-screenshot-") as tmp:
        base = Path(tmp)
        server = _start("lab", base / "lab")
        try:
            picture = base / "house.png"
            picture.write_bytes(scene(1536, 1024))
            name = "screenshot.ipynb"
            folder = server.root / "out"
            write_notebook(server.root, name, [c.format(folder=str(folder)) for c in SETUP_CELLS])
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                # Wide enough that the notebook's output area gives the widget ~WIDTH px once the
                # left sidebar is collapsed; tall so the whole widget fits in one screenshot.
                context = browser.new_context(viewport={"width": WIDTH + 180, "height": 2400},
                                              device_scale_factor=1, color_scheme=theme)  # type: ignore[arg-type]
                page = context.new_page()
                nb = NotebookPage(page, server, name, Deadline(240))
                nb.open()
                page.evaluate("() => { const s = window.jupyterapp.shell; s.collapseLeft(); s.collapseRight(); }")
                use_theme(nb, THEMES[theme][0])
                nb.run_all()
                nb.widget.wait_for(state="visible", timeout=nb.deadline.ms())
                drive(nb, picture)
                widget = nb.widget
                # An element taller than the window is captured with JupyterLab's bars over it.
                box, view = widget.bounding_box(timeout=nb.deadline.ms()), page.viewport_size
                if box is not None and view is not None and box["height"] + 300 > view["height"]:
                    page.set_viewport_size({"width": view["width"], "height": int(box["height"]) + 400})
                widget.scroll_into_view_if_needed()
                page.mouse.move(0, 0)
                page.wait_for_timeout(300)  # let hover styles and the last layout settle
                out.parent.mkdir(parents=True, exist_ok=True)
                # The element's box snapped to whole pixels: with a fractional top edge, an element
                # screenshot brings in a row of the cell output above it.
                box = widget.bounding_box(timeout=nb.deadline.ms())
                assert box is not None
                left, top = round(box["x"]), round(box["y"])
                page.screenshot(path=str(out), clip={
                    "x": left, "y": top,
                    "width": round(box["x"] + box["width"]) - left,
                    "height": round(box["y"] + box["height"]) - top,
                })
                browser.close()
        finally:
            _stop(server)
    with Image.open(out) as img:
        print(f"wrote {out} ({img.size[0]}x{img.size[1]})")


def drive(nb: NotebookPage, picture: Path) -> None:
    """Prompt, upload, paint, n=2, generate, and wait for both results to be drawn."""
    w, ms = nb.widget, nb.deadline.ms
    w.locator("textarea[data-option='prompt']").fill(PROMPT, timeout=ms())
    w.locator("input.iw-file").set_input_files(str(picture), timeout=ms())
    w.locator(".iw-mask[data-ready='1']").wait_for(state="visible", timeout=ms())
    canvas = w.locator("[data-role='mask-canvas']")
    canvas.scroll_into_view_if_needed(timeout=ms())
    nb.page.wait_for_function(
        "() => [...document.querySelectorAll('.image-widget img')].every((img) => img.complete)", timeout=ms())
    box = canvas.bounding_box(timeout=ms())
    assert box is not None
    x, y, width, height = box["x"], box["y"], box["width"], box["height"]
    mouse = nb.page.mouse
    mouse.move(x + width * 0.25, y + height * 0.78)
    mouse.down()
    mouse.move(x + width * 0.36, y + height * 0.86, steps=12)
    mouse.move(x + width * 0.41, y + height * 0.74, steps=12)
    mouse.up()
    nb.page.wait_for_function(
        "() => Number(document.querySelector('.image-widget .iw-mask').dataset.writes || 0) >= 1", timeout=ms())
    n_input = w.locator("input[data-option='n']")
    n_input.fill("2", timeout=ms())
    n_input.dispatch_event("change")
    w.locator("button[data-action='generate']").click(timeout=ms())
    final = nb.finish()
    if final != "done":
        raise RuntimeError(f"the run did not finish: {final}")
    nb.page.wait_for_function(
        """() => {
             const root = document.querySelector(".image-widget[data-ready='1']");
             const imgs = [...root.querySelectorAll(".iw-result img")];
             return root.dataset.results === "2" && imgs.length === 2
               && imgs.every((img) => img.complete && img.naturalWidth > 0);
           }""",
        timeout=ms(),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--theme", choices=sorted(THEMES), help="one theme only (default: both)")
    parser.add_argument("--out", type=Path, help="where to write it (with --theme; default: docs/)")
    args = parser.parse_args()
    if args.out is not None and args.theme is None:
        parser.error("--out needs --theme")
    for theme in [args.theme] if args.theme else sorted(THEMES, reverse=True):  # light, then dark
        shoot(args.out or THEMES[theme][1], theme)


if __name__ == "__main__":
    main()
