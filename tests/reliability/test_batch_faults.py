"""Batch faults, each injected for real: a kernel killed (SIGKILL, a real subprocess) after the batch was
created but before its id was recorded and after half the results were saved; lines failing; a batch
expiring with partial output; a cancel mid-way; a download dropped; a batch refused for invalid lines.
Each is survived when every image the server made is in the folder exactly once.

Figure: `batch faults: N injected, N survived, 0 images lost, 0 duplicated`.
"""

from __future__ import annotations

import json
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import openai

import image_widget as iw
from image_widget.emulator import Emulator
from image_widget.emulator.batch_store import folder_beside
from image_widget.store import History
from image_widget.sweeps.batch import BatchSweep
from reliability.figures import audit_folder
from reliability.kill_points import RESUME, run_kernel
from support.figures import broken, figure_fixture
from support.waiting import wait_until

batch_faults = figure_fixture(
    "batch_faults",
    lambda c: (f"batch faults: {c['injected']} injected, {c['survived']} survived, {c['lost']} images lost, "
               f"{c['duplicated']} duplicated"),
    lambda c: broken(c, lost="images lost", duplicated="images saved twice")
    + ([f"{c['injected'] - c['survived']} faults not survived"] if c["injected"] != c["survived"] else []),
)


def _tally(counts: Counter[str], folder: Path, batch_ids: list[str], made: int) -> None:
    """Count one survived fault when the folder holds each of the `made` images exactly once."""
    saved = [s.record for b in batch_ids for s in History(folder).filter(batch=b)]
    keys = {(r["custom_id"], r["index"]) for r in saved}
    counts["lost"] += max(0, made - len(keys))
    counts["duplicated"] += len(saved) - len(keys)
    whole, problems = audit_folder(folder, allow_placeholders=True)
    # A kill between an image and its sidecar leaves a hidden temp file and an image whose record is in its
    # PNG chunk (History recovers it, as tests/reliability/test_persistence.py shows): nothing else.
    assert all(p.startswith("temp file left: .") or p.endswith(".png has no sidecar") for p in problems), problems
    images = [p for p in folder.iterdir() if p.suffix == ".png" and p.stat().st_size]
    assert len(images) == len(saved) >= len(whole)
    counts["survived"] += made == len(keys) == len(saved)


def _server_made(client: openai.OpenAI, batch_ids: list[str]) -> int:
    return sum(client.batches.retrieve(b).request_counts.completed for b in batch_ids)  # type: ignore[union-attr]


# ------------------------------------------------------------------------------ a real kernel, killed

_SUBMIT = """
s = iw.sweep("a {animal} in {style}", animal=["fox", "owl", "cat"], style=["ink", "oil"], quality="low",
             model="gpt-image-2", batch=True)
s.wait(progress=False)
"""


def _kernel(folder: Path, step: str, crash: str | None = None) -> subprocess.CompletedProcess[str]:
    return run_kernel(_SUBMIT if step == "submit" else RESUME, folder, [], crash, timeout=120)


def _emulator_batches(folder: Path) -> list[dict[str, Any]]:
    return [json.loads(p.read_text()) for p in (folder_beside(folder) / "batches").glob("batch_*.json")]


def _killed_then_resumed(tmp_path: Path, crash: str, batch_faults: Counter[str]) -> None:
    folder = tmp_path / "out"
    batch_faults["injected"] += 1
    first = _kernel(folder, "submit", crash)
    assert first.returncode == -9, first.stderr  # SIGKILL at the crash point, not an ordinary exit
    second = _kernel(folder, "resume")
    assert second.returncode == 0, second.stderr
    report = json.loads(second.stdout.strip().splitlines()[-1])
    server = _emulator_batches(folder)
    assert (report["runs"], len(server)) == (1, 1), "a second batch was created"
    assert report["ids"] == [server[0]["id"]]
    assert server[0]["status"] == "completed"
    assert report["status"].startswith("completed (6 done")
    _tally(batch_faults, folder, report["ids"], made=server[0]["request_counts"]["completed"])


def test_killed_after_the_batch_was_created_before_its_id_was_recorded(tmp_path: Path,
                                                                       batch_faults: Counter[str]) -> None:
    _killed_then_resumed(tmp_path, "created", batch_faults)


def test_killed_after_half_the_results_were_saved(tmp_path: Path, batch_faults: Counter[str]) -> None:
    _killed_then_resumed(tmp_path, "saved:3", batch_faults)


# ------------------------------------------------------------------------------ faults at the server


def _run(emulator: Emulator, tmp_path: Path, values: list[str]) -> BatchSweep:
    return iw.sweep("a {k}", k=values, quality="low", model="gpt-image-2", batch=True, base_url=emulator.url,
                    api_key="sk-test-batch-faults", store=tmp_path)


def _client(emulator: Emulator) -> openai.OpenAI:
    return openai.OpenAI(base_url=emulator.url, api_key="sk-test", max_retries=0)


def test_failing_lines_keep_their_messages_and_the_rest_is_saved(emulator: Emulator, tmp_path: Path,
                                                                 batch_faults: Counter[str]) -> None:
    batch_faults["injected"] += 1
    emulator.batch_faults(fail_lines={1})
    s = _run(emulator, tmp_path, ["a", "b", "c"]).wait(progress=False)
    assert s.errors == {"cell-1": "HTTP 500: The server had an error processing this request (injected by the "
                                  "emulator)."}
    assert [r["error"] is None for r in s.records] == [True, False, True]
    _tally(batch_faults, tmp_path, s.batch_ids, _server_made(_client(emulator), s.batch_ids))


def test_an_expired_batch_with_a_dropped_download_saves_its_partial_output(emulator: Emulator, tmp_path: Path,
                                                                           batch_faults: Counter[str]) -> None:
    batch_faults["injected"] += 2
    emulator.batch_faults(expire_after=2, drop_downloads=1)
    s = _run(emulator, tmp_path, list("abcd")).wait(progress=False)
    status = s.last_status()
    assert (status.state, status.saved, status.failed) == ("expired", 2, 2)
    assert set(s.errors.values()) == {"batch_expired: This request could not be executed before the completion "
                                      "window expired."}
    _tally(batch_faults, tmp_path, s.batch_ids, _server_made(_client(emulator), s.batch_ids))
    batch_faults["survived"] += 1  # the dropped download: retried, and the images above are whole


def test_cancel_mid_way_keeps_what_finished(emulator: Emulator, tmp_path: Path, batch_faults: Counter[str]) -> None:
    batch_faults["injected"] += 1
    emulator.batch_faults(hold_after=2)
    s = _run(emulator, tmp_path, list("abcde"))
    client = _client(emulator)
    wait_until(lambda: _server_made(client, s.batch_ids) == 2, "two lines answered", 30)
    s.cancel()
    emulator.release_batches()
    s.wait(progress=False)
    assert (s.last_status().state, s.last_status().saved) == ("cancelled", 2)
    _tally(batch_faults, tmp_path, s.batch_ids, made=2)


def test_a_batch_refused_for_an_invalid_line_says_why(emulator: Emulator, tmp_path: Path,
                                                      batch_faults: Counter[str]) -> None:
    batch_faults["injected"] += 1
    emulator.batch_faults(invalid_lines={1})
    s = _run(emulator, tmp_path, ["a", "b"]).wait(progress=False)
    assert s.last_status().state == "failed"
    assert set(s.errors) == {"cell-0", "cell-1"}
    assert "line 2: This line is not a valid request" in s.errors["cell-0"]
    _tally(batch_faults, tmp_path, s.batch_ids, made=0)
