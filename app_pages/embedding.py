"""Embedding space: every image at its place in a model's embedding space, to see and touch,
from this session's images or a benchmark slice (the parts are in ui.embedding, ui.explorer
and ui.exact_view; the computation in lab.explorer, lab.exact and lab.embedding)."""

from __future__ import annotations

import streamlit as st

import ui
from ui import embedding, exact_view, explorer

ws = ui.workspace()
st.title("Embedding space")
st.write(
    "The model turns every image into a list of numbers (an embedding). Images of the same "
    "class should land close together; a new image gets the class whose centre "
    "(prototype) is nearest."
)
source, algorithm = embedding.source_picker(ws)
data = embedding.images(ws, source, algorithm)  # the session's, or a slice with its shots
embedding.legend(data, algorithm)
method, dims, settings, thumbnails = explorer.projection_controls()
exact_view.chart(data, method, dims, settings, thumbnails)  # exact (first), or a projection
explorer.distance_table(data)
embedding.learning(data, algorithm)
