"""An adapted classifier: what one support set taught a model, kept per user, never shared.

FewShotModel.adapt (core.learner) returns one. It holds the per-support-set state
(ProtoNet's prototypes, or MAML's adapted parameters) and answers images with it; the
model it came from is never changed.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from PIL import Image

from core import protonet
from core.functional import Params

if TYPE_CHECKING:
    from core.inner_trace import StepRecord
    from core.learner import FewShotModel

_KEPT_ANSWERS = 512  # per classifier: more than the check images a page holds


@dataclass(frozen=True)
class Answer:
    """One image's answer: its embedding (D,), probabilities (N,), ProtoNet distances (N,)."""

    embedding: np.ndarray
    probabilities: np.ndarray
    distances: np.ndarray | None


@dataclass(frozen=True)
class Answers:
    """AdaptedClassifier.answers() of B images: (B, D), (B, N) and (B, N) or None."""

    embeddings: np.ndarray
    probabilities: np.ndarray
    distances: np.ndarray | None


@dataclass
class ProtoTrace:
    """What the embedding page plots for ProtoNet."""

    support_embeddings: torch.Tensor  # (S, D)
    support_labels: torch.Tensor  # (S,) indices into classes
    prototypes: torch.Tensor  # (N, D)


class AdaptedClassifier:
    """A classifier for one support set. Cheap to keep per user; never shared."""

    def __init__(
        self,
        model: FewShotModel,
        classes: tuple[Hashable, ...],
        trace: ProtoTrace | list[StepRecord],
        head: Callable[[torch.Tensor], torch.Tensor],
        embed: Callable[[torch.Tensor], torch.Tensor],
        settings: dict[str, Any],
        *,
        params: Params | None = None,
        logit_scale: float = 1.0,
    ) -> None:
        self.model = model
        self.classes = classes
        self.trace = trace
        self.settings = settings
        # What predictions are computed from, for exporting them (core.export): MAML's
        # adapted parameters (network and head, named as in state_dict()), and ProtoNet's
        # logits = -logit_scale * distance to each prototype.
        self.params = params
        self.logit_scale = logit_scale
        self._head = head  # (B, D) embeddings -> (B, N) logits
        self._embed = embed  # (B, ...) encoded inputs -> (B, D) embeddings
        self._answered: dict[Hashable, Answer] = {}

    def predict_proba_tensors(self, inputs: torch.Tensor) -> np.ndarray:
        """(B, ...) encoded inputs -> (B, N) probabilities; each row depends on its input only."""
        if inputs.shape[0] == 0:
            return np.zeros((0, len(self.classes)), dtype=np.float32)
        with torch.no_grad():
            return self._head(self._embed(inputs)).softmax(-1).cpu().numpy()

    def predict_proba(self, images: Sequence[Image.Image]) -> np.ndarray:
        """PIL images -> (B, N) probabilities, columns in the order of `classes`."""
        return self.predict_proba_tensors(self.model.encode(images))

    def predict(self, images: Sequence[Image.Image]) -> list[Hashable]:
        return [self.classes[i] for i in self.predict_proba(images).argmax(1)]

    def embed(self, images: Sequence[Image.Image]) -> np.ndarray:
        """(B, D) embeddings in the space the classifier decides in (after adaptation)."""
        with torch.no_grad():
            return self._embed(self.model.encode(images)).cpu().numpy()

    def distances(self, images: Sequence[Image.Image]) -> np.ndarray:
        """(B, N) distances to each prototype (ProtoNet only), in the model's distance."""
        return self.distances_tensors(self.model.encode(images))

    def distances_tensors(self, inputs: torch.Tensor) -> np.ndarray:
        """distances() of (B, ...) encoded inputs."""
        if not isinstance(self.trace, ProtoTrace):
            raise TypeError("distances to prototypes exist for ProtoNet models only")
        with torch.no_grad():
            return self._distances(self._embed(inputs))

    def _distances(self, embedded: torch.Tensor) -> np.ndarray:
        distance = self.settings["distance"]
        return protonet.distances(embedded, self.trace.prototypes, distance).cpu().numpy()

    def answers(
        self, images: Sequence[Image.Image], keys: Sequence[Hashable] | None = None
    ) -> Answers:
        """embed(), predict_proba() and (ProtoNet) distances() of the images at once, each
        image encoded and embedded once.

        keys: one hashable per image that names it for good (an upload's id): an image whose
            key was answered before by this classifier is not computed again, so a page that
            shows the same check images on every run computes only the new ones.
        """
        keys = list(keys) if keys is not None else [None] * len(images)
        if len(keys) != len(images):
            raise ValueError(f"got {len(images)} images but {len(keys)} keys")
        new, named = [], set()  # the images to compute: a key given twice is computed once
        for i, key in enumerate(keys):
            if key is None or (key not in self._answered and key not in named):
                new.append(i)
                named.add(key)
        if new:
            with torch.no_grad():
                embedded = self._embed(self.model.encode([images[i] for i in new]))
                probabilities = self._head(embedded).softmax(-1).cpu().numpy()
                distances = (
                    self._distances(embedded) if self.model.algorithm == "protonet" else None
                )
            embedded = embedded.cpu().numpy()
        rows: list[Answer] = []
        fresh = iter(range(len(new)))
        for key in keys:
            if key is not None and key in self._answered:
                rows.append(self._answered[key])
                continue
            j = next(fresh)
            row = Answer(embedded[j], probabilities[j], None if distances is None else distances[j])
            rows.append(row)
            if key is not None:
                self._answered[key] = row
        for old in list(self._answered)[: max(0, len(self._answered) - _KEPT_ANSWERS)]:
            del self._answered[old]
        if not rows:
            empty = np.zeros((0, len(self.classes)), dtype=np.float32)
            protonet_model = self.model.algorithm == "protonet"
            return Answers(np.zeros((0, 0), np.float32), empty, empty if protonet_model else None)
        distances = None if rows[0].distances is None else np.stack([r.distances for r in rows])
        return Answers(
            np.stack([r.embedding for r in rows]),
            np.stack([r.probabilities for r in rows]),
            distances,
        )
