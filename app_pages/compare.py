"""Compare: the same images through ProtoNet, MAML and a learner trained from scratch, image
by image and over many random splits of the user's labelled images (ui.compare,
ui.compare_splits, lab.compare)."""

from __future__ import annotations

import streamlit as st

import ui
from ui import compare, compare_splits, shots_curve

ws = ui.workspace()
st.title("Compare")
st.write(
    "The same examples and the same images to check, through three learners: two that were "
    "meta-trained to learn fast (ProtoNet and MAML), and one that starts from random weights "
    "and only sees your examples (fine-tune from scratch)."
)
ui.needs_support(ws)
models = compare.installed_models(ws)
config = compare.baseline_settings()

if ws.queries:
    compare.true_classes(ws)
    compare.answers_by_learner(ws, models, config)
else:
    st.info(
        "Add images to check (queries) on Teach & classify to see each learner's answers "
        "image by image. The random splits below work with your examples alone."
    )

st.subheader("Over many random splits of your labelled images")
st.write(
    "One handful of images to check says little: on an easy set every learner gets them all "
    "right. Here your labelled images (your examples, and the images to check whose true "
    "class is set) are split at random many times. Each time a few images per class are held "
    "out, every learner learns from the rest and is scored on the held-out ones; the bars show "
    "the mean accuracy with its 95% interval."
)
results = compare_splits.run_splits(ws, models, config, compare_splits.split_settings())
if results is not None:
    compare_splits.show_splits(results)

shots_curve.shots_curve(ws, models, config)
