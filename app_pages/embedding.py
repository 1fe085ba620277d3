"""Embedding space: every image at its place in a model's embedding space, to see and touch
(ui.explorer), from this session's images or a benchmark slice."""

from __future__ import annotations

import streamlit as st

import ui
from core.paths import data_root
from ui import exact_view, explorer

ws = ui.workspace()
st.title("Embedding space")
st.write(
    "The model turns every image into a list of numbers (an embedding). Images of the same "
    "class should land close together; a new image gets the class whose centre "
    "(prototype) is nearest."
)
source, algorithm = explorer.source_picker(ws)
if source == explorer.SESSION:
    data = explorer.session_data(ws, algorithm)
else:
    shots = st.slider(
        "Examples per class to teach with (shots)",
        1,
        10,
        explorer.SHOTS,
        key="emb_shots",
        help="The first drawings or photos of each class are the examples; the rest are the "
        "images to check, whose true class is known (mistakes get a red ✗).",
    )
    with st.spinner("Reading the images and embedding them (the first time only)..."):
        data = explorer.benchmark_data(source, algorithm, shots, str(data_root()))
    st.caption(f"**{data.title}.** {data.note}")
if algorithm == "protonet":
    st.caption("Stars: the class centres (prototypes), the mean embedding of each class.")
else:
    st.caption(
        "MAML has no prototypes: it classifies with a layer adapted to your examples. The stars "
        "are the class means of the adapted embeddings, for orientation."
    )
wrong = data.misclassified()
known = int((data.labels[data.queries] >= 0).sum())
if known:
    st.caption(f"{len(wrong)} of the {known} images to check whose class is known are wrong (✗).")
method, dims, settings, thumbnails = explorer.projection_controls()
exact_view.chart(data, method, dims, settings, thumbnails)  # exact, or a projection
explorer.distance_table(data)
explorer.learning(data, ws, algorithm, source)
