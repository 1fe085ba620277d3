"""Take it with you: the taught classifier as an ONNX zip to download (core.export).

Exporting takes seconds for a photo model (its EfficientNet-Lite0 goes into the graph) and
the page reruns at every click, so the zip is made only when asked, then kept in this
session's cache (ui.state) for the classifier and class names it was made from. One zip at a
time (a photo model's is 15 MB): a new classifier or a renamed class asks again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import streamlit as st

from ui.session_state import session_cache

if TYPE_CHECKING:
    from core.learner import AdaptedClassifier
    from lab.workspace import Workspace

EXPORT_SLOT = ("onnx_export",)  # the session cache's key of the prepared zip


def prepared_export(ws: Workspace, classifier: AdaptedClassifier) -> dict[str, Any] | None:
    """The prepared zip for this classifier and its current class names, or None (a stale
    one, for another classifier or other names, is dropped)."""
    slot = session_cache().get(EXPORT_SLOT)
    if slot is None:
        return None
    if slot["classifier"] is classifier and slot["names"] == tuple(ws.names(classifier.classes)):
        return slot
    session_cache().pop(EXPORT_SLOT, None)
    return None


def prepare_export(ws: Workspace, classifier: AdaptedClassifier) -> dict[str, Any]:
    """Export the classifier (core.export) with the session's class names and keep the zip.

    Returns:
        {"classifier", "names", "zip": bytes, "onnx_bytes": the graph's size}.
    """
    from core.export import export_classifier

    names = tuple(ws.names(classifier.classes))
    export = export_classifier(classifier, names)
    slot = {
        "classifier": classifier,
        "names": names,
        "zip": export.zip_bytes(),
        "onnx_bytes": export.onnx_size,
    }
    session_cache()[EXPORT_SLOT] = slot
    return slot


def onnx_download(ws: Workspace, classifier: AdaptedClassifier) -> None:
    """An expander with "Prepare" and then "Download as ONNX", the size and what is inside."""
    from core.export import size_text
    from lab.labels import markdown_text

    inside = (
        "your class centres (prototypes)"
        if classifier.model.algorithm == "protonet"
        else "the weights MAML adapted to your examples"
    )
    with st.expander("Take it with you: download as ONNX"):
        st.write(
            "A zip with model.onnx, one graph from an image to the probability of each class "
            f"with {inside} inside, classes.json (your class names and how an image is "
            "prepared) and example.py, a short program that runs it with onnxruntime "
            'anywhere, without this app. Not included: "none of these": the exported '
            "classifier always answers one of your classes."
        )
        slot = prepared_export(ws, classifier)
        if slot is None:
            prepare = st.empty()  # emptied once prepared: Prepare and Download never show together
            if not prepare.button(
                "Prepare the ONNX download",
                key="onnx_prepare",
                help="Takes a second for handwriting, a few seconds for photos.",
            ):
                return
            prepare.empty()
            try:
                with st.spinner("Exporting the classifier to ONNX..."):
                    slot = prepare_export(ws, classifier)
            except (ValueError, RuntimeError) as error:
                st.error(f"The classifier could not be exported: {markdown_text(str(error))}")
                return
        size = slot["onnx_bytes"]
        st.download_button(
            "Download as ONNX (zip)",
            data=slot["zip"],
            file_name=f"{classifier.model.name}-onnx.zip",
            mime="application/zip",
            key="onnx_download",
            on_click="ignore",  # downloading needs no rerun
        )
        st.caption(
            f"model.onnx is {size_text(size)} ({size:,} bytes); the zip is "
            f"{size_text(len(slot['zip']))}. Same probabilities as here, to 0.0001."
        )
