"""lab.session: a saved session loads back exactly; a hostile zip is refused, by name."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from PIL import Image

from lab import session
from lab.session import SessionData, SessionRejected, StoredImage, export_session, read_session


def _png(colour: int, size: int = 16) -> bytes:
    buffer = io.BytesIO()
    Image.new("L", (size, size), colour).save(buffer, format="PNG")
    return buffer.getvalue()


def _jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (20, 20), (200, 10, 10)).save(buffer, format="JPEG")
    return buffer.getvalue()


def _session() -> SessionData:
    return SessionData(
        class_names=["cat", "dog ✓"],
        support=[
            [StoredImage("a.png", _png(0)), StoredImage("photo.JPG", _jpeg())],
            [StoredImage("weird name (1).png", _png(255))],
        ],
        queries=[StoredImage("q.png", _png(100))],
        query_labels=["dog ✓"],
        settings={"algorithm": "maml", "inner_steps": 5, "inner_lr_scale": 1.0},
    )


def _zip(members: dict[str, bytes], compress=zipfile.ZIP_STORED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compress) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _manifest(**overrides) -> bytes:
    manifest = {"schema_version": 1, "classes": [], "queries": [], "settings": {}}
    manifest.update(overrides)
    return json.dumps(manifest).encode()


def test_round_trip_keeps_every_byte_label_order_and_setting():
    original = _session()
    data = export_session(original)
    loaded = read_session(data)
    assert loaded == original
    assert loaded.support[0][1].data == original.support[0][1].data
    assert export_session(loaded) == data  # byte-identical
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        manifest = json.loads(archive.read("manifest.json"))
    assert manifest["schema_version"] == session.SCHEMA_VERSION
    assert [c["name"] for c in manifest["classes"]] == ["cat", "dog ✓"]


def test_empty_session_round_trips():
    empty = SessionData([], [])
    assert read_session(export_session(empty)) == empty


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"not a zip", "not a zip archive"),
        (_zip({"x.png": _png(0)}), "manifest.json is missing"),
        (_zip({"manifest.json": b"{nope"}), "not valid JSON"),
        (_zip({"manifest.json": json.dumps({"classes": []}).encode()}), "no schema_version"),
        (_zip({"manifest.json": _manifest(schema_version=99)}), "schema version 99"),
        (_zip({"manifest.json": _manifest(), "../evil.png": _png(0)}), "unsafe name"),
        (_zip({"manifest.json": _manifest(), "/abs.png": _png(0)}), "unsafe name"),
        (_zip({"manifest.json": _manifest(), "a\\b.png": _png(0)}), "unsafe name"),
        (_zip({"manifest.json": _manifest(), "extra.png": _png(0)}), "does not list: extra.png"),
    ],
)
def test_bad_files_are_rejected_with_a_clear_message(data, message):
    with pytest.raises(SessionRejected, match=message.replace("(", r"\(")):
        read_session(data)


def test_non_image_member_is_rejected_naming_it():
    manifest = _manifest(classes=[{"name": "a", "images": [{"file": "s/0.png", "name": "x.png"}]}])
    data = _zip({"manifest.json": manifest, "s/0.png": b"#!/bin/sh\necho pwned\n"})
    with pytest.raises(SessionRejected, match=r"s/0.png \(x.png\).*not a usable image"):
        read_session(data)


def test_manifest_pointing_outside_is_rejected():
    manifest = _manifest(
        classes=[{"name": "a", "images": [{"file": "../../etc/passwd", "name": "p"}]}]
    )
    with pytest.raises(SessionRejected, match="which the file lacks"):
        read_session(_zip({"manifest.json": manifest}))


def test_zip_bomb_is_rejected_by_its_compression_ratio():
    manifest = _manifest(classes=[{"name": "a", "images": [{"file": "b.png", "name": "b"}]}])
    data = _zip({"manifest.json": manifest, "b.png": b"\0" * 5_000_000}, zipfile.ZIP_DEFLATED)
    with pytest.raises(SessionRejected, match="zip bomb"):
        read_session(data)


def test_oversized_member_is_rejected(monkeypatch):
    monkeypatch.setattr(session, "MAX_FILE_BYTES", 100)
    manifest = _manifest(classes=[{"name": "a", "images": [{"file": "b.png", "name": "b"}]}])
    with pytest.raises(SessionRejected, match="b.png is 0.0 MB unpacked"):
        read_session(_zip({"manifest.json": manifest, "b.png": _png(0, 64) + b"x" * 200}))


def test_lying_declared_size_is_caught_while_reading():
    manifest = _manifest(classes=[{"name": "a", "images": [{"file": "b.png", "name": "b"}]}])
    data = bytearray(_zip({"manifest.json": manifest, "b.png": _png(0)}))
    # Shrink b.png's declared uncompressed size in the central directory (stored: no
    # decompression, so only our bounded read can notice the extra bytes).
    real = len(_png(0))
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
        info = archive.getinfo("b.png")
    central = data.rfind(b"PK\x01\x02", 0, data.rfind(b"b.png"))
    offset = central + 24
    assert int.from_bytes(data[offset : offset + 4], "little") == real == info.file_size
    data[offset : offset + 4] = (real - 10).to_bytes(4, "little")
    with pytest.raises(SessionRejected, match="b.png"):
        read_session(bytes(data))


def test_too_many_classes_and_duplicate_names_are_rejected():
    many = [{"name": f"c{i}", "images": []} for i in range(21)]
    with pytest.raises(SessionRejected, match="21 classes"):
        read_session(_zip({"manifest.json": _manifest(classes=many)}))
    twice = [{"name": "a", "images": []}, {"name": "a", "images": []}]
    with pytest.raises(SessionRejected, match="two classes are named 'a'"):
        read_session(_zip({"manifest.json": _manifest(classes=twice)}))


def test_session_data_checks_its_shape():
    with pytest.raises(ValueError, match="2 class names but 1"):
        SessionData(["a", "b"], [[]])


def test_messages_name_the_app_limit_and_a_version_written_as_text():
    """Issue 31: class names were said to allow 100 characters (the app's limit is 40), and
    a version written as "1" read "schema version '1'; this app reads version 1"."""
    text_version = _zip({"manifest.json": _manifest(schema_version="1")})
    with pytest.raises(SessionRejected, match=r'schema version "1" \(text, not a number\)'):
        read_session(text_version)
    long_name = {"name": "x" * 41, "images": []}
    with pytest.raises(SessionRejected, match="41 characters long; at most 40 fit"):
        read_session(_zip({"manifest.json": _manifest(classes=[long_name])}))
