"""Inside MAML: replay the inner loop step by step on your own support set (the parts are in
ui.inside_maml; the reports on the trace in core.inner_trace)."""

from __future__ import annotations

import streamlit as st

import ui
from ui import inside_maml

ws = ui.workspace()
st.title("Inside MAML")
st.write(
    "MAML (Model-Agnostic Meta-Learning) starts from weights that were meta-trained to be a "
    "good starting point, then takes a few gradient steps on your examples (the inner loop). "
    "Here you can watch each step."
)
name, model = inside_maml.maml_model(ws)
inside_maml.settings(ws, model)  # this page's experiments, with a Reset
ui.needs_support(ws)
if not ws.queries:
    st.caption(
        "Tip: add images to check (queries) on Teach & classify to see their probabilities "
        "change from step to step."
    )

st.subheader("Watch the steps")
steps = inside_maml.watch_steps(ws, name)
inside_maml.first_step(ws, steps)  # one step from zero is a class-mean classifier

st.subheader("The embeddings at each step")
inside_maml.embeddings_moving(ws, steps)
inside_maml.step_sizes(model)
