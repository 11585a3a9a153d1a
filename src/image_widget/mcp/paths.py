"""Which files an assistant may make the MCP server read: only those under the allowed roots.

An MCP client passes whatever path a language model wrote, so the server refuses, before reading a byte:
any `..` part, a path whose real location (symlinks followed) is outside every root, absolute paths
elsewhere, and anything that is not a regular file. The roots are the working folder (unless it is `/` or the
home folder: `too_broad`), the store and each `--allow-dir`, each resolved once at start-up.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePath

MAX_INPUT_BYTES = 50 * 1024 * 1024
"""The API takes input images under 50 MB; a bigger file is refused before it is read."""


class PathRefused(ValueError):
    """A path the server will not read; the message names the parameter, the path and the allowed roots."""


@dataclass(frozen=True)
class AllowedRoots:
    """The folders input files may come from, resolved (symlinks followed) when made."""

    roots: tuple[Path, ...]
    base: Path
    """Where relative paths start: the working folder."""

    @classmethod
    def of(cls, working: Path, store: Path, extra: Iterable[str | os.PathLike[str]] = (),
           working_is_root: bool = True) -> AllowedRoots:
        """The working folder (unless `working_is_root` is False), the store and each extra folder (which
        must exist)."""
        roots: list[Path] = []
        for folder in (*((working,) if working_is_root else ()), store, *(Path(p).expanduser() for p in extra)):
            resolved = Path(folder).resolve()
            if folder not in (working, store) and not resolved.is_dir():
                raise PathRefused(f"--allow-dir {folder}: not a folder")
            # the folder as named and as it really is (it may itself be reached through a link)
            for form in (resolved, Path(os.path.abspath(folder))):
                if form not in roots:
                    roots.append(form)
        return cls(tuple(roots), Path(working).resolve())

    def describe(self) -> list[str]:
        return list(dict.fromkeys(str(root.resolve()) for root in self.roots))

    def resolve(self, text: str, param: str) -> Path:
        """The real path of an input file under a root, or `PathRefused` saying why not."""
        if not isinstance(text, str) or not text.strip():
            raise PathRefused(f"{param}: give a file path (or an image id from list_images)")
        if "\x00" in text:
            raise PathRefused(f"{param}: the path contains a NUL character")
        shown = text if len(text) <= 200 else text[:200] + "…"
        parts = PurePath(text).parts
        if ".." in parts or ".." in text.replace("\\", "/").split("/"):
            raise PathRefused(f"{param}: {shown!r} contains '..'; paths may not climb out of a folder. "
                              f"Allowed folders: {self._roots_text()}")
        given = Path(text).expanduser()
        candidate = given if given.is_absolute() else self.base / given
        if not self._inside(Path(os.path.abspath(candidate))):
            raise PathRefused(f"{param}: {shown!r} is outside the allowed folders ({self._roots_text()}); "
                              "copy the file into one of them or start the server with --allow-dir")
        try:
            real = candidate.resolve(strict=True)
        except (OSError, RuntimeError):
            raise PathRefused(f"{param}: {shown!r} was not found (relative paths start in {self.base})") from None
        if not self._inside(real):
            raise PathRefused(f"{param}: {shown!r} is a link to a place outside the allowed folders "
                              f"({self._roots_text()}); links may not lead out of them")
        if not real.is_file():
            raise PathRefused(f"{param}: {shown!r} is not a regular file")
        size = real.stat().st_size
        if size >= MAX_INPUT_BYTES:
            raise PathRefused(f"{param}: {shown!r} is {size / 1024 / 1024:.1f} MB; input images must be under "
                              f"{MAX_INPUT_BYTES // 1024 // 1024} MB")
        return real

    def read(self, text: str, param: str) -> bytes:
        """The bytes of an allowed input file (see `resolve`)."""
        path = self.resolve(text, param)
        try:
            return path.read_bytes()
        except OSError as exc:
            raise PathRefused(f"{param}: cannot read {text!r}: {exc.strerror or type(exc).__name__}") from None

    def _inside(self, path: Path) -> bool:
        return any(path == root or path.is_relative_to(root) for root in self.roots)

    def _roots_text(self) -> str:
        return ", ".join(self.describe())


def too_broad(folder: Path) -> str | None:
    """Why `folder` may not be an implicit root, or None. Desktop MCP clients often start servers in `/` or the
    home folder: as the working folder either would make every image on the disk readable. Given explicitly
    (`--allow-dir`), they are allowed."""
    real = Path(folder).resolve()
    if real == Path(real.anchor):
        return "it is the root of the file system"
    if real == Path.home().resolve():
        return "it is the home folder"
    return None


def as_list(value: str | Sequence[str]) -> list[str]:
    """One path or id, or a list of them, as a list."""
    return [value] if isinstance(value, str) else list(value)
