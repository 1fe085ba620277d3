"""An inner loop's trace, and what Inside MAML reads from it.

core.maml.adapt_with_trace records one StepRecord per point of the inner loop (step 0 is
before any update). This module holds those records and the reports made from them: where a
loop diverged (divergence) and how its first step from the zero head compares with the
class-mean classifier (first_step_report). None of it runs the loop.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from core.functional import Params


@dataclass
class StepRecord:
    """What one point of the inner loop looked like (step 0 is before any update)."""

    step: int
    support_loss: float
    support_accuracy: float
    query_probabilities: torch.Tensor | None = None  # (Q, N)
    support_features: torch.Tensor | None = None  # (S, D)
    query_features: torch.Tensor | None = None  # (Q, D)


@dataclass
class Adapted:
    params: Params  # backbone and head after the inner loop
    trace: list[StepRecord] = field(default_factory=list)


@dataclass(frozen=True)
class Divergence:
    """Where an inner loop stopped giving numbers: at `step` its loss, probabilities or
    features were no longer finite. `lowest` is the smallest loss before it (at
    `lowest_step`) and `last` the loss of the step before it."""

    step: int
    lowest_step: int
    lowest: float
    last: float

    def sentence(self) -> str:
        """One sentence for a person: where it diverged and what to try."""
        grew = (
            f"the loss grew from {self.lowest:.3g} (step {self.lowest_step}) to "
            f"{self.last:.3g} (step {self.step - 1}), then was no longer a number"
            if self.step - 1 > self.lowest_step
            else f"after a loss of {self.last:.3g} at step {self.step - 1} it was not a number"
        )
        return (
            f"The inner steps diverged at step {self.step}: {grew}. The charts stop at step "
            f"{self.step - 1}; try a smaller learning rate or fewer steps."
        )


def _finite(record: StepRecord) -> bool:
    tensors = [record.query_probabilities, record.support_features, record.query_features]
    return math.isfinite(record.support_loss) and all(
        t is None or bool(torch.isfinite(t).all()) for t in tensors
    )


def divergence(trace: list[StepRecord]) -> Divergence | None:
    """The first step of a trace that is not finite, or None when every step is.

    Step 0 is always finite (nothing has moved yet), so a trace cut at the divergence
    (trace[: d.step]) always keeps at least one step.
    """
    for index, record in enumerate(trace):
        if not _finite(record):
            if index == 0:
                raise ValueError("the starting point is not finite: the model's weights are")
            losses = [r.support_loss for r in trace[:index]]
            lowest = min(range(index), key=losses.__getitem__)
            return Divergence(record.step, trace[lowest].step, losses[lowest], losses[-1])
    return None


def class_mean_verdicts(
    support_features: torch.Tensor, support_labels: torch.Tensor, query_features: torch.Tensor
) -> torch.Tensor:
    """(Q,) answers of the class-mean classifier: class k scores f . (c_k - c), with c_k the
    mean support feature of class k and c the mean of the class means.

    From the zero head, MAML's first step sets row k to a multiple of (c_k - c) and leaves
    the backbone where it is (zero_head_step; the support loss weighs every class the same),
    so its first-step answers are exactly these, with even or uneven shots. Inside MAML
    counts how often they agree on a person's images.
    """
    n = int(support_labels.max()) + 1
    one_hot = F.one_hot(support_labels, n).to(support_features.dtype)
    means = (one_hot.T @ support_features) / one_hot.sum(0)[:, None]  # (N, D)
    return (query_features @ (means - means.mean(0)).T).argmax(-1)


@dataclass(frozen=True)
class FirstStep:
    """How one inner loop's first step from zero compares with the class-mean classifier,
    over its queries: `same` of `total` answers agree after step 1, and the later steps
    change `changed_later` of the step-1 answers."""

    same: int
    total: int
    changed_later: int


def first_step_report(trace: list[StepRecord], support_labels) -> FirstStep | None:
    """FirstStep of a trace kept with its features and queries (adapt_with_trace with
    keep_features and query_x), or None when it has no step 1 or no queries."""
    if len(trace) < 2 or trace[0].query_features is None or trace[1].query_probabilities is None:
        return None
    labels = torch.as_tensor(list(support_labels))
    means = class_mean_verdicts(trace[0].support_features, labels, trace[0].query_features)
    first = trace[1].query_probabilities.argmax(-1)
    last = trace[-1].query_probabilities.argmax(-1)
    return FirstStep(int((first == means).sum()), len(first), int((last != first).sum()))
