"""Meta-learning playground: watch both loops of MAML on toy tasks, live (the parts are in
ui.playground; the toy tasks and training in lab.toy)."""

from __future__ import annotations

import streamlit as st

from ui import playground

st.title("Meta-learning playground")
st.write(
    "Meta-learning (MAML) trains a **starting point** from which a network learns a new "
    "task from a handful of examples. Watch the outer loop learn that starting point, then "
    "the inner loop adapt it to a task it has never seen."
)
family = st.radio(
    "Task family",
    list(playground.FAMILY_LABELS),
    format_func=playground.FAMILY_LABELS.get,
    key="pg_family",
    horizontal=True,
    help="Sine waves as in Finn et al. 2017, or two-class problems in the plane.",
)
config = playground.settings(family)

st.subheader("Outer loop: meta-training")
run = playground.outer_loop(family, config)
if run is not None and run.status == "done":
    if playground.settings_changed(run, config):
        st.warning("The settings changed since training; press **Meta-train** to use them.")
    playground.task_player(family)
