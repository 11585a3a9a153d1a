"""Module tests of the front end in Chromium, without Jupyter.

A static page (fake_model.html) defines a fake anywidget model that records every `set`, `send` and
handler, and imports the built bundle; Playwright serves both through `page.route` (no port). Tests
set traits, fire custom messages, drive the page with the mouse and keyboard, and read back the bytes
the widget wrote.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, Route

sys.path.insert(0, str(Path(__file__).parent))
from widget_harness import Harness

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "src" / "image_widget" / "static"
BUNDLE = STATIC / "widget.js"
PAGE = Path(__file__).with_name("fake_model.html")
ORIGIN = "http://widget.test"


# -------------------------------------------------------------------------------------- fixtures



@pytest.fixture(scope="module")  # as the root conftest's: Playwright lives for one module
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_context_args, "viewport": {"width": 1000, "height": 1500}, "device_scale_factor": 1}




@pytest.fixture
def harness(page: Page, bundle: Path) -> Iterator[Harness]:
    """The fake-model page with the bundle, served through page.route (no server, no port)."""
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    def serve(route: Route) -> None:
        path = route.request.url[len(ORIGIN) :].split("?", 1)[0]
        files = {
            "/": (PAGE, "text/html"),
            "/index.html": (PAGE, "text/html"),
            "/static/widget.js": (bundle, "text/javascript"),
            "/static/widget.css": (bundle.with_suffix(".css"), "text/css"),
        }
        hit = files.get(path)
        if hit is None or not hit[0].exists():
            route.fulfill(status=404, body="not found")
            return
        route.fulfill(status=200, body=hit[0].read_bytes(), headers={"content-type": hit[1]})

    page.set_default_timeout(10_000)
    page.route(f"{ORIGIN}/**", serve)
    page.goto(f"{ORIGIN}/index.html")
    page.wait_for_function("() => window.__pageReady === true")
    yield Harness(page)
    assert not errors, f"page errors: {errors}"
