"""Save and load a teaching session as one zip: support images, labels, class order, settings.

Layout of the zip (written deterministically, so export -> import -> export is
byte-identical):

    manifest.json            {"schema_version": 1, "classes": [...], "queries": [...], ...}
    support/00/000.png       the original bytes of each support image, as uploaded
    queries/000.jpg          the original bytes of each image to check (query)

Reading is defensive, because a zip can come from anywhere: only JSON is parsed (nothing is
unpickled); member names must be plain relative paths; declared and actual uncompressed
sizes are bounded (zip bombs); every image must decode (core.images); anything unexpected
rejects the whole file with SessionRejected, whose message says what and why. Reading never
changes any state: it returns a new SessionData or raises.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from core.constants import IMAGE_SUFFIXES, MAX_CLASSES
from core.images import MAX_FILE_BYTES, ImageRejected, decode_image
from lab.archives import MAX_RATIO, read_member
from lab.labels import MAX_LABEL_CHARS

SCHEMA_VERSION = 1
MANIFEST = "manifest.json"
MAX_IMAGES = 1000  # support and query images together
MAX_MANIFEST_BYTES = 1_000_000
MAX_TOTAL_BYTES = 200_000_000  # uncompressed, all members together
MAX_NAME_CHARS = 100
_FIXED_TIME = (2024, 1, 1, 0, 0, 0)  # zip timestamps, so the same session gives the same bytes
_SAFE_MEMBER = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-/]*$")


class SessionRejected(ValueError):
    """A session file that cannot be loaded; the message names the problem."""


@dataclass(frozen=True)
class StoredImage:
    """One image as the user gave it: its file name and its original bytes."""

    name: str
    data: bytes


@dataclass
class SessionData:
    """Everything a session file holds.

    class_names: N names in class order; support: N lists of images, one per class;
    queries: images to check, with an optional known class name each (query_labels);
    settings: JSON-able choices (model, inner steps, distance...).
    """

    class_names: list[str]
    support: list[list[StoredImage]]
    queries: list[StoredImage] = field(default_factory=list)
    query_labels: list[str | None] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if len(self.class_names) != len(self.support):
            raise ValueError(
                f"{len(self.class_names)} class names but {len(self.support)} image lists"
            )
        if not self.query_labels:
            self.query_labels = [None] * len(self.queries)
        if len(self.query_labels) != len(self.queries):
            raise ValueError(f"{len(self.queries)} queries but {len(self.query_labels)} labels")


def _suffix(name: str) -> str:
    suffix = PurePosixPath(name.replace("\\", "/")).suffix.lower()
    return suffix if suffix in IMAGE_SUFFIXES else ".img"


def export_session(session: SessionData) -> bytes:
    """SessionData -> zip bytes. Deterministic: the same session always gives the same bytes."""
    classes, queries = [], []
    members: list[tuple[str, bytes]] = []
    for c, (name, images) in enumerate(zip(session.class_names, session.support, strict=True)):
        entries = []
        for i, image in enumerate(images):
            path = f"support/{c:02d}/{i:03d}{_suffix(image.name)}"
            members.append((path, image.data))
            entries.append({"file": path, "name": image.name})
        classes.append({"name": name, "images": entries})
    for q, (image, label) in enumerate(zip(session.queries, session.query_labels, strict=True)):
        path = f"queries/{q:03d}{_suffix(image.name)}"
        members.append((path, image.data))
        queries.append({"file": path, "name": image.name, "label": label})
    manifest = {
        "schema_version": SCHEMA_VERSION,
        "app": "few-shot-lab",
        "classes": classes,
        "queries": queries,
        "settings": session.settings,
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        info = zipfile.ZipInfo(MANIFEST, _FIXED_TIME)
        info.compress_type = zipfile.ZIP_DEFLATED
        archive.writestr(info, json.dumps(manifest, indent=2, sort_keys=True).encode("utf-8"))
        for path, data in members:
            info = zipfile.ZipInfo(path, _FIXED_TIME)
            info.compress_type = zipfile.ZIP_STORED  # images are compressed already
            archive.writestr(info, data)
    return buffer.getvalue()


def _check_member_name(name: str) -> None:
    path = PurePosixPath(name)
    if (
        not _SAFE_MEMBER.match(name)
        or path.is_absolute()
        or ".." in path.parts
        or "\\" in name
        or ":" in name
    ):
        raise SessionRejected(f"the file holds a member with an unsafe name: {name!r}")


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes:
    """lab.archives.read_member, refusing with SessionRejected."""
    return read_member(archive, info, limit, rejected=SessionRejected)


def _text(value: Any, what: str, limit: int = MAX_NAME_CHARS) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise SessionRejected(f"{what} must be a non-empty text of at most {limit} characters")
    return value


def read_session(data: bytes) -> SessionData:
    """Zip bytes -> SessionData, or SessionRejected naming the problem (nothing else changes).

    Checks, in order: it is a zip; every member name is safe; sizes (each member at most
    core.images.MAX_FILE_BYTES, all together at most MAX_TOTAL_BYTES, compression ratio at
    most MAX_RATIO); the manifest's schema_version; every member is named by the manifest;
    every image decodes.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError):
        raise SessionRejected("not a session file: it is not a zip archive") from None
    with archive:
        infos = archive.infolist()
        if len(infos) > MAX_IMAGES + 1:
            raise SessionRejected(f"the file holds {len(infos)} members; at most {MAX_IMAGES + 1}")
        by_name: dict[str, zipfile.ZipInfo] = {}
        for info in infos:
            _check_member_name(info.filename)
            if info.is_dir():
                continue
            if info.filename in by_name:
                raise SessionRejected(f"the file holds {info.filename} twice")
            limit = MAX_MANIFEST_BYTES if info.filename == MANIFEST else MAX_FILE_BYTES
            if info.file_size > limit:
                raise SessionRejected(
                    f"{info.filename} is {info.file_size / 1e6:.1f} MB unpacked; "
                    f"the limit is {limit / 1e6:.0f} MB"
                )
            if info.file_size > MAX_RATIO * max(info.compress_size, 1):
                raise SessionRejected(
                    f"{info.filename} is compressed {info.file_size // max(info.compress_size, 1)}"
                    " times; the file looks like a zip bomb"
                )
            by_name[info.filename] = info
        if sum(info.file_size for info in by_name.values()) > MAX_TOTAL_BYTES:
            raise SessionRejected(
                f"the file unpacks to more than {MAX_TOTAL_BYTES / 1e6:.0f} MB in all"
            )
        if MANIFEST not in by_name:
            raise SessionRejected(f"not a session file: {MANIFEST} is missing")
        raw = _read_member(archive, by_name[MANIFEST], MAX_MANIFEST_BYTES)
        try:
            manifest = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise SessionRejected(f"{MANIFEST} is not valid JSON") from None
        if not isinstance(manifest, dict):
            raise SessionRejected(f"{MANIFEST} must hold a JSON object")
        version = manifest.get("schema_version")
        if version is None:
            raise SessionRejected(f"{MANIFEST} has no schema_version; is this a session file?")
        if version != SCHEMA_VERSION or isinstance(version, bool):
            # A version written as text ("1") is named as text, not as the number it shows.
            shown = (
                f"{json.dumps(version)} (text, not a number)"
                if isinstance(version, str)
                else version
            )
            raise SessionRejected(
                f"the session file has schema version {shown}; this app reads version "
                f"{SCHEMA_VERSION}"
            )
        classes = manifest.get("classes")
        queries = manifest.get("queries", [])
        settings = manifest.get("settings", {})
        if not isinstance(classes, list) or not isinstance(queries, list):
            raise SessionRejected(f"{MANIFEST}: classes and queries must be lists")
        if not isinstance(settings, dict):
            raise SessionRejected(f"{MANIFEST}: settings must be an object")
        if len(classes) > MAX_CLASSES:
            raise SessionRejected(f"the session has {len(classes)} classes; at most {MAX_CLASSES}")

        used: set[str] = set()
        total_bytes = 0

        def load(entry: Any, where: str) -> StoredImage:
            nonlocal total_bytes
            if not isinstance(entry, dict):
                raise SessionRejected(f"{MANIFEST}: {where} must be an object")
            path = entry.get("file")
            name = _text(entry.get("name"), f"{where} name")
            if not isinstance(path, str) or path not in by_name or path == MANIFEST:
                raise SessionRejected(f"{MANIFEST}: {where} names {path!r}, which the file lacks")
            if path in used:
                raise SessionRejected(f"{MANIFEST}: {path} is listed twice")
            used.add(path)
            content = _read_member(archive, by_name[path], MAX_FILE_BYTES)
            total_bytes += len(content)
            if total_bytes > MAX_TOTAL_BYTES:
                raise SessionRejected(
                    f"the file unpacks to more than {MAX_TOTAL_BYTES / 1e6:.0f} MB in all"
                )
            try:
                decode_image(content, f"{path} ({name})")
            except ImageRejected as error:
                raise SessionRejected(f"{error} — not a usable image") from None
            return StoredImage(name, content)

        class_names, support = [], []
        for c, entry in enumerate(classes):
            if not isinstance(entry, dict) or not isinstance(entry.get("images"), list):
                raise SessionRejected(f"{MANIFEST}: class {c + 1} must have a list of images")
            name = entry.get("name")
            if isinstance(name, str) and len(name.strip()) > MAX_LABEL_CHARS:
                # The app's limit (lab.labels), in its words, not the manifest's bound.
                raise SessionRejected(
                    f"class {c + 1}: “{name.strip()[:20]}…” is {len(name.strip())} characters "
                    f"long; at most {MAX_LABEL_CHARS} fit"
                )
            name = _text(name, f"class {c + 1}'s name")
            if name in class_names:
                raise SessionRejected(f"{MANIFEST}: two classes are named {name!r}")
            class_names.append(name)
            support.append(
                [load(e, f"image {i + 1} of {name!r}") for i, e in enumerate(entry["images"])]
            )
        query_images, query_labels = [], []
        for q, entry in enumerate(queries):
            query_images.append(load(entry, f"query {q + 1}"))
            label = entry.get("label")
            if label is not None and label not in class_names:
                raise SessionRejected(f"{MANIFEST}: query {q + 1} has unknown class {label!r}")
            query_labels.append(label)
        extra = sorted(set(by_name) - used - {MANIFEST})
        if extra:
            raise SessionRejected(
                f"the file holds members the manifest does not list: {', '.join(extra[:3])}"
            )
    return SessionData(class_names, support, query_images, query_labels, settings)
