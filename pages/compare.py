"""Compare: the same images through ProtoNet, MAML and a network trained from scratch."""

from __future__ import annotations

import pandas as pd
import streamlit as st

import ui
from core import viz
from core.baseline import BaselineConfig, fit_baseline_on_labels

ws = ui.workspace()
st.title("Compare")
st.write(
    "The same examples and the same images to check, through three learners: two that were "
    "meta-trained to learn fast (ProtoNet and MAML), and one that starts from random weights "
    "and only sees your examples (fine-tune from scratch)."
)
ui.needs_support(ws)
if not ws.queries:
    st.info("Add images to check (queries) on Teach & classify, then come back to compare.")
    st.stop()

class_ids = tuple(card.id for card in ws.classes)
names = ws.names(class_ids)
with st.expander("What is the right answer for each image? (optional: gives accuracy)", True):
    options = ["unknown", *names]
    edited = st.data_editor(
        pd.DataFrame(
            {
                "image": [viz.thumbnail_uri(q.image) for q in ws.queries],
                "query": [q.name for q in ws.queries],
                "true class": [
                    ws.names((q.label,))[0] if q.label in class_ids else "unknown"
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
        key="compare_labels",
    )
    for query, value in zip(ws.queries, edited["true class"], strict=True):
        query.label = class_ids[names.index(value)] if value in names else None

steps_col, lr_col = st.columns(2)
steps = steps_col.number_input(
    "Fine-tune steps (Adam)",
    10,
    500,
    100,
    step=10,
    key="compare_steps",
    help="Training steps of the from-scratch network on your examples.",
)
lr = lr_col.select_slider(
    "Fine-tune learning rate", [1e-4, 3e-4, 1e-3, 3e-3, 1e-2], value=1e-3, key="compare_lr"
)
config = BaselineConfig(steps=int(steps), lr=float(lr))
images, labels = ws.support()
key = ("baseline", ws.input_kind, ws.support_key(), config)

columns = st.columns(3, gap="large")
results = []
for column, algorithm in zip(columns[:2], ("protonet", "maml"), strict=True):
    name = ui.model_name(ws.input_kind, algorithm)
    if name is None:
        column.info(f"No {ui.ALGORITHM_LABELS[algorithm]} model for this kind of image.")
        continue
    classifier = ui.adapted(ws, name)
    probabilities = classifier.predict_proba([q.image for q in ws.queries])
    order = [classifier.classes.index(i) for i in class_ids]
    results.append((column, ui.ALGORITHM_LABELS[algorithm], probabilities[:, order]))

model_name = ui.model_name(ws.input_kind, "protonet") or ui.model_name(ws.input_kind, "maml")
encoder = ui.get_model(model_name).encode
if key not in ws.cache:
    run = columns[2].button("Train from scratch", key="compare_run", type="primary")
    if run:
        progress = columns[2].progress(0.0, text="Training from scratch...")
        on_step = ui.live_updater(
            progress,
            config.steps,
            lambda record: f"Step {record.step} of {config.steps}: loss {record.loss:.3f}",
            every=5,
        )
        ws.cache[key] = fit_baseline_on_labels(encoder(images), labels, class_ids, config, on_step)
        progress.empty()
if key in ws.cache:
    baseline = ws.cache[key]
    probabilities = baseline.predict_proba_tensors(encoder([q.image for q in ws.queries]))
    results.append((columns[2], "Fine-tune from scratch (no meta-learning)", probabilities))
else:
    columns[2].markdown("**Fine-tune from scratch (no meta-learning)**")
    columns[2].caption(
        "A Conv-4 with random weights, trained on your examples only. Press the button to "
        "train it (a few seconds)."
    )

truth = [q.label for q in ws.queries]
known = [i for i, label in enumerate(truth) if label is not None]
for column, title, probabilities in results:
    with column:
        st.markdown(f"**{title}**")
        predicted = probabilities.argmax(1)
        if known:
            correct = sum(int(class_ids[predicted[i]] == truth[i]) for i in known)
            st.metric("Accuracy", f"{correct / len(known):.0%}", help=f"{correct} of {len(known)}")
        else:
            st.caption("Set the true classes above to see the accuracy.")
        st.dataframe(
            pd.DataFrame(
                {
                    "image": [viz.thumbnail_uri(q.image) for q in ws.queries],
                    "looks like": [names[k] for k in predicted],
                    "sure": [viz.percent(float(p)) for p in probabilities.max(1)],
                    "right?": [
                        "" if t is None else ("yes" if class_ids[k] == t else "no")
                        for k, t in zip(predicted, truth, strict=True)
                    ],
                }
            ),
            hide_index=True,
            width="stretch",
            column_config={"image": st.column_config.ImageColumn("image", width="small")},
            key=f"compare_table_{title[:4]}",
        )
