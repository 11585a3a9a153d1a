"""Batch sweeps: planning a 50,000-request batch, and bringing a 2,000-image batch home.

1. `plan_run` for 50,000 requests (validation, the estimate at the batch price, the JSONL written
   streaming, the intent) in a fresh process: wall time and the process's peak memory (targets < 10 s,
   < 200 MB on the 2-core machine).
2. An emulated 2,000-image batch end to end; the figure is the client side: from the batch's end to every
   image saved with its record (download + decode + atomic saves), in images per second, against the
   direct path (`iw.sweep`, four requests at a time: request, save, decode — the emulator's drawing time
   is inside the direct figure, while a batch's images were drawn before its files are downloaded).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import Figure

HERE = Path(__file__).resolve().parent
SRC = HERE.parent / "src"

_PLAN = r"""
import json, sys, time
from pathlib import Path

def hwm_mb():  # this process's own peak RSS: ru_maxrss would carry the parent's over fork + exec on Linux
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
from image_widget.sweeps.batch.submit import plan_run
from image_widget.client.backend import resolve_backend
backend = resolve_backend(base_url="http://127.0.0.1:9/v1", api_key="sk-bench-not-sent")
before = hwm_mb()
start = time.perf_counter()
intent = plan_run("a {animal} in the style {style}", Path(sys.argv[1]), backend, max_cost=None,
                  animal=[f"animal {i}" for i in range(250)], style=[f"style {j}" for j in range(200)],
                  quality="low", model="gpt-image-2", size="1024x1024")
took = time.perf_counter() - start
peak = hwm_mb()
print(json.dumps({"s": took, "added_mb": peak - before, "peak_mb": peak,
                  "lines": sum(p.lines for p in intent.parts), "bytes": sum(p.bytes for p in intent.parts),
                  "files": len(intent.parts), "estimate": intent.estimate_text}))
"""


def plan_50k() -> list[Figure]:
    """Planning and writing a 50,000-request batch in a fresh process."""
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    with tempfile.TemporaryDirectory(prefix="iw-batch-plan-") as tmp:
        out = subprocess.run([sys.executable, "-c", _PLAN, tmp], env=env, capture_output=True, text=True,
                             check=True, timeout=600)
    got = json.loads(out.stdout.strip().splitlines()[-1])
    detail = {"lines": got["lines"], "files": got["files"], "JSONL bytes": got["bytes"],
              "estimate": got["estimate"], "peak RSS rise above the imports' own peak (MB)": round(got["added_mb"], 1)}
    return [
        Figure("plan + write a 50,000-request batch", got["s"], "s", target="< 10 s", met=got["s"] < 10,
               detail=detail),
        Figure("peak memory planning 50,000 requests (whole process, imports included)", got["peak_mb"], "MB",
               target="< 200 MB", met=got["peak_mb"] < 200),
    ]


def batch_2000(images: int = 2000, direct: int = 200) -> list[Figure]:
    """Download + save throughput of a finished emulated batch vs the direct path."""
    import image_widget as iw
    from image_widget.emulator import Emulator
    from image_widget.store.atomic import flush
    from image_widget.sweeps.batch import batch_sweep

    with tempfile.TemporaryDirectory(prefix="iw-batch-e2e-") as tmp, \
            Emulator(batch_folder=Path(tmp) / "emulator") as emu:
        opts = {"base_url": emu.url, "api_key": "sk-bench", "model": "gpt-image-2", "quality": "low"}
        started = time.perf_counter()
        s = batch_sweep("a {k}", k=[f"fox {i}" for i in range(images)], store=Path(tmp) / "batch", **opts)
        submitted = time.perf_counter() - started
        client = __import__("openai").OpenAI(base_url=emu.url, api_key="sk-bench")
        while client.batches.retrieve(s.batch_ids[0]).status != "completed":
            time.sleep(0.2)
        server_s = time.perf_counter() - started
        collect_start = time.perf_counter()
        s.wait(progress=False)
        flush()
        collect_s = time.perf_counter() - collect_start
        saved = s.last_status().saved
        assert saved == images, f"{saved} of {images} saved"

        direct_start = time.perf_counter()
        iw.sweep("a {k}", k=[f"owl {i}" for i in range(direct)], store=Path(tmp) / "direct", progress=False, **opts)
        flush()
        direct_s = time.perf_counter() - direct_start
    ours, theirs = images / collect_s, direct / direct_s
    return [Figure(f"batch of {images}: download + save throughput", ours, "images/s", theirs,
                   f"direct path, {direct} images 4 at a time", "≥ the direct path's", ours >= theirs,
                   {"submit (plan, upload, create)": f"{submitted:.2f} s",
                    "emulator processing (not ours)": f"{server_s - submitted:.1f} s",
                    "download + save": f"{collect_s:.2f} s"})]


def run_all(quick: bool = False) -> list[Figure]:
    return plan_50k() + batch_2000(images=400 if quick else 2000, direct=80 if quick else 200)


if __name__ == "__main__":
    sys.path.insert(0, str(SRC))
    for figure in run_all(quick="--quick" in sys.argv):
        print(figure.line())
        for key, value in figure.detail.items():
            print(f"  {key}: {value}")
