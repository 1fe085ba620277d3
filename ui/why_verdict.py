"""Why this verdict (Teach, Classify many): an occlusion map of one image beside the
examples of the winning class and of the runner-up nearest to it (lab.occlusion,
lab.viz.occlusion). One call per page: teach(ws, classifier), classify_many(ws, model_name)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import streamlit as st

from ui.session_state import session_cache

if TYPE_CHECKING:
    from PIL import Image

    from core.learner import AdaptedClassifier
    from lab.workspace import Workspace

_KEPT = 4  # explanations a session keeps (the newest)
NEAREST = 3  # examples shown per class
HELP = (
    "Covers the image with a grey patch (blank paper for handwriting) one place at a time "
    "and runs the model on every covered copy: places where covering moves the image away "
    "from its class are what the verdict rests on."
)


def teach(ws: Workspace, classifier: AdaptedClassifier) -> None:
    """Teach's switch "Why this verdict?": pick one of the images to check, then its map
    and its nearest examples."""
    if not ws.queries or not st.toggle("Why this verdict?", key="why_teach", help=HELP):
        return
    shown = list(reversed(ws.queries))  # as the verdicts above: newest first
    names = {q.id: q.name for q in shown}
    chosen = st.selectbox(
        "Image to explain",
        list(names),
        format_func=lambda i: names[i],
        key="why_teach_pick",
    )
    query = next(q for q in shown if q.id == chosen)
    explain(ws, classifier, query.image, ("query", query.id))


def classify_many(ws: Workspace, model_name: str) -> None:
    """Classify many's "Why this verdict?": one image (one of the batch, or any) picked by
    file, explained under the classifier taught on Teach."""
    from core.images import ImageRejected, decode_image
    from lab.labels import markdown_text
    from ui.models import adapted

    if ws.not_ready() or not st.toggle("Why this verdict?", key="why_many", help=HELP):
        return
    upload = st.file_uploader(
        "Pick an image to explain (one from the table, or any other)",
        key="why_many_file",
    )
    if upload is None:
        return
    try:
        image = decode_image(upload.getvalue(), upload.name)
    except ImageRejected as error:
        st.error(f"{markdown_text(upload.name)} cannot be explained: {error.reason}.")
        return
    st.caption(markdown_text(upload.name))
    explain(ws, adapted(ws, model_name), image, ("file", upload.file_id))


def _support_items(ws: Workspace) -> list:
    """The support Items in the order of ws.support()."""
    return [item for card in ws.classes for item in card.items]


def explain(
    ws: Workspace, classifier: AdaptedClassifier, image: Image.Image, image_key: tuple
) -> None:
    """The map and the nearest examples of one image, computed once per image, support
    set and classifier (kept in the session's cache)."""
    from lab import occlusion

    cache = session_cache().setdefault("why", {})
    key = (classifier.model.name, ws.support_key(), repr(classifier.settings), image_key)
    if key not in cache:
        support, labels = ws.support()
        with st.spinner("Covering the image one place at a time..."):
            result = occlusion.occlusion_map(classifier, image)
            near = occlusion.nearest_examples(
                classifier, image, support, labels, (result.winner, result.runner_up), NEAREST
            )
        cache[key] = (result, near)
        for old in list(cache)[: max(0, len(cache) - _KEPT)]:
            del cache[old]
    result, near = cache[key]
    draw(ws, classifier, result, near)


def draw(ws: Workspace, classifier: AdaptedClassifier, result, near) -> None:
    """The figure, what it measured, and the nearest examples of the winner and runner-up."""
    from lab.labels import markdown_text
    from lab.occlusion import distance_name
    from lab.viz.occlusion import HELPS_WORDS, HURTS_WORDS, occlusion_figure
    from ui.widgets import chip

    names = ws.names(classifier.classes)
    winner = names[result.winner]
    with st.container(border=True, key="why_verdict"):
        st.markdown(f"**Why {markdown_text(winner)}?**")
        picture, examples = st.columns([3, 2], gap="medium")
        with picture:
            st.plotly_chart(
                occlusion_figure(result, winner),
                key="why_map",
                width="stretch",
                config={"displayModeBar": False},
            )
            unit = "distance" if result.measure.startswith("distance") else "probability"
            st.caption(
                f"Orange: {HURTS_WORDS}; blue: {HELPS_WORDS}. Measured: the {result.measure} "
                f"({result.base:.3g} for the whole image), with a {result.patch}-pixel patch "
                f"every {result.stride} pixels ({result.copies} covered copies); each place "
                f"shows the mean change in {unit} of the patches that covered it."
            )
        items = _support_items(ws)
        with examples:
            for place, index in (("winner", result.winner), ("runner-up", result.runner_up)):
                st.markdown(
                    chip(index, names[index], f" · nearest examples ({place})"),
                    unsafe_allow_html=True,
                )
                found = near.get(index, [])
                columns = st.columns(NEAREST)
                for column, neighbour in zip(columns, found, strict=False):
                    column.image(items[neighbour.index].image, width=72)
                    column.caption(f"distance {neighbour.distance:.3g}")
            st.caption(f"Under each example: {distance_name(classifier)}.")
