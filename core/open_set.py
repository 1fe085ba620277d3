"""'None of these': answer that an image belongs to none of the taught classes.

A novelty score says how far an image is from every class (higher: farther):
- ProtoNet: the distance to the nearest class centre, in the model's own distance;
- MAML: 1 minus the highest class probability (Hendrycks & Gimpel, ICLR 2017).
An image scoring above the model's threshold is answered "none of these". The threshold is
chosen on the validation split and stored in the model card ("open_set"); a model without
one does not offer the option. `python -m core.evaluate_open_set` chooses the threshold on
val and measures it (its docstring has the protocol).
"""

from __future__ import annotations

import numpy as np
import torch

from core.learner import AdaptedClassifier, FewShotModel

SCORES = {"protonet": "nearest_distance", "maml": "one_minus_max_probability"}


def novelty(classifier: AdaptedClassifier, inputs: torch.Tensor) -> np.ndarray:
    """(B,) novelty scores of encoded inputs (higher: farther from every class)."""
    if classifier.model.algorithm == "protonet":
        return scores_from("protonet", None, classifier.distances_tensors(inputs))
    return scores_from("maml", classifier.predict_proba_tensors(inputs), None)


def scores_from(
    algorithm: str, probabilities: np.ndarray | None, distances: np.ndarray | None
) -> np.ndarray:
    """novelty() from a page's own (B, N) probabilities or distances, so nothing is
    encoded twice: ProtoNet the nearest distance, MAML 1 - the highest probability."""
    if algorithm == "protonet":
        return distances.min(1)
    return 1.0 - probabilities.max(1)


def thresholds_of(model: FewShotModel) -> dict[int, float]:
    """The card's "none of these" thresholds by number of classes ({} when it has none).

    A score moves with N (MAML's 1 - max probability starts at 1 - 1/N; the nearest of more
    class centres is nearer), so a threshold is chosen on val for each N in "by_ways"; cards
    written before that have one "threshold", chosen at "chosen_on"'s ways.
    """
    entry = model.card.get("open_set")
    if not entry:
        return {}
    by_ways = entry.get("by_ways")
    if by_ways:
        return {int(n): float(e["threshold"]) for n, e in by_ways.items()}
    return {int(entry.get("chosen_on", {}).get("ways", 5)): float(entry["threshold"])}


def chosen_ways(model: FewShotModel, n_classes: int) -> int | None:
    """The number of classes whose threshold serves a task of n_classes: the nearest one
    chosen (on a log scale, ties to the larger), or None when the card has none."""
    chosen = thresholds_of(model)
    if not chosen:
        return None
    return min(chosen, key=lambda n: (abs(np.log(n / n_classes)), -n))


def threshold_of(model: FewShotModel, n_classes: int = 5) -> float | None:
    """The card's threshold for a task of n_classes (chosen_ways), or None when it has none."""
    ways = chosen_ways(model, n_classes)
    return None if ways is None else thresholds_of(model)[ways]


def chosen_setting(classifier: AdaptedClassifier) -> str | None:
    """In words, the val setting the threshold applied to this classifier was chosen at
    ("20-way 5-shot"), or None when none applies."""
    if threshold_for(classifier) is None:
        return None
    model = classifier.model
    ways = chosen_ways(model, len(classifier.classes))
    entry = model.card["open_set"]
    by_ways = entry.get("by_ways", {})
    chosen_on = by_ways.get(str(ways), {}).get("chosen_on", entry.get("chosen_on", {}))
    return f"{ways}-way {chosen_on.get('shots', 5)}-shot"


def threshold_for(classifier: AdaptedClassifier) -> float | None:
    """The threshold that applies to this classifier: the card's for its number of classes
    (threshold_of), when it was adapted with the model's own settings (the thresholds were
    chosen with them: another distance or other inner steps give other scores); otherwise
    None."""
    model = classifier.model
    threshold = threshold_of(model, len(classifier.classes))
    if threshold is None:
        return None
    if model.algorithm == "protonet":
        own = classifier.settings.get("distance") == model.default_distance
    else:
        loop = model.default_inner_loop
        own = classifier.settings == {
            "inner_steps": loop.steps,
            "inner_lr": loop.lr,
            "head_init": loop.head_init,
        }
    return threshold if own else None


def none_of_these(classifier: AdaptedClassifier, inputs: torch.Tensor) -> np.ndarray | None:
    """(B,) True where an encoded input is answered "none of these"; None when no threshold
    applies to this classifier (threshold_for)."""
    threshold = threshold_for(classifier)
    if threshold is None:
        return None
    return novelty(classifier, inputs) > threshold


def none_of_these_from(
    classifier: AdaptedClassifier, probabilities: np.ndarray, distances: np.ndarray | None
) -> np.ndarray | None:
    """none_of_these() from answers already computed ((B, N) probabilities and, for ProtoNet,
    distances: AdaptedClassifier.answers), so no image is encoded again."""
    threshold = threshold_for(classifier)
    if threshold is None:
        return None
    return scores_from(classifier.model.algorithm, probabilities, distances) > threshold


def auroc(known: np.ndarray, unknown: np.ndarray) -> float:
    """P(an unknown scores higher than a known), ties counted half (Mann-Whitney U)."""
    known, unknown = np.asarray(known, float), np.asarray(unknown, float)
    if known.size == 0 or unknown.size == 0:
        raise ValueError("need known and unknown scores")
    everything = np.concatenate([known, unknown])
    order = everything.argsort(kind="mergesort")
    ranks = np.empty(everything.size)
    ranks[order] = np.arange(1, everything.size + 1)
    for value in np.unique(everything):  # average ranks over ties
        tied = everything == value
        ranks[tied] = ranks[tied].mean()
    rank_sum = ranks[known.size :].sum()
    return float((rank_sum - unknown.size * (unknown.size + 1) / 2) / (known.size * unknown.size))


def youden_threshold(known: np.ndarray, unknown: np.ndarray) -> float:
    """The threshold t maximising (known kept) - (unknown kept), an image being kept when
    its score is at most t; among equal maxima the largest t (fewest known refused)."""
    candidates = np.unique(np.concatenate([known, unknown]))
    kept_known = np.searchsorted(np.sort(known), candidates, side="right") / len(known)
    kept_unknown = np.searchsorted(np.sort(unknown), candidates, side="right") / len(unknown)
    j = kept_known - kept_unknown
    return float(candidates[np.flatnonzero(j == j.max())[-1]])
