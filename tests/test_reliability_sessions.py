"""Issue 6, many users: 20 browser sessions (AppTests in threads, one process, so they share
the st.cache_resource models exactly as a server's sessions do) teach different classes and
adapt at the same moment. Each gets its own answer, no session sees another's images, and
the shared model weights are bit-identical afterwards.

AppTest was written for one run at a time. Each run installs a mock Runtime singleton and
patches the config, then removes both; resets the process-wide "pages directory" flag,
which other runs read mid-script; and compiles the page scripts again (compiling in many
threads at once trips a CPython 3.11 parser bug, "AST constructor recursion depth
mismatch"). `one_runtime_for_all` gives the sessions one shared Runtime, config, flag and
script cache instead, as a real server does; the script runners, session states and caches
are Streamlit's own.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import threading
from concurrent.futures import ThreadPoolExecutor
from unittest import mock

import numpy as np
import pytest
import torch
from streamlit.runtime import Runtime
from streamlit.runtime.caching.storage.dummy_cache_storage import MemoryCacheStorageManager
from streamlit.runtime.dataframe_source_manager import DataframeSourceManager
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.runtime.pages_manager import PagesManager
from streamlit.runtime.scriptrunner.script_cache import ScriptCache
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1 import app_test as app_test_module
from streamlit.testing.v1 import local_script_runner as local_script_runner_module
from streamlit.testing.v1.util import patch_config_options

import ui
from tests.app.conftest import APP, character_png

SESSIONS = 20
SHAPES = ("circle", "cross", "square", "triangle")  # tests.app.conftest.character_png
MODELS = ("omniglot-protonet", "omniglot-maml")


@pytest.fixture
def one_runtime_for_all():
    """One Runtime, test config and script cache shared by every AppTest thread (see the
    module docstring)."""
    runtime = mock.MagicMock(spec=Runtime)
    runtime.media_file_mgr = MediaFileManager(MemoryMediaFileStorage("/mock/media"))
    runtime.dataframe_source_mgr = DataframeSourceManager()
    runtime.cache_storage_manager = MemoryCacheStorageManager()
    script_cache = ScriptCache()  # thread-safe; compiles each page once

    class PagesManagerOfOneRun(PagesManager):
        """AppTest resets `uses_pages_directory` on this subclass, not on the shared class."""

    with (
        patch_config_options({"global.appTest": True}),
        mock.patch.object(
            app_test_module, "patch_config_options", lambda _: contextlib.nullcontext()
        ),
        mock.patch.object(Runtime, "instance", classmethod(lambda cls: runtime)),
        mock.patch.object(Runtime, "exists", classmethod(lambda cls: True)),
        mock.patch.object(app_test_module, "ScriptCache", lambda: script_cache),
        mock.patch.object(local_script_runner_module, "ScriptCache", lambda: script_cache),
        mock.patch.object(app_test_module, "PagesManager", PagesManagerOfOneRun),
        mock.patch.object(PagesManager, "uses_pages_directory", False),  # app.py: st.navigation
    ):
        yield runtime


def weights_fingerprint(model) -> str:
    """SHA-256 over every tensor a FewShotModel holds (the network's state_dict and any
    tensors or dicts of tensors kept beside it, such as MAML's functional parameters)."""
    digest = hashlib.sha256()

    def add(name: str, value) -> None:
        if isinstance(value, torch.Tensor):
            digest.update(name.encode())
            digest.update(value.detach().cpu().contiguous().numpy().tobytes())
        elif isinstance(value, torch.nn.Module):
            for key, tensor in value.state_dict().items():
                add(f"{name}.{key}", tensor)
        elif isinstance(value, dict):
            for key in sorted(value, key=str):
                add(f"{name}.{key}", value[key])

    for attribute, value in sorted(vars(model).items()):
        add(attribute, value)
    return digest.hexdigest()


def plan(session: int) -> dict:
    """What session `session` teaches: its own class names and shapes, and its query."""
    n_classes = 3 if session % 4 == 3 else 2
    shapes = [(session + k) % len(SHAPES) for k in range(n_classes)]
    query_shape = shapes[session % n_classes]
    return {
        "names": [f"s{session} {SHAPES[shape]}" for shape in shapes],
        "shapes": shapes,
        "algorithm": "maml" if session % 2 == 0 else "protonet",
        "query_shape": query_shape,
        "expected": f"s{session} {SHAPES[query_shape]}",
    }


def _upload(at: AppTest, key: str, files: list[tuple[str, bytes]]) -> None:
    state = at.session_state[ui.UI_KEY]
    uploads = [(name, data, "image/png") for name, data in files]
    at.file_uploader(key=f"{key}_up_{state.nonce(key)}").set_value(uploads).run()
    assert not at.exception, at.exception


def run_session(session: int, everyone_ready: threading.Barrier) -> dict:
    """Drive one session; adapt only when every session is ready, so they overlap."""
    todo = plan(session)
    at = AppTest.from_file(APP, default_timeout=300)
    at.run()
    at.switch_page("app_pages/teach.py").run()
    ws = at.session_state[ui.STATE_KEY]
    while len(ws.classes) < len(todo["names"]):
        at.button(key="add_class").click().run()
    for card, name in zip(ws.classes, todo["names"], strict=True):
        at.text_input(key=f"class_name_{card.id}").set_value(name).run()
    if todo["algorithm"] == "maml":
        at.radio(key="teach_algorithm").set_value("maml").run()
    cards = list(zip(ws.classes, todo["shapes"], strict=True))
    for card, shape in cards[:-1]:
        _upload(
            at,
            f"class_{card.id}",
            [(f"s{session}_{shape}_{v}.png", character_png(shape, v)) for v in range(2)],
        )
    last_card, last_shape = cards[-1]
    everyone_ready.wait(timeout=120)
    # Now all sessions adapt at once: the last class gets its images.
    last_files = [
        (f"s{session}_{last_shape}_{v}.png", character_png(last_shape, v)) for v in (0, 1)
    ]
    _upload(at, f"class_{last_card.id}", last_files)
    _upload(at, "query", [(f"s{session}_query.png", character_png(todo["query_shape"], 4))])
    verdicts = [m.value for m in at.markdown if m.value.startswith("Looks like")]
    return {
        "session": session,
        "plan": todo,
        "verdicts": verdicts,
        "class_names": [card.name for card in ws.classes],
        "files": [item.name for card in ws.classes for item in card.items]
        + [q.name for q in ws.queries],
        "algorithm": ws.algorithm,
        "errors": [e.value for e in at.error],
        "exception": at.exception,
    }


@pytest.mark.slow  # twenty sessions at once: about 30 s
def test_twenty_sessions_adapting_at_once_each_get_their_own_answer(one_runtime_for_all):
    warm = AppTest.from_file(APP, default_timeout=300)
    warm.run()  # loads nothing heavy; the models are loaded below, once, as the server would
    models = {name: ui.shared_model(name) for name in MODELS}
    before = {name: weights_fingerprint(model) for name, model in models.items()}

    everyone_ready = threading.Barrier(SESSIONS)

    def session_or_failure(session: int) -> dict:
        try:
            return run_session(session, everyone_ready)
        except BaseException as error:
            everyone_ready.abort()  # the others stop waiting at once
            return {"session": session, "failure": f"{type(error).__name__}: {error}"}

    with ThreadPoolExecutor(max_workers=SESSIONS) as pool:
        results = list(pool.map(session_or_failure, range(SESSIONS)))
    failures = [r for r in results if "failure" in r]
    assert not failures, failures

    for result in results:
        session, todo = result["session"], result["plan"]
        assert not result["exception"] and not result["errors"], result
        assert result["class_names"] == todo["names"]
        assert result["algorithm"] == todo["algorithm"]
        assert all(name.startswith(f"s{session}_") for name in result["files"]), result["files"]
        assert len(result["files"]) == 2 * len(todo["names"]) + 1
        assert result["verdicts"] and result["verdicts"][0].startswith(
            f"Looks like **{todo['expected']}**"
        ), result
    assert {r["algorithm"] for r in results} == {"protonet", "maml"}
    assert len({r["plan"]["expected"] for r in results}) == SESSIONS  # all answers differ

    for name, model in models.items():
        assert ui.shared_model(name) is model  # still the one shared object
        assert weights_fingerprint(model) == before[name], f"{name} changed"


def test_threads_adapting_the_shared_maml_model_get_the_answers_they_get_alone():
    """The same race without Streamlit: many threads adapt the one cached MAML model on
    different support sets and classify; each must get exactly its single-thread answer."""
    from PIL import Image

    model = ui.shared_model("omniglot-maml")
    before = weights_fingerprint(model)
    images = {
        (shape, v): Image.open(io.BytesIO(character_png(shape, v)))
        for shape in range(4)
        for v in range(5)
    }

    def task(index: int):
        shapes = [index % 4, (index + 1) % 4, (index + 2) % 4][: 2 + index % 2]
        support = [images[(shape, v)] for shape in shapes for v in range(2)]
        labels = [f"t{index} {shape}" for shape in shapes for _ in range(2)]
        queries = [images[(shape, 4)] for shape in shapes]
        classifier = model.adapt(support, labels, inner_steps=3)
        return classifier.classes, classifier.predict_proba(queries)

    alone = [task(index) for index in range(12)]
    with ThreadPoolExecutor(max_workers=12) as pool:
        together = list(pool.map(task, list(range(12)) * 3))
    for index, (classes, probabilities) in enumerate(together):
        expected_classes, expected = alone[index % 12]
        assert classes == expected_classes
        np.testing.assert_allclose(probabilities, expected, rtol=0, atol=1e-6)
    assert weights_fingerprint(model) == before
