"""Classification results as rows: one per image, as a table and as CSV.

The app's Classify many page and `python -m core.predict --csv` write the same columns:

    file, predicted, probability, p(<class>) for each class, for ProtoNet distance(<class>)
    for each class (the model's own distance to that class centre), and with "none of
    these" on (core.open_set) the columns "none of these" and "novelty". When the true class
    of some images is known, a "true class" column follows "file".
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from PIL import Image

    from core.learner import AdaptedClassifier

CHUNK = 32  # images per forward pass (and per progress update)


def result_rows(
    classifier: AdaptedClassifier,
    class_names: Sequence[str],
    names: Sequence[str],
    images: Sequence[Image.Image],
    on_progress: Callable[[int, int], None] | None = None,
    open_set: bool = False,
    true_classes: Sequence[int | None] | None = None,
) -> list[dict[str, str | float | bool]]:
    """One row per image: file, predicted, probability, p(<class>)..., and for ProtoNet
    distance(<class>)... (class_names[i] names classifier.classes[i]). With `open_set`
    and a threshold that applies (core.open_set.threshold_for), also "none of these"
    (True when the image is farther from every class than the threshold) and "novelty"
    (its score); "predicted" stays the nearest class. With `true_classes` (an index into
    class_names or None per image, e.g. from lab.check.known_classes) holding at least one
    class, a "true class" column follows "file" ("" where unknown).

    on_progress(done, total) is called after each chunk of CHUNK images.
    """
    from core.open_set import novelty, threshold_for

    if len(class_names) != len(classifier.classes):
        raise ValueError(
            f"got {len(class_names)} class names for {len(classifier.classes)} classes"
        )
    if true_classes is not None and len(true_classes) != len(images):
        raise ValueError(f"got {len(true_classes)} true classes for {len(images)} images")
    with_truth = true_classes is not None and any(c is not None for c in true_classes)
    with_distances = classifier.model.algorithm == "protonet"
    threshold = threshold_for(classifier) if open_set else None
    rows: list[dict[str, str | float | bool]] = []
    for start in range(0, len(images), CHUNK):
        inputs = classifier.model.encode(list(images[start : start + CHUNK]))
        probabilities = classifier.predict_proba_tensors(inputs)
        distances = classifier.distances_tensors(inputs) if with_distances else None
        scores = novelty(classifier, inputs) if threshold is not None else None
        for offset, row in enumerate(probabilities):
            best = int(row.argmax())
            record: dict[str, str | float] = {"file": names[start + offset]}
            if with_truth:
                truth = true_classes[start + offset]
                record["true class"] = "" if truth is None else class_names[truth]
            record |= {
                "predicted": class_names[best],
                "probability": round(float(row[best]), 6),
            }
            for name, p in zip(class_names, row, strict=True):
                record[f"p({name})"] = round(float(p), 6)
            if distances is not None:
                for name, d in zip(class_names, distances[offset], strict=True):
                    record[f"distance({name})"] = round(float(d), 6)
            if scores is not None:
                record["none of these"] = bool(scores[offset] > threshold)
                record["novelty"] = round(float(scores[offset]), 6)
            rows.append(record)
        if on_progress is not None:
            on_progress(min(start + CHUNK, len(images)), len(images))
    return rows


def answers(
    rows: Sequence[dict[str, str | float | bool]], class_names: Sequence[str]
) -> tuple[np.ndarray, list[int]]:
    """From result_rows' rows back to numbers: the (N, C) probabilities (p(<class>) columns,
    rounded as in the table) and the N answered class indices (the "predicted" column), so
    a check (lab.check) counts exactly the answers the table shows.

    Raises:
        ValueError: a row lacks a class's probability or answers a class not in class_names.
    """
    try:
        probabilities = np.array(
            [[float(row[f"p({name})"]) for name in class_names] for row in rows], dtype=float
        ).reshape(len(rows), len(class_names))
        predicted = [list(class_names).index(row["predicted"]) for row in rows]
    except (KeyError, ValueError) as error:
        raise ValueError(f"the rows do not fit the classes {list(class_names)}: {error}") from None
    return probabilities, predicted


def to_csv(rows: Sequence[dict[str, str | float | bool]]) -> str:
    """The rows as CSV text with a header line (columns in the rows' order). Text cells and
    headers that a spreadsheet would run as a formula (csv_cell) get a leading "'"; numbers
    are written as numbers."""
    if not rows:
        return ""
    buffer = io.StringIO()
    # Lines end in CRLF (RFC 4180): the writer then quotes a cell holding a carriage
    # return, which with "\n" endings it left bare (a spreadsheet would split the row there).
    writer = csv.writer(buffer, lineterminator="\r\n")
    columns = list(rows[0])
    writer.writerow([csv_cell(column) for column in columns])
    for row in rows:
        writer.writerow([csv_cell(row[column]) for column in columns])
    return buffer.getvalue()


# What a spreadsheet reads as the start of a formula: =, +, - and @, and a leading tab or
# carriage return, after which some spreadsheets still read the next character as one
# (OWASP, "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: str | float | bool) -> str | float | bool:
    """A cell as every CSV of the app and the CLIs writes it: text that a spreadsheet
    would run as a formula gets a leading "'"; numbers and other text as they are."""
    if isinstance(value, str) and value[:1] in FORMULA_STARTS:
        return "'" + value
    return value
