"""Inside MAML: replay the inner loop step by step on your own support set."""

from __future__ import annotations

import pandas as pd
import streamlit as st

import ui
from core import viz
from core.embedding import steps_in_2d
from core.workspace import MAX_INNER_STEPS

LR_SCALES = [0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0]

ws = ui.workspace()
st.title("Inside MAML")
st.write(
    "MAML (Model-Agnostic Meta-Learning) starts from weights that were meta-trained to be a "
    "good starting point, then takes a few gradient steps on your examples (the inner loop). "
    "Here you can watch each step."
)
model_name = ui.model_name(ws.input_kind, "maml")
if model_name is None:
    st.info("No MAML model is installed for this kind of image. Pick another on Teach & classify.")
    st.stop()
model = ui.get_model(model_name) if not ws.not_ready() else None

with st.expander("Settings", expanded=True):
    steps_col, lr_col, order_col = st.columns(3)
    default_steps = int(
        ws.inner_steps or (model.default_inner_loop.steps if model is not None else 2)
    )
    ws.inner_steps = steps_col.slider(
        "Inner steps",
        1,
        MAX_INNER_STEPS,
        default_steps,
        key="maml_inner_steps",
        help="How many gradient steps MAML takes on your examples.",
    )
    ws.inner_lr_scale = lr_col.select_slider(
        "Inner learning rate (x the learned rates)",
        LR_SCALES,
        value=ws.inner_lr_scale if ws.inner_lr_scale in LR_SCALES else 1.0,
        key="maml_lr_scale",
        help="Meta-training learned one step size per weight tensor; this multiplies them all.",
    )
    order = order_col.radio(
        "Meta-gradient order",
        ["second order", "first order"],
        index=1 if ws.first_order else 0,
        key="maml_order",
        horizontal=True,
    )
    ws.first_order = order == "first order"
    start = steps_col.radio(
        "Classifier starts from",
        ["class centres (as trained)", "zero (plain MAML)"],
        index=1 if ws.head_init == "zero" else 0,
        key="maml_head_init",
        help="The shipped model starts its last layer from the class centres (Proto-MAML), so "
        "it is right before the first step. Start from zero to watch the inner steps do all "
        "the learning; raise the learning rate to 30x or more for that.",
    )
    ws.head_init = "zero" if start.startswith("zero") else "proto"
    order_col.caption(
        "Order only matters in meta-training, where the outer loop differentiates through "
        "the inner steps (second order) or ignores that (first order, FOMAML). Adapting to "
        "your examples needs no meta-gradient, so both give the same result here."
    )

ui.needs_support(ws)
if not ws.queries:
    st.caption(
        "Tip: add images to check (queries) on Teach & classify to see their probabilities "
        "change from step to step."
    )

class_names = ws.names(tuple(card.id for card in ws.classes))
steps = ws.inner_steps
chart, progress = st.empty(), st.empty()
force = st.button("Run the inner loop again", key="maml_run")
if force or not ui.is_cached(ws, model_name, with_queries=True):
    on_step = ui.inner_loop_updater(
        ws,
        progress,
        chart,
        steps,
        class_names,
        run_key="maml_page_run",
        chart_key="maml_live",
        query_name=ws.queries[0].name if ws.queries else None,
    )
    classifier = ui.adapted(ws, model_name, with_queries=True, on_step=on_step, force=force)
else:
    classifier = ui.adapted(ws, model_name, with_queries=True)
progress.empty()
trace = classifier.trace
names = ws.names(classifier.classes)

st.subheader("Pick a step")
step = st.slider("Inner step", 0, len(trace) - 1, len(trace) - 1, key="maml_step")
query_index = 0
if ws.queries:
    query_index = st.selectbox(
        "Image to check (query) shown on the right",
        range(len(ws.queries)),
        format_func=lambda i: ws.queries[i].name,
        key="maml_query",
    )
chart.plotly_chart(
    viz.trace_figure(
        trace,
        names,
        total_steps=len(trace) - 1,
        query_index=query_index,
        query_name=ws.queries[query_index].name if ws.queries else "",
        current_step=step,
    ),
    key="maml_curves",
    width="stretch",
)
record = trace[step]
cols = st.columns(3)
cols[0].metric("Loss on your examples", f"{record.support_loss:.3g}")
cols[1].metric("Accuracy on your examples", f"{record.support_accuracy:.0%}")
if record.query_probabilities is not None:
    row = record.query_probabilities[query_index].numpy()
    cols[2].markdown(ui.looks_like(names[int(row.argmax())], float(row.max())))

st.subheader("How the embeddings move")
support_labels = [classifier.classes.index(label) for label in ws.support()[1]]
support_xy, query_xy, query_predictions = steps_in_2d(trace)
st.plotly_chart(
    viz.embedding_steps_figure(
        names, support_xy, support_labels, query_xy, query_predictions, step=step
    ),
    key="maml_embedding",
    width="stretch",
)
st.caption(
    "Press Play to animate steps 0 to K. Every step is projected with the same PCA, so "
    "positions can be compared; the 2-D picture is an approximation of the real space."
)
with st.expander("Every step in numbers"):
    st.dataframe(
        pd.DataFrame(
            {
                "step": [r.step for r in trace],
                "loss": [r.support_loss for r in trace],
                "accuracy": [r.support_accuracy for r in trace],
            }
        ),
        hide_index=True,
    )
st.info(
    "What one inner step does: the model measures how wrong it is on your examples (the "
    "loss), computes which way each weight should move to be less wrong (the gradient), and "
    "moves every weight a small step that way. Meta-training chose the starting weights so "
    "that a few such steps are enough."
)
