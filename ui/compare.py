"""The Compare page's parts: the true classes of the checked images, each learner's answers
in its own column, and the random splits (computed by lab.compare, drawn here)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd
import streamlit as st

from ui.live import live_updater
from ui.models import ALGORITHM_LABELS, adapted, get_model, model_name
from ui.session_state import bump, nonce, session_cache

if TYPE_CHECKING:
    from lab.baseline import BaselineConfig
    from lab.workspace import Workspace

BASELINE = "Fine-tune from scratch (no meta-learning)"
SHORT = {"protonet": "ProtoNet", "maml": "MAML", "baseline": "From scratch"}
UNKNOWN = "unknown"
LABELS = "compare_labels"  # the counter that renews the table of true classes


def installed_models(ws: Workspace) -> dict[str, str | None]:
    """The ProtoNet and MAML models for the workspace's kind of image; stops the page with
    an error when there is neither."""
    models = {a: model_name(ws.input_kind, a) for a in ("protonet", "maml")}
    if models["protonet"] is None and models["maml"] is None:
        st.error("No model for this kind of image is installed; see the README to get them.")
        st.stop()
    return models


def baseline_text(ws: Workspace) -> str:
    """What the from-scratch learner is, for this kind of image."""
    if ws.input_kind == "photo":
        return (
            "A linear model (logistic regression) with random weights on the photo model's "
            "frozen EfficientNet features, trained on your examples only: the same features "
            "ProtoNet and MAML start from, but nothing learned from other tasks."
        )
    return (
        "A Conv-4 network with random weights, trained on your examples only: the same "
        "architecture as the meta-trained models, but nothing learned from other tasks."
    )


def baseline_settings() -> BaselineConfig:
    """The from-scratch learner's steps and learning rate, from two widgets."""
    from lab.baseline import BaselineConfig

    steps_col, lr_col = st.columns(2)
    steps = steps_col.number_input(
        "Fine-tune steps (Adam)",
        10,
        500,
        100,
        step=10,
        key="compare_steps",
        help="Training steps of the from-scratch learner on your examples.",
    )
    lr = lr_col.select_slider(
        "Fine-tune learning rate", [1e-4, 3e-4, 1e-3, 3e-3, 1e-2], value=1e-3, key="compare_lr"
    )
    return BaselineConfig(steps=int(steps), lr=float(lr))


# --- the true classes of the images to check ----------------------------------------------
def _set_label(ws: Workspace, query: Any, value: str, names: list[str]) -> None:
    class_ids = [card.id for card in ws.classes]
    query.label = class_ids[names.index(value)] if value in names else None


def _take_classes_from_file_names(ws: Workspace) -> None:
    from lab.compare import classes_from_file_names
    from lab.labels import markdown_text

    class_ids = [card.id for card in ws.classes]
    found = classes_from_file_names([q.name for q in ws.queries], ws.names(tuple(class_ids)))
    for query, index in zip(ws.queries, found, strict=True):
        if index is not None:
            query.label = class_ids[index]
    missed = [q.name for q, index in zip(ws.queries, found, strict=True) if index is None]
    text = f"Took the class of {len(found) - len(missed)} of {len(found)} image(s) from its name."
    if missed:
        shown = ", ".join(markdown_text(name) for name in missed[:5])
        more = f" and {len(missed) - 5} more" if len(missed) > 5 else ""
        text += (
            f" No class name begins these: {shown}{more}. Name a file after its class "
            "(cat_3.jpg for a class called cat), or set them below."
        )
    bump(LABELS)  # the table of true classes starts again from the new labels
    # Kept beside the table until the true classes change again (not shown once only).
    st.session_state["compare_note"] = (nonce(LABELS), bool(missed), text)


def _set_class_of_many(ws: Workspace) -> None:
    names = ws.names(tuple(card.id for card in ws.classes))
    chosen = st.session_state.get("compare_many", [])
    value = st.session_state.get("compare_many_class", UNKNOWN)
    for query in ws.queries:
        if query.id in chosen:
            _set_label(ws, query, value, names)
    st.session_state["compare_many"] = []
    bump(LABELS)


def true_classes(ws: Workspace) -> None:
    """The bulk tools and the table where the user says what each image really is."""
    from lab import viz

    class_ids = tuple(card.id for card in ws.classes)
    names = ws.names(class_ids)
    with st.expander("What is the right answer for each image? (optional: gives accuracy)", True):
        st.button(
            "Take classes from file names",
            key="compare_from_names",
            on_click=_take_classes_from_file_names,
            args=(ws,),
            help="cat_3.jpg gets the class cat: a class name that begins the file name "
            "(upper or lower case alike).",
        )
        note = st.session_state.get("compare_note")
        if note is not None and note[0] == nonce(LABELS):
            (st.warning if note[1] else st.success)(note[2])
        pick, what, set_col = st.columns([3, 2, 1], vertical_alignment="bottom")
        # Numbered in upload order: two images may have the same file name.
        by_id = {q.id: f"{n}. {q.name}" for n, q in enumerate(ws.queries, 1)}
        pick.multiselect(
            "Images",
            list(by_id),
            format_func=lambda i: by_id.get(i, str(i)),
            key="compare_many",
            placeholder="Choose images to give one class",
        )
        what.selectbox("are of class", [UNKNOWN, *names], key="compare_many_class")
        set_col.button("Set", key="compare_set_many", on_click=_set_class_of_many, args=(ws,))
        edited = st.data_editor(
            pd.DataFrame(
                {
                    "image": [viz.thumbnail_uri(q.image) for q in ws.queries],
                    "query": [q.name for q in ws.queries],
                    "true class": [
                        ws.names((q.label,))[0] if q.label in class_ids else UNKNOWN
                        for q in ws.queries
                    ],
                }
            ),
            column_config={
                "image": st.column_config.ImageColumn("image", width="small"),
                "true class": st.column_config.SelectboxColumn(
                    "true class", options=[UNKNOWN, *names]
                ),
            },
            disabled=["image", "query"],
            hide_index=True,
            key=f"compare_labels_{nonce(LABELS)}",
        )
        for query, value in zip(ws.queries, edited["true class"], strict=True):
            _set_label(ws, query, value, names)


# --- one learner's answers in one column --------------------------------------------------
def show_answers(ws: Workspace, title: str, answer) -> None:
    """Call answer() for the (Q, N) probabilities and show them; an error stays in this column."""
    from lab import viz
    from lab.compare import score_answers
    from lab.labels import markdown_text

    try:
        probabilities = answer()
    except Exception as error:  # one learner failing must never remove the other columns
        st.error(f"{title} could not answer: {markdown_text(str(error))}")
        return
    far = None  # a meta-trained model with "none of these" on (as on Teach) gives which
    if isinstance(probabilities, tuple):
        probabilities, far = probabilities
    class_ids = tuple(card.id for card in ws.classes)
    names = ws.names(class_ids)
    score = score_answers(probabilities, class_ids, [q.label for q in ws.queries], far)
    if score.known:  # an image answered "none of these" counts as wrong, as on Teach's check
        st.metric(
            "Accuracy",
            viz.percent(score.correct / score.known),
            help=f"{score.correct} of {score.known}",
        )
    else:
        st.caption("Set the true classes above to see the accuracy.")
    st.dataframe(
        pd.DataFrame(
            {
                "image": [viz.thumbnail_uri(q.image) for q in ws.queries],
                "looks like": [
                    f"none of these (nearest: {names[k]})" if no else names[k]
                    for k, no in zip(score.predicted, score.refused, strict=True)
                ],
                "sure": [viz.percent(float(p)) for p in probabilities.max(1)],
                "right?": ["" if r is None else ("yes" if r else "no") for r in score.right],
            }
        ),
        hide_index=True,
        width="stretch",
        column_config={"image": st.column_config.ImageColumn("image", width="small")},
        key=f"compare_table_{title[:4]}",
    )


def meta_answers(ws: Workspace, name: str):
    """(Q, N) probabilities in class order and, with "none of these" on (as on Teach), which
    images the model's threshold refuses."""
    from core import open_set
    from lab.compare import in_class_order

    classifier = adapted(ws, name)
    inputs = classifier.model.encode([q.image for q in ws.queries])
    probabilities = classifier.predict_proba_tensors(inputs)
    far = open_set.none_of_these(classifier, inputs) if ws.open_set else None
    class_ids = [card.id for card in ws.classes]
    return in_class_order(probabilities, classifier.classes, class_ids), far


def answers_by_learner(
    ws: Workspace, models: dict[str, str | None], config: BaselineConfig
) -> None:
    """Three columns: ProtoNet's, MAML's and the from-scratch learner's answers."""
    from lab.baseline import fit_baseline_on_labels

    st.subheader("Your images to check, through each learner")
    columns = st.columns(3, gap="large")
    for column, algorithm in zip(columns[:2], ("protonet", "maml"), strict=True):
        with column:
            st.markdown(f"**{ALGORITHM_LABELS[algorithm]}**")
            if models[algorithm] is None:
                st.info(f"No {ALGORITHM_LABELS[algorithm]} model for this kind of image.")
                continue
            label = ALGORITHM_LABELS[algorithm]
            show_answers(ws, label, lambda n=models[algorithm]: meta_answers(ws, n))
    encoder = get_model(models["protonet"] or models["maml"]).encode
    cache = session_cache()
    with columns[2]:
        st.markdown(f"**{BASELINE}**")
        st.caption(baseline_text(ws))
        key = ("baseline", ws.input_kind, ws.support_key(), config)
        if key not in cache and st.button("Train from scratch", key="compare_run", type="primary"):
            progress = st.progress(0.0, text="Training from scratch...")
            on_step = live_updater(
                progress,
                config.steps,
                lambda record: f"Step {record.step} of {config.steps}: loss {record.loss:.3f}",
                every=5,
            )

            def train():
                images, labels = ws.support()
                class_ids = tuple(card.id for card in ws.classes)
                cache[key] = fit_baseline_on_labels(
                    encoder(images), labels, class_ids, config, on_step
                )
                return cache[key].predict_proba_tensors(encoder([q.image for q in ws.queries]))

            show_answers(ws, BASELINE, train)
            progress.empty()
        elif key in cache:
            show_answers(
                ws,
                BASELINE,
                lambda: cache[key].predict_proba_tensors(encoder([q.image for q in ws.queries])),
            )
        else:
            st.caption("Press the button to train it (a few seconds).")
