"""Strip outputs, execution counts and run-time metadata from notebooks, so they are committed clean.

    python scripts/clear_notebooks.py                 # clean notebooks/*.ipynb in place
    python scripts/clear_notebooks.py a.ipynb b.ipynb # clean these
    python scripts/clear_notebooks.py --check         # change nothing; exit 1 if any is not clean (CI)

Kept: the cells' source, ids and tags, and the kernelspec. Removed: outputs, execution counts, widget
state (`metadata.widgets`, written by JupyterLab and nbclient), timing and view-state cell metadata, and
the kernel's version details in `language_info` (they change with every machine that runs it).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import nbformat

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"

#: Cell metadata that records a run or a view, not the content.
VOLATILE_CELL_KEYS = ("execution", "collapsed", "scrolled", "ExecuteTime", "jupyter", "papermill")
#: Notebook metadata written by a run.
VOLATILE_NOTEBOOK_KEYS = ("widgets", "papermill", "toc", "varInspector")


def clear(nb: Any) -> Any:
    """Return `nb` (a NotebookNode) with outputs and run-time metadata removed, in place."""
    for key in VOLATILE_NOTEBOOK_KEYS:
        nb.metadata.pop(key, None)
    info = nb.metadata.get("language_info")
    if isinstance(info, dict):
        nb.metadata["language_info"] = {"name": info.get("name", "python")}
    for cell in nb.cells:
        for key in VOLATILE_CELL_KEYS:
            cell.metadata.pop(key, None)
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        else:
            cell.pop("outputs", None)
            cell.pop("execution_count", None)
    return nb


def render(nb: Any) -> str:
    """The notebook as it is written to disk (nbformat's JSON, one-space indent, final newline)."""
    text = nbformat.writes(nb, version=nbformat.NO_CONVERT)
    return text if text.endswith("\n") else text + "\n"


def clean_text(path: Path) -> str:
    """The cleaned file content for `path`."""
    nb = nbformat.read(path, as_version=nbformat.NO_CONVERT)
    return render(clear(nb))


def is_clean(path: Path) -> bool:
    """True when clearing `path` would not change it."""
    return clean_text(path) == path.read_text(encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path, help="notebooks (default: notebooks/*.ipynb)")
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if any notebook is not clean")
    args = parser.parse_args(argv)
    paths: list[Path] = args.paths or sorted(NOTEBOOKS.glob("*.ipynb"))
    dirty: list[Path] = []
    for path in paths:
        text = clean_text(path)
        if text == path.read_text(encoding="utf-8"):
            continue
        dirty.append(path)
        if not args.check:
            path.write_text(text, encoding="utf-8")
            print(f"cleared {path}")
    if args.check and dirty:
        for path in dirty:
            print(f"not clean: {path} (run: python scripts/clear_notebooks.py)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
