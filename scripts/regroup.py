#!/usr/bin/env python3
"""Regroup image_widget's loose root modules into packages whose names tell the layers (issue 22, Deliver 4).

    python scripts/regroup.py CHECKOUT [--dry-run]   # on a quiet main, then run the whole test command

Deterministic and re-runnable: a move whose source is gone is skipped (so a second run changes nothing), and every
reference is rewritten in one pass per file, old name → new name, so nothing is rewritten twice. Steps:

1. `git mv` each module (MOVES) into its package; new packages get an `__init__.py` with a docstring only.
2. In every tracked text file (src, tests, benchmarks, scripts, notebooks, docs, README, pyproject):
   dotted names `image_widget.<old>` → `image_widget.<new>` (imports, lazy-import tables, monkeypatch targets,
   docs), `from image_widget import <old>[ as x]` → `from image_widget.<pkg> import <leaf> as <old or x>`
   (also inside strings of child-process code and notebook cells), paths `image_widget/<old>.py`.
3. pyproject.toml: the `[tool.importlinter]` contracts are replaced by the new layers.
4. `ruff check --fix` (import order) on the changed Python files.

Then it prints what moved, what was rewritten, and any module still loose at the package root.

Prepared and tried (ruff, mypy, lint-imports, a sample of tests) on a branch in session 4, but not run on main:
seven other branches were landing that session. It is the next step of the regroup; delete it once it has run.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

PKG = "src/image_widget"

# old module under image_widget → new dotted name under image_widget. Order is the order of the moves.
MOVES: dict[str, str] = {
    # the model facts: data with sources, and the rules read from them
    "model_table": "facts.table",
    "capabilities": "facts.capabilities",
    "validation": "facts.validation",
    "lifecycle": "facts.lifecycle",
    "prices": "facts.prices",
    "cost": "facts.cost",
    # shared helpers every layer may use: error kinds, loops and threads, warnings, wording, formats, records
    "errors": "base.errors",
    "runtime": "base.runtime",
    "warn": "base.warn",
    "wording": "base.wording",
    "formats": "base.formats",
    "records": "base.records",
    # the request path: the code that recreates a record's call
    "reproduce": "client.reproduce",
    # the widget's one background job
    "jobs": "widget.jobs",
    # sweeps, with the Batch API path beside the in-notebook runner
    "sweep_cells": "sweeps.cells",
    "contact_sheet": "sweeps.contact_sheet",
    "sweeps": "sweeps.run",
    "batch": "sweeps.batch",
}
# References only (the file moved earlier on branch knots): rewritten wherever an old name survives a merge.
RENAMED_BEFORE: dict[str, str] = {"model_list": "client.models"}

NEW_PACKAGES: dict[str, str] = {
    "facts": '"""The model facts: which models exist, what each takes (capabilities, validation), their dates\n'
             '(lifecycle), prices with their sources, and what a request costs. Data and rules only: no I/O beyond\n'
             'reading the tables, no request path."""\n',
    "base": '"""Shared helpers every layer may use: error kinds and advice (`errors`), every loop and thread\n'
            '(`runtime`), warnings at the caller (`warn`), words for people (`wording`), image formats (`formats`)\n'
            'and the record\'s shape (`records`). They import nothing else of image_widget."""\n',
    "sweeps": '"""Sweeps: every combination of a prompt template and options. `run` runs them in the notebook\n'
              '(`iw.sweep`), `batch` sends them to the Batch API (`batch=True`); both fill the cells of `cells`;\n'
              '`contact_sheet` draws the grid."""\n',
}

ROOT_KEEP = {"__init__", "__main__", "cli"}
"""What stays at the package root: the facade (`import image_widget as iw`) and the command line."""

IMPORTLINTER = '''[tool.importlinter]
root_package = "image_widget"

[[tool.importlinter.contracts]]
name = "Layers: the user-facing parts on top, the model facts and shared helpers at the bottom"
type = "layers"
layers = [
    "image_widget.cli",
    "image_widget.widget | image_widget.mcp",
    "image_widget.sweeps",
    "image_widget.client",
    "image_widget.emulator",
    "image_widget.store",
    "image_widget.images",
    "image_widget.facts",
    "image_widget.base",
]

[[tool.importlinter.contracts]]
name = "No import circles: siblings in every package form no cycle"
type = "acyclic_siblings"
ancestors = ["image_widget"]
'''

TEXT_SUFFIXES = {".py", ".md", ".toml", ".sh", ".cfg", ".ini", ".txt", ".ts", ".yml", ".yaml"}


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout


def source_of(repo: Path, old: str) -> Path | None:
    """The module's file (or package folder) at its old place, or None when it has moved already."""
    file = repo / PKG / f"{old}.py"
    folder = repo / PKG / old
    if file.is_file():
        return file
    if (folder / "__init__.py").is_file() and old not in NEW_PACKAGES:
        return folder
    return None


def target_of(repo: Path, new: str, source: Path) -> Path:
    base = repo / PKG / Path(*new.split("."))
    return base if source.is_dir() else base.with_suffix(".py")


def move(repo: Path, dry: bool) -> dict[str, str]:
    """`git mv` every module whose source is still in place; the moves made (old → new)."""
    made: dict[str, str] = {}
    for old, new in MOVES.items():
        source = source_of(repo, old)
        if source is None:
            continue
        target = target_of(repo, new, source)
        if target.exists():
            sys.exit(f"regroup: both {source} and {target} exist; resolve by hand")
        made[old] = new
        if dry:
            continue
        package = target.parent
        parts = package.relative_to(repo / PKG).parts
        for depth in range(1, len(parts) + 1):  # each new package gets its __init__.py
            folder = repo / PKG / Path(*parts[:depth])
            init = folder / "__init__.py"
            if not init.exists():
                folder.mkdir(parents=True, exist_ok=True)
                init.write_text(NEW_PACKAGES.get(parts[depth - 1], '"""Package."""\n'), encoding="utf-8")
                git(repo, "add", str(init.relative_to(repo)))
        git(repo, "mv", str(source.relative_to(repo)), str(target.relative_to(repo)))
        if source.is_dir() and source.exists() and all(p.name == "__pycache__" for p in source.iterdir()):
            for cached in (source / "__pycache__").glob("*"):
                cached.unlink()
            (source / "__pycache__").rmdir()
            source.rmdir()  # no stale namespace package left behind
    return made


def dotted_pattern(names: dict[str, str]) -> re.Pattern[str]:
    alternatives = "|".join(sorted(map(re.escape, names), key=len, reverse=True))
    return re.compile(rf"\bimage_widget\.({alternatives})(?![\w])")


def path_pattern(names: dict[str, str]) -> re.Pattern[str]:
    alternatives = "|".join(sorted(map(re.escape, names), key=len, reverse=True))
    return re.compile(rf"\bimage_widget/({alternatives})(\.py\b|/)")


FROM_IMPORT = re.compile(
    r"^(?P<indent>[ \t]*)from image_widget import (?P<names>\((?:[^)]*)\)|[^\n#()]+?)(?P<tail>[ \t]*(?:#[^\n]*)?)$",
    re.M)


def rewrite_from_imports(text: str, names: dict[str, str]) -> str:
    """`from image_widget import a, capabilities as caps` → keep `a`, import `capabilities` from its package."""

    def one(match: re.Match[str]) -> str:
        indent, tail = match["indent"], match["tail"]
        items = [item.strip() for item in re.split(r"[,\n]", match["names"].strip("()")) if item.strip()]
        items = [re.sub(r"\s*#.*$", "", item) for item in items]
        kept: list[str] = []
        grouped: dict[str, list[str]] = {}
        for item in items:
            name, _, alias = (part.strip() for part in item.partition(" as "))
            if name not in names:
                kept.append(item)
                continue
            parent, _, leaf = f"image_widget.{names[name]}".rpartition(".")
            bound = alias or name
            grouped.setdefault(parent, []).append(leaf if leaf == bound else f"{leaf} as {bound}")
        if not grouped:
            return match.group(0)
        lines = []
        if kept:
            lines.append(f"{indent}from image_widget import {', '.join(kept)}")
        lines += [f"{indent}from {parent} import {', '.join(leaves)}" for parent, leaves in grouped.items()]
        lines[0] += tail
        return "\n".join(lines)

    return FROM_IMPORT.sub(one, text)


def rewrite_text(text: str, names: dict[str, str]) -> str:
    text = dotted_pattern(names).sub(lambda m: f"image_widget.{names[m[1]]}", text)
    text = path_pattern(names).sub(
        lambda m: "image_widget/" + names[m[1]].replace(".", "/") + m[2], text)
    return rewrite_from_imports(text, names)


def rewrite_notebook(text: str, names: dict[str, str]) -> str:
    notebook = json.loads(text)
    changed = False
    for cell in notebook.get("cells", []):
        source = "".join(cell.get("source", []))
        new = rewrite_text(source, names)
        if new != source:
            cell["source"] = new.splitlines(keepends=True)
            changed = True
    return json.dumps(notebook, indent=1, ensure_ascii=False) + "\n" if changed else text


def replace_contracts(text: str) -> str:
    """The `[tool.importlinter]` tables (and the comment right above them) → the layers after the regroup."""
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.strip() == "[tool.importlinter]"), None)
    if start is None:
        return text.rstrip("\n") + "\n\n" + IMPORTLINTER
    end = start + 1
    while end < len(lines):
        header = lines[end].strip()
        if header.startswith("[") and "importlinter" not in header:
            break
        end += 1
    while end > start and (not lines[end - 1].strip() or lines[end - 1].lstrip().startswith("#")) \
            and end < len(lines):
        end -= 1  # leave the next table's comment and blank lines where they are
    block = IMPORTLINTER if end == len(lines) else IMPORTLINTER + "\n"
    return "".join(lines[:start]) + block + "".join(lines[end:])


def rewrite(repo: Path, names: dict[str, str], dry: bool) -> list[str]:
    changed: list[str] = []
    for rel in git(repo, "ls-files").splitlines():
        path = repo / rel
        if not path.is_file() or rel.startswith(f"{PKG}/static/") or rel.endswith("package-lock.json"):
            continue
        if path.suffix not in TEXT_SUFFIXES and path.suffix != ".ipynb":
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        new = rewrite_notebook(text, names) if path.suffix == ".ipynb" else rewrite_text(text, names)
        if rel == "pyproject.toml":
            new = replace_contracts(new)
        if new != text:
            changed.append(rel)
            if not dry:
                path.write_text(new, encoding="utf-8")
    return changed


def loose(repo: Path) -> list[str]:
    return sorted(p.stem for p in (repo / PKG).glob("*.py") if p.stem not in ROOT_KEEP)


def main() -> None:
    args = [a for a in sys.argv[1:] if a != "--dry-run"]
    dry = "--dry-run" in sys.argv
    if len(args) != 1 or not (Path(args[0]) / PKG / "__init__.py").is_file():
        sys.exit(__doc__)
    repo = Path(args[0]).resolve()
    made = move(repo, dry)
    names = {**dict(RENAMED_BEFORE), **made}
    changed = rewrite(repo, names, dry)
    python = [rel for rel in changed if rel.endswith(".py")]
    if python and not dry:
        subprocess.run(["ruff", "check", "--fix", "--quiet", "--select", "I", *python], cwd=repo, check=False)
        git(repo, "add", "-A", "--", *changed)
    for old, new in made.items():
        print(f"moved  image_widget.{old:14} → image_widget.{new}")
    if not made:
        print("nothing to move (already regrouped)")
    print(f"rewrote references in {len(changed)} file(s){' (dry run: nothing written)' if dry else ''}")
    left = loose(repo) if not dry else [m for m in loose(repo) if m not in made]
    if left:
        print(f"still loose at the package root (not in MOVES): {', '.join(left)}")


if __name__ == "__main__":
    main()
