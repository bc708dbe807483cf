"""A folder of PBX CDR files on this server, read only below the folders that
``TELECRM_CDR_SOURCE_ROOTS`` names.

Whoever sets a source up names a path, and whoever can write below the root can plant
a symlink at any time: so the real path (symlinks and ``..`` resolved) is checked when
the source is set up, again for the folder at each fetch, and for each file just
before it is read. A pattern is a file name glob matched against the folder's own
entries, never a path.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path

from telecrm.config import Settings
from telecrm.errors import SourceFolderRefused, ValidationFailed

ROOTS_SETTING = "TELECRM_CDR_SOURCE_ROOTS"
# What a file name glob may not hold: a separator or a parent step would make it a
# path, and a NUL ends a name.
FORBIDDEN_IN_PATTERN = ("/", "\\", "..", "\x00")


@dataclass(frozen=True)
class Found:
    """A file of the folder whose name matches: ``real`` is what may be read (its real
    path, below a root) or None when it was skipped, and ``skipped`` says why."""

    path: Path
    real: Path | None
    skipped: str | None = None


def pattern_problem(pattern: str) -> str | None:
    found = [part for part in FORBIDDEN_IN_PATTERN if part in pattern]
    if found:
        shown = ", ".join(repr(part) for part in found)
        return f"a file name glob such as Master*.csv, not a path: {shown} is not allowed"
    return None


def _roots(settings: Settings) -> list[Path]:
    return [Path(os.path.realpath(root)) for root in settings.cdr_source_roots]


def _below(path: Path, roots: list[Path]) -> bool:
    return any(path == root or root in path.parents for root in roots)


def _no_roots_message() -> str:
    return (
        f"directory sources are off: set {ROOTS_SETTING} to the folders the PBXes "
        'write their CDR files to (JSON: ["/var/log/asterisk/cdr-csv"])'
    )


def _refusal(path: str, roots: list[Path]) -> str | None:
    """Why the folder ``path`` may not be read, or None when its real path is below a
    root."""
    if not roots:
        return _no_roots_message()
    if not os.path.isabs(path) or "\x00" in path:
        return f"path {path!r} is not an absolute path"
    if not _below(Path(os.path.realpath(path)), roots):
        return (
            f"path {path!r} is outside {ROOTS_SETTING} "
            f"({', '.join(str(root) for root in roots)}): its real path is not below any of them"
        )
    return None


def checked_folder(path: str, settings: Settings) -> None:
    """Refuse a folder whose real path is not below a root (422, ``params.path``)."""
    if problem := _refusal(path, _roots(settings)):
        raise ValidationFailed(problem, [{"field": "params.path", "message": problem}])


def matching_files(path: str, pattern: str, settings: Settings) -> Iterator[Found]:
    """The folder's regular files whose names match ``pattern``, by name. Lazily: each
    file's real path is checked against the roots when the caller asks for it, just
    before it reads it."""
    roots = _roots(settings)
    if problem := _refusal(path, roots):
        raise SourceFolderRefused(f"{problem}: nothing is read")
    folder = Path(os.path.realpath(path))
    if pattern_problem(pattern):
        raise SourceFolderRefused(f"pattern {pattern!r} is not a file name glob: nothing is read")
    if not folder.is_dir():
        raise FileNotFoundError(f"no folder {path}")
    with os.scandir(folder) as entries:
        names = sorted(entry.name for entry in entries if fnmatchcase(entry.name, pattern))
    for name in names:
        real = Path(os.path.realpath(folder / name))
        if not _below(real, roots):
            reason = f"skipped, not read: its real path is outside {ROOTS_SETTING}"
            yield Found(Path(path) / name, None, reason)
        elif real.is_file():
            yield Found(Path(path) / name, real)
