"""The Classify many page's parts: classify a batch (lab.batch, core.rows) into the
session's cache, and show the table, the CSV and, where the true classes are known, the
check view (ui.check)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd
import streamlit as st

from ui.check import THUMBNAIL_PX, check_view
from ui.models import adapted
from ui.session_state import bump, nonce, session_cache

if TYPE_CHECKING:
    from lab.workspace import Workspace

# The true-class choices besides "all of class <id>" (class ids are positive): by id, so a
# choice never passes to another class when one is removed.
FROM_NAMES, UNKNOWN = -1, -2


def classify(ws: Workspace, model_name: str, uploaded: list, truth_choice: int) -> None:
    """Classify the uploaded images (and zips) and keep the rows in the session's cache;
    the uploader comes back empty."""
    from core.rows import result_rows
    from lab import batch, check, viz

    files, problems = batch.gather_files([(f.name, f.getvalue()) for f in uploaded])
    file_names, images, unusable = batch.decode_files(files)
    problems += unusable
    classifier = adapted(ws, model_name)
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
    session_cache()["batch"] = {
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
    bump("batch")  # the uploader comes back empty
    st.rerun()


def last_result() -> dict[str, Any] | None:
    """The last batch classified in this session, or None."""
    return session_cache().get("batch")


def show_result(ws: Workspace, result: dict[str, Any], truth_choice: int) -> None:
    """The table with its counts, the CSV download and the check view."""
    from core.rows import answers, to_csv
    from lab.labels import markdown_text

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
        return
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
            "probability": st.column_config.ProgressColumn(
                min_value=0, max_value=1, format="percent"
            ),
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
        check_view(
            f"batch_check_{nonce('batch')}",
            result["names"],
            [row["file"] for row in rows],
            result["truth"],
            probabilities,
            predicted,
            result["thumbnails"],
            note=(
                'Images answered "none of these" count with their nearest class.' if refused else ""
            ),
        )
    elif truth_choice == FROM_NAMES:
        st.caption(
            "To check the answers against the true classes, send a zip with a folder per class "
            "named as the class, files named after their class, or choose the class of all the "
            "images above."
        )
