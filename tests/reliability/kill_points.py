"""A kernel killed for real at a named point of the batch path, for the batch fault tests.

The child process patches itself (test code only: production has no hook) to SIGKILL right after the inputs
of an edit batch are bound ("bound"), after the batch was created but before its id is recorded ("created"),
or after this many result lines were saved ("saved:N"). It then runs `body`; `RESUME` is the second kernel,
which finds the run again, submits it if the kill came before its batch existed, and waits for it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"
_AT = "IMAGE_WIDGET_TESTS_KILL_AT"

PRELUDE = f"""
import json, os, signal, sys
import image_widget as iw
from image_widget.sweeps.batch import collect, edits, submit

def kill():  # a real kill (SIGKILL): no handler, no cleanup, no flush runs
    os.kill(os.getpid(), signal.SIGKILL)

crash = os.environ.get({_AT!r}, "")
if crash == "bound":  # the inputs are uploaded and written into the part; the part is not uploaded yet
    bind = edits.bind
    async def bind_then_die(*args, **kwargs):
        await bind(*args, **kwargs)
        kill()
    submit.edits.bind = bind_then_die
elif crash == "created":  # the batch exists at the server; its id is not yet in the intent
    submit._adopt = lambda *args: kill()
elif crash.startswith("saved:"):  # this many result lines saved, the rest not yet
    finish, after = collect.Collector._finish, int(crash.split(":")[1])
    def finish_then_die(self, futures):
        finish(self, futures)
        if self.lines_done == after:
            kill()
    collect.Collector._finish = finish_then_die
"""

RESUME = """
found = iw.batches()
if found[0].unsubmitted:  # killed before its batch was created: only an explicit submit resumes it
    found[0].submit()
found[0].wait(progress=False)
print(json.dumps({"runs": len(found), "ids": found[0].batch_ids, "status": str(found[0].last_status())}))
"""


def run_kernel(body: str, folder: Path, args: list[str], crash: str | None = None,
               timeout: float = 180) -> subprocess.CompletedProcess[str]:
    """Run PRELUDE + `body` in a fresh process on the offline emulator, killed at `crash` if given."""
    env = {k: v for k, v in os.environ.items() if k not in ("OPENAI_API_KEY", "OPENAI_BASE_URL", _AT)}
    env.update(IMAGE_WIDGET_DIR=str(folder), PYTHONPATH=str(SRC))
    if crash is not None:
        env[_AT] = crash
    return subprocess.run([sys.executable, "-c", PRELUDE + body, *args], env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)
