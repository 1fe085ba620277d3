"""The Embedding space page's parts around the explorer (ui.explorer): where the images
come from (this session's, or a benchmark slice with its shots), what the stars and the
crosses mean, and learning you can watch (ProtoNet's centres as the examples arrive, MAML's
inner steps). The computation is lab.explorer's, lab.slices' and lab.embedding's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import streamlit as st

from ui.models import ALGORITHM_LABELS, get_model, model_name
from ui.session_state import session_cache

if TYPE_CHECKING:
    from lab.explorer import ExplorerData
    from lab.workspace import Workspace

SESSION, HANDWRITING, PHOTOS = "session", "handwriting", "photos"
SOURCES = {
    SESSION: "Your images (this session)",
    HANDWRITING: "Handwriting: 20 Omniglot test characters × 20 drawings",
    PHOTOS: "Photos: 5 mini-ImageNet test classes × 20 photos",
}
MAML_WAYS = 20  # the most classes at a time MAML was meta-trained on (its steps shown for so many)
SHOTS = 5  # a benchmark slice's default: 5 drawings per class to teach with, 15 to check

# --- where the images come from -------------------------------------------------------------


def source_picker(ws: Workspace) -> tuple[str, str]:
    """The images to explore and the algorithm, as radios; the session's own images first
    when it has a support set, else a benchmark slice (nothing to upload first)."""
    source_col, model_col = st.columns([3, 2])
    ready = ws.not_ready() is None
    sources = list(SOURCES) if ready else [HANDWRITING, PHOTOS]
    source = source_col.radio(
        "Images", sources, format_func=SOURCES.get, key="emb_source", horizontal=False
    )
    if not ready:
        source_col.caption(
            "Your own images appear here once Teach & classify has two classes with images."
        )
    kind = {HANDWRITING: "character", PHOTOS: "photo"}.get(source, ws.input_kind)
    algorithms = [a for a in ("protonet", "maml") if model_name(kind, a)]
    algorithm = model_col.radio(
        "Model",
        algorithms,
        format_func=lambda a: ALGORITHM_LABELS[a],
        index=algorithms.index(ws.algorithm) if ws.algorithm in algorithms else 0,
        key="emb_model",
    )
    return source, algorithm


def session_data(ws: Workspace, algorithm: str) -> ExplorerData:
    """This session's support images and queries in the adapted classifier's space."""
    from lab.explorer import from_classifier
    from ui.models import adapted

    name = model_name(ws.input_kind, algorithm)
    classifier = adapted(ws, name)
    images, labels = ws.support()
    ids = {card.id: k for k, card in enumerate(ws.classes)}
    return from_classifier(
        classifier,
        images,
        labels,
        [q.image for q in ws.queries],
        class_names=ws.names(classifier.classes),
        support_names=ws.support_names(),
        query_names=[q.name for q in ws.queries],
        query_labels=[ids.get(q.label, -1) for q in ws.queries],
        title=f"session-{ws.support_key()}-{[q.id for q in ws.queries]}-{name}",
    )


@st.cache_resource(show_spinner=False, max_entries=8)
def benchmark_data(source: str, algorithm: str, shots: int, root: str) -> ExplorerData:
    """A benchmark slice in one model's space, computed once per process and shared
    read-only. Without the benchmark's files under `root` (core.paths.data_root(), part of
    the cache key), the example lesson (lab.examples) instead."""
    from pathlib import Path

    from core.data import DatasetMissing
    from lab.examples import ExampleMissing
    from lab.explorer import from_slice
    from lab.slices import omniglot_test_slice, photo_test_slice

    kind = "character" if source == HANDWRITING else "photo"
    model = get_model(model_name(kind, algorithm))
    try:
        if kind == "character":
            names, images = omniglot_test_slice(root=Path(root) / "omniglot")
        else:
            names, images = photo_test_slice(root=Path(root) / "miniimagenet")
        title = SOURCES[source]
        note = (
            "Omniglot's test split (Vinyals et al. 2016): characters the model never saw in "
            "training, 20 drawn at random (seed 0), their 20 drawings each."
            if kind == "character"
            else "mini-ImageNet's test split (Ravi & Larochelle 2017): 5 classes drawn at "
            "random (seed 0), their first 20 photos each; kept small because photo "
            "features take about 60 ms each on a CPU."
        )
    except (DatasetMissing, ExampleMissing) as missing:
        example = _example_lesson(kind)
        names = example.class_names
        images = [
            [i.image for i in example.support[k]]
            + [i.image for i, label in example.checks if label == k]
            for k in range(len(names))
        ]
        title = f"Example: {example.title}"
        note = f"{missing} Showing the example lesson instead. {example.credit}"
    shots = min(shots, min(len(per_class) for per_class in images) - 1)
    return from_slice(model, names, images, shots, title=f"{title} ({shots} shots)", note=note)


def _example_lesson(kind: str) -> Any:
    from lab.examples import ExampleMissing, lesson

    try:
        return lesson(kind)
    except ExampleMissing:  # no Omniglot at all: the photo example needs no data
        return lesson("photo")


def images(ws: Workspace, source: str, algorithm: str) -> ExplorerData:
    """The images to explore in the model's space: this session's, or a benchmark slice
    taught with as many shots as the slider says (said where it comes from)."""
    from core.paths import data_root

    if source == SESSION:
        return session_data(ws, algorithm)
    shots = st.slider(
        "Examples per class to teach with (shots)",
        1,
        10,
        SHOTS,
        key="emb_shots",
        help="The first drawings or photos of each class are the examples; the rest are the "
        "images to check, whose true class is known (mistakes get a red ✗).",
    )
    with st.spinner("Reading the images and embedding them (the first time only)..."):
        data = benchmark_data(source, algorithm, shots, str(data_root()))
    st.caption(f"**{data.title}.** {data.note}")
    return data


def legend(data: ExplorerData, algorithm: str) -> None:
    """What the stars are for this algorithm, and how many known images to check are wrong."""
    if algorithm == "protonet":
        st.caption("Stars: the class centres (prototypes), the mean embedding of each class.")
    else:
        st.caption(
            "MAML has no prototypes: it classifies with a layer adapted to your examples. The "
            "stars are the class means of the adapted embeddings, for orientation."
        )
    wrong = data.misclassified()
    known = int((data.labels[data.queries] >= 0).sum())
    if known:
        st.caption(
            f"{len(wrong)} of the {known} images to check whose class is known are wrong (✗)."
        )


# --- learning step by step -----------------------------------------------------------------------


def learning(data: ExplorerData, algorithm: str) -> None:
    """ProtoNet: the class centres as the examples arrive one by one. MAML: the embeddings
    and decisions at each inner step. One PCA for every step, so positions compare."""
    from lab.embedding import pca_apply, pca_basis
    from lab.explorer import centres_growing, maml_steps, movement, pairwise_distances
    from lab.labels import markdown_text
    from lab.viz.explorer import learning_figure

    st.subheader("Watch it learn")
    n, t_centres = len(data.images), None
    if algorithm == "protonet":
        st.caption(
            "The class centres (stars) as the examples arrive one per class at a time: step 1 "
            "uses each class's first example, the last step all of them. Dots: the examples; "
            "diamonds: the images to check, in the colour of their nearest centre at that step; "
            "grey lines: where each centre has moved since step 1. Press Play or drag the slider."
        )
        t_centres = centres_growing(data)  # (T, N, D)
        steps = len(t_centres)
        embeddings = np.repeat(data.embeddings[None], steps, axis=0)
        predictions = (
            np.stack(
                [
                    pairwise_distances(data.embeddings[data.queries], c, data.distance).argmin(1)
                    for c in t_centres
                ]
            )
            if len(data.queries)
            else np.zeros((steps, 0), int)
        )
        first = 1
        labels = [f"{t + 1} example{'s' if t else ''} per class" for t in range(steps)]
    else:
        model = get_model(data.model_name)
        st.caption(
            (
                "MAML changes the network itself at every inner step, so every image moves. "
                if model.adapts_backbone
                else "This MAML model's inner loop adapts only its classifier (the last layer): "
                "the network's features stay as meta-training left them, so the images stay "
                "put and what changes at each step is the classifier's answer. "
            )
            + "Stars: the class means of the examples at that step. Diamonds: the images to "
            "check, in the colour of MAML's answer at that step; grey lines: where each image "
            "has moved since step 0. Press Play or drag the slider."
        )
        if len(data.class_names) > MAML_WAYS:
            st.caption(
                f"MAML was meta-trained on {MAML_WAYS} classes at a time, so its steps are shown "
                f"for the first {MAML_WAYS} of the {len(data.class_names)} classes: "
                + ", ".join(markdown_text(n) for n in data.class_names[:MAML_WAYS])
                + "."
            )
            data = data.only_classes(MAML_WAYS)
            n = len(data.images)
        key = ("emb_maml_steps", data.title)
        cache = session_cache()
        if key not in cache and not st.button(
            "Run the inner loop step by step", key="emb_run_steps"
        ):
            return
        if key not in cache:
            with st.spinner(f"Running MAML's inner loop on {data.n_support} examples..."):
                cache[key] = maml_steps(model, data)
        run = cache[key]
        embeddings, t_centres, predictions = run.embeddings, run.centres, run.predictions
        steps, first = len(embeddings), 0
        labels = [f"inner step {t}, examples {run.accuracy[t]:.0%} right" for t in range(steps)]
    # One PCA, fitted on the last step (the space the classifier ends in) and applied to every
    # step: a linear map, so a move in the picture is a move in the model's space.
    basis = pca_basis(np.concatenate([embeddings[-1], t_centres[-1]]))
    flat = np.concatenate(
        [embeddings.reshape(-1, embeddings.shape[-1]), t_centres.reshape(-1, t_centres.shape[-1])]
    )
    xy = pca_apply(flat, basis)
    point_xy = xy[: steps * n].reshape(steps, n, 2)
    centre_xy = xy[steps * n :].reshape(steps, -1, 2)
    truth = data.labels[data.queries]
    titles = []
    for t in range(steps):
        # ProtoNet's images stay put and its centres move; MAML moves the images.
        before, now = (
            (t_centres[0], t_centres[t])
            if algorithm == "protonet"
            else (embeddings[0], embeddings[t])
        )
        moved = movement(before, now, t_centres[-1])
        right = (
            f", checks {np.mean(predictions[t] == truth):.0%} right"
            if len(truth) and (truth >= 0).all()
            else ""
        )
        what = "centres" if algorithm == "protonet" else "images"
        titles.append(
            f"{labels[t]}{right}<br>{what} moved {moved:.2f}× the typical gap between "
            f"classes since step {first}"
        )
    st.plotly_chart(
        learning_figure(data, point_xy, centre_xy, predictions, titles),
        key="emb_learning",
        width="stretch",
    )
    st.caption(
        "Always PCA here, fitted once on the last step and applied to every step: t-SNE and "
        "UMAP would lay the space out anew, so a move would mean nothing. The axes fit the "
        "points of every step, and the title gives the movement in the model's own space "
        "(median move of a point over the median distance between class centres)."
    )
