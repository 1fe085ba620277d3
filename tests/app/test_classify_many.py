"""Classify many: a batch of images and zips of folders -> a table and a CSV (lab.batch)."""

from __future__ import annotations

import io
import zipfile

from tests.app.conftest import character_png, fill_support, ui_state, workspace


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _upload(app, files) -> None:
    key = f"batch_up_{ui_state(app).nonce('batch')}"
    app.file_uploader(key=key).set_value(files).run()


def test_many_images_and_a_zip_of_folders_make_one_table_and_a_csv(app):
    fill_support(app, classes=2)
    app.switch_page("app_pages/classify_many.py").run()
    assert not app.exception
    folders = _zip({"round/a.png": character_png(0, 5), "plus/b.png": character_png(1, 5)})
    files = [(f"q{s}.png", character_png(s, 4), "image/png") for s in (0, 1, 0)]
    files += [("folders.zip", folders, "application/zip"), ("notes.txt", b"hello", "text/plain")]
    _upload(app, files)
    app.button(key="batch_run").click().run()
    assert not app.exception
    errors = [e.value for e in app.error]
    assert len(errors) == 1 and errors[0].startswith("notes.txt was not classified: ")
    table = app.dataframe[0].value
    assert list(table["file"]) == [
        "q0.png",
        "q1.png",
        "q0.png",
        "folders.zip/round/a.png",
        "folders.zip/plus/b.png",
    ]
    assert list(table["predicted"]) == ["class 1", "class 2", "class 1", "class 1", "class 2"]
    assert {"p(class 1)", "p(class 2)", "distance(class 1)", "distance(class 2)"} <= set(table)
    assert any(m.value.startswith("**5 image(s) classified.**") for m in app.markdown)
    # The CSV offered (downloaded for real in tests/e2e/test_classify_many.py); the
    # uploader came back empty.
    assert app.get("download_button")[0].proto.label == "Download the table (CSV)"
    assert not app.file_uploader(key=f"batch_up_{ui_state(app).nonce('batch')}").value


def test_a_changed_support_set_marks_the_table_as_stale(app):
    fill_support(app, classes=2)
    app.switch_page("app_pages/classify_many.py").run()
    _upload(app, [("q.png", character_png(0, 4), "image/png")])
    app.button(key="batch_run").click().run()
    assert not app.warning
    first = workspace(app).classes[0]
    first.items.pop()
    app.run()
    assert any("classes changed" in w.value for w in app.warning)
