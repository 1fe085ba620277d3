"""Classify many: a batch of images (or zips of folders) through the classifier you taught,
as a table to read and a CSV to download (lab.batch). When the images' true classes are
known (folders or file names named after the classes, or one class chosen for all), the
check view follows: accuracy per class, the confusion matrix, the least sure (ui.check)."""

from __future__ import annotations

import streamlit as st

import ui
from core.images import MAX_FILE_BYTES
from lab import batch
from lab.labels import markdown_text
from ui import classify_many, why_verdict

ws = ui.workspace()
st.title("Classify many")
st.write(
    "Run the classifier you taught on Teach & classify over many images at once: one row "
    "per image with its class, its probability for every class and, for Prototypical "
    "Networks, its distance to every class centre. Download the table as CSV."
)
ui.needs_support(ws)
model_name = ui.model_name(ws.input_kind, ws.algorithm)
if model_name is None:
    st.info("No model is installed for this kind of image. Pick another on Teach & classify.")
    st.stop()
names = ws.names(tuple(card.id for card in ws.classes))
st.caption(
    f"Classes: {', '.join(markdown_text(n) for n in names)} · model: {model_name} (as on "
    'Teach & classify, where "none of these" is switched on or off) · '
    f'{"with" if ws.open_set else "without"} "none of these". '
    f"Images or .zip files of folders; up to {batch.MAX_BATCH_FILES} "
    f"images and {batch.MAX_BATCH_BYTES / 1e6:.0f} MB per batch, "
    f"{MAX_FILE_BYTES / 1e6:.0f} MB per image. Images stay in memory, never on disk."
)
uploaded = st.file_uploader(
    "Images or zips to classify",
    accept_multiple_files=True,
    key=f"batch_up_{ui.nonce('batch')}",
    max_upload_size=batch.MAX_BATCH_BYTES // 1_000_000,
)
truth_choice = st.selectbox(
    "True class of these images (optional: to check the classifier)",
    [classify_many.FROM_NAMES, *(card.id for card in ws.classes), classify_many.UNKNOWN],
    format_func=lambda c: {
        classify_many.FROM_NAMES: "from their folders or file names, where they match a class",
        classify_many.UNKNOWN: "not known",
    }.get(c, f"all of them are {markdown_text(ws.names((c,))[0])}"),  # options read Markdown
    key="batch_truth",
    help="A zip with a folder per class (the folder named as the class: cat/1.jpg) or files "
    "named after their class (cat_3.jpg) give each image its true class. Then the results "
    "show the accuracy per class, the confusion matrix and the images the model was least "
    "sure about.",
)
if uploaded and st.button("Classify", key="batch_run", type="primary"):
    classify_many.classify(ws, model_name, uploaded, truth_choice)
result = classify_many.last_result()
if result is None:
    st.stop()
classify_many.show_result(ws, result, truth_choice)
why_verdict.classify_many(ws, model_name)  # explain one image: occlusion, nearest examples
