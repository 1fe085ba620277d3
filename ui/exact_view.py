"""The exact picture of the decision (lab.exact, lab.viz.exact) on the pages: the Embedding
space page's first projection, and the picture behind Teach's verdicts."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import streamlit as st

if TYPE_CHECKING:
    from core.learner import AdaptedClassifier
    from lab.exact import ExactSpace
    from lab.explorer import ExplorerData
    from lab.workspace import Workspace

EXACT = "exact"
LABEL = "exact: the space through the class centres"


def chart(data: ExplorerData, method: str, dims: int, settings: dict, thumbnails: bool) -> None:
    """The Embedding space page's chart: the exact picture, or ui.explorer's projection."""
    from ui import explorer

    if method != EXACT:
        explorer.explorer(data, method, dims, settings, thumbnails)
        return
    embedding_view(data)


@st.cache_resource(show_spinner=False, max_entries=8)
def _space(key: str, _data: ExplorerData) -> ExactSpace:
    """The exact space of the classifier `_data` was made with (key: its model and title),
    adapted again on its examples: the same examples give the same prototypes or head."""
    from lab.exact import classifier_for, exact_space
    from ui.models import get_model

    n = _data.n_support
    classifier = classifier_for(get_model(_data.model_name), _data.images[:n], _data.labels[:n])
    return exact_space(classifier, _data.embeddings)


def _too_many(space: ExactSpace) -> None:
    from lab.exact import MAX_EXACT_CLASSES

    if space.n_classes > MAX_EXACT_CLASSES:
        st.info(
            f"{space.n_classes} classes: the space through their centres has "
            f"{space.basis.shape[0]} dimensions, more than a picture can show, so this is an "
            "approximate 2-D picture of that space. With 2, 3 or 4 classes the picture is "
            "exact."
        )


def embedding_view(data: ExplorerData) -> None:
    """The exact picture of the data, with the clicked image's details beside it."""
    from lab.explorer import selected_indices
    from lab.viz.exact import exact_figure
    from ui.explorer import image_details

    with st.spinner("Finding the space through the class centres..."):
        space = _space(f"{data.model_name}|{data.title}", data)
    _too_many(space)
    n = data.n_support
    xy = space.place(data.embeddings)
    figure = exact_figure(
        space,
        data.class_names,
        xy[:n],
        data.labels[:n].tolist(),
        space.place(data.centres),
        xy[n:],
        data.predictions[n:].tolist(),
        support_names=data.names[:n],
        query_names=data.names[n:],
        centre_name=data.centre_name,
    )
    chart_col, side_col = st.columns([3, 2], gap="medium")
    with chart_col:
        event = st.plotly_chart(
            figure.update_layout(uirevision=f"{data.model_name}|{data.title}|exact"),
            key="emb_exact_chart",
            on_select="rerun",
            selection_mode=("points", "box", "lasso"),
            width="stretch",
        )
        st.caption(_caption(space, data.centre_name))
    points = (event.selection.points if event and event.selection else []) or []
    chosen = selected_indices(points, n)
    with side_col:
        if len(chosen) == 1:
            image_details(data, chosen[0])
        else:
            st.caption("Click an image on the chart to see it with its nearest images.")


def _caption(space: ExactSpace, centre_name: str) -> str:
    from lab.viz.exact import exact_caption

    stars = (
        "Stars: the class centres (prototypes); an image's answer is the nearest star."
        if space.algorithm == "protonet"
        else "Stars: the class means, for orientation; MAML answers with its adapted layer, "
        "whose regions are the background."
    )
    return (
        f"{exact_caption(space)} Background: the class the model answers at each place; "
        f"dotted lines: where a class's probability is 50% and 90%. {stars} Diamonds: images "
        "to check, outlined in the colour of their answer."
    )


def teach(ws: Workspace, classifier: AdaptedClassifier) -> None:
    """Teach's verdicts in the exact picture: the examples, the centres and every image to
    check, where the model decides (in an expander, under the verdicts)."""
    from lab.embedding import class_means
    from lab.exact import exact_space
    from lab.viz.exact import exact_figure
    from ui.models import query_answers

    answers = query_answers(ws, classifier)  # computed once for the verdicts above

    with st.expander("Why these answers: the exact picture of the decision", expanded=False):
        support = _support_embeddings(ws, classifier)
        _, labels = ws.support()
        index = [classifier.classes.index(label) for label in labels]
        space = exact_space(classifier, np.concatenate([support, answers.embeddings]))
        _too_many(space)
        figure = exact_figure(
            space,
            ws.names(classifier.classes),
            space.place(support),
            index,
            space.place(class_means(support, index, len(classifier.classes))),
            space.place(answers.embeddings),
            answers.probabilities.argmax(1).tolist(),
            support_names=ws.support_names(),
            query_names=[q.name for q in ws.queries],
        )
        st.plotly_chart(figure, key="teach_exact", width="stretch")
        st.caption(_caption(space, "centre"))


def _support_embeddings(ws: Workspace, classifier: AdaptedClassifier) -> np.ndarray:
    """The examples in the classifier's space: ProtoNet's from its trace; MAML's adapted
    features computed once per adaptation (kept in the session's cache)."""
    trace: Any = classifier.trace
    if classifier.model.algorithm == "protonet":
        return trace.support_embeddings.numpy()
    from ui.session_state import session_cache

    cache = session_cache()  # one entry: the latest adaptation's examples
    token = (classifier.model.name, ws.support_key(), id(classifier))
    kept = cache.get("exact_support")
    if kept is None or kept[0] != token:
        images, _ = ws.support()
        kept = cache["exact_support"] = (token, classifier.embed(images))
    return kept[1]
