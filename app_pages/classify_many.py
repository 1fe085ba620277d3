"""Classify many: a batch of images (or zips of folders) through the classifier you taught,
as a table to read and a CSV to download (core.batch)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

import ui
from core import batch
from core.images import MAX_FILE_BYTES
from core.labels import markdown_text

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
    key=f"batch_up_{ws.nonce('batch')}",
    max_upload_size=batch.MAX_BATCH_BYTES // 1_000_000,
)
if uploaded and st.button("Classify", key="batch_run", type="primary"):
    files, problems = batch.gather_files([(f.name, f.getvalue()) for f in uploaded])
    file_names, images, unusable = batch.decode_files(files)
    problems += unusable
    classifier = ui.adapted(ws, model_name)
    bar = st.progress(0.0, text=f"Classifying {len(images)} image(s)...")
    rows = batch.result_rows(
        classifier,
        ws.names(classifier.classes),
        file_names,
        images,
        on_progress=lambda done, total: bar.progress(
            done / total, text=f"Classified {done} of {total}"
        ),
        open_set=ws.open_set,
    )
    bar.empty()
    ws.cache["batch"] = {"rows": rows, "problems": problems, "support": ws.support_key()}
    ws.bump("batch")  # the uploader comes back empty
    st.rerun()

result = ws.cache.get("batch")
if result is None:
    st.stop()
if result["support"] != ws.support_key():
    st.warning(
        "The classes changed since this table was made: classify the images again to "
        "use the classifier you have now."
    )
for name, reason in result["problems"]:
    st.error(f"{markdown_text(name)} was not classified: {reason}.")
rows = result["rows"]
if not rows:
    st.info("No image could be classified.")
    st.stop()
table = pd.DataFrame(rows)
counts = table["predicted"].value_counts()
refused = int(table["none of these"].sum()) if "none of these" in table else 0
st.write(
    f"**{len(rows)} image(s) classified.** "
    + ", ".join(f"{markdown_text(str(c))}: {n}" for c, n in counts.items())
    + (f" · none of these: {refused} (their nearest class is still shown)" if refused else "")
)
st.dataframe(
    table,
    hide_index=True,
    column_config={
        "probability": st.column_config.ProgressColumn(min_value=0, max_value=1, format="percent"),
        **{
            column: st.column_config.NumberColumn(format="percent")
            for column in table.columns
            if column.startswith("p(")
        },
    },
    key="batch_table",
)
st.download_button(
    "Download the table (CSV)",
    batch.to_csv(rows).encode("utf-8"),
    file_name="few-shot-lab-predictions.csv",
    mime="text/csv",
    key="batch_csv",
)
