"""Classify many: a batch of images (or zips of folders) through the classifier you taught,
as a table to read and a CSV to download (lab.batch). When the images' true classes are
known (folders or file names named after the classes, or one class chosen for all), the
check view follows: accuracy per class, the confusion matrix, the least sure (ui.check)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

import ui
from core.images import MAX_FILE_BYTES
from core.rows import answers, result_rows, to_csv
from lab import batch, check, viz
from lab.labels import markdown_text
from ui.check import THUMBNAIL_PX

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
# The true-class choices besides "all of class <id>" (class ids are positive): by id, so a
# choice never passes to another class when one is removed.
FROM_NAMES, UNKNOWN = -1, -2
truth_choice = st.selectbox(
    "True class of these images (optional: to check the classifier)",
    [FROM_NAMES, *(card.id for card in ws.classes), UNKNOWN],
    format_func=lambda c: {
        FROM_NAMES: "from their folders or file names, where they match a class",
        UNKNOWN: "not known",
    }.get(c, f"all of them are {markdown_text(ws.names((c,))[0])}"),  # options read Markdown
    key="batch_truth",
    help="A zip with a folder per class (the folder named as the class: cat/1.jpg) or files "
    "named after their class (cat_3.jpg) give each image its true class. Then the results "
    "show the accuracy per class, the confusion matrix and the images the model was least "
    "sure about.",
)
if uploaded and st.button("Classify", key="batch_run", type="primary"):
    files, problems = batch.gather_files([(f.name, f.getvalue()) for f in uploaded])
    file_names, images, unusable = batch.decode_files(files)
    problems += unusable
    classifier = ui.adapted(ws, model_name)
    class_names = ws.names(classifier.classes)
    if truth_choice == FROM_NAMES:
        truth, _ = check.known_classes(file_names, class_names)
    else:
        chosen = classifier.classes.index(truth_choice) if truth_choice != UNKNOWN else None
        truth = [chosen] * len(images)
    bar = st.progress(0.0, text=f"Classifying {len(images)} image(s)...")
    rows = result_rows(
        classifier,
        class_names,
        file_names,
        images,
        on_progress=lambda done, total: bar.progress(
            done / total, text=f"Classified {done} of {total}"
        ),
        open_set=ws.open_set,
        true_classes=truth,
    )
    bar.empty()
    ws.cache["batch"] = {
        "rows": rows,
        "problems": problems,
        "support": ws.support_key(),
        "names": class_names,
        "truth": truth,
        # Thumbnails only where the check view shows them: images of a known class.
        "thumbnails": [
            viz.thumbnail_uri(image, THUMBNAIL_PX) if known is not None else None
            for image, known in zip(images, truth, strict=True)
        ],
    }
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
    to_csv(rows).encode("utf-8"),
    file_name="few-shot-lab-predictions.csv",
    mime="text/csv",
    key="batch_csv",
)
if any(known is not None for known in result.get("truth", ())):
    probabilities, predicted = answers(rows, result["names"])
    ui.check_view(
        f"batch_check_{ws.nonce('batch')}",
        result["names"],
        [row["file"] for row in rows],
        result["truth"],
        probabilities,
        predicted,
        result["thumbnails"],
        note=('Images answered "none of these" count with their nearest class.' if refused else ""),
    )
elif truth_choice == FROM_NAMES:
    st.caption(
        "To check the answers against the true classes, send a zip with a folder per class "
        "named as the class, files named after their class, or choose the class of all the "
        "images above."
    )
