"""Reading zip archives from visitors without trusting their declared sizes.

Members are read into memory only (never written to disk), so a member's name is a label and
cannot reach the file system; what needs guarding is size: the number of members, each
member's unpacked size, the total, and the compression ratio (zip bombs).
"""

from __future__ import annotations

import io
import zipfile

MAX_RATIO = 100  # unpacked / packed size of one member


class ArchiveRejected(ValueError):
    """A zip that cannot be used; the message names the problem for a person."""


def read_member(
    archive: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    limit: int,
    rejected: type[ValueError] = ArchiveRejected,
) -> bytes:
    """The member's bytes, never more than min(declared size, limit) (zip bomb guard).

    Raises `rejected` (a ValueError subclass) naming the member when it is damaged or
    unpacks to more than it declares.
    """
    bound = min(info.file_size, limit)
    chunks, total = [], 0
    try:
        with archive.open(info) as handle:
            while True:
                chunk = handle.read(min(65536, bound + 1 - total))
                if not chunk:
                    break
                total += len(chunk)
                if total > bound:
                    raise rejected(
                        f"{info.filename} unpacks to more than its declared size; "
                        "the file looks like a zip bomb"
                    )
                chunks.append(chunk)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as error:
        if isinstance(error, rejected):
            raise
        raise rejected(f"{info.filename} is damaged ({error})") from None
    return b"".join(chunks)


def is_zip(data: bytes) -> bool:
    """Whether `data` starts like a zip archive (local file header or empty archive)."""
    return data[:4] in (b"PK\x03\x04", b"PK\x05\x06")


def zip_files(
    data: bytes, max_files: int, max_member_bytes: int, max_total_bytes: int
) -> tuple[list[tuple[str, bytes]], list[tuple[str, str]]]:
    """The files of a zip, in archive order, as (path inside the zip, bytes).

    Folders, hidden files and macOS resource forks (__MACOSX/) are left out silently. A
    member over `max_member_bytes` or packed more than MAX_RATIO times is skipped and
    named with the reason; the whole archive is refused (ArchiveRejected) when it is not a
    zip, holds more than `max_files` files or unpacks to more than `max_total_bytes`.

    Returns:
        (files, skipped): skipped is a list of (path, reason).
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError):
        raise ArchiveRejected("it is not a zip archive (or it is damaged)") from None
    with archive:
        infos = [
            info
            for info in archive.infolist()
            if not info.is_dir()
            and not info.filename.startswith("__MACOSX/")
            and not info.filename.rsplit("/", 1)[-1].startswith(".")
        ]
        if len(infos) > max_files:
            raise ArchiveRejected(f"it holds {len(infos)} files; at most {max_files} are taken")
        if sum(info.file_size for info in infos) > max_total_bytes:
            raise ArchiveRejected(f"it unpacks to more than {max_total_bytes / 1e6:.0f} MB")
        files, skipped = [], []
        for info in infos:
            if info.file_size > max_member_bytes:
                skipped.append(
                    (
                        info.filename,
                        f"{info.file_size / 1e6:.1f} MB unpacked; the limit is "
                        f"{max_member_bytes / 1e6:.0f} MB per file",
                    )
                )
            elif info.file_size > MAX_RATIO * max(info.compress_size, 1):
                skipped.append((info.filename, "compressed too strongly; it looks like a zip bomb"))
            else:
                try:
                    files.append((info.filename, read_member(archive, info, max_member_bytes)))
                except ArchiveRejected as error:
                    skipped.append((info.filename, str(error).removeprefix(info.filename + " ")))
        return files, skipped
