"""Writing files so that a reader never sees half of one."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Call `write(tmp)` with a temporary path beside `path`, fsync it, then rename it over
    `path`: a kill at any moment leaves the old file or the new one, never a mix.

    The temporary name is hidden (leading dot), contains ".tmp" and keeps `path`'s suffix,
    so writers that add a suffix of their own (np.save, np.savez) write exactly to it.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp{path.suffix}")
    try:
        write(tmp)
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write `data` to `path` atomically (see atomic_write)."""
    atomic_write(path, lambda tmp: tmp.write_bytes(data))
