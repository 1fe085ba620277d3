"""The Teach & classify page's parts: the support set's class cards, the model adapting,
the "none of these" switch and the verdicts on the images to check."""

from __future__ import annotations

from typing import TYPE_CHECKING

import streamlit as st

import ui

if TYPE_CHECKING:
    from core.learner import AdaptedClassifier
    from lab.workspace import Workspace


def take_uploads(ws: Workspace) -> None:
    """Add the files that arrived in the uploaders since the last run (ui.take_waiting_uploads)."""
    from lab.workspace import MAX_IMAGES_PER_CLASS, MAX_QUERIES

    ui.take_waiting_uploads(
        ws,
        {"query": MAX_QUERIES} | {f"class_{card.id}": MAX_IMAGES_PER_CLASS for card in ws.classes},
    )


def support_set(ws: Workspace) -> None:
    """One card per class (name, thumbnails, intake, remove) and the "Add a class" button."""
    from core.constants import MAX_CLASSES, MIN_CLASSES
    from lab.labels import MAX_LABEL_CHARS, markdown_text
    from lab.workspace import MAX_IMAGES_PER_CLASS

    st.caption(ui.limits_text())
    if not ws.queries and not any(card.items for card in ws.classes):
        with st.container(border=True):
            st.write("New here? Load a ready lesson and change it as you like:")
            handwriting, photos = st.columns(2)
            with handwriting:
                ui.example_button("character", key="teach_example_handwriting")
            with photos:
                ui.example_button("photo", key="teach_example_photos")
    for start in range(0, len(ws.classes), 2):
        columns = st.columns(2)
        for column, card in zip(columns, ws.classes[start : start + 2], strict=False):
            index = ws.classes.index(card)
            with column.container(border=True):
                st.markdown(
                    ui.chip(index, card.name, f" · {len(card.items)} image(s)"),
                    unsafe_allow_html=True,
                )
                name_key = f"class_name_{card.id}"
                st.session_state.setdefault(name_key, card.name)
                st.text_input(
                    "Class name",
                    key=name_key,
                    max_chars=MAX_LABEL_CHARS,
                    on_change=ui.rename_class,
                    args=(ws, card.id, name_key),
                )
                if name_key + "_error" in st.session_state:
                    st.error(st.session_state.pop(name_key + "_error"))
                if card.items:
                    ui.thumbnails(ws, card.items, 56)
                    with st.popover("Remove an image"):
                        for item in card.items:
                            if st.button(
                                f"Remove {markdown_text(item.name)}", key=f"rm_{card.id}_{item.id}"
                            ):
                                card.items.remove(item)
                                st.rerun()
                else:
                    st.caption("No images yet: upload, draw or snap one below.")
                files = ui.image_intake(
                    ws,
                    f"class_{card.id}",
                    draw=ws.input_kind == "character",
                    label=f"Add images to {markdown_text(card.name)}",  # labels read Markdown
                )
                if files:
                    ui.add_images(ws, files, card.items, MAX_IMAGES_PER_CLASS)
                at_minimum = len(ws.classes) <= MIN_CLASSES
                if st.button(
                    "Remove this class",
                    key=f"remove_class_{card.id}",
                    disabled=at_minimum,
                    help="A model needs at least two classes." if at_minimum else None,
                ):
                    ws.remove_class(card.id)
                    st.rerun()
    if st.button(
        "+ Add a class",
        key="add_class",
        disabled=len(ws.classes) >= MAX_CLASSES,
        help=f"Up to {MAX_CLASSES} classes.",
    ):
        ws.add_class()
        st.rerun()
    if len(ws.classes) >= MAX_CLASSES:
        st.caption(f"{MAX_CLASSES} classes is the most the models handle.")


def adapt(ws: Workspace) -> AdaptedClassifier | None:
    """The model picker and the classifier adapted to the support set, drawn as it adapts
    (ProtoNet: the embedding; MAML: the inner loop); None until every class has an image."""
    import numpy as np

    from lab import viz
    from lab.embedding import project_together
    from lab.labels import markdown_text

    model_name = ui.model_picker(ws, key="teach")
    waiting = ws.not_ready()
    classifier = None
    if model_name is None:
        st.stop()
    if waiting:
        st.info(markdown_text(waiting))
    else:
        model = ui.get_model(model_name)
        if model.algorithm == "protonet":
            classifier = ui.adapted(ws, model_name)
            st.button(
                "Adapt again", key="adapt", help="ProtoNet adapts by itself as you add images."
            )
            trace = classifier.trace
            answers = ui.query_answers(ws, classifier)
            query_embeddings = (
                answers.embeddings if ws.queries else np.zeros((0, trace.prototypes.shape[1]))
            )
            support_xy, prototype_xy, query_xy = project_together(
                [trace.support_embeddings.numpy(), trace.prototypes.numpy(), query_embeddings]
            )
            predictions = answers.probabilities.argmax(1).tolist() if ws.queries else None
            st.plotly_chart(
                viz.embedding_figure(
                    ws.names(classifier.classes),
                    support_xy,
                    trace.support_labels.tolist(),
                    prototype_xy=prototype_xy,
                    query_xy=query_xy,
                    query_predictions=predictions,
                    support_names=ws.support_names(),
                    query_names=[q.name for q in ws.queries],
                    title="Each star is the centre of a class (prototype)",
                ),
                key="teach_embedding",
                width="stretch",
            )
            st.caption(
                "A 2-D picture (PCA) of the space the model compares images in; the exact "
                "distances are on the Embedding space page."
            )
        else:
            force = st.button("Adapt again", key="adapt", help="Run MAML's inner loop again.")
            steps = model.default_inner_loop.steps  # the model's own: see ui.adapted
            st.caption(
                f"MAML takes {steps} small learning steps (inner steps) on your examples, as "
                "it was trained to. Try other settings on the Inside MAML page; they apply "
                "there only."
            )
            chart, progress = st.empty(), st.empty()
            if force or not ui.is_cached(ws, model_name):
                class_names = ws.names(tuple(card.id for card in ws.classes))
                on_step = ui.inner_loop_updater(
                    ws, progress, chart, steps, class_names, run_key="maml_run", chart_key="live"
                )
                classifier = ui.adapted(ws, model_name, on_step=on_step, force=force)
            else:
                classifier = ui.adapted(ws, model_name)
                chart.plotly_chart(
                    viz.trace_figure(
                        classifier.trace, ws.names(classifier.classes), total_steps=steps
                    ),
                    key="maml_final",
                    width="stretch",
                )
            progress.success(f"Adapted in {steps} inner steps.")
    return classifier


def open_set_switch(ws: Workspace, classifier: AdaptedClassifier | None) -> None:
    """The "none of these" switch, for a classifier whose model card has a threshold."""
    from core import open_set

    if classifier is None or open_set.threshold_for(classifier) is None:
        return
    ws.open_set = st.toggle(
        'Answer "none of these" when an image is far from every class',
        value=ws.open_set,
        key="teach_open_set",
        help="An image farther from every class than the model's threshold (chosen on "
        "validation data for each number of classes, in its model card) is not forced into "
        "one of your classes.",
    )
    if ws.open_set:
        st.caption(
            f"The threshold for {len(classifier.classes)} classes was chosen on validation "
            f"tasks of {open_set.chosen_setting(classifier)}."
        )


def answers(ws: Workspace, classifier: AdaptedClassifier) -> None:
    """Each image to check with its verdict, probabilities and (ProtoNet) distances, newest
    first; then, for images whose true class is known, the check against it."""
    from core import open_set
    from lab.labels import markdown_text

    names = ws.names(classifier.classes)
    found = ui.query_answers(ws, classifier)  # each image embedded once, kept across runs
    probabilities, distances = found.probabilities, found.distances
    far = (  # from the probabilities and distances above: no image is encoded again
        open_set.none_of_these_from(classifier, probabilities, distances) if ws.open_set else None
    )
    for position, query in reversed(list(enumerate(ws.queries))):
        best = int(probabilities[position].argmax())
        with st.container(border=True):
            picture, words, bars, extra = st.columns([1, 2, 3, 3])
            ui.thumbnails(ws, [query], 80, where=picture)
            verdict = ui.none_of_these if far is not None and bool(far[position]) else ui.looks_like
            words.markdown(verdict(names[best], float(probabilities[position, best])))
            words.caption(markdown_text(query.name))
            if words.button("Remove", key=f"rm_query_{query.id}"):
                ws.queries.remove(query)
                st.rerun()
            bars.markdown(
                ui.probability_bars(names, probabilities[position]), unsafe_allow_html=True
            )
            if distances is not None:
                extra.markdown(
                    ui.distance_bars(names, distances[position], classifier.settings["distance"]),
                    unsafe_allow_html=True,
                )
    # Check images whose true class is known (an example lesson's, or given on Compare):
    # how the answers compare with it, as on Classify many.
    position = {class_id: i for i, class_id in enumerate(classifier.classes)}
    truth = [position.get(q.label) for q in ws.queries]
    if any(t is not None for t in truth):
        ui.check_view(
            "teach_check",
            names,
            [q.name for q in ws.queries],
            truth,
            probabilities,
            probabilities.argmax(1).tolist(),
            ui.thumbnail_uris(ws, ws.queries, 88),
            note='Images answered "none of these" count with their nearest class.'
            if far is not None and bool(far.any())
            else "",
        )
