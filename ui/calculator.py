"""How it works's distance calculator: the distances from x to two class centres and
ProtoNet's probabilities over them (lab.embedding), one row per distance."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from lab.embedding import positive_multiple, softmax_over_distances

DISTANCE_FORMULAS = {
    "euclidean": "Euclidean  ||x - p||",
    "sq_euclidean": "squared Euclidean  ||x - p||²",
    "cosine": "cosine distance  1 - x·p / (||x|| ||p||)",
}


def distance_table(vectors: dict[str, np.ndarray]) -> None:
    """The table for x, p1 and p2 (each of shape (D,)), with a note when p2 is a multiple
    of p1; an error names a distance that cannot be computed."""
    centres = np.stack([vectors["p1"], vectors["p2"]])
    rows = []
    for distance, label in DISTANCE_FORMULAS.items():
        try:
            d, p, nearest = softmax_over_distances(vectors["x"], centres, distance)
        except ValueError as error:  # values it cannot compute: said, never shown blank
            st.error(f"{label}: {error}.")
            continue
        rows.append(
            {
                "distance": label,
                "to p1": d[0],
                "to p2": d[1],
                "P(class 1)": p[0],
                "P(class 2)": p[1],
                "nearest": f"class {nearest + 1}",
            }
        )
    number = st.column_config.NumberColumn(format="%.4f")
    percent = st.column_config.ProgressColumn(format="percent", min_value=0.0, max_value=1.0)
    st.dataframe(
        pd.DataFrame(
            rows, columns=["distance", "to p1", "to p2", "P(class 1)", "P(class 2)", "nearest"]
        ),
        hide_index=True,
        key="calc_table",
        column_config={
            "to p1": number,
            "to p2": number,
            "P(class 1)": percent,
            "P(class 2)": percent,
        },
    )
    st.caption(
        "P(class k) is the ProtoNet formula above, exp(-d(x, p_k)) / (exp(-d(x, p1)) + "
        "exp(-d(x, p2))), with the distance of each row; the nearest centre gets the "
        "highest probability. The model scales the cosine distance up first (it lies "
        "between 0 and 2), so its probabilities there are more confident than these."
    )
    k = positive_multiple(vectors["p1"], vectors["p2"])
    if k is not None and not np.isclose(k, 1.0):
        st.caption(
            f"Here p2 = {k:.3g} x p1: it points the same way as p1, so the cosine "
            "distance (which ignores length) is the same for both, while the Euclidean "
            "distances tell them apart."
        )
