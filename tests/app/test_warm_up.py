"""The server loads the shipped models and the photo backbone's session ahead, in the background
(ui.models.warm_up), and the pages then use those very objects."""

from __future__ import annotations

import shutil

import pytest
import streamlit as st

from core.checkpoints import CheckpointError, models_dir
from core.encoders import efficientnet
from ui import models


def test_warm_up_loads_every_model_once_and_the_pages_get_those(monkeypatch):
    st.cache_resource.clear()
    models.warm_up()
    names = [entry["name"] for entry in models.available_models()]
    assert {"omniglot-protonet", "omniglot-maml", "photo-protonet", "photo-maml"} <= set(names)
    # the shipped files' entries (other tests may have loaded copies from other folders)
    warmed = {name: models._LOADED.get(models._files_key(name)) for name in names}
    assert all(model is not None for model in warmed.values())
    for name in names:
        assert models.shared_model(name) is warmed[name]  # no second load
    assert efficientnet._onnx_session.cache_info().currsize >= 1


def test_a_changed_model_file_is_read_again(tmp_path, monkeypatch):

    for suffix in (".json", ".safetensors"):
        shutil.copy(models_dir() / f"omniglot-protonet{suffix}", tmp_path)
    monkeypatch.setenv("FEWSHOT_MODELS", str(tmp_path))
    first = models._load_once("omniglot-protonet")
    assert models._load_once("omniglot-protonet") is first
    weights = tmp_path / "omniglot-protonet.safetensors"
    weights.write_bytes(weights.read_bytes()[:2000])  # damaged: the next load says so
    with pytest.raises(CheckpointError, match="truncated"):
        models._load_once("omniglot-protonet")


def test_waiting_for_imports_never_blocks_without_a_warm_up(monkeypatch):
    import threading

    class NeverWait:
        def wait(self, timeout=None):
            raise AssertionError("waited although no warm-up was started")

    monkeypatch.setattr(models, "_STARTED", threading.Event())
    monkeypatch.setattr(models, "_IMPORTED", NeverWait())
    models.wait_for_imports()  # no warm-up in this process: no wait at all
    monkeypatch.setattr(models, "_IMPORTED", threading.Event())
    models._STARTED.set()
    worker = threading.Thread(target=models.import_heavy)
    worker.start()
    models.wait_for_imports(timeout_s=120)  # returns once the imports are done
    assert models._IMPORTED.is_set()
    worker.join()
