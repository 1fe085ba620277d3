"""Teach & classify: build the support set, watch the model adapt, classify new images
(the parts are in ui.teach)."""

from __future__ import annotations

import streamlit as st

import ui
from lab.workspace import MAX_QUERIES
from ui import exact_view, lesson_check, teach, why_verdict
from ui.export import onnx_download

ws = ui.workspace()
teach.take_uploads(ws)
st.title("Teach & classify")
st.write(
    "Give a few examples of each class, and the model learns to tell them apart in a second: "
    "no long training. Then show it new images."
)
ui.show_messages()
ui.example_credit(ws)

left, right = st.columns([3, 2], gap="large")
with left:
    st.subheader("1. Examples you teach with (support set)")
    teach.support_set(ws)
with right:
    st.subheader("2. The model learns your classes")
    classifier = teach.adapt(ws)

st.divider()
st.subheader("3. Try it: images to check (queries)")
if classifier is None:
    st.info("Once every class has an image, add images here to see what the model thinks.")
teach.open_set_switch(ws, classifier)
if st.toggle(
    "Live camera",
    key="teach_live",
    help="Stream your webcam: every frame is classified as it comes, and one click adds the "
    "frame to a class.",
):
    ui.live_camera(ws, classifier)
files = ui.image_intake(ws, "query", draw=ws.input_kind == "character", label="Add images to check")
if files:
    ui.add_images(ws, files, ws.queries, MAX_QUERIES)
if ws.queries and classifier is not None:
    teach.answers(ws, classifier)
    why_verdict.teach(ws, classifier)  # the occlusion map and nearest examples
    exact_view.teach(ws, classifier)  # the verdicts in the exact picture
elif ws.queries:
    st.caption(f"{len(ws.queries)} image(s) waiting to be classified.")
if classifier is not None:
    onnx_download(ws, classifier)  # "Take it with you": the classifier as ONNX
lesson_check.teach(ws, classifier)  # which examples matter, mislabels, the wrong cue
