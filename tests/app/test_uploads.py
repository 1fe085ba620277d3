"""Issue 6 in the app: the whole awkward-file corpus in one upload, every stated limit
enforced (file size, pixels, images per class, classes, class names), a damaged model
shown as a sentence, and a refused session file that leaves the current work untouched."""

from __future__ import annotations

import io
import json
import shutil
import tomllib
import zipfile
from html import escape

import pytest
import streamlit as st

import ui
from core.checkpoints import models_dir
from core.constants import MAX_CLASSES
from core.images import MAX_FILE_BYTES
from lab.labels import MAX_LABEL_CHARS, markdown_text
from lab.session import export_session
from lab.workspace import MAX_IMAGES_PER_CLASS, MAX_QUERIES, to_session
from tests.app.conftest import ROOT, add_queries, character_png, fill_support, ui_state, workspace
from tests.image_corpus import corpus

CORPUS = corpus()
VALID = [name for name, (_, expected) in CORPUS.items() if expected == "ok"]
BAD = [name for name, (_, expected) in CORPUS.items() if expected != "ok"]
MIME = {"png": "image/png", "jpg": "image/jpeg", "gif": "image/gif"}


def _upload(at, key: str, files: list[tuple[str, bytes]]):
    uploads = [
        (name, data, MIME.get(name.rsplit(".", 1)[-1], "application/octet-stream"))
        for name, data in files
    ]
    at.file_uploader(key=f"{key}_up_{ui_state(at).nonce(key)}").set_value(uploads).run()
    assert not at.exception
    return at


def _texts(elements) -> str:
    return "\n".join(element.value for element in elements)


# --- 1. the whole corpus in one batch ------------------------------------------------------


def test_the_whole_corpus_in_one_upload_keeps_every_valid_file_and_names_every_bad_one(app):
    app.switch_page("app_pages/teach.py").run()
    card = workspace(app).classes[0]
    _upload(app, f"class_{card.id}", [(name, data) for name, (data, _) in CORPUS.items()])
    errors = _texts(app.error)
    for name in BAD:
        reason = CORPUS[name][1]
        assert f"{markdown_text(name)} was not added: " in errors, name
        line = next(e.value for e in app.error if e.value.startswith(markdown_text(name) + " "))
        assert reason in line, (name, line)
    assert len(app.error) == len(BAD)
    kept = workspace(app).classes[0].items
    assert [item.name for item in kept] == VALID  # in upload order
    assert all(item.data == CORPUS[item.name][0] for item in kept)  # the original bytes
    assert all(item.image.mode == "RGB" for item in kept)
    # Thumbnails are inline data: URIs, one per kept file with its name (never /media/ files,
    # which a rerun can retire before the browser fetches them: issue 17's webcam 404).
    row = next(m.value for m in app.markdown if 'data-testid="fsl-thumbnails"' in m.value)
    assert row.count('<img src="data:image/png;base64,') == len(VALID)
    assert all(f'alt="{escape(name, quote=True)}"' in row for name in VALID)
    assert not app.get("image")
    chip = next(m.value for m in app.markdown if "<bdi>" in m.value)
    assert f"<bdi>class 1</bdi> · {len(VALID)} image(s)" in chip
    # The good files are used: with a second class, the model adapts and draws prototypes.
    second = workspace(app).classes[1]
    _upload(app, f"class_{second.id}", [("circle.png", character_png(0))])
    assert not app.error and app.get("plotly_chart")


def test_the_whole_corpus_as_images_to_check_classifies_every_valid_one(app):
    fill_support(app, classes=2, shots=1)
    _upload(app, "query", [(name, data) for name, (data, _) in CORPUS.items()])
    assert len(app.error) == len(BAD)
    assert [q.name for q in workspace(app).queries] == VALID
    verdicts = [m.value for m in app.markdown if m.value.startswith("Looks like")]
    assert len(verdicts) == len(VALID)


# --- 2. limits, stated and enforced --------------------------------------------------------


def test_the_limits_are_stated_on_the_page(app):
    app.switch_page("app_pages/teach.py").run()
    caption = next(c.value for c in app.caption if "megapixels" in c.value)
    for words in (
        "10 MB",
        "40 megapixels",
        "2 to 20 classes",
        "50 images per class",
        f"up to {MAX_LABEL_CHARS} characters",
        "never on disk",
    ):
        assert words in caption, words


def test_upload_size_limit_is_the_same_in_the_browser_the_server_and_the_decoder(app):
    app.switch_page("app_pages/teach.py").run()
    card = workspace(app).classes[0]
    uploader = app.file_uploader(key=f"class_{card.id}_up_0")
    assert uploader.proto.max_upload_size_mb == ui.MAX_UPLOAD_MB
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["maxUploadSize"] == ui.MAX_UPLOAD_MB == MAX_FILE_BYTES // 2**20
    _upload(app, f"class_{card.id}", [("huge.png", CORPUS["huge.png"][0])])
    assert "huge.png was not added: the file is 11.5 MB; the limit is 10 MB" in app.error[0].value
    assert not workspace(app).classes[0].items


@pytest.mark.parametrize("name", ["bomb.png", "big.png"])
def test_pixel_limit_is_enforced(app, name):
    app.switch_page("app_pages/teach.py").run()
    card = workspace(app).classes[0]
    _upload(app, f"class_{card.id}", [(name, CORPUS[name][0])])
    assert app.error[0].value.startswith(f"{name} was not added")
    assert "megapixels" in app.error[0].value and not workspace(app).classes[0].items


def test_images_per_class_limit_keeps_the_first_ones_and_names_the_rest(app):
    app.switch_page("app_pages/teach.py").run()
    card = workspace(app).classes[0]
    files = [
        (f"c{k:02d}.png", character_png(k % 4, k % 3)) for k in range(MAX_IMAGES_PER_CLASS + 2)
    ]
    _upload(app, f"class_{card.id}", files)
    assert [i.name for i in workspace(app).classes[0].items] == [n for n, _ in files[:50]]
    warnings = _texts(app.warning)
    assert "c50.png was not added: the limit of 50 images" in warnings
    assert "c51.png was not added" in warnings
    _upload(app, f"class_{card.id}", [("one more.png", character_png(0))])
    assert "one more.png was not added: the limit of 50 images" in _texts(app.warning)
    assert len(workspace(app).classes[0].items) == MAX_IMAGES_PER_CLASS


def test_images_to_check_limit(app):
    app.switch_page("app_pages/teach.py").run()  # no support set: nothing is classified yet
    files = [(f"q{k:02d}.png", character_png(k % 4, k % 3)) for k in range(MAX_QUERIES + 1)]
    _upload(app, "query", files)
    assert [q.name for q in workspace(app).queries] == [n for n, _ in files[:40]]
    assert "q40.png was not added: the limit of 40 images" in _texts(app.warning)
    assert any("40 image(s) waiting" in c.value for c in app.caption)


def test_two_to_twenty_classes(app):
    app.switch_page("app_pages/teach.py").run()
    assert app.button(key=f"remove_class_{workspace(app).classes[0].id}").disabled
    while len(workspace(app).classes) < MAX_CLASSES:
        app.button(key="add_class").click().run()
    assert not app.exception
    assert app.button(key="add_class").disabled
    assert any("20 classes is the most" in c.value for c in app.caption)
    names = [card.name for card in workspace(app).classes]
    assert names == [f"class {n}" for n in range(1, 21)]
    with pytest.raises(ValueError, match="at most 20 classes"):
        workspace(app).add_class()
    # Removing one and adding again never gives two classes the same default name.
    app.button(key=f"remove_class_{workspace(app).classes[1].id}").click().run()
    app.button(key="add_class").click().run()
    names = [card.name for card in workspace(app).classes]
    assert len(set(names)) == 20 and names[-1] == "class 21"


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("", "cannot be empty"),
        ("    ", "cannot be empty"),
        ("Class 2", "another class is already named “class 2”"),
        ("evil\u202egnp.exe", "control character (U+202E)"),
    ],
)
def test_a_bad_class_name_is_refused_under_its_field_and_the_old_name_kept(app, typed, reason):
    app.switch_page("app_pages/teach.py").run()
    card = workspace(app).classes[0]
    app.text_input(key=f"class_name_{card.id}").set_value(typed).run()
    assert not app.exception
    assert workspace(app).classes[0].name == "class 1"
    assert app.text_input(key=f"class_name_{card.id}").value == "class 1"
    assert "The name was not changed" in app.error[0].value and reason in app.error[0].value
    app.run()  # the message is shown once
    assert not app.error


def test_a_long_class_name_is_cut_at_the_stated_limit(app):
    app.switch_page("app_pages/teach.py").run()
    card = workspace(app).classes[0]
    field = app.text_input(key=f"class_name_{card.id}")
    assert field.proto.max_chars == MAX_LABEL_CHARS  # the browser stops typing there
    field.set_value("y" * (MAX_LABEL_CHARS + 25)).run()
    assert not app.exception
    assert workspace(app).classes[0].name == "y" * MAX_LABEL_CHARS


@pytest.mark.parametrize("name", ["חתול", "قطة 🐱", "猫 · ねこ", "🐱‍👤", "café"])
def test_unicode_emoji_and_right_to_left_names_are_accepted_and_shown(app, name):
    fill_support(app, classes=2, shots=1)
    first = workspace(app).classes[0]
    app.text_input(key=f"class_name_{first.id}").set_value(f"  {name} ").run()
    assert not app.exception and not app.error
    assert workspace(app).classes[0].name == name
    chips = [m.value for m in app.markdown if "<bdi>" in m.value]
    assert f"<bdi>{name}</bdi> · 1 image(s)" in chips[0]  # the count stays after the name
    add_queries(app, shapes=(0,))
    verdict = next(m.value for m in app.markdown if m.value.startswith("Looks like"))
    assert verdict.startswith("Looks like **" + ("\u2068" if name[0] in "חق" else "") + name)
    legend = [t.get("name") for t in json.loads(app.get("plotly_chart")[0].proto.spec)["data"]]
    assert any(name in str(entry) for entry in legend)
    # ... and the name survives a save and load exactly.
    assert to_session(workspace(app)).class_names[0] == name


# --- 4. a refused session file leaves the current work untouched ---------------------------


def _zip(members: dict[str, bytes], compression=zipfile.ZIP_STORED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _manifest(classes=(), version=1) -> bytes:
    manifest = {"classes": list(classes), "queries": [], "settings": {}}
    if version is not None:
        manifest["schema_version"] = version
    return json.dumps(manifest).encode()


ONE_IMAGE = [{"name": "a", "images": [{"file": "s/0.png", "name": "0.png"}]}]
HOSTILE_SESSIONS = {
    "zip bomb": (
        _zip(
            {"manifest.json": _manifest(ONE_IMAGE), "s/0.png": b"\0" * 5_000_000},
            zipfile.ZIP_DEFLATED,
        ),
        "zip bomb",
    ),
    "path traversal": (
        _zip({"manifest.json": _manifest(), "../../etc/cron.d/x.png": character_png(0)}),
        "unsafe name",
    ),
    "absolute path": (_zip({"manifest.json": _manifest(), "/tmp/x.png": b"x"}), "unsafe name"),
    "wrong schema": (_zip({"manifest.json": _manifest(version=2)}), "schema version 2"),
    "missing schema": (_zip({"manifest.json": _manifest(version=None)}), "no schema_version"),
    "no manifest": (_zip({"s/0.png": character_png(0)}), "manifest.json is missing"),
    "not a zip": (b"PK\x03\x04 but not really", "not a zip archive"),
    "non-image member": (
        _zip({"manifest.json": _manifest(ONE_IMAGE), "s/0.png": b"#!/bin/sh\nrm -rf ~\n"}),
        "not a usable image",
    ),
    "pickle member": (
        _zip({"manifest.json": _manifest(ONE_IMAGE), "s/0.png": b"\x80\x04\x95cos\nsystem\n."}),
        "not a usable image",
    ),
    "oversized member": (
        _zip(
            {"manifest.json": _manifest(ONE_IMAGE), "s/0.png": b"\x89PNG" + bytes(11 << 20)},
            zipfile.ZIP_DEFLATED,
        ),
        "11.5 MB unpacked; the limit is 10 MB",
    ),
    "oversized stored member": (
        _zip({"manifest.json": _manifest(ONE_IMAGE), "s/0.png": b"\x89PNG" + bytes(11 << 20)}),
        "11.5 MB unpacked; the limit is 10 MB",
    ),
    "class name too long": (
        _zip({"manifest.json": _manifest([{"name": "z" * 60, "images": []}])}),
        f"60 characters long; at most {MAX_LABEL_CHARS} fit",
    ),
    "class names differing only in case": (
        _zip({"manifest.json": _manifest([{"name": n, "images": []} for n in ("Cat", "cat")])}),
        "class 2: another class is already named “Cat”",
    ),
    "control character in a class name": (
        _zip({"manifest.json": _manifest([{"name": "a\u202eb", "images": []}])}),
        "U+202E",
    ),
}


@pytest.mark.parametrize("case", sorted(HOSTILE_SESSIONS))
def test_a_refused_session_file_names_the_problem_and_changes_nothing(app, case):
    data, message = HOSTILE_SESSIONS[case]
    fill_support(app, classes=2, shots=1)
    add_queries(app, shapes=(1,))
    app.switch_page("app_pages/save_load.py").run()
    ws_before = workspace(app)
    saved_before = export_session(to_session(ws_before))
    ids_before = [(c.id, [i.id for i in c.items]) for c in ws_before.classes]
    nonce = ui_state(app).nonce("session_up")
    app.file_uploader(key=f"session_up_{nonce}").set_value(
        ("hostile.zip", data, "application/zip")
    ).run()
    assert not app.exception
    assert "hostile.zip was not loaded" in app.error[0].value
    assert markdown_text(message) in app.error[0].value, app.error[0].value  # as Markdown
    assert "Your current work is unchanged" in app.error[0].value
    assert workspace(app) is ws_before  # the very same object, not a replacement
    assert export_session(to_session(workspace(app))) == saved_before
    assert [(c.id, [i.id for i in c.items]) for c in workspace(app).classes] == ids_before
    app.switch_page("app_pages/teach.py").run()  # and the teach page still works on it
    assert not app.exception
    assert any(m.value.startswith("Looks like") for m in app.markdown)


def test_export_then_import_through_the_page_is_exact_with_unicode_names(app):
    fill_support(app, classes=3, shots=2)
    add_queries(app, shapes=(0, 2))
    ws = workspace(app)
    for card, name in zip(ws.classes, ["חתול", "🐶 dog", "猫"], strict=True):
        app.text_input(key=f"class_name_{card.id}").set_value(name).run()
    ws.queries[0].label = ws.classes[0].id
    app.radio(key="teach_algorithm").set_value("maml").run()
    app.switch_page("app_pages/save_load.py").run()
    saved = export_session(to_session(workspace(app)))
    before = to_session(workspace(app))
    workspace(app).classes.pop()  # spoil the state, then load the saved file
    app.file_uploader(key="session_up_0").set_value(("mine.zip", saved, "application/zip")).run()
    assert not app.exception
    after = to_session(workspace(app))
    assert after == before  # names, order, labels, settings
    assert [[i.data for i in images] for images in after.support] == [
        [i.data for i in images] for images in before.support
    ]  # byte-identical images
    assert after.settings["algorithm"] == "maml"
    assert export_session(after) == saved


# --- 5. a damaged model is a sentence, not a traceback -------------------------------------


@pytest.fixture
def damaged_models(tmp_path, monkeypatch):
    """A models folder where omniglot-protonet's weights are truncated and omniglot-maml's
    card is not JSON."""
    for name in ("omniglot-protonet", "omniglot-maml"):
        for suffix in (".json", ".safetensors"):
            shutil.copy(models_dir() / f"{name}{suffix}", tmp_path / f"{name}{suffix}")
    weights = tmp_path / "omniglot-protonet.safetensors"
    weights.write_bytes(weights.read_bytes()[:2000])
    (tmp_path / "omniglot-maml.json").write_text("{ not json")
    monkeypatch.setenv("FEWSHOT_MODELS", str(tmp_path))
    st.cache_data.clear()
    st.cache_resource.clear()
    yield tmp_path
    st.cache_data.clear()
    st.cache_resource.clear()


def test_a_damaged_model_gives_a_sentence_naming_the_file(damaged_models):
    from tests.app.conftest import new_app

    app = fill_support(new_app(), classes=2, shots=1)
    assert not app.exception
    errors = _texts(app.error)
    assert "omniglot-maml.json" in errors and "card cannot be read" in errors
    assert "The model omniglot-protonet could not be loaded" in errors
    assert "omniglot-protonet.safetensors" in errors and "truncated" in errors
    assert "git checkout assets/models" in errors


# --- 5. drawings and snapshots are named per class, in order ------------------------------


def test_numbered_names_go_on_from_the_highest_taken():
    assert ui.intake.numbered_name("drawing", ".png", []) == "drawing 1.png"
    taken = ["drawing 1.png", "cat.jpg", "drawing 2.png", "camera 7.jpg"]
    assert ui.intake.numbered_name("drawing", ".png", taken) == "drawing 3.png"
    assert ui.intake.numbered_name("camera", ".jpg", taken) == "camera 8.jpg"
    # A removed drawing's number is not reused: the names keep the order of adding.
    assert ui.intake.numbered_name("drawing", ".png", ["drawing 2.png"]) == "drawing 3.png"
    assert ui.intake.numbered_name("drawing", ".png", ["drawing 10.png", "my drawing 99.png"]) == (
        "drawing 11.png"
    )


def _jpeg(colour: tuple[int, int, int]) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(buffer, format="JPEG")
    return buffer.getvalue()


def _snap(at, key: str, data: bytes):
    at.radio(key=f"{key}_source").set_value("Camera").run()
    at.camera_input(key=f"{key}_cam_{ui_state(at).nonce(key)}").upload("x.jpg", data, "image/jpeg")
    at.run()
    assert not at.exception
    return at


def test_snapshots_are_named_per_class_in_order(app):
    """The names count within each class (and the queries), not the session's id counter
    (which gave "camera 17.jpg" to a class's first snapshot)."""
    app.switch_page("app_pages/teach.py").run()
    first, second = workspace(app).classes[:2]
    _upload(app, f"class_{first.id}", [("cat.png", character_png(0))])
    for colour in ((200, 0, 0), (0, 200, 0)):
        _snap(app, f"class_{first.id}", _jpeg(colour))
    _snap(app, f"class_{second.id}", _jpeg((0, 0, 200)))
    _snap(app, "query", _jpeg((90, 90, 90)))
    names = {card.id: [item.name for item in card.items] for card in workspace(app).classes}
    assert names[first.id] == ["cat.png", "camera 1.jpg", "camera 2.jpg"]
    assert names[second.id] == ["camera 1.jpg"]
    assert [q.name for q in workspace(app).queries] == ["camera 1.jpg"]
