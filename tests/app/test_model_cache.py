"""One model cache in the app (ui.models._LOADED): no st.cache_resource over it, so clearing
Streamlit's caches neither loads a model again nor keeps a second copy, and a model whose
files changed replaces its older copy."""

from __future__ import annotations

import shutil

import streamlit as st

from core.checkpoints import models_dir
from ui import models


def test_clearing_streamlits_caches_keeps_the_one_loaded_model():
    first = models.shared_model("omniglot-protonet")
    st.cache_resource.clear()
    assert models.is_loaded("omniglot-protonet")
    assert models.shared_model("omniglot-protonet") is first
    assert models.get_model("omniglot-protonet") is first


def test_changed_files_replace_the_older_copy(tmp_path, monkeypatch):
    for suffix in (".json", ".safetensors"):
        shutil.copy(models_dir() / f"omniglot-protonet{suffix}", tmp_path)
    monkeypatch.setenv("FEWSHOT_MODELS", str(tmp_path))
    first = models.shared_model("omniglot-protonet")
    card = tmp_path / "omniglot-protonet.json"
    card.write_text(card.read_text() + "\n")  # same card, new size: another state of the files
    second = models.shared_model("omniglot-protonet")
    assert second is not first
    kept = [key for key in models._LOADED if key[:2] == (str(tmp_path), "omniglot-protonet")]
    assert len(kept) == 1 and models._LOADED[kept[0]] is second
