"""The check view: a classifier's answers against the true classes of images (lab.check).

Accuracy per class, the confusion matrix in the class colours (click a cell, or choose it
below the matrix, to see its images) and the images the classifier was least sure about.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import TYPE_CHECKING

import streamlit as st

if TYPE_CHECKING:
    import numpy as np

    from lab.check import CheckResult

MAX_CELL_IMAGES = 60  # thumbnails shown for one cell; the rest are counted
THUMBNAIL_PX = 88


def _cell_text(result: CheckResult, class_names: Sequence[str], cell: tuple[int, int]) -> str:
    t, p = cell
    verdict = "right" if t == p else "wrong"
    return (
        f"true {class_names[t]} → answered {class_names[p]} "
        f"({result.confusion[t, p]} image(s), {verdict})"
    )


def cell_choices(result: CheckResult) -> list[tuple[int, int]]:
    """The cells that hold images: mistakes first (most images first), then the right
    answers in class order. The first is shown until another is chosen."""
    size = result.confusion.shape[0]
    right = [(c, c) for c in range(size) if result.confusion[c, c]]
    return result.mistakes() + right


def _gallery(pictures: Sequence[tuple[str, str, list[str]]], testid: str) -> None:
    """Pictures with captions in a wrapping row: (data URI, file name, caption lines).

    File names and class names are user text, escaped for HTML only: the gallery is one line
    starting with <div>, a raw HTML block that Markdown never reads (a Markdown escape would
    show its backslash; checked in Chromium).
    """
    figures = []
    for uri, name, lines in pictures:
        title = escape(name, quote=True)
        caption = "<br>".join(escape(line) for line in [name, *lines])
        figures.append(
            f'<figure style="margin:0;width:{THUMBNAIL_PX + 24}px;text-align:center">'
            f'<img src="{uri}" alt="{title}" title="{title}" '
            f'style="max-width:{THUMBNAIL_PX}px;max-height:{THUMBNAIL_PX}px;'
            f'border:1px solid #ddd">'
            f'<figcaption style="font-size:0.75rem;line-height:1.2;overflow-wrap:anywhere">'
            f"{caption}</figcaption></figure>"
        )
    st.markdown(
        f'<div data-testid="{testid}" style="display:flex;flex-wrap:wrap;gap:10px;'
        f'margin-bottom:1rem">{"".join(figures)}</div>',
        unsafe_allow_html=True,
    )


def check_view(
    key: str,
    class_names: Sequence[str],
    file_names: Sequence[str],
    true_classes: Sequence[int | None],
    probabilities: np.ndarray,
    predicted: Sequence[int],
    thumbnails: Sequence[str | None],
    note: str = "",
) -> None:
    """Show how the answers compare with the true classes, for the images whose class is known.

    Args:
        key: prefix of this view's widget keys; give a new one for new results, so a cell
            chosen in old results is not looked for in new ones.
        class_names: C names, in the classifier's class order.
        file_names: N image names.
        true_classes: N class indices, None where the true class is unknown (left out).
        probabilities: (N, C) the classifier's probabilities.
        predicted: N answered class indices (as shown in the results table).
        thumbnails: N data: URIs (lab.viz.thumbnail_uri), None where unknown.
        note: a sentence to add under the headline (the page's own text, as Markdown).
    """
    import numpy as np

    from lab.check import check
    from lab.viz import accuracy_bars, confusion_figure, percent
    from ui.widgets import chip

    known = [i for i, truth in enumerate(true_classes) if truth is not None]
    if not known:
        return
    result = check(
        [true_classes[i] for i in known],
        np.asarray(probabilities)[known],
        predicted=[predicted[i] for i in known],
    )
    st.subheader("Check: answers against the true classes")
    left_out = len(true_classes) - len(known)
    st.write(
        f"**{result.right} of {result.total} right ({percent(result.accuracy)})** on the "
        "images whose true class is known"
        + (f" ({left_out} image(s) of unknown class left out)." if left_out else ".")
        + (f" {note}" if note else "")
    )
    bars, matrix = st.columns([2, 3], gap="large")
    bars.plotly_chart(
        accuracy_bars(
            class_names,
            [c.right for c in result.per_class],
            [c.images for c in result.per_class],
        ),
        key=f"{key}_accuracy",
        width="stretch",
    )

    choices = cell_choices(result)
    cell_key = f"{key}_cell"
    if st.session_state.get(cell_key) not in choices:
        st.session_state[cell_key] = choices[0]

    def clicked() -> None:
        points = st.session_state[f"{key}_matrix"].selection.points
        if not points:
            return
        cell = (round(points[0]["y"]), round(points[0]["x"]))
        if cell in choices:
            st.session_state[cell_key] = cell
        else:  # an empty cell has no images to show: say so instead of doing nothing
            st.session_state[f"{key}_empty_cell"] = cell

    matrix.plotly_chart(
        confusion_figure(class_names, result.confusion, selected=st.session_state[cell_key]),
        key=f"{key}_matrix",
        on_select=clicked,
        selection_mode="points",
        width="stretch",
    )
    empty = st.session_state.pop(f"{key}_empty_cell", None)
    if empty is not None:
        t, p = empty
        matrix.markdown(
            f"No images here: no image of {chip(t, class_names[t])} was answered "
            f"{chip(p, class_names[p])}.",
            unsafe_allow_html=True,
        )
    cell = matrix.selectbox(
        "Show the images of",
        choices,
        format_func=lambda c: _cell_text(result, class_names, c),
        key=cell_key,
    )
    members = [known[i] for i in result.cells[cell[0]][cell[1]]]
    t, p = cell
    st.markdown(
        f"True {chip(t, class_names[t])}, answered {chip(p, class_names[p])}: "
        f"{len(members)} image(s), {'right' if t == p else 'wrong'}",
        unsafe_allow_html=True,
    )
    _gallery(
        [
            (thumbnails[i], file_names[i], [f"{percent(float(probabilities[i][cell[1]]))} sure"])
            for i in members[:MAX_CELL_IMAGES]
        ],
        "fsl-check-cell",
    )
    if len(members) > MAX_CELL_IMAGES:
        st.caption(f"and {len(members) - MAX_CELL_IMAGES} more (in the table above)")

    st.markdown("**Least sure**: the images whose answer had the lowest probability")
    _gallery(
        [
            (
                thumbnails[known[i]],
                file_names[known[i]],
                [
                    f"{class_names[int(result.predicted[i])]} · "
                    f"{percent(float(result.top_probability[i]))}",
                    "right"
                    if result.predicted[i] == true_classes[known[i]]
                    else f"wrong: true {class_names[true_classes[known[i]]]}",
                ],
            )
            for i in result.least_sure
        ],
        "fsl-check-least-sure",
    )
