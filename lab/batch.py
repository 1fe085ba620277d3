"""Classify many images at once: the uploaded files gathered and decoded; the rows and their
CSV are core.rows' (the same columns as `python -m core.predict --csv`).

Files come one by one or as zips of folders (a file's name is then its path inside the zip).
Every unusable file is named with the reason and the rest are classified.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from core.images import MAX_FILE_BYTES, ImageRejected, decode_image
from lab.archives import ArchiveRejected, is_zip, zip_files

if TYPE_CHECKING:
    from PIL import Image

MAX_BATCH_FILES = 500  # images in one batch, zips unpacked
MAX_BATCH_BYTES = 200_000_000  # all of them together, unpacked


def gather_files(
    uploads: Sequence[tuple[str, bytes]],
) -> tuple[list[tuple[str, bytes]], list[tuple[str, str]]]:
    """Uploaded files -> the image files to classify, zips unpacked in place.

    Returns:
        (files, problems): files as (name, bytes) in upload order (a zip's members as
        "<zip name>/<path inside>"); problems as (name, reason) for every file or zip left
        out. At most MAX_BATCH_FILES files and MAX_BATCH_BYTES in all are taken; the rest
        are named.
    """
    files: list[tuple[str, bytes]] = []
    problems: list[tuple[str, str]] = []
    total = 0

    def take(name: str, data: bytes) -> None:
        nonlocal total
        if len(files) >= MAX_BATCH_FILES:
            problems.append((name, f"the limit of {MAX_BATCH_FILES} images per batch is reached"))
        elif total + len(data) > MAX_BATCH_BYTES:
            problems.append(
                (name, f"the limit of {MAX_BATCH_BYTES / 1e6:.0f} MB per batch is reached")
            )
        else:
            files.append((name, data))
            total += len(data)

    for name, data in uploads:
        if not is_zip(data):
            take(name, data)
            continue
        try:
            members, skipped = zip_files(data, MAX_BATCH_FILES, MAX_FILE_BYTES, MAX_BATCH_BYTES)
        except ArchiveRejected as error:
            problems.append((name, str(error)))
            continue
        problems += [(f"{name}/{path}", reason) for path, reason in skipped]
        for path, content in members:
            take(f"{name}/{path}", content)
    return files, problems


def decode_files(
    files: Sequence[tuple[str, bytes]],
) -> tuple[list[str], list[Image.Image], list[tuple[str, str]]]:
    """(names, images, problems): every file decoded by core.images.decode_image, in order;
    a file that does not decode is named with the reason instead."""
    names, images, problems = [], [], []
    for name, data in files:
        try:
            images.append(decode_image(data, name))
            names.append(name)
        except ImageRejected as error:
            problems.append((name, error.reason))
    return names, images, problems
