"""Compare: the same images through ProtoNet, MAML and a learner trained from scratch."""

from __future__ import annotations

import pandas as pd
import streamlit as st

import ui
from core import open_set
from lab import viz
from lab.baseline import BaselineConfig, fit_baseline_on_labels
from lab.compare import (
    SplitSettings,
    classes_from_file_names,
    model_learner,
    paired_gap,
    score_learners,
    scratch_learner,
    splits_figure,
    too_few_images,
)
from lab.labels import markdown_text

BASELINE = "Fine-tune from scratch (no meta-learning)"
SHORT = {"protonet": "ProtoNet", "maml": "MAML", "baseline": "From scratch"}
UNKNOWN = "unknown"

ws = ui.workspace()
st.title("Compare")
st.write(
    "The same examples and the same images to check, through three learners: two that were "
    "meta-trained to learn fast (ProtoNet and MAML), and one that starts from random weights "
    "and only sees your examples (fine-tune from scratch)."
)
ui.needs_support(ws)

class_ids = tuple(card.id for card in ws.classes)
names = ws.names(class_ids)
models = {a: ui.model_name(ws.input_kind, a) for a in ("protonet", "maml")}
encoder_model = models["protonet"] or models["maml"]
if encoder_model is None:
    st.error("No model for this kind of image is installed; see the README to get them.")
    st.stop()
if ws.input_kind == "photo":
    baseline_text = (
        "A linear model (logistic regression) with random weights on the photo model's frozen "
        "EfficientNet features, trained on your examples only: the same features ProtoNet and "
        "MAML start from, but nothing learned from other tasks."
    )
else:
    baseline_text = (
        "A Conv-4 network with random weights, trained on your examples only: the same "
        "architecture as the meta-trained models, but nothing learned from other tasks."
    )


# --- the true classes of the images to check ----------------------------------------------
def _labels_changed() -> None:
    ws.bump("compare_labels")  # the table of true classes starts again from the new labels


def _take_classes_from_file_names() -> None:
    found = classes_from_file_names([q.name for q in ws.queries], names)
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
    _labels_changed()
    # Kept beside the table until the true classes change again (not shown once only).
    st.session_state["compare_note"] = (ws.nonce("compare_labels"), bool(missed), text)


def _set_class_of_many() -> None:
    chosen = st.session_state.get("compare_many", [])
    value = st.session_state.get("compare_many_class", UNKNOWN)
    for query in ws.queries:
        if query.id in chosen:
            query.label = class_ids[names.index(value)] if value in names else None
    st.session_state["compare_many"] = []
    _labels_changed()


def true_classes() -> None:
    """The bulk tools and the table where the user says what each image really is."""
    with st.expander("What is the right answer for each image? (optional: gives accuracy)", True):
        st.button(
            "Take classes from file names",
            key="compare_from_names",
            on_click=_take_classes_from_file_names,
            help="cat_3.jpg gets the class cat: a class name that begins the file name "
            "(upper or lower case alike).",
        )
        note = st.session_state.get("compare_note")
        if note is not None and note[0] == ws.nonce("compare_labels"):
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
        set_col.button("Set", key="compare_set_many", on_click=_set_class_of_many)
        options = [UNKNOWN, *names]
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
                "true class": st.column_config.SelectboxColumn("true class", options=options),
            },
            disabled=["image", "query"],
            hide_index=True,
            key=f"compare_labels_{ws.nonce('compare_labels')}",
        )
        for query, value in zip(ws.queries, edited["true class"], strict=True):
            query.label = class_ids[names.index(value)] if value in names else None


# --- one learner's answers in one column --------------------------------------------------
def show_answers(title: str, answer) -> None:
    """Call answer() for the (Q, N) probabilities and show them; an error stays in this column."""
    try:
        probabilities = answer()
    except Exception as error:  # one learner failing must never remove the other columns
        st.error(f"{title} could not answer: {markdown_text(str(error))}")
        return
    far = None  # a meta-trained model with "none of these" on (as on Teach) gives which
    if isinstance(probabilities, tuple):
        probabilities, far = probabilities
    truth = [q.label for q in ws.queries]
    known = [i for i, label in enumerate(truth) if label is not None]
    predicted = probabilities.argmax(1)
    refused = [far is not None and bool(far[i]) for i in range(len(predicted))]
    if known:  # an image answered "none of these" counts as wrong, as on Teach's check
        correct = sum(int(class_ids[predicted[i]] == truth[i] and not refused[i]) for i in known)
        st.metric("Accuracy", viz.percent(correct / len(known)), help=f"{correct} of {len(known)}")
    else:
        st.caption("Set the true classes above to see the accuracy.")
    st.dataframe(
        pd.DataFrame(
            {
                "image": [viz.thumbnail_uri(q.image) for q in ws.queries],
                "looks like": [
                    f"none of these (nearest: {names[k]})" if no else names[k]
                    for k, no in zip(predicted, refused, strict=True)
                ],
                "sure": [viz.percent(float(p)) for p in probabilities.max(1)],
                "right?": [
                    "" if t is None else ("yes" if class_ids[k] == t and not no else "no")
                    for k, t, no in zip(predicted, truth, refused, strict=True)
                ],
            }
        ),
        hide_index=True,
        width="stretch",
        column_config={"image": st.column_config.ImageColumn("image", width="small")},
        key=f"compare_table_{title[:4]}",
    )


def meta_answers(name: str):
    """(Q, N) probabilities in class order and, with "none of these" on (as on Teach), which
    images the model's threshold refuses."""
    classifier = ui.adapted(ws, name)
    inputs = classifier.model.encode([q.image for q in ws.queries])
    probabilities = classifier.predict_proba_tensors(inputs)
    far = open_set.none_of_these(classifier, inputs) if ws.open_set else None
    return probabilities[:, [classifier.classes.index(i) for i in class_ids]], far


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
config = BaselineConfig(steps=int(steps), lr=float(lr))
encoder = ui.get_model(encoder_model).encode

if ws.queries:
    true_classes()
    st.subheader("Your images to check, through each learner")
    columns = st.columns(3, gap="large")
    for column, algorithm in zip(columns[:2], ("protonet", "maml"), strict=True):
        with column:
            st.markdown(f"**{ui.ALGORITHM_LABELS[algorithm]}**")
            if models[algorithm] is None:
                st.info(f"No {ui.ALGORITHM_LABELS[algorithm]} model for this kind of image.")
                continue
            show_answers(
                ui.ALGORITHM_LABELS[algorithm], lambda n=models[algorithm]: meta_answers(n)
            )
    with columns[2]:
        st.markdown(f"**{BASELINE}**")
        st.caption(baseline_text)
        key = ("baseline", ws.input_kind, ws.support_key(), config)
        if key not in ws.cache and st.button(
            "Train from scratch", key="compare_run", type="primary"
        ):
            progress = st.progress(0.0, text="Training from scratch...")
            on_step = ui.live_updater(
                progress,
                config.steps,
                lambda record: f"Step {record.step} of {config.steps}: loss {record.loss:.3f}",
                every=5,
            )

            def train():
                images, labels = ws.support()
                ws.cache[key] = fit_baseline_on_labels(
                    encoder(images), labels, class_ids, config, on_step
                )
                return ws.cache[key].predict_proba_tensors(encoder([q.image for q in ws.queries]))

            show_answers(BASELINE, train)
            progress.empty()
        elif key in ws.cache:
            show_answers(
                BASELINE,
                lambda: ws.cache[key].predict_proba_tensors(encoder([q.image for q in ws.queries])),
            )
        else:
            st.caption("Press the button to train it (a few seconds).")
else:
    st.info(
        "Add images to check (queries) on Teach & classify to see each learner's answers "
        "image by image. The random splits below work with your examples alone."
    )


# --- many random splits -------------------------------------------------------------------
st.subheader("Over many random splits of your labelled images")
st.write(
    "One handful of images to check says little: on an easy set every learner gets them all "
    "right. Here your labelled images (your examples, and the images to check whose true "
    "class is set) are split at random many times. Each time a few images per class are held "
    "out, every learner learns from the rest and is scored on the held-out ones; the bars show "
    "the mean accuracy with its 95% interval."
)
images, labels = ws.support()
ids = [item.id for card in ws.classes for item in card.items]
for query in ws.queries:
    if query.label in class_ids:
        images.append(query.image)
        labels.append(query.label)
        ids.append(query.id)
splits_col, held_col = st.columns(2)
n_splits = splits_col.number_input("Random splits", 2, 50, 10, key="compare_splits")
held_out = held_col.number_input(
    "Held-out images per class",
    1,
    10,
    1,
    key="compare_held_out",
    help="Scored in each split; the rest of the class is what the learners learn from.",
)
split_settings = SplitSettings(splits=int(n_splits), held_out=int(held_out))
short = too_few_images(labels, split_settings.held_out)
if short:
    st.info(
        f"Each class needs at least {split_settings.held_out + 1} labelled images (its examples "
        "and images to check set to it), so that one is left to learn from. Add images to: "
        + ", ".join(markdown_text(n) for n in ws.names(tuple(short)))
        + "."
    )
splits_key = (
    "compare_splits",
    ws.input_kind,
    tuple(zip(ids, labels, strict=True)),
    split_settings,
    config,
    tuple(sorted(ws.shipped_settings("maml").items())),
    ws.distance,
)
if (
    not short
    and splits_key not in ws.cache
    and st.button(
        f"Run {split_settings.splits} random splits", key="compare_run_splits", type="primary"
    )
):
    with st.status("Learning and scoring each split...", expanded=True) as status:
        bar = st.progress(0.0)
        builders = [
            (
                SHORT[a],
                lambda a=a: model_learner(
                    SHORT[a], ui.get_model(models[a]), images, ws.shipped_settings(a)
                ),
            )
            for a in ("protonet", "maml")
            if models[a] is not None
        ]
        builders.append(
            (SHORT["baseline"], lambda: scratch_learner(SHORT["baseline"], encoder, images, config))
        )
        results = score_learners(
            builders,
            labels,
            split_settings,
            lambda name, done: bar.progress(done, text=f"{name}: {done:.0%} of all splits"),
        )
        status.update(label="Done", state="complete", expanded=False)
    ws.cache[splits_key] = results
if not short and splits_key in ws.cache:
    results = ws.cache[splits_key]
    scores = [score for _, score in results if not isinstance(score, Exception)]
    for name, score in results:
        if isinstance(score, Exception):
            st.error(f"{name} could not be scored: {markdown_text(str(score))}")
    if scores:
        st.plotly_chart(splits_figure(scores), width="stretch", key="compare_splits_chart")
        st.dataframe(
            pd.DataFrame(
                {
                    "learner": [s.name for s in scores],
                    "mean accuracy": [viz.percent(s.mean) for s in scores],
                    "95% interval": [f"± {s.ci95:.0%}" for s in scores],
                    "each split": [" ".join(f"{a:.0%}" for a in s.accuracies) for s in scores],
                }
            ),
            hide_index=True,
            width="stretch",
            key="compare_splits_table",
        )
        scratch = next((s for s in scores if s.name == SHORT["baseline"]), None)
        for score in scores:
            if scratch is None or score is scratch:
                continue
            gap, half = paired_gap(score, scratch)
            verdict = (
                "the interval includes 0: on these images the two are not clearly apart."
                if abs(gap) <= half
                else f"{score.name} is clearly {'better' if gap > 0 else 'worse'} here."
            )
            st.markdown(
                f"**{score.name} minus from scratch**: {100 * gap:+.0f} points "
                f"(95% interval ± {100 * half:.0f}), on the same {len(score.accuracies)} "
                f"splits; {verdict}"
            )
        if all(a == 1.0 for s in scores for a in s.accuracies):
            st.info(
                "Every learner got every held-out image right in every split: these classes "
                "are too easy to tell the learners apart. Hold out more images per class, or "
                "add classes that look alike."
            )
        st.caption(
            "The splits reuse your images, so the interval shows how much the result depends "
            "on which images are held out, not how the learners would do on new images."
        )
elif not short:
    st.caption("Press the button to run the splits (a few seconds per learner).")
