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


def threshold_of(model: FewShotModel) -> float | None:
    """The card's "none of these" threshold, or None when the model has none."""
    entry = model.card.get("open_set")
    return float(entry["threshold"]) if entry else None


def threshold_for(classifier: AdaptedClassifier) -> float | None:
    """The threshold that applies to this classifier: the card's, when it was adapted with
    the model's own settings (the threshold was chosen with them: another distance or other
    inner steps give other scores); otherwise None."""
    model = classifier.model
    threshold = threshold_of(model)
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
