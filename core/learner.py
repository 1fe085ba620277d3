"""The one public entry: FewShotModel -> adapt() -> AdaptedClassifier.

A FewShotModel wraps a loaded, frozen network shared by every user (st.cache_resource in
the app). adapt() never changes it: it returns a new AdaptedClassifier that holds the
per-support-set state (prototypes, or MAML's adapted parameters).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

from core import maml, protonet
from core.checkpoints import (
    CheckpointError,
    list_checkpoints,
    load_checkpoint,
    models_dir,
    read_card,
)
from core.constants import MAX_CLASSES, MIN_CLASSES
from core.encoders import Encoder, build_encoder

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
        trace: ProtoTrace | list[maml.StepRecord],
        head: Callable[[torch.Tensor], torch.Tensor],
        embed: Callable[[torch.Tensor], torch.Tensor],
        settings: dict[str, Any],
        *,
        params: maml.Params | None = None,
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


class FewShotModel:
    """A loaded model: its frozen network, its encoder and its card."""

    def __init__(self, net: nn.Module, card: dict[str, Any], encoder: Encoder) -> None:
        self.net = net.eval()
        for parameter in self.net.parameters():
            parameter.requires_grad_(False)
        self.card = card
        self.name: str = card["name"]
        self.algorithm: str = card["algorithm"]
        self.input_kind: str = card["input"]
        self.encode = encoder
        self._features = maml.make_features_fn(self.net)
        self._params, self._buffers = maml.split_state(self.net)

    def __repr__(self) -> str:
        return (
            f"FewShotModel({self.name!r}, algorithm={self.algorithm!r}, input={self.input_kind!r})"
        )

    def to(self, device: torch.device | str) -> FewShotModel:
        """A copy of this model on another device (the original is untouched)."""
        import copy

        return FewShotModel(copy.deepcopy(self.net).to(device), self.card, self.encode)

    @property
    def default_inner_loop(self) -> maml.InnerLoop:
        settings = self.card.get("maml", {})
        return maml.InnerLoop(
            steps=int(settings.get("test_steps", settings.get("steps", 10))),
            lr=settings.get("lr", 0.1),
            first_order=False,
            head_init=settings.get("head_init", "proto"),
            head_lr_per_class=bool(settings.get("head_lr_per_class", False)),
        )

    @property
    def step_sizes(self) -> tuple[dict[str, float], dict[str, float]]:
        """MAML's per-tensor inner step sizes as (start, learned): where meta-training
        started them (the card's maml.lr_start; for cards written before it was recorded,
        the run's --inner-lr for every tensor) and the meta-learned values (maml.lr)."""
        if self.algorithm != "maml":
            raise ValueError(f"{self.name} is {self.algorithm}: only MAML has step sizes")
        settings = self.card["maml"]
        learned = settings["lr"]
        if not isinstance(learned, dict):
            learned = {name: float(learned) for name in self._params}
        start = settings.get("lr_start")
        if start is None:
            first = float(self.card["training"]["config"]["inner_lr"])
            start = dict.fromkeys(learned, first)
        return {k: float(v) for k, v in start.items()}, {k: float(v) for k, v in learned.items()}

    @property
    def default_distance(self) -> str:
        return self.card.get("protonet", {}).get("distance", "sq_euclidean")

    def embed_tensors(self, inputs: torch.Tensor) -> torch.Tensor:
        """(B, ...) -> (B, D) with the meta-trained (unadapted) network."""
        lock = maml.module_lock(self.net) if maml.swaps_tensors(self.net) else nullcontext()
        with torch.no_grad(), lock:
            return self.net(inputs)

    def adapt(
        self,
        images: Sequence[Image.Image],
        labels: Sequence[Hashable],
        *,
        query_images: Sequence[Image.Image] | None = None,
        on_step: Callable[[maml.StepRecord], None] | None = None,
        keep_features: bool = False,
        **settings: Any,
    ) -> AdaptedClassifier:
        """Learn the classes of a support set; returns a NEW classifier.

        Args:
            images: support images (PIL, any mode and size); labels: one hashable per image.
                Classes are ordered by first appearance in `labels`.
            query_images: optional images whose probabilities MAML records at every step.
            on_step: MAML only, called with each StepRecord as it is made (live plots).
            settings: MAML: inner_steps, inner_lr (one rate for all tensors), inner_lr_scale
                (multiplies the learned per-tensor rates), first_order (no effect here),
                head_init ("proto": start from class centres, as trained; "zero": start
                from an all-zero head and let the inner steps do all the learning);
                ProtoNet: distance ("sq_euclidean", "euclidean", "cosine").
        """
        if len(images) != len(labels):
            raise ValueError(f"got {len(images)} images but {len(labels)} labels")
        classes = tuple(dict.fromkeys(labels))
        index = {label: i for i, label in enumerate(classes)}
        support_labels = torch.tensor([index[label] for label in labels], dtype=torch.long)
        queries = self.encode(query_images) if query_images else None
        return self.adapt_tensors(
            self.encode(images),
            support_labels,
            classes,
            query_inputs=queries,
            on_step=on_step,
            keep_features=keep_features,
            **settings,
        )

    def adapt_tensors(
        self,
        support_inputs: torch.Tensor,
        support_labels: torch.Tensor,
        classes: Sequence[Hashable],
        *,
        query_inputs: torch.Tensor | None = None,
        on_step: Callable[[maml.StepRecord], None] | None = None,
        keep_features: bool = False,
        inner_steps: int | None = None,
        inner_lr: float | None = None,
        inner_lr_scale: float | None = None,
        first_order: bool | None = None,
        head_init: str | None = None,
        distance: str | None = None,
    ) -> AdaptedClassifier:
        """adapt() on encoded inputs: (S, ...) and (S,) label indices into `classes`."""
        classes = tuple(classes)
        n_classes = len(classes)
        if not MIN_CLASSES <= n_classes <= MAX_CLASSES:
            raise ValueError(
                f"need between {MIN_CLASSES} and {MAX_CLASSES} classes, got {n_classes}"
            )
        counts = torch.bincount(support_labels, minlength=n_classes)
        if bool((counts == 0).any()):
            empty = [str(classes[i]) for i in torch.nonzero(counts == 0).flatten().tolist()]
            raise ValueError(f"every class needs at least one image; empty: {', '.join(empty)}")
        if self.algorithm == "protonet":
            return self._adapt_protonet(support_inputs, support_labels, classes, distance)
        loop = self.default_inner_loop
        loop = replace(
            loop,
            steps=loop.steps if inner_steps is None else int(inner_steps),
            lr=_scaled(loop.lr if inner_lr is None else float(inner_lr), inner_lr_scale),
            first_order=bool(first_order),
            head_init=loop.head_init if head_init is None else head_init,
        )
        one_hot = F.one_hot(support_labels, n_classes).float()
        adapted = maml.adapt_with_trace(
            self._features,
            self._params,
            self._buffers,
            support_inputs,
            one_hot,
            loop,
            query_x=query_inputs,
            keep_features=keep_features,
            on_step=on_step,
        )
        fast, buffers, features = adapted.params, self._buffers, self._features
        return AdaptedClassifier(
            self,
            classes,
            adapted.trace,
            lambda embedded: maml.head_logits(embedded, fast),
            lambda x: features(fast, buffers, x),
            {"inner_steps": loop.steps, "inner_lr": loop.lr, "head_init": loop.head_init},
            params=fast,
        )

    def _adapt_protonet(self, support_inputs, support_labels, classes, distance):
        distance = distance or self.default_distance
        if distance not in protonet.DISTANCES:
            raise ValueError(f"unknown distance {distance!r}; expected {protonet.DISTANCES}")
        scale = float(self.card.get("protonet", {}).get("cosine_scale", 10.0))
        scale = scale if distance == "cosine" else 1.0
        embeddings = self.embed_tensors(support_inputs)
        protos = protonet.prototypes(embeddings, support_labels, len(classes))
        trace = ProtoTrace(embeddings, support_labels, protos)

        def head(embedded: torch.Tensor) -> torch.Tensor:
            return protonet.logits(embedded, protos, distance, scale)

        return AdaptedClassifier(
            self,
            classes,
            trace,
            head,
            self.embed_tensors,
            {"distance": distance},
            logit_scale=scale,
        )


def _scaled(lr: float | dict[str, float], scale: float | None) -> float | dict[str, float]:
    if scale is None:
        return lr
    if isinstance(lr, dict):
        return {k: float(v) * scale for k, v in lr.items()}
    return lr * scale


def load_model(name: str) -> FewShotModel:
    """Load a shipped model from assets/models (no network access). Raises CheckpointError."""
    net, card = load_checkpoint(name)
    return FewShotModel(net, card, build_encoder(card.get("encoder", {"type": "character"})))


def list_models(problems: list[str] | None = None) -> list[dict[str, Any]]:
    """The shipped models: name, algorithm, input and a one-line description each.

    Args:
        problems: if given, a model card that cannot be read is left out and a sentence
            naming it is appended here; otherwise the first unreadable card raises
            CheckpointError.
    """
    out = []
    for name in list_checkpoints():
        try:
            card = read_card(models_dir() / f"{name}.json")
        except CheckpointError as error:
            if problems is None:
                raise
            problems.append(str(error))
            continue
        out.append(
            {
                "name": name,
                "algorithm": card["algorithm"],
                "input": card["input"],
                "description": card.get("description", ""),
                "metrics": card.get("metrics", {}),
            }
        )
    return out
