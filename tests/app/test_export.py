"""Teach & classify's "Take it with you": prepare, then download the classifier as ONNX."""

from __future__ import annotations

import io
import json
import re
import zipfile

import numpy as np
import onnxruntime
import pytest
from PIL import Image
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage

from tests.app.conftest import character_png, fill_support, ui_state, workspace
from ui.export import EXPORT_SLOT


@pytest.fixture
def media(monkeypatch) -> dict[str, bytes]:
    """file id -> bytes of every file the app hands to Streamlit's media storage (AppTest's
    storage is dropped after each run, so the download's bytes are recorded on the way in)."""
    stored: dict[str, bytes] = {}
    original = MemoryMediaFileStorage.load_and_get_id

    def recording(self, path_or_data, mimetype, kind, filename=None):
        file_id = original(self, path_or_data, mimetype, kind, filename)
        stored[file_id] = path_or_data
        return file_id

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", recording)
    return stored


def _download(app, media) -> bytes:
    (button,) = app.get("download_button")
    assert button.proto.label == "Download as ONNX (zip)"
    file_id = re.fullmatch(r"/mock/media/(\w+)\.zip", button.proto.url)[1]
    return media[file_id]


def _classifier(app, model_name: str):
    """The page's newest classifier of this model (ui.adapted keeps a few in the cache)."""
    cache = ui_state(app).cache
    return [v for k, v in cache.items() if k[0] == "adapted" and k[1] == model_name][-1]


def _check_payload(app, payload: bytes, model_name: str, algorithm: str) -> None:
    """The zip's graph runs in onnxruntime and gives the page's classifier's probabilities."""
    with zipfile.ZipFile(io.BytesIO(payload)) as archive:
        assert archive.namelist() == ["model.onnx", "classes.json", "example.py", "README.txt"]
        graph = archive.read("model.onnx")
        info = json.loads(archive.read("classes.json"))
    assert info["classes"] == [card.name for card in workspace(app).classes]
    assert info["model"] == model_name and info["algorithm"] == algorithm
    assert info["onnx_bytes"] == len(graph)
    size = f"({len(graph):,} bytes)"
    assert any(size in c.value and c.value.startswith("model.onnx is") for c in app.caption)
    classifier = _classifier(app, model_name)
    queries = [Image.open(io.BytesIO(character_png(s, 4))) for s in (0, 1)]
    session = onnxruntime.InferenceSession(graph)
    (probabilities,) = session.run(None, {"images": classifier.model.encode(queries).numpy()})
    assert np.abs(probabilities - classifier.predict_proba(queries)).max() <= 1e-4
    assert probabilities.argmax(1).tolist() == [0, 1]  # a circle and a cross, as taught


def test_prepare_then_download_a_working_onnx_zip(app, media):
    fill_support(app, classes=2)
    assert not app.exception
    assert any(e.label == "Take it with you: download as ONNX" for e in app.expander)
    assert not app.get("download_button")  # nothing is exported until asked
    app.button(key="onnx_prepare").click().run()
    assert not app.exception
    _check_payload(app, _download(app, media), "omniglot-protonet", "protonet")
    # Kept for this classifier: the next rerun offers the same zip at once.
    prepared = ui_state(app).cache[EXPORT_SLOT]
    app.run()
    assert ui_state(app).cache[EXPORT_SLOT] is prepared
    assert app.get("download_button") and not [b for b in app.button if b.key == "onnx_prepare"]

    # A renamed class needs a new zip (its name is in it); a MAML classifier, its own.
    first = workspace(app).classes[0]
    app.text_input(key=f"class_name_{first.id}").set_value("circle").run()
    assert not app.get("download_button") and EXPORT_SLOT not in ui_state(app).cache
    app.radio(key="teach_algorithm").set_value("maml").run()
    app.button(key="onnx_prepare").click().run()
    assert not app.exception
    _check_payload(app, _download(app, media), "omniglot-maml", "maml")


def test_no_download_before_the_model_can_adapt(app):
    app.switch_page("app_pages/teach.py").run()
    assert not app.exception
    assert not [e for e in app.expander if e.label.startswith("Take it with you")]
