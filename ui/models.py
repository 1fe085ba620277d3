"""The shipped models in the app: one read-only copy per process, and the picker.

Models are loaded once per process into one cache (_LOADED, shared by every session and the
warm-up thread) and never changed (adapt() returns
new objects); what a session adapts is kept in its own cache (ui.state). core (and so torch)
is imported inside the functions, so the home page renders before anything heavy loads.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import streamlit as st

from core.settings import SETTINGS, Settings
from ui.session_state import session_cache

if TYPE_CHECKING:
    from core.learner import AdaptedClassifier, Answers, FewShotModel
    from lab.workspace import Workspace

KIND_LABELS = {"character": "Handwriting (one character per image)", "photo": "Photos"}
ALGORITHM_LABELS = {"protonet": "Prototypical Networks (ProtoNet)", "maml": "MAML"}
_KEPT_ADAPTATIONS = 3  # adapted classifiers a session keeps besides the newest


@st.cache_data(ttl=60, show_spinner=False)
def model_catalogue() -> tuple[list[dict[str, Any]], list[str]]:
    """The models that can be offered, and a sentence per model card that cannot be read.

    Re-read every minute, so new or repaired models appear; one damaged card hides only its
    own model.

    Returns:
        (entries with at least "name", "algorithm" and "input", problems).
    """
    from core import list_models

    problems: list[str] = []
    return list_models(problems), problems


def available_models() -> list[dict[str, Any]]:
    """The models that can be offered (core.list_models() without the unreadable ones)."""
    return model_catalogue()[0]


_LOAD_LOCK = threading.Lock()
# The one model cache: (folder, name, the files' sizes and change times) -> the loaded model.
_LOADED: dict[tuple, FewShotModel] = {}


def _files_key(name: str) -> tuple:
    """The model's two files as they are now: folder, name, size and change time of each."""
    from core.checkpoints import models_dir

    files = [models_dir() / f"{name}{suffix}" for suffix in (".json", ".safetensors")]
    stats = [(f.stat().st_size, f.stat().st_mtime_ns) if f.exists() else None for f in files]
    return (str(models_dir()), name, *stats)


def _load_once(name: str) -> FewShotModel:
    """core.load_model(name), once per process and state of its files: the warm-up thread and
    the first page that needs it share one load. A load that fails is not kept, and changed
    files (another folder, a repaired file) are read again."""
    with _LOAD_LOCK:
        key = _files_key(name)
        if key not in _LOADED:
            from core import load_model

            model = load_model(name)
            for old in [k for k in _LOADED if k[:2] == key[:2]]:  # the files' older state
                del _LOADED[old]
            _LOADED[key] = model
        return _LOADED[key]


def shared_model(name: str) -> FewShotModel:
    """core.load_model(name), once per process and state of its files; every session shares
    it read-only (the one cache, _LOADED: no second cache over it)."""
    return _load_once(name)


def is_loaded(name: str) -> bool:
    """Whether shared_model(name) would return without loading."""
    return _files_key(name) in _LOADED


_STARTED = threading.Event()  # a warm-up thread was started in this process
_IMPORTED = threading.Event()  # ... and its imports are done


def import_heavy() -> None:
    """Import what the pages and the models import on first use (torch, torch.func, timm,
    ONNX Runtime, plotly, pandas: seconds on this CPU). Sets _IMPORTED when done, failed or not.

    Two threads importing the same large package at once can see it half initialised (Python
    breaks the import locks' deadlock by handing one of them the partial module), so pages
    other than Home wait for this (wait_for_imports) instead of importing alongside it."""
    try:
        import onnxruntime  # noqa: F401
        import pandas  # noqa: F401
        import timm  # noqa: F401
        import torch.func  # noqa: F401
        import torch.onnx  # noqa: F401

        import core  # noqa: F401
        import core.encoders.photo  # noqa: F401
        import lab.viz  # noqa: F401
    finally:
        _IMPORTED.set()


def wait_for_imports(timeout_s: float = 300.0) -> None:
    """Block until the warm-up thread's import_heavy has run; at once when it has, or when no
    warm-up was started in this process (a page run alone, a test): see import_heavy."""
    if _STARTED.is_set():
        _IMPORTED.wait(timeout_s)


def warm_up() -> None:
    """Import the heavy packages, load every shipped model and build the photo backbone's
    ONNX Runtime session, each ready once it returns (a model that cannot be loaded is left
    for the page that needs it to report)."""
    import_heavy()
    from PIL import Image

    names = [entry["name"] for entry in model_catalogue()[0]]
    for name in sorted(names, key=lambda name: name.startswith("photo")):  # the light ones first
        try:
            model = _load_once(name)
        except Exception:  # noqa: BLE001 - get_model reports it on the page that needs it
            continue
        if model.algorithm == "maml" and model.input_kind == "character":
            # one tiny adaptation: the first one in a process also imports torch.func's
            # machinery (seconds), which a person's first switch to MAML would wait for
            blank = [Image.new("L", (28, 28), 255), Image.new("L", (28, 28), 0)]
            model.adapt(blank, [0, 1], inner_steps=1)
    if any(name.startswith("photo") for name in names):
        import torch

        from core.encoders.efficientnet import backbone_features
        from core.encoders.runtime import default_runtime

        if default_runtime() == "onnxruntime":  # export, build and run the session once
            backbone_features(torch.zeros(1, 3, 224, 224))


@st.cache_resource(show_spinner=False)
def warm_up_in_background() -> threading.Thread:
    """Once per server process, at its first page view: warm_up() in a background thread, so
    a person's first lesson or first switch of model does not wait for the loading (issue 19).
    """
    thread = threading.Thread(target=warm_up, name="models-warmup", daemon=True)
    _STARTED.set()
    thread.start()
    return thread


def get_model(name: str) -> FewShotModel:
    """A shipped model, loaded once per process and shared read-only by every session.

    A damaged checkpoint stops the page with a sentence naming the file and the fix, never a
    traceback; nothing is cached then, so a repaired file is read on the next run.
    """
    from core.checkpoints import CheckpointError
    from lab.labels import markdown_text

    try:
        if is_loaded(name):
            return shared_model(name)
        with st.spinner("Loading the model..."):
            return shared_model(name)
    except CheckpointError as error:
        st.error(
            f"The model {markdown_text(name)} could not be loaded: {markdown_text(str(error))}. "
            "Restore its two files in assets/models (git checkout assets/models) or pick "
            "another model."
        )
        st.stop()


def model_name(input_kind: str, algorithm: str) -> str | None:
    """The shipped model for this kind of image and algorithm, if there is one."""
    for entry in available_models():
        if entry["input"] == input_kind and entry["algorithm"] == algorithm:
            return entry["name"]
    return None


def kinds_available() -> list[str]:
    """The kinds of image ("character", "photo") that have a model, in that order."""
    return sorted({entry["input"] for entry in available_models()}, key=list(KIND_LABELS).index)


def _settings(ws: Workspace, algorithm: str, experiment: bool) -> Settings | None:
    """adapt()'s settings (core.settings): Inside MAML's experiment settings, or the model's
    own; None for an algorithm no model has."""
    if algorithm not in SETTINGS:
        return None
    return ws.adapt_settings(algorithm) if experiment else ws.shipped_settings(algorithm)


def _adapted_key(
    ws: Workspace, name: str, algorithm: str, with_queries: bool, experiment: bool
) -> tuple:
    """What an adaptation depends on: model, support set, queries (MAML) and settings."""
    settings = _settings(ws, algorithm, experiment)
    queries = tuple(q.id for q in ws.queries) if with_queries and algorithm == "maml" else ()
    return ("adapted", name, ws.support_key(), queries, settings)


def adapted(
    ws: Workspace,
    name: str,
    *,
    with_queries: bool = False,
    on_step: Callable[[Any], None] | None = None,
    force: bool = False,
    experiment: bool = False,
) -> AdaptedClassifier:
    """The classifier for the current support set and settings, adapted once and kept in
    this session's cache (at most a few entries).

    Args:
        with_queries: MAML only: also record the queries' probabilities at every step.
        on_step: MAML only: called with each core.maml.StepRecord as it is made.
        force: adapt again even if the cache holds this adaptation.
        experiment: adapt with the workspace's MAML settings (Inside MAML only); otherwise
            with the model's own, so that those settings never leak into other pages.
    """
    model = get_model(name)
    images, labels = ws.support()
    key = _adapted_key(ws, name, model.algorithm, with_queries, experiment)
    cache = session_cache()
    if force or key not in cache:
        extra = {}
        if model.algorithm == "maml":
            extra = {
                "query_images": [q.image for q in ws.queries] if with_queries else None,
                "on_step": on_step,
                "keep_features": True,
            }
        settings = _settings(ws, model.algorithm, experiment)
        classifier = model.adapt(images, labels, settings=settings, **extra)
        adapted_keys = [k for k in cache if isinstance(k, tuple) and k[0] == "adapted"]
        for old in adapted_keys[:-_KEPT_ADAPTATIONS]:  # keep the cache small
            cache.pop(old, None)
        cache[key] = classifier
    return cache[key]


def query_answers(ws: Workspace, classifier: AdaptedClassifier) -> Answers:
    """The classifier's answers (embeddings, probabilities, ProtoNet distances) for the
    workspace's check images. Keyed by the images' ids, which a session never reuses: an
    image answered on an earlier run is not computed again, so adding a check image
    computes that image only, and a page that needs the answers twice computes them once."""
    return classifier.answers([q.image for q in ws.queries], [q.id for q in ws.queries])


def is_cached(
    ws: Workspace, name: str, *, with_queries: bool = False, experiment: bool = False
) -> bool:
    """Whether adapted(ws, name, with_queries=..., experiment=...) would return at once."""
    algorithm = next((m["algorithm"] for m in available_models() if m["name"] == name), "")
    return _adapted_key(ws, name, algorithm, with_queries, experiment) in session_cache()


def model_picker(ws: Workspace, key: str = "pick") -> str | None:
    """Radio buttons for the kind of image and the algorithm; returns the model name."""
    from lab.labels import markdown_text
    from lab.workspace import suggest_kind

    for problem in model_catalogue()[1]:
        st.error(f"A model was left out because its card cannot be read: {markdown_text(problem)}.")
    kinds = kinds_available()
    if not kinds:
        st.error("No models were found in assets/models. See the README to get them.")
        return None
    if ws.input_kind not in kinds:
        ws.input_kind = kinds[0]
    options = list(KIND_LABELS)
    kind = st.radio(
        "What are your images?",
        options,
        index=options.index(ws.input_kind),
        format_func=lambda k: KIND_LABELS[k] + ("" if k in kinds else " (model not installed yet)"),
        horizontal=True,
        key=f"{key}_kind",
    )
    hint = suggest_kind(ws)
    if hint is not None:
        verdict = "handwriting" if hint[0] == "character" else "photos"
        line = f"Suggested: **{verdict}**, because {hint[1]}"
        if hint[0] != kind:
            st.warning(line)
        else:
            st.caption(line)
    if kind not in kinds:
        st.warning("The photo models are not installed yet; using the handwriting model for now.")
        kind = kinds[0]
    ws.input_kind = kind
    algorithms = list(ALGORITHM_LABELS)
    algorithm = st.radio(
        "How should it learn?",
        algorithms,
        index=algorithms.index(ws.algorithm),
        format_func=lambda a: ALGORITHM_LABELS[a],
        horizontal=True,
        key=f"{key}_algorithm",
    )
    name = model_name(kind, algorithm)
    if name is None:
        other = "maml" if algorithm == "protonet" else "protonet"
        name = model_name(kind, other)
        st.warning(f"No {ALGORITHM_LABELS[algorithm]} model for this kind of image; using {other}.")
        algorithm = other
    ws.algorithm = algorithm
    return name
