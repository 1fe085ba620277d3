"""Which examples matter: every support example left out in turn (issue 30, item 2).

For each example i of a lesson, the classifier is adapted again without it, and we record
  - how the rest of the lesson classifies i (leave-one-out): an example that the rest calls
    another class with high probability is a suspected mislabel;
  - how the check images' probabilities move, and how many of their verdicts change;
  - how the other examples' probabilities move.

ProtoNet needs no re-adaptation: a class centre is a mean, so leaving example i of class c
out changes one centre in closed form, (n_c * centre_c - e_i) / (n_c - 1), and every image
is embedded once. Leaving two examples out (i, and j to classify j by the rest) is the same
update twice. MAML re-adapts once per left-out example (S adaptations), reporting progress.

"Helpful" is defined once (helpfulness()): how much leaving the example out lowers the check
images' mean true-class probability, or, when no check image has a known class, the other
examples' mean true-class probability (ProtoNet: each classified by the rest; MAML: by the
model adapted without the example). A class left with no example has probability 0.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image

from core import protonet
from core.constants import MIN_CLASSES
from core.learner import AdaptedClassifier, FewShotModel, ProtoTrace
from core.settings import Settings

MISLABEL_PROBABILITY = 0.8  # the rest of the lesson must call it another class this surely


@dataclass(frozen=True)
class Suspect:
    """An example the rest of the lesson calls another class: its index in the support set,
    the class index the rest gives it, and that probability."""

    index: int
    looks_like: int
    probability: float


@dataclass(frozen=True)
class LeaveOneOut:
    """Every example of a lesson left out in turn. S examples, N classes, Q check images.

    Attributes:
        labels: (S,) class index of each example.
        alone: (S, N) each example's log-probabilities, classified by the rest of the lesson.
        checks_all: (Q, N) the check images' log-probabilities with every example.
        checks_without: (S, Q, N) the same with example i left out.
        check_truth: (Q,) the check images' class indices, -1 where unknown.
        others_all: (S, N) each example's log-probabilities in the reference view (ProtoNet:
            classified by the rest; MAML: by the model adapted on everything).
        others_without: (S, S, N) example j's log-probabilities with example i also left out
            (row i); NaN where j == i.

    Log-probabilities, not probabilities: ProtoNet's are often 1.0 to float precision, so
    only the log-odds still show what an example changes. A class with no example left has
    log-probability -inf.
    """

    algorithm: str
    labels: np.ndarray
    alone: np.ndarray
    checks_all: np.ndarray
    checks_without: np.ndarray
    check_truth: np.ndarray
    others_all: np.ndarray
    others_without: np.ndarray

    @property
    def measure(self) -> str:
        """What helpfulness() is measured on: "checks" (check images of known class) or
        "others" (the other examples)."""
        return "checks" if bool((self.check_truth >= 0).any()) else "others"

    @property
    def alone_probabilities(self) -> np.ndarray:
        """(S, N) each example's probabilities, classified by the rest of the lesson."""
        return np.exp(self.alone)

    def verdict_changes(self) -> np.ndarray:
        """(S,) how many check images change verdict when example i is left out."""
        if self.checks_all.shape[0] == 0:
            return np.zeros(len(self.labels), dtype=int)
        before = self.checks_all.argmax(1)
        return (self.checks_without.argmax(2) != before[None, :]).sum(1)

    def others_move(self) -> np.ndarray:
        """(S,) the mean change of the other examples' true-class probability when example i
        is left out (negative: the others become less sure of their class)."""
        before = np.exp(_true(self.others_all, self.labels))  # (S,)
        after = np.exp(_true(self.others_without, self.labels))  # (S, S)
        return _mean_off_diagonal(after - before[None, :])

    def helpfulness(self) -> np.ndarray:
        """(S,) how much leaving example i out lowers the mean margin of the check images of
        known class (measure "checks"), or else of the other examples ("others"); an image's
        margin is its true class's log-probability minus the highest other class's (its
        log-odds lead, > 0 when the verdict is right). Positive: the example helps; negative:
        the lesson is better without it; +inf: it is the only example of a class a check
        image belongs to."""
        if self.measure == "others":
            before = _margins(self.others_all, self.labels)  # (S,)
            after = _margins(self.others_without, self.labels)  # (S, S)
            return -_mean_off_diagonal(after - before[None, :])
        known = self.check_truth >= 0
        truth = self.check_truth[known]
        before = _margins(self.checks_all[known], truth).mean()
        with np.errstate(invalid="ignore"):
            return before - _margins(self.checks_without[:, known], truth).mean(1)

    def suspects(self, threshold: float = MISLABEL_PROBABILITY) -> list[Suspect]:
        """Examples the rest of the lesson calls another class with probability >= threshold,
        most sure first. An example alone in its class is never flagged: without it the
        rest holds nothing of its class to compare with."""
        counts = np.bincount(self.labels, minlength=self.alone.shape[1])
        probabilities = self.alone_probabilities
        found = []
        for i, label in enumerate(self.labels):
            if counts[label] < 2 or np.isnan(probabilities[i]).any():
                continue
            best = int(probabilities[i].argmax())
            if best != label and probabilities[i, best] >= threshold:
                found.append(Suspect(i, best, float(probabilities[i, best])))
        return sorted(found, key=lambda s: -s.probability)

    def extremes(self) -> list[tuple[int, int] | None]:
        """Per class: (most helpful, least helpful) example index, or None for a class with
        fewer than two examples."""
        helpful = np.nan_to_num(self.helpfulness(), nan=-np.inf)
        out: list[tuple[int, int] | None] = []
        for c in range(self.alone.shape[1]):
            members = np.flatnonzero(self.labels == c)
            if len(members) < 2:
                out.append(None)
                continue
            order = members[np.argsort(-helpful[members], kind="stable")]
            out.append((int(order[0]), int(order[-1])))
        return out


def _true(log_probabilities: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """(..., S, N), (S,) -> (..., S): each image's log-probability of its own class."""
    index = np.broadcast_to(labels[:, None], log_probabilities.shape[:-1] + (1,))
    return np.take_along_axis(log_probabilities, index, axis=-1)[..., 0]


def _margins(log_probabilities: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """(..., S, N), (S,) -> (..., S): true-class log-probability minus the best other's."""
    others = log_probabilities.copy()
    np.put_along_axis(
        others, np.broadcast_to(labels[:, None], others.shape[:-1] + (1,)), -np.inf, axis=-1
    )
    with np.errstate(invalid="ignore"):
        return _true(log_probabilities, labels) - others.max(-1)


def _mean_off_diagonal(table: np.ndarray) -> np.ndarray:
    """(S, S) -> (S,) the mean of each row without its diagonal entry (and without NaN)."""
    table = table.astype(np.float64).copy()
    np.fill_diagonal(table, np.nan)
    if table.shape[0] < 2:
        return np.zeros(table.shape[0])
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(table, axis=1)


def _batched_distances(x: torch.Tensor, centres: torch.Tensor, distance: str) -> torch.Tensor:
    """(B, D), (B, N, D) -> (B, N): row b's distances to its own set of centres, in the same
    arithmetic as core.protonet.distances."""
    if distance == "cosine":
        xn = x / x.norm(dim=-1, keepdim=True).clamp_min(1e-8)
        cn = centres / centres.norm(dim=-1, keepdim=True).clamp_min(1e-8)
        return 1.0 - (cn @ xn[:, :, None])[..., 0]
    squared = ((x[:, None, :] - centres) ** 2).sum(-1)
    if distance == "sq_euclidean":
        return squared
    if distance == "euclidean":
        return squared.sqrt()
    raise ValueError(f"unknown distance {distance!r}; expected one of {protonet.DISTANCES}")


def _log_softmax(logits: torch.Tensor, counts: torch.Tensor) -> torch.Tensor:
    """Log-softmax over classes, a class with no example left (count 0) getting -inf.
    counts broadcasts against logits."""
    return logits.masked_fill(counts == 0, float("-inf")).log_softmax(-1)


def protonet_leave_one_out(
    classifier: AdaptedClassifier, check_embeddings: torch.Tensor, check_truth: np.ndarray
) -> LeaveOneOut:
    """LeaveOneOut of a ProtoNet classifier in closed form, from its support embeddings.

    Leaving example i of class c out moves only centre c, to (sum_c - e_i) / (n_c - 1): only
    that column of the distances is computed again, O(S^2 D) in all, no image re-encoded.

    Args:
        classifier: adapted by a ProtoNet FewShotModel (its trace holds the embeddings).
        check_embeddings: (Q, D) the check images embedded by the same network.
        check_truth: (Q,) class indices, -1 where unknown.
    """
    trace = classifier.trace
    if not isinstance(trace, ProtoTrace):
        raise TypeError("the closed-form leave-one-out is for ProtoNet classifiers only")
    distance, scale = classifier.settings["distance"], classifier.logit_scale
    embeddings = trace.support_embeddings.double()  # (S, D): float64, so the updates add no error
    labels = trace.support_labels
    n_examples, n_classes = len(labels), trace.prototypes.shape[0]
    one_hot = torch.nn.functional.one_hot(labels, n_classes).double()  # (S, N)
    sums, counts = one_hot.T @ embeddings, one_hot.sum(0)  # (N, D), (N,)
    checks = check_embeddings.double()
    rows = torch.arange(n_examples)

    def rowwise(x: torch.Tensor, centres: torch.Tensor) -> torch.Tensor:
        """(B, D), (B, D) -> (B,): each row's distance to its own centre."""
        return _batched_distances(x, centres[:, None, :], distance)[:, 0]

    # (S, D) each example's own class centre without it (a zero vector for a class of one,
    # whose count of 0 masks it out)
    without = (sums[labels] - embeddings) / (counts[labels] - 1).clamp_min(1)[:, None]
    alone_distances = protonet.distances(embeddings, sums / counts[:, None], distance)
    alone_distances[rows, labels] = rowwise(embeddings, without)  # each j without itself
    alone_counts = counts[None, :] - one_hot  # (S, N)
    alone = _log_softmax(-scale * alone_distances, alone_counts)
    check_distances = protonet.distances(checks, sums / counts[:, None], distance)  # (Q, N)
    checks_all = _log_softmax(-scale * check_distances, counts)
    check_to_without = protonet.distances(checks, without, distance)  # (Q, S)
    # As (S, ...) tables, row i: example i left out (a loop of small ops costs more in overhead)
    n_checks = checks.shape[0]
    moved = check_distances[None].repeat(n_examples, 1, 1)  # (S, Q, N)
    moved[rows[:, None], torch.arange(n_checks)[None, :], labels[:, None]] = check_to_without.T
    left = counts[None].repeat(n_examples, 1)
    left[rows, labels] -= 1
    checks_without = _log_softmax(-scale * moved, left[:, None, :])
    # (S, S, N): example j classified without j and without i. Class y_i's centre is
    # without[i] for j of another class, (sum - e_i - e_j) / (n - 2) for j of the same.
    both = alone_distances[None].repeat(n_examples, 1, 1)
    columns = labels[:, None].expand(n_examples, n_examples)
    both[rows[:, None], rows[None, :], columns] = protonet.distances(
        embeddings, without, distance
    ).T
    first, second = torch.nonzero(
        (labels[:, None] == labels[None, :]) & (rows[:, None] != rows[None, :]), as_tuple=True
    )
    c = labels[first]
    pair_centres = (sums[c] - embeddings[first] - embeddings[second]) / (counts[c] - 2).clamp_min(
        1
    )[:, None]
    both[first, second, c] = rowwise(embeddings[second], pair_centres)
    pair_counts = alone_counts[None].repeat(n_examples, 1, 1)
    pair_counts[rows[:, None], rows[None, :], columns] -= 1
    others_without = _log_softmax(-scale * both, pair_counts)
    others_without[rows, rows] = float("nan")
    return LeaveOneOut(
        "protonet",
        labels.numpy().copy(),
        alone.numpy(),
        checks_all.numpy(),
        checks_without.numpy(),
        np.asarray(check_truth, dtype=int),
        alone.numpy(),
        others_without.numpy(),
    )


def readapted_without(
    model: FewShotModel,
    inputs: torch.Tensor,
    labels: torch.Tensor,
    classes: tuple[Hashable, ...],
    drop: int,
    settings: Settings | None,
) -> tuple[AdaptedClassifier | None, list[int]]:
    """The model adapted on every example but `drop`; a class left empty is left out.

    Returns:
        (classifier or None when fewer than MIN_CLASSES classes remain, the class indices
        of the original lesson that the classifier's columns stand for).
    """
    keep = torch.ones(len(labels), dtype=torch.bool)
    keep[drop] = False
    present = sorted(set(labels[keep].tolist()))
    if len(present) < MIN_CLASSES:
        return None, present
    remap = torch.full((len(classes),), -1, dtype=torch.long)
    remap[present] = torch.arange(len(present))
    classifier = model.adapt_tensors(
        inputs[keep], remap[labels[keep]], [classes[c] for c in present], settings=settings
    )
    return classifier, present


def log_probabilities(classifier: AdaptedClassifier, inputs: torch.Tensor) -> np.ndarray:
    """(B, ...) encoded inputs -> (B, N) log-probabilities, from the logits (a softmax's
    float32 probabilities round to 0 and 1 where the log-odds still differ)."""
    with torch.no_grad():
        logits = classifier._head(classifier._embed(inputs))  # noqa: SLF001 - same project
    return logits.double().log_softmax(-1).numpy()


def _spread(log_probabilities: np.ndarray, columns: list[int], n_classes: int) -> np.ndarray:
    """(B, len(columns)) -> (B, N) with -inf for the classes that were left out."""
    out = np.full((log_probabilities.shape[0], n_classes), -np.inf)
    out[:, columns] = log_probabilities
    return out


def maml_leave_one_out(
    model: FewShotModel,
    inputs: torch.Tensor,
    labels: torch.Tensor,
    classes: tuple[Hashable, ...],
    check_inputs: torch.Tensor,
    check_truth: np.ndarray,
    settings: Settings | None,
    on_progress: Callable[[int, int], None] | None = None,
) -> LeaveOneOut:
    """LeaveOneOut by re-adapting once per example (MAML, or any algorithm: the reference
    the ProtoNet closed form is tested against). Inputs are encoded once by the caller.

    on_progress(done, total) is called after each adaptation.
    """
    n_examples, n_classes = len(labels), len(classes)
    full = model.adapt_tensors(inputs, labels, classes, settings=settings)
    both = torch.cat([inputs, check_inputs])
    everything = log_probabilities(full, both)
    alone = np.full((n_examples, n_classes), np.nan)
    checks_without = np.full((n_examples, len(check_inputs), n_classes), np.nan)
    others_without = np.full((n_examples, n_examples, n_classes), np.nan)
    for i in range(n_examples):
        classifier, present = readapted_without(model, inputs, labels, classes, i, settings)
        if classifier is not None:
            answered = _spread(log_probabilities(classifier, both), present, n_classes)
            alone[i] = answered[i]
            checks_without[i] = answered[n_examples:]
            others_without[i] = answered[:n_examples]
            others_without[i, i] = np.nan
        if on_progress is not None:
            on_progress(i + 1, n_examples)
    return LeaveOneOut(
        model.algorithm,
        labels.numpy().copy(),
        alone,
        everything[n_examples:],
        checks_without,
        np.asarray(check_truth, dtype=int),
        everything[:n_examples],
        others_without,
    )


def leave_one_out(
    model: FewShotModel,
    images: Sequence[Image.Image],
    labels: Sequence[Hashable],
    check_images: Sequence[Image.Image] = (),
    check_labels: Sequence[Hashable | None] = (),
    settings: Settings | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> LeaveOneOut:
    """Every example of a lesson left out in turn, each image encoded once.

    Args:
        images, labels: the support set (labels: one hashable class per image; classes in
            order of first appearance, as FewShotModel.adapt orders them).
        check_images: images to check; check_labels: their classes (None where unknown), or
            empty when none is known.
        settings: FewShotModel.adapt's settings (core.settings), None for the model's own.
        on_progress: MAML only, called with (done, total) after each re-adaptation.
    """
    if len(images) != len(labels):
        raise ValueError(f"got {len(images)} images but {len(labels)} labels")
    if check_labels and len(check_labels) != len(check_images):
        raise ValueError(f"got {len(check_images)} check images but {len(check_labels)} labels")
    classes = tuple(dict.fromkeys(labels))
    index = {label: i for i, label in enumerate(classes)}
    support_labels = torch.tensor([index[label] for label in labels], dtype=torch.long)
    truth = np.array(
        [index.get(label, -1) if label is not None else -1 for label in check_labels]
        or [-1] * len(check_images),
        dtype=int,
    )
    inputs = model.encode(images)
    check_inputs = model.encode(check_images) if len(check_images) else inputs[:0]
    if model.algorithm == "protonet":
        classifier = model.adapt_tensors(inputs, support_labels, classes, settings=settings)
        check_embeddings = model.embed_tensors(check_inputs)
        return protonet_leave_one_out(classifier, check_embeddings, truth)
    return maml_leave_one_out(
        model, inputs, support_labels, classes, check_inputs, truth, settings, on_progress
    )
