"""Compare learners over many random splits of the user's own labelled images.

One split of a few images says little: on an easy set every learner scores 5 of 5. Here the
labelled images (examples and checked images with a known class) are split R times at
random; each time a few images per class are held out, every learner adapts to the rest and
is scored on the held-out ones. The mean accuracy over the splits, with its 95% interval
(core.stats.mean_ci95), shows whether a gap between two learners is larger than the luck of
one split. Every learner sees the same splits, so the gap between two of them is measured
split by split (paired_gap).

The splits share images, so the interval says how much the result depends on which of
these images are held out, not how the learners would do on other images.

Also here: one learner's answers on the checked images, scored against their true classes
(AnswerScore), and setting the true class of many checked images at once from their file names.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, replace
from pathlib import PurePath
from typing import TYPE_CHECKING, Protocol

import numpy as np
import plotly.graph_objects as go
import torch

from core.constants import MIN_CLASSES
from core.stats import mean_ci95
from lab.baseline import BaselineConfig, fit_baseline
from lab.style import PALETTE, PLOT_LAYOUT

if TYPE_CHECKING:
    from PIL import Image

    from core.encoders import Encoder
    from core.learner import FewShotModel
    from core.settings import Settings
    from lab.workspace import Workspace


class Predictor(Protocol):
    """What a learner returns after adapting: AdaptedClassifier and BaselineClassifier."""

    def predict_proba_tensors(self, inputs: torch.Tensor) -> np.ndarray: ...


# (support inputs (S, ...), support labels (S,) indices into classes, classes, seed) -> Predictor
Fit = Callable[[torch.Tensor, torch.Tensor, tuple[Hashable, ...], int], Predictor]


@dataclass(frozen=True)
class Learner:
    """One learner to compare: its name, every labelled image encoded for it, and how it
    adapts to a support set.

    Attributes:
        name: shown in tables and figures, e.g. "ProtoNet".
        inputs: (M, ...) every labelled image, encoded by this learner's encoder, in the
            order of the labels given to score_learner.
        fit: (support inputs, support label indices, classes, seed) -> a Predictor. The seed
            differs per split, for learners that start from random weights.
    """

    name: str
    inputs: torch.Tensor
    fit: Fit


@dataclass(frozen=True)
class SplitSettings:
    """How the labelled images are split."""

    splits: int = 10  # R random splits
    held_out: int = 1  # images per class held out (scored) in each split
    seed: int = 0  # fixes every split (and the seeds given to the learners)

    def __post_init__(self) -> None:
        if not 2 <= self.splits <= 200:
            raise ValueError(f"splits must be between 2 and 200, got {self.splits}")
        if not 1 <= self.held_out <= 50:
            raise ValueError(f"held_out must be between 1 and 50, got {self.held_out}")


@dataclass(frozen=True)
class Split:
    support: np.ndarray  # (S,) indices of the images to adapt to
    held_out: np.ndarray  # (Q,) indices of the images to score


@dataclass(frozen=True)
class LearnerScore:
    """A learner's accuracy on each split, and their mean with its 95% interval."""

    name: str
    accuracies: tuple[float, ...]  # (R,) fraction of the held-out images right, per split

    @property
    def mean(self) -> float:
        return mean_ci95(self.accuracies)[0]

    @property
    def ci95(self) -> float:
        """Half-width of the 95% interval of the mean (1.96 standard errors)."""
        return mean_ci95(self.accuracies)[1]


def too_few_images(labels: Sequence[Hashable], held_out: int) -> list[Hashable]:
    """The classes with fewer than held_out + 1 images (one is left to adapt to), in order."""
    counts: dict[Hashable, int] = {}
    for label in labels:
        counts[label] = counts.get(label, 0) + 1
    return [label for label, count in counts.items() if count < held_out + 1]


def random_splits(labels: Sequence[Hashable], settings: SplitSettings) -> list[Split]:
    """R random splits: in each, `held_out` images of every class are held out.

    Args:
        labels: (M,) the class of every labelled image.
        settings: R, the images held out per class, the seed.

    Returns:
        R splits; each holds every image once, in support or held out, indices ascending.
    """
    classes = tuple(dict.fromkeys(labels))
    if len(classes) < MIN_CLASSES:
        raise ValueError(f"need images of at least {MIN_CLASSES} classes, got {len(classes)}")
    short = too_few_images(labels, settings.held_out)
    if short:
        raise ValueError(
            f"every class needs at least {settings.held_out + 1} labelled images to hold "
            f"{settings.held_out} out; too few: {', '.join(map(str, short))}"
        )
    members = [np.array([i for i, label in enumerate(labels) if label == c]) for c in classes]
    generator = np.random.default_rng(settings.seed)
    splits = []
    for _ in range(settings.splits):
        chosen = [generator.permutation(indices) for indices in members]
        held = np.sort(np.concatenate([c[: settings.held_out] for c in chosen]))
        support = np.sort(np.concatenate([c[settings.held_out :] for c in chosen]))
        splits.append(Split(support, held))
    return splits


def score_learner(
    learner: Learner,
    labels: Sequence[Hashable],
    splits: Sequence[Split],
    seed: int = 0,
    on_split: Callable[[int], None] | None = None,
) -> LearnerScore:
    """Adapt the learner to each split's support images and score it on the held-out ones.

    Args:
        learner: name, (M, ...) encoded images and fit.
        labels: (M,) the class of every image; classes are ordered by first appearance.
        splits: from random_splits(labels, ...).
        seed: split r gives the learner seed + r.
        on_split: called with r + 1 after split r is scored (progress).

    Returns:
        The accuracy on each split.
    """
    if learner.inputs.shape[0] != len(labels):
        raise ValueError(f"{learner.inputs.shape[0]} encoded images but {len(labels)} labels")
    classes = tuple(dict.fromkeys(labels))
    targets = torch.tensor([classes.index(label) for label in labels])
    accuracies = []
    for r, split in enumerate(splits):
        support = torch.from_numpy(split.support)
        held = torch.from_numpy(split.held_out)
        predictor = learner.fit(learner.inputs[support], targets[support], classes, seed + r)
        predicted = predictor.predict_proba_tensors(learner.inputs[held]).argmax(1)
        accuracies.append(float((predicted == targets[held].numpy()).mean()))
        if on_split is not None:
            on_split(r + 1)
    return LearnerScore(learner.name, tuple(accuracies))


def model_learner(
    name: str, model: FewShotModel, images: Sequence[Image.Image], settings: Settings
) -> Learner:
    """A meta-trained model as a Learner: the images through its own encoder, and
    model.adapt_tensors(..., settings=settings) on each split (ProtoNet and MAML use no
    seed)."""

    def fit(x: torch.Tensor, y: torch.Tensor, classes: tuple, seed: int) -> Predictor:
        return model.adapt_tensors(x, y, classes, settings=settings)

    return Learner(name, model.encode(images), fit)


def scratch_learner(
    name: str, encode: Encoder, images: Sequence[Image.Image], config: BaselineConfig
) -> Learner:
    """The from-scratch baseline (lab.baseline) as a Learner, on the inputs `encode` gives
    (character images, or a photo model's frozen features); split r starts from the random
    weights of seed r (plus the splits' seed)."""

    def fit(x: torch.Tensor, y: torch.Tensor, classes: tuple, seed: int) -> Predictor:
        return fit_baseline(x, y, classes, replace(config, seed=seed))

    return Learner(name, encode(images), fit)


def score_learners(
    builders: Sequence[tuple[str, Callable[[], Learner]]],
    labels: Sequence[Hashable],
    settings: SplitSettings,
    on_progress: Callable[[str, float], None] | None = None,
) -> list[tuple[str, LearnerScore | Exception]]:
    """Score every learner on the same random splits of the labelled images.

    A learner that fails (while encoding, adapting or predicting) gets its exception in
    place of a score, so one broken learner never hides the others' results.

    Args:
        builders: (name, build) per learner; build() encodes the images and returns it.
        labels: (M,) the class of every labelled image.
        settings: R, the images held out per class, the seed.
        on_progress: called with a learner's name and the fraction of all the work done.

    Returns:
        (name, LearnerScore or the exception) per learner, in the order given.
    """
    splits = random_splits(labels, settings)
    total = len(builders) * len(splits)
    results: list[tuple[str, LearnerScore | Exception]] = []
    for number, (name, build) in enumerate(builders):

        def on_split(done: int, number: int = number, name: str = name) -> None:
            if on_progress is not None:
                on_progress(name, (number * len(splits) + done) / total)

        try:
            score = score_learner(build(), labels, splits, settings.seed, on_split)
        except Exception as error:  # returned, and shown beside the others' scores
            results.append((name, error))
            continue
        results.append((name, score))
    return results


def paired_gap(first: LearnerScore, second: LearnerScore) -> tuple[float, float]:
    """Mean and 95% half-width of first - second, split by split (same splits for both)."""
    if len(first.accuracies) != len(second.accuracies):
        raise ValueError("the two scores come from different numbers of splits")
    return mean_ci95([a - b for a, b in zip(first.accuracies, second.accuracies, strict=True)])


def splits_figure(scores: Sequence[LearnerScore]) -> go.Figure:
    """One bar per learner: mean accuracy over the splits (%) with its 95% interval, and the
    accuracy of every split as dots over it."""
    names = [score.name for score in scores]
    means = [100 * score.mean for score in scores]
    figure = go.Figure()
    figure.add_bar(
        x=names,
        y=means,
        name="mean over the splits",
        marker_color=[PALETTE[i % len(PALETTE)] for i in range(len(scores))],
        error_y={
            "type": "data",
            "array": [100 * score.ci95 for score in scores],
            "visible": True,
            "color": "#333333",
            "thickness": 2,
        },
        text=[f"{m:.0f}%" for m in means],
        textposition="inside",
        customdata=[100 * score.ci95 for score in scores],
        hovertemplate="%{x}: %{y:.1f}% (95% interval ± %{customdata:.1f})<extra></extra>",
    )
    figure.add_scatter(
        x=[score.name for score in scores for _ in score.accuracies],
        y=[100 * a for score in scores for a in score.accuracies],
        mode="markers",
        name="one split",
        marker={"color": "#333333", "size": 6, "opacity": 0.45, "symbol": "circle-open"},
        hovertemplate="%{x}, one split: %{y:.0f}%<extra></extra>",
    )
    figure.update_layout(
        **PLOT_LAYOUT,
        height=340,
        title="Accuracy on held-out images (%): mean and 95% interval over the splits",
        yaxis={"range": [0, 105]},
        legend={"orientation": "h", "y": -0.15},
    )
    return figure


_SEPARATORS = re.compile(r"[\s_\-.]+")


def _normalised(text: str) -> str:
    return _SEPARATORS.sub(" ", text.casefold()).strip()


def classes_from_file_names(
    file_names: Sequence[str], class_names: Sequence[str]
) -> list[int | None]:
    """The class each file is named after: the class whose name begins the file name, or
    else the name of a folder it is in (nearest first).

    Case is ignored, and spaces, underscores, hyphens and dots count as the same separator,
    so "Cat_3.jpg" is "cat", "class_2-b.png" is "class 2" and "photos/cat/IMG_1.jpg" is
    "cat". The suffix is dropped. When several names fit, the longest wins ("catfish1.jpg"
    is "catfish", not "cat").

    Args:
        file_names: M file names (or paths).
        class_names: N class names.

    Returns:
        M indices into class_names, None where no class name fits.
    """
    names = [_normalised(name) for name in class_names]

    def match(text: str) -> int | None:
        text = _normalised(text)
        fits = [(len(name), i) for i, name in enumerate(names) if name and text.startswith(name)]
        return max(fits, key=lambda fit: (fit[0], -fit[1]))[1] if fits else None

    found: list[int | None] = []
    for file_name in file_names:
        path = PurePath(file_name)
        candidates = (match(part) for part in (path.stem, *reversed(path.parts[:-1])))
        found.append(next((index for index in candidates if index is not None), None))
    return found


# --- one learner's answers on the checked images ---------------------------------------------


@dataclass(frozen=True)
class AnswerScore:
    """One learner's answers on the Q checked images, against the classes the user set.

    Attributes:
        predicted: (Q,) index into the class order of each image's most probable class.
        refused: (Q,) whether "none of these" was answered (it then counts as wrong, as on
            Teach's check).
        right: (Q,) True/False where the true class is known, else None.
    """

    predicted: tuple[int, ...]
    refused: tuple[bool, ...]
    right: tuple[bool | None, ...]

    @property
    def correct(self) -> int:
        return sum(1 for r in self.right if r)

    @property
    def known(self) -> int:
        """How many images have a known true class (the accuracy's denominator)."""
        return sum(1 for r in self.right if r is not None)


def score_answers(
    probabilities: np.ndarray,
    class_ids: Sequence[Hashable],
    truth: Sequence[Hashable | None],
    far: Sequence[bool] | None = None,
) -> AnswerScore:
    """Score (Q, N) probabilities, columns in `class_ids` order, against `truth` (Q class ids,
    None where unknown); `far` (Q,) marks the images answered "none of these"."""
    predicted = tuple(int(k) for k in np.asarray(probabilities).argmax(1))
    refused = tuple(far is not None and bool(far[i]) for i in range(len(predicted)))
    right = tuple(
        None if t is None else (class_ids[k] == t and not no)
        for k, t, no in zip(predicted, truth, refused, strict=True)
    )
    return AnswerScore(predicted, refused, right)


def in_class_order(
    probabilities: np.ndarray, classes: Sequence[Hashable], class_ids: Sequence[Hashable]
) -> np.ndarray:
    """(Q, N) probabilities whose columns follow `classes` (a classifier's order), reordered
    to follow `class_ids` (the page's order)."""
    return probabilities[:, [list(classes).index(i) for i in class_ids]]


def labelled_images(ws: Workspace) -> tuple[list[Image.Image], list[int], list[int]]:
    """(images, class ids, image ids) of every labelled image: the examples, then the checked
    images whose true class is set."""
    images, labels = ws.support()
    ids = [item.id for card in ws.classes for item in card.items]
    class_ids = {card.id for card in ws.classes}
    for query in ws.queries:
        if query.label in class_ids:
            images.append(query.image)
            labels.append(query.label)
            ids.append(query.id)
    return images, labels, ids
