"""The notebooks run top to bottom on the offline emulator, and are committed without outputs.

Each notebook is copied to a temporary folder and executed there with nbclient (kernel `python3`),
with OPENAI_API_KEY / OPENAI_BASE_URL removed from the kernel's environment (so the emulator answers)
and IMAGE_WIDGET_DIR pointing into the temporary folder (so nothing is written into the checkout).
"""

from __future__ import annotations

import base64
import importlib.util
import json
import os
import re
import shutil
from datetime import datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from support.images import decode

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
EXPECTED = ("quickstart", "teaching", "prompt-iteration", "conversation")
CELL_TIMEOUT_S = 120
#: Each cell takes a few seconds on the emulator; far more than that means something is wrong.
CELL_BUDGET_S = 60
REMOVED_ENV = ("OPENAI_API_KEY", "OPENAI_BASE_URL")


def kernel_env(output: Path) -> dict[str, str]:
    """The kernel's environment: no key (emulator), output in `output`, this checkout's package first."""
    env = {k: v for k, v in os.environ.items() if k not in REMOVED_ENV}
    env["IMAGE_WIDGET_DIR"] = str(output)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT / "src"), env.get("PYTHONPATH")) if p)
    return env


class Executed:
    """A notebook after a run: the executed cells, where it ran and where its images went."""

    def __init__(self, nb: Any, workdir: Path, output: Path) -> None:
        self.nb = nb
        self.workdir = workdir
        self.output = output

    @property
    def code_cells(self) -> list[Any]:
        return [cell for cell in self.nb.cells if cell.cell_type == "code"]

    def stdout(self, cell: Any = None) -> str:
        cells = [cell] if cell is not None else self.code_cells
        return "".join(out.get("text", "") for c in cells for out in c.outputs
                       if out.output_type == "stream" and out.get("name") == "stdout")

    def tagged(self, tag: str) -> Any:
        found = [cell for cell in self.code_cells if tag in cell.metadata.get("tags", [])]
        assert len(found) == 1, f"expected one cell tagged {tag!r}, found {len(found)}"
        return found[0]

    def data(self, cell: Any, mime: str) -> list[Any]:
        return [out["data"][mime] for out in cell.outputs
                if out.output_type in ("display_data", "execute_result") and mime in out.get("data", {})]

    def count(self, mime: str) -> int:
        return sum(len(self.data(cell, mime)) for cell in self.code_cells)


def execute(name: str, tmp: Path) -> Executed:
    workdir = tmp / "notebooks"
    shutil.copytree(NOTEBOOKS, workdir, ignore=shutil.ignore_patterns("image-widget-output", ".ipynb_checkpoints"))
    output = tmp / "output"
    path = workdir / f"{name}.ipynb"
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(nb, kernel_name="python3", timeout=CELL_TIMEOUT_S, record_timing=True,
                                     resources={"metadata": {"path": str(workdir)}})
    try:
        client.execute(env=kernel_env(output))
    except nbclient.exceptions.CellExecutionError as exc:
        pytest.fail(f"{name}.ipynb failed:\n{exc}")
    return Executed(nb, workdir, output)


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Run each notebook once per module, on first use."""
    runs: dict[str, Executed] = {}

    def get(name: str) -> Executed:
        if name not in runs:
            runs[name] = execute(name, tmp_path_factory.mktemp(name))
        return runs[name]

    return get


def _seconds(cell: Any) -> float:
    timing = cell.metadata.get("execution", {})
    start, end = timing.get("iopub.execute_input"), timing.get("shell.execute_reply")
    if not (start and end):
        return 0.0
    return (_time(end) - _time(start)).total_seconds()


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


# ----------------------------------------------------------------------------------------------- every notebook


@pytest.mark.parametrize("name", EXPECTED)
def test_notebook_runs_on_the_emulator(executed: Any, name: str) -> None:
    run = executed(name)
    errors = [out for cell in run.code_cells for out in cell.outputs if out.output_type == "error"]
    assert not errors, f"{name}: {errors[0].ename}: {errors[0].evalue}"
    assert all(cell.execution_count is not None for cell in run.code_cells), "some cells did not run"
    slow = {i: s for i, cell in enumerate(run.code_cells) if (s := _seconds(cell)) > CELL_BUDGET_S}
    assert not slow, f"{name}: cells slower than {CELL_BUDGET_S}s on the emulator: {slow}"
    # The first cell announces the backend, and that the images are synthetic.
    first = run.stdout(run.code_cells[0])
    assert "Offline emulator" in first
    assert "SYNTHETIC" in first
    stderr = "".join(out.get("text", "") for cell in run.code_cells for out in cell.outputs
                     if out.output_type == "stream" and out.get("name") == "stderr")
    assert "no OPENAI_API_KEY" not in stderr, "the no-key notice is a calm line, not a red stderr box (issue 23)"
    # Images went to IMAGE_WIDGET_DIR (each with its JSON record), not into the notebooks folder.
    pngs = sorted(run.output.glob("*.png"))
    assert pngs, "no image was saved"
    for png in pngs:
        record = json.loads(png.with_suffix(".json").read_text(encoding="utf-8"))
        assert record["backend"]["synthetic"] is True
    assert not (run.workdir / "image-widget-output").exists()


# ----------------------------------------------------------------------------------------------- per notebook


def test_quickstart_outputs(executed: Any) -> None:
    run = executed("quickstart")
    out = run.stdout()
    assert len(re.findall(r"^1536x1024$", out, flags=re.MULTILINE)) >= 2, "the two generated sizes"
    assert "iw.generate('a lighthouse" in out, "the widget's reproducing call"
    assert "variation made through the edit endpoint" in out
    assert re.search(r"^gpt-image-1-mini +deprecated +2026-12-01 +gpt-image-2.6-sunburst", out, flags=re.MULTILINE), \
        "the model list with dates"
    assert "'params': {'prompt': 'a watercolor fox" in out, "the record read back from the PNG"
    assert "cached=True" in out, "the cached re-run"
    assert run.count("application/vnd.jupyter.widget-view+json") >= 1, "the widget is displayed"
    assert run.count("image/png") >= 5
    endpoints = {json.loads(p.read_text(encoding="utf-8"))["endpoint"] for p in run.output.glob("*.json")}
    assert endpoints == {"generate", "edit"}


def test_teaching_outputs(executed: Any) -> None:
    run = executed("teaching")
    out = run.stdout()
    assert re.search(r"^A class of 30 students, 10 images each: \$\d+\.\d{3}$", out, flags=re.MULTILINE), out
    assert "One image (gpt-image-2, low quality, 1024x1024): $0.006" in out
    assert "alpha values: [0, 255]" in out, "the mask as sent to the API"
    assert re.search(r"^1536x1024 {2}aspect 1\.50$", out, flags=re.MULTILINE)
    assert "nothing was billed" in out
    assert run.count("image/png") >= 5


def test_prompt_iteration_outputs(executed: Any) -> None:
    run = executed("prompt-iteration")
    out = run.stdout()
    assert "Not sent:" in out, "the budget check"
    assert "failed cells: 0" in out
    sheets = run.data(run.tagged("contact-sheet"), "image/png")
    assert len(sheets) == 1, "the contact sheet is shown"
    sheet = decode(base64.b64decode(sheets[0]))
    assert sheet.width > 600, sheet.size
    assert sheet.height > 400, sheet.size
    tables = run.data(run.tagged("records-table"), "text/html")
    assert len(tables) == 1
    assert "<table" in tables[0]
    assert tables[0].count("<tr") == 13, "a header and one row per image (12)"
    assert "made from the best image: True" in out
    assert "cached=True" in out
    assert re.search(r"^batch: completed \(12 done, 0 failed, 12 total; 12 saved\)$", out, flags=re.MULTILINE), out
    batch, direct = map(float, re.findall(r"the first image: \$(\d+\.\d+) in the batch, \$(\d+\.\d+) directly",
                                          out)[0])
    assert batch == pytest.approx(direct / 2, abs=1e-4), "the batch price is half"
    assert "batch sweeps this folder knows: 1" in out


def test_conversation_outputs(executed: Any) -> None:
    run = executed("conversation")
    out = run.stdout()
    assert "mainline model: gpt-5.5 · image model: gpt-image-2" in out
    assert re.search(r"^next turn: \$\d", out, flags=re.MULTILINE), "a price before the first turn"
    assert re.search(r"^turn 3: 'add a lantern'", out, flags=re.MULTILINE)
    assert "branch turn 2 continues True" in out
    assert "branched from: 1" in out
    assert "turns in order: ['a red fox in snow', 'make it night', 'add a lantern']" in out
    assert "chat.send('make it night')" in out, "the code replays the chain"
    assert "turn 4 continues turn 3: True" in out, "resume continues the right response"
    assert run.count("application/vnd.jupyter.widget-view+json") >= 1, "the widget is displayed"
    records = [json.loads(p.read_text(encoding="utf-8")) for p in run.output.glob("*.json")]
    assert {r["call"] for r in records} == {"refine"}
    assert len(records) == 5


# ----------------------------------------------------------------------------------------------- committed clean


def _clear_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("clear_notebooks", ROOT / "scripts" / "clear_notebooks.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_expected_notebooks_exist() -> None:
    assert {p.stem for p in NOTEBOOKS.glob("*.ipynb")} >= set(EXPECTED)


@pytest.mark.parametrize("path", sorted(NOTEBOOKS.glob("*.ipynb")), ids=lambda p: p.name)
def test_notebook_is_committed_clean(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    dirty = [i for i, cell in enumerate(nb.cells)
             if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None)]
    assert not dirty, f"{path.name}: cells {dirty} have outputs or execution counts; " \
                      "run python scripts/clear_notebooks.py"
    assert "widgets" not in nb.metadata, f"{path.name} carries widget state; run python scripts/clear_notebooks.py"
    assert _clear_script().is_clean(path), f"{path.name} is not clean; run python scripts/clear_notebooks.py"
