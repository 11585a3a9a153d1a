"""A whole browser session with a real-looking key configured: the key shows up nowhere a person could see.

JupyterLab runs with `OPENAI_API_KEY` set to a recognisable canary and `OPENAI_BASE_URL` pointing at an
emulator in this test process that *only* accepts that key (so every successful request proves the
kernel really sent it). In the notebook the widget generates, fails twice (an injected 401 whose message
echoes the key, as a careless server might, then a 500, which is not sent again), and edits with a
painted mask. Then the canary is searched for — plain, UTF-16 and base64 at every alignment — in:

* every websocket frame, both ways (the kernel channels carry the widget's comm messages),
* every request body the page sent to the Jupyter server, every console message and page error,
* the DOM (`page.content()`) after each step, and the page's localStorage,
* the notebook as saved (with "Save Widget State Automatically" on, so the widget state is in it),
* the Jupyter server's stdout/stderr (the kernel's stderr goes there too),
* the emulator's request log (the params it received — the Authorization header is where the key
  belongs and is not logged), and every file written under the widget's output folder.
"""

from __future__ import annotations

import base64
import importlib.util
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from image_widget.emulator import Emulator
from support.canary import Canary

pytestmark = pytest.mark.jupyter

CANARY = "sk-test-CANARY-BROWSER-5d1f0a7c"
ROOT = Path(__file__).resolve().parents[2]
TOTAL_S = 240.0


def _load_lab() -> Any:
    """benchmarks/lab.py: the JupyterLab harness the browser benchmarks use."""
    spec = importlib.util.spec_from_file_location("iw_bench_lab", ROOT / "benchmarks" / "lab.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("iw_bench_lab", module)
    spec.loader.exec_module(module)
    return module


lab = _load_lab()


_CANARY = Canary(CANARY)
sighted = _CANARY.sighted


def test_the_search_would_find_the_key() -> None:
    assert sighted(f'{{"state": {{"error": {{"message": "key {CANARY}"}}}}}}')
    assert sighted(b"\x00\x01" + base64.b64encode(b"ab" + CANARY.encode()))
    assert sighted(CANARY.encode("utf-16-le"))
    assert not sighted("sk-test-CANARY-[redacted] sk-[redacted]")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """Debian's Chromium, never a downloaded browser."""
    return {**browser_type_launch_args, "executable_path": lab.CHROMIUM, "args": lab.CHROMIUM_ARGS}


class Haystack:
    def __init__(self) -> None:
        self.places: list[tuple[str, str | bytes]] = []

    def add(self, where: str, blob: str | bytes | None) -> None:
        if blob is not None:
            self.places.append((where, blob))

    def sightings(self) -> list[str]:
        return [where for where, blob in self.places if sighted(blob)]

    def count(self, prefix: str) -> int:
        return sum(1 for where, _ in self.places if where.startswith(prefix))


def _photo(path: Path) -> Path:
    ys, xs = np.mgrid[0:384, 0:512]
    rgb = np.stack([xs % 256, ys % 256, (xs + ys) % 256], axis=-1).astype(np.uint8)
    Image.fromarray(rgb, "RGB").save(path)
    return path


def _generate(nb: Any, prompt: str) -> str:
    return str(nb.click_generate(prompt))


def test_the_key_never_reaches_the_browser_the_notebook_or_the_logs(browser: Any, tmp_path: Path) -> None:
    deadline = lab.Deadline(TOTAL_S)
    hay = Haystack()
    frames: list[tuple[str, str | bytes]] = []
    console: list[str] = []
    posted: list[tuple[str, bytes]] = []

    with Emulator(api_key=CANARY) as emu:
        server = lab.start_lab(tmp_path / "lab", env={"OPENAI_API_KEY": CANARY, "OPENAI_BASE_URL": emu.url})
        out = server.root / "out"
        name = "secrets.ipynb"
        lab.write_notebook(server.root, name, [
            "from image_widget import ImageWidget\n"
            f"w = ImageWidget(folder={str(out)!r})\n"
            "w",
        ])
        context = browser.new_context(viewport=lab.VIEWPORT, device_scale_factor=1)
        page = context.new_page()

        def on_websocket(ws: Any) -> None:
            ws.on("framesent", lambda payload: frames.append((f"sent {ws.url.split('?')[0]}", payload)))
            ws.on("framereceived", lambda payload: frames.append((f"received {ws.url.split('?')[0]}", payload)))

        page.on("websocket", on_websocket)
        page.on("console", lambda msg: console.append(f"{msg.type}: {msg.text}"))
        page.on("request", lambda req: posted.append((f"{req.method} {req.url.split('?')[0]}",
                                                      req.post_data_buffer or b"")))
        nb = lab.Notebook(page, server, name, deadline)
        try:
            nb.open()
            nb.run_all()
            nb.widget.wait_for(state="visible", timeout=deadline.ms())
            nb.wait_kernel_idle()
            backend = nb.run_cell("print(w.backend['kind'], w.backend['synthetic'])").split()
            assert backend == ["custom", "False"], f"the widget is not using the configured server: {backend}"

            # 1. A success: the emulator accepts only the canary, so this proves the key was sent.
            assert _generate(nb, "a lighthouse in the fog") == "done"
            hay.add("DOM after generate", page.content())

            # 2. A 401 whose message echoes the key back (a careless server); the banner must not show it.
            lab.post_json(f"{emu.origin}/_emulator/faults",
                          [{"status": 401, "message": f"Incorrect API key provided: {CANARY}."}])
            assert _generate(nb, "a lighthouse at night") == "error"
            banner = nb.widget.locator("[data-role='banner']")
            banner.wait_for(state="visible", timeout=deadline.ms())
            banner_text = banner.inner_text(timeout=deadline.ms())
            assert "key" in banner_text.lower(), banner_text
            hay.add("DOM after the 401", page.content())
            hay.add("banner after the 401", banner_text)

            # 3. a 500 (never sent again: it may have been billed).
            lab.post_json(f"{emu.origin}/_emulator/faults", [{"status": 500}])
            assert _generate(nb, "a lighthouse in a storm") == "error"
            hay.add("DOM after the 500", page.content())
            assert emu.pending_faults == [], "the injected faults were not all used"

            # 4. An edit with a painted mask.
            nb.widget.locator("input.iw-file").set_input_files(str(_photo(tmp_path / "photo.png")),
                                                               timeout=deadline.ms())
            nb.widget.locator(".iw-mask[data-ready='1']").wait_for(state="visible", timeout=deadline.ms())
            canvas = nb.widget.locator("[data-role='mask-canvas']")
            canvas.scroll_into_view_if_needed(timeout=deadline.ms())
            page.wait_for_function("() => [...document.querySelectorAll('.image-widget img')]"
                                   ".every((img) => img.complete)", timeout=deadline.ms())
            box = canvas.bounding_box(timeout=deadline.ms())
            assert box is not None
            page.mouse.move(box["x"] + 0.2 * box["width"], box["y"] + 0.4 * box["height"])
            page.mouse.down()
            page.mouse.move(box["x"] + 0.7 * box["width"], box["y"] + 0.6 * box["height"], steps=15)
            page.mouse.up()
            page.wait_for_function("() => Number(document.querySelector('.image-widget .iw-mask')"
                                   ".dataset.writes || 0) >= 1", timeout=deadline.ms())
            for _ in range(40):  # the mask may trail the stroke by a message or two
                if nb.run_cell("print(w.mask is not None)").strip() == "True":
                    break
                page.wait_for_timeout(100)
            assert _generate(nb, "turn the stroke into a river") == "done"
            hay.add("DOM after the edit", page.content())
            edits = [e for e in emu.log if e.endpoint == "edit" and e.status == 200]
            assert edits, "the edit did not reach the server"
            assert "mask" in edits[-1].params, "the edit reached the server without the mask"

            # 5. Save (widget state included) and read what is on disk.
            saved = nb.save()
            notebook_text = saved.read_text()
            assert "application/vnd.jupyter.widget-state+json" in notebook_text, \
                "the widget state was not saved into the notebook, so the search would miss it"
            hay.add("saved notebook", notebook_text)
            hay.add("localStorage", page.evaluate("() => JSON.stringify(Object.entries(localStorage))"))
            assert not nb.real_page_errors(), nb.real_page_errors()
            hay.add("page errors", "\n".join(nb.page_errors))
        finally:
            nb.close()
            context.close()
            server.stop()

        echoed = [e for e in emu.log if e.fault is not None and e.fault.status == 401]
        assert echoed, "the 401 fault was not served"
        assert CANARY in (echoed[0].fault.message or ""), "the server's 401 did not echo the key back"
        ok = [e for e in emu.log if e.status == 200]
        assert len(ok) >= 2, "fewer successful requests than expected: the canary key was not in use"
        hay.add("emulator request log (params)", json.dumps([e.params for e in emu.log], default=str))

    hay.add("jupyter server stdout/stderr", server.log_text())
    for where, payload in frames:
        hay.add(f"websocket frame {where}", payload)
    for where, body in posted:
        hay.add(f"request body {where}", body)
    hay.add("console", "\n".join(console))
    written = sorted(p for p in out.rglob("*") if p.is_file())
    for path in written:
        hay.add(f"file {path.relative_to(out)}", path.read_bytes())

    # The search is not blind: it had the traffic, the comm messages, the images and the banner to look at.
    assert hay.count("websocket frame") > 50
    comm_frames = [p for _, p in frames if (b"comm_msg" if isinstance(p, bytes) else "comm_msg") in p]
    assert comm_frames, "no widget comm messages were captured"
    assert any(p.suffix == ".png" for p in written), "no images were written under the output folder"
    assert len(written) >= 4

    found = hay.sightings()
    took = time.monotonic() - deadline.end + TOTAL_S
    print(f"browser secrets: searched {len(hay.places)} places ({hay.count('websocket frame')} websocket frames, "
          f"{len(written)} files, {len(console)} console messages) in {took:.0f} s — {len(found)} sightings of the key")
    print(f"the 401 banner read {banner_text!r}")
    assert not found, f"the key was found in: {found[:20]}"
