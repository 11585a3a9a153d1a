"""Batch edits (issue 19) under faults, each injected for real: a kernel killed (SIGKILL, a real subprocess)
after the inputs were uploaded and bound, after the batch was created but before its id was recorded, and
after some results were saved. Survived when the resumed run makes no second batch, uploads no input twice
beyond the killed one, every image the server made is in the folder exactly once, and every saved image
holds the original outside the mask and its feather (the direct edit's promise).

Figure: `batch edit faults: N injected, N survived, 0 images lost, 0 duplicated, 0 unheld pixels`.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from image_widget.emulator.batch_store import folder_beside
from image_widget.store import History
from reliability.kill_points import RESUME, run_kernel
from support.figures import broken, figure_fixture
from support.images import photo

SIZE = (192, 128)
BOX = (40, 30, 110, 90)  # the painted area (edit here); everything 8 px + 1 farther away is held

batch_edit_faults = figure_fixture(
    "batch_edit_faults",
    lambda c: (f"batch edit faults: {c['injected']} injected, {c['survived']} survived, {c['lost']} images lost, "
               f"{c['duplicated']} duplicated, {c['unheld']} unheld pixels"),
    lambda c: broken(c, lost="images lost", duplicated="images saved twice", unheld="pixels changed outside the mask")
    + ([f"{c['injected'] - c['survived']} faults not survived"] if c["injected"] != c["survived"] else []),
)

_SUBMIT = """
s = iw.sweep("a {thing}", thing=["door", "lamp", "cat"], quality=["low", "high"], model="gpt-image-2",
             image=sys.argv[1], mask=sys.argv[2], batch=True)
s.wait(progress=False)
"""


def _inputs(tmp_path: Path) -> tuple[Path, Path]:
    picture = tmp_path / "photo.png"
    photo(SIZE).save(picture)
    mask = np.zeros((SIZE[1], SIZE[0]), np.uint8)
    mask[BOX[1]:BOX[3], BOX[0]:BOX[2]] = 255  # white = edit
    mask_path = tmp_path / "mask.png"
    Image.fromarray(mask, "L").save(mask_path)
    return picture, mask_path


def _unheld(path: Path, original: np.ndarray) -> int:
    """Pixels outside the mask + feather that differ from the original."""
    saved = np.asarray(Image.open(path).convert("RGB")).astype(int)
    far = np.ones(original.shape[:2], bool)
    far[max(0, BOX[1] - 9):BOX[3] + 9, max(0, BOX[0] - 9):BOX[2] + 9] = False
    return int((saved[far] != original[far]).any(axis=-1).sum())


@pytest.mark.parametrize("crash", ["bound", "created", "saved:2"])
def test_killed_then_resumed(tmp_path: Path, crash: str, batch_edit_faults: Counter[str]) -> None:
    folder = tmp_path / "out"
    picture, mask = _inputs(tmp_path)
    batch_edit_faults["injected"] += 1
    first = run_kernel(_SUBMIT, folder, [str(picture), str(mask)], crash)
    assert first.returncode == -9, first.stderr  # SIGKILL at the crash point, not an ordinary exit
    second = run_kernel(RESUME, folder, [])
    assert second.returncode == 0, second.stderr
    report = json.loads(second.stdout.strip().splitlines()[-1])
    emulator = folder_beside(folder)
    server = [json.loads(p.read_text()) for p in (emulator / "batches").glob("batch_*.json")]
    assert (report["runs"], len(server)) == (1, 1), "a second batch was created"
    assert server[0]["endpoint"] == "/v1/images/edits"
    assert server[0]["status"] == "completed"
    vision = [json.loads(p.read_text()) for p in (emulator / "files").glob("file-*.json")]
    vision = [f for f in vision if f["purpose"] == "vision"]
    assert len(vision) == 2, f"inputs uploaded {len(vision)} times (image + mask: once each)"
    saved = [s.record for s in History(folder).filter(batch=report["ids"][0])]
    keys = {(r["custom_id"], r["index"]) for r in saved}
    made = server[0]["request_counts"]["completed"]
    batch_edit_faults["lost"] += max(0, made - len(keys))
    batch_edit_faults["duplicated"] += len(saved) - len(keys)
    original = np.asarray(Image.open(picture).convert("RGB")).astype(int)
    for record in saved:
        assert record["call"] == "edit"
        assert record["composite"] == {"feather": 8, "keep_unmasked": True}
        assert Path(record["raw_path"]).exists(), "the API's own image is kept"
        batch_edit_faults["unheld"] += _unheld(Path(record["path"]), original)
    batch_edit_faults["survived"] += made == len(keys) == len(saved) == 6
