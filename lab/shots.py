"""How many examples are enough: accuracy against the number of examples per class (shots).

For each shot count k (1, 2, ... up to one less than the smallest class has), the labelled
images are split R times at random: k images of every class to learn from (the support
set), all the others to score (the queries). Every learner adapts to each split's support
and is scored on its queries; the mean accuracy over the R splits with its 95% interval
(core.stats.mean_ci95) is one point of the learner's curve. With k images in the smallest
class the shots stop at k - 1, so every class keeps at least one query.

The accuracy is plain accuracy: the share of all the split's queries answered right. With
classes of different sizes the queries are unbalanced (a class of 10 images leaves 10 - k
queries, one of 4 leaves 4 - k), so a model that always answers one class scores that
class's share of the queries, not 1/N.

Every learner sees the same splits at each k (split r of shot count k depends on the seed
and k only), so the curves can be compared point by point. The splits reuse the same
images, so an interval says how much the result depends on which images are the examples,
not how the learners would do on new images.

Learners are lab.compare's (model_learner, scratch_learner): ProtoNet, MAML and the
from-scratch baseline on one footing.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch

from core import protonet
from core.constants import MIN_CLASSES
from core.stats import mean_ci95
from lab.compare import Learner, Predictor, Split, score_learner
from lab.toy.learn import one_torch_thread

if TYPE_CHECKING:
    from PIL import Image

    from core.learner import FewShotModel
    from core.settings import Settings

MAX_SPLITS = 200


@dataclass(frozen=True)
class ShotSettings:
    """How the labelled images are split at each shot count."""

    splits: int = 20  # R random splits per shot count
    max_shots: int | None = None  # highest shot count; None: as many as the classes allow
    seed: int = 0  # fixes every split (and the seeds given to the learners)

    def __post_init__(self) -> None:
        if not 2 <= self.splits <= MAX_SPLITS:
            raise ValueError(f"splits must be between 2 and {MAX_SPLITS}, got {self.splits}")
        if self.max_shots is not None and self.max_shots < 1:
            raise ValueError(f"max_shots must be at least 1, got {self.max_shots}")


@dataclass(frozen=True)
class ShotPoint:
    """One point of a curve: a learner's accuracy on each split at one shot count."""

    shots: int  # k examples per class in the support set
    accuracies: tuple[float, ...]  # (R,) share of the split's queries answered right
    queries: int  # held-out images scored in each split (the same in every split at k)

    @property
    def mean(self) -> float:
        return mean_ci95(self.accuracies)[0]

    @property
    def ci95(self) -> float:
        """Half-width of the 95% interval of the mean (1.96 standard errors)."""
        return mean_ci95(self.accuracies)[1]


@dataclass(frozen=True)
class ShotCurve:
    """A learner's accuracy against shots, one point per shot count, ascending."""

    name: str
    points: tuple[ShotPoint, ...]


def class_counts(labels: Sequence[Hashable]) -> dict[Hashable, int]:
    """Images per class, classes in order of first appearance."""
    counts: dict[Hashable, int] = {}
    for label in labels:
        counts[label] = counts.get(label, 0) + 1
    return counts


def shot_counts(labels: Sequence[Hashable], max_shots: int | None = None) -> list[int]:
    """1, 2, ... up to one less than the smallest class's images (capped at max_shots), so
    every class keeps at least one query; empty when a class has a single image."""
    counts = class_counts(labels)
    highest = min(counts.values()) - 1 if counts else 0
    if max_shots is not None:
        highest = min(highest, max_shots)
    return list(range(1, highest + 1))


def shortage(labels: Sequence[Hashable]) -> str | None:
    """Why no curve can be drawn from these labels, in words, or None when one can."""
    counts = class_counts(labels)
    if len(counts) < MIN_CLASSES:
        return f"It needs labelled images of at least {MIN_CLASSES} classes, got {len(counts)}."
    if min(counts.values()) < 2:
        return (
            "Every class needs at least 2 labelled images: 1 to learn from and 1 to score. "
            "Too few in: " + ", ".join(str(c) for c, n in counts.items() if n < 2) + "."
        )
    return None


def shot_splits(labels: Sequence[Hashable], shots: int, splits: int, seed: int = 0) -> list[Split]:
    """R random splits with exactly `shots` support images of every class; the rest queries.

    Args:
        labels: (M,) the class of every labelled image.
        shots: k, support images per class; every class needs at least k + 1 images.
        splits: R.
        seed: with k, fixes the splits (the same seed and k give the same splits).

    Returns:
        R splits; each holds every image once, in support or queries, indices ascending.
    """
    problem = shortage(labels)
    if problem is not None:
        raise ValueError(problem)
    counts = class_counts(labels)
    if shots < 1:
        raise ValueError(f"shots must be at least 1, got {shots}")
    short = [str(c) for c, n in counts.items() if n < shots + 1]
    if short:
        raise ValueError(
            f"{shots} shots need at least {shots + 1} images in every class (one left to "
            f"score); too few in: {', '.join(short)}"
        )
    members = [np.array([i for i, label in enumerate(labels) if label == c]) for c in counts]
    generator = np.random.default_rng([seed, shots])
    result = []
    for _ in range(splits):
        chosen = [generator.permutation(indices) for indices in members]
        support = np.sort(np.concatenate([c[:shots] for c in chosen]))
        queries = np.sort(np.concatenate([c[shots:] for c in chosen]))
        result.append(Split(support, queries))
    return result


@dataclass(frozen=True)
class _Prototypes:
    """ProtoNet's answers from embeddings: softmax(-scale * distance to each centre)."""

    prototypes: torch.Tensor  # (N, D)
    distance: str
    scale: float

    def predict_proba_tensors(self, embedded: torch.Tensor) -> np.ndarray:
        with torch.no_grad(), one_torch_thread():
            logits = protonet.logits(embedded, self.prototypes, self.distance, self.scale)
            return logits.softmax(-1).cpu().numpy()


def protonet_learner(
    name: str, model: FewShotModel, images: Sequence[Image.Image], settings: Settings
) -> Learner:
    """A ProtoNet model as a Learner that embeds every image once.

    lab.compare.model_learner would embed each split's images again; a curve has R splits at
    every shot count, and the embedding is by far the costliest part of ProtoNet. The
    answers are the same as model.adapt_tensors(..., settings=settings) gives (the embedding of an
    image does not depend on the others in its batch; tests/test_shots.py checks it).
    """
    if model.algorithm != "protonet":
        raise ValueError(f"protonet_learner needs a ProtoNet model, got {model.algorithm}")
    inputs = model.encode(images)
    with torch.no_grad():
        embedded = model.embed_tensors(inputs)
    # The model's own distance and logit scale for these settings, read from one adaptation.
    probe = model.adapt_tensors(inputs[:2], torch.tensor([0, 1]), (0, 1), settings=settings)
    distance, scale = probe.settings["distance"], probe.logit_scale

    def fit(x: torch.Tensor, y: torch.Tensor, classes: tuple, seed: int) -> Predictor:
        with one_torch_thread():  # tiny (S, D) tensors: a second thread only adds waiting
            return _Prototypes(protonet.prototypes(x, y, len(classes)), distance, scale)

    return Learner(name, embedded, fit)


def shot_curve(
    learner: Learner,
    labels: Sequence[Hashable],
    settings: ShotSettings = ShotSettings(),
    on_split: Callable[[int, int], None] | None = None,
) -> ShotCurve:
    """One learner's accuracy at every shot count the labels allow.

    Args:
        learner: name, (M, ...) encoded images and fit (lab.compare).
        labels: (M,) the class of every image.
        settings: R splits per shot count, the highest shot count, the seed.
        on_split: called with (shots, splits done at that shot count) after each split.

    Returns:
        The curve, one point per shot count.
    """
    problem = shortage(labels)
    if problem is not None:
        raise ValueError(problem)
    points = []
    for shots in shot_counts(labels, settings.max_shots):
        splits = shot_splits(labels, shots, settings.splits, settings.seed)

        def progress(done: int, shots: int = shots) -> None:
            if on_split is not None:
                on_split(shots, done)

        # Split r at k shots starts a seeded learner from seed 1000 k + r.
        score = score_learner(learner, labels, splits, settings.seed + 1000 * shots, progress)
        points.append(ShotPoint(shots, score.accuracies, len(splits[0].held_out)))
    return ShotCurve(learner.name, tuple(points))


def shot_curves(
    builders: Sequence[tuple[str, Callable[[], Learner]]],
    labels: Sequence[Hashable],
    settings: ShotSettings = ShotSettings(),
    on_progress: Callable[[str, int, float], None] | None = None,
) -> list[tuple[str, ShotCurve | Exception]]:
    """Every learner's curve on the same splits.

    A learner that fails (while encoding, adapting or predicting) gets its exception in
    place of a curve, so one broken learner never hides the others.

    Args:
        builders: (name, build) per learner; build() encodes the images and returns it.
        labels: (M,) the class of every labelled image.
        settings: R splits per shot count, the highest shot count, the seed.
        on_progress: called with a learner's name, the shot count it is at and the share of
            that learner's splits done (0 to 1).

    Returns:
        (name, ShotCurve or the exception) per learner, in the order given.
    """
    problem = shortage(labels)
    if problem is not None:
        raise ValueError(problem)
    total = len(shot_counts(labels, settings.max_shots)) * settings.splits
    results: list[tuple[str, ShotCurve | Exception]] = []
    for name, build in builders:
        done = 0

        def on_split(shots: int, _: int, name: str = name) -> None:
            nonlocal done
            done += 1
            if on_progress is not None:
                on_progress(name, shots, done / total)

        try:
            # Small tensors, many fits: on two shared cores a second torch thread only adds
            # waiting (a from-scratch fit took 47 s with two threads, 5.6 s with one, under
            # load; MAML 1.9 s and 0.7 s).
            with one_torch_thread():
                curve = shot_curve(build(), labels, settings, on_split)
        except Exception as error:  # returned, and shown beside the others' curves
            results.append((name, error))
            continue
        results.append((name, curve))
    return results
