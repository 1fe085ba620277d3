"""Checking a classifier on images whose true class is known: per-class accuracy, the
confusion matrix with the images behind each cell, and the images it was least sure about.

Also here: which class an image is known to be, from the folders it came in (a zip of
folders, one per class) or from its file name.

"Least sure" means the lowest top probability: the probability of the class the classifier
answered, the number shown in the Classify many table's "probability" column. (The margin to
the runner-up would rank two-class answers the same way; with more classes the top
probability says more plainly how sure the answer was.)
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath

import numpy as np

from lab.labels import label_key

LEAST_SURE = 8  # images in the "least sure" list by default
_SEPARATORS = re.compile(r"[\s_\-.]+")


@dataclass(frozen=True)
class ClassAccuracy:
    """How one true class fared."""

    images: int  # check images of this class
    right: int  # of them, answered with this class

    @property
    def accuracy(self) -> float | None:
        """right / images; None for a class with no check image."""
        return self.right / self.images if self.images else None


@dataclass(frozen=True)
class CheckResult:
    """A classifier's answers compared with the true classes of N check images, C classes.

    Attributes:
        confusion: (C, C) counts; row = true class, column = answered (predicted) class.
        cells: cells[t][p] = the indices (into the N images, ascending) in confusion[t, p].
        per_class: C ClassAccuracy, in class order.
        least_sure: indices of the k images with the lowest top probability, least sure
            first (ties: the earlier image first).
        top_probability: (N,) the probability of the answered class, per image.
        predicted: (N,) the answered class index, per image.
    """

    confusion: np.ndarray
    cells: tuple[tuple[tuple[int, ...], ...], ...]
    per_class: tuple[ClassAccuracy, ...]
    least_sure: tuple[int, ...]
    top_probability: np.ndarray
    predicted: np.ndarray

    @property
    def right(self) -> int:
        """Images answered with their true class (the confusion matrix's diagonal)."""
        return int(np.trace(self.confusion))

    @property
    def total(self) -> int:
        return int(self.confusion.sum())

    @property
    def accuracy(self) -> float:
        return self.right / self.total

    def mistakes(self) -> list[tuple[int, int]]:
        """The off-diagonal cells that hold images, most images first (then row, column)."""
        size = self.confusion.shape[0]
        found = [
            (t, p) for t in range(size) for p in range(size) if t != p and self.confusion[t, p]
        ]
        return sorted(found, key=lambda cell: (-int(self.confusion[cell]), cell))


def check(
    true_classes: Sequence[int],
    probabilities: np.ndarray,
    predicted: Sequence[int] | None = None,
    least_sure: int = LEAST_SURE,
) -> CheckResult:
    """Compare a classifier's answers with the true classes.

    Args:
        true_classes: (N,) the true class index of each image, in 0..C-1.
        probabilities: (N, C) the classifier's probabilities, one row per image.
        predicted: (N,) the answered class of each image; by default the row's argmax. Pass
            the answers already shown (e.g. a table's "predicted" column) so the check counts
            exactly those.
        least_sure: k, how many images to list as least sure (fewer when N < k).

    Returns:
        A CheckResult.

    Raises:
        ValueError: no images, shapes that disagree, or a class index outside 0..C-1.
    """
    probabilities = np.asarray(probabilities, dtype=float)
    if probabilities.ndim != 2 or probabilities.shape[1] < 1:
        raise ValueError(
            f"probabilities must be (images, classes), got shape {probabilities.shape}"
        )
    count, classes = probabilities.shape
    truth = np.asarray(true_classes, dtype=int).reshape(-1)
    answers = (
        probabilities.argmax(1) if predicted is None else np.asarray(predicted, int).reshape(-1)
    )
    if count == 0:
        raise ValueError("there is no image to check")
    for name, values in (("true classes", truth), ("predicted classes", answers)):
        if values.size != count:
            raise ValueError(f"{values.size} {name} for {count} rows of probabilities")
        outside = values[(values < 0) | (values >= classes)]
        if outside.size:
            raise ValueError(
                f"{name} must be class indices 0 to {classes - 1}, got {int(outside[0])}"
            )
    if least_sure < 0:
        raise ValueError(f"least_sure must be 0 or more, got {least_sure}")
    confusion = np.zeros((classes, classes), dtype=int)
    np.add.at(confusion, (truth, answers), 1)
    cells = tuple(
        tuple(tuple(np.flatnonzero((truth == t) & (answers == p)).tolist()) for p in range(classes))
        for t in range(classes)
    )
    per_class = tuple(
        ClassAccuracy(images=int(confusion[c].sum()), right=int(confusion[c, c]))
        for c in range(classes)
    )
    top = probabilities[np.arange(count), answers]
    order = np.argsort(top, kind="stable")  # stable: ties keep the images' order
    return CheckResult(
        confusion=confusion,
        cells=cells,
        per_class=per_class,
        least_sure=tuple(order[:least_sure].tolist()),
        top_probability=top,
        predicted=answers,
    )


def _normalised(text: str) -> str:
    """Compared form of a name: label_key, with _ - . and spaces all one separator."""
    return _SEPARATORS.sub(" ", label_key(text)).strip()


def known_classes(
    file_names: Sequence[str], class_names: Sequence[str]
) -> tuple[list[int | None], list[str]]:
    """The true class of each file, from its folders or else its file name.

    A folder whose name is a class's name (case, spaces, _ - and . alike; a zip's own name
    counts as a folder, without ".zip") gives that class; the folder nearest the file wins,
    so "animals.zip/cat/1.jpg" is cat. A file in no such folder is of the class whose name
    begins its file name ("Cat_3.jpg" is cat; the longest name wins: "catfish1.jpg" is
    catfish, not cat).

    Args:
        file_names: M names, paths inside an upload separated by "/" (lab.batch names a
            zip's member "<zip name>/<path inside>").
        class_names: C class names.

    Returns:
        (classes, how): M class indices, None where nothing matches; and M words, "folder",
        "file name" or "" (unknown), saying where each came from.
    """
    names = [_normalised(name) for name in class_names]
    exact = {name: index for index, name in reversed(list(enumerate(names))) if name}
    found: list[int | None] = []
    how: list[str] = []
    for file_name in file_names:
        path = PurePosixPath(file_name)
        folders = [
            part[:-4] if part.casefold().endswith(".zip") else part
            for part in reversed(path.parts[:-1])
        ]
        index = next(
            (exact[key] for key in map(_normalised, folders) if key in exact),
            None,
        )
        if index is not None:
            found.append(index)
            how.append("folder")
            continue
        stem = _normalised(path.stem)
        fits = [(len(name), i) for i, name in enumerate(names) if name and stem.startswith(name)]
        if fits:
            found.append(max(fits, key=lambda fit: (fit[0], -fit[1]))[1])
            how.append("file name")
        else:
            found.append(None)
            how.append("")
    return found, how
