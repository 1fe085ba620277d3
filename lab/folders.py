"""Which server folders a visitor may read: off unless the operator lists allowed roots.

The Benchmark page can run episodes on "a folder of class subfolders" on the server. A path
typed by a visitor must never let them probe the server's file system, so reading folders is
off by default. The operator turns it on with an allow-list of roots, in the environment
variable FEWSHOT_FOLDER_ROOTS (several roots separated by os.pathsep, ':' on Linux) or the
Streamlit secret `folder_roots` (a string like the variable, or a list of paths). A path is
resolved, symlinks followed, before it is checked against the resolved roots, and every
refusal gives the same sentence, so a refusal never tells whether a path exists.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path

ROOTS_VARIABLE = "FEWSHOT_FOLDER_ROOTS"
ROOTS_SECRET = "folder_roots"
HOW_TO_ENABLE = (
    f"The operator can allow it by setting the environment variable {ROOTS_VARIABLE} (or the "
    f"Streamlit secret `{ROOTS_SECRET}`) to the folders visitors may read, separated by "
    f"`{os.pathsep}`; see SECURITY.md."
)


class FolderRefused(ValueError):
    """A folder path a visitor may not read; the message never says whether it exists."""


def _split(value: str | Iterable[str] | None) -> list[str]:
    """Root entries from a pathsep-separated string or a list of strings, blanks dropped."""
    if value is None:
        return []
    entries = value.split(os.pathsep) if isinstance(value, str) else [str(v) for v in value]
    return [entry.strip() for entry in entries if entry and entry.strip()]


def allowed_roots(
    setting: str | Iterable[str] | None = None, environ: Mapping[str, str] | None = None
) -> tuple[Path, ...]:
    """The folders visitors may read below, resolved; empty when reading folders is off.

    Args:
        setting: the operator's setting (e.g. the Streamlit secret `folder_roots`): a string
            of paths separated by os.pathsep, or a list of paths. Added to the variable's.
        environ: where to read FEWSHOT_FOLDER_ROOTS (os.environ by default).

    Returns:
        Absolute roots with symlinks resolved, in order, without duplicates. Relative
        entries are ignored: a root must not depend on the server's working directory.
    """
    environ = os.environ if environ is None else environ
    roots: list[Path] = []
    for entry in _split(environ.get(ROOTS_VARIABLE)) + _split(setting):
        path = Path(entry)
        if not path.is_absolute():
            continue
        resolved = path.resolve()
        if resolved not in roots:
            roots.append(resolved)
    return tuple(roots)


def resolve_allowed(path: str, roots: Iterable[Path]) -> Path:
    """The folder `path` names, resolved, if it is an existing folder under an allowed root.

    A relative path is read from each root in turn. Symlinks are followed before the check,
    so a link inside a root that points outside it is refused.

    Args:
        path: what the visitor typed.
        roots: allowed_roots(...).

    Returns:
        The resolved folder.

    Raises:
        FolderRefused: reading folders is off, or the path is not an existing folder inside
            a root. The message is the same whether the path exists or not.
    """
    roots = tuple(roots)
    if not roots:
        raise FolderRefused(f"Reading folders on this server is off. {HOW_TO_ENABLE}")
    refused = FolderRefused(
        "That is not a folder this server lets visitors read. Give a folder inside "
        + " or ".join(str(root) for root in roots)
        + "."
    )
    text = str(path).strip()
    if not text or "\x00" in text:
        raise refused
    typed = Path(text)
    candidates = [typed] if typed.is_absolute() else [root / typed for root in roots]
    for candidate in candidates:
        try:
            resolved = candidate.resolve(strict=True)
            inside = any(resolved.is_relative_to(root) for root in roots)
            if inside and resolved.is_dir():
                return resolved
        except (OSError, RuntimeError):  # missing, unreadable, or a symlink loop
            continue
    raise refused
