"""The one public entry: FewShotModel -> adapt() -> AdaptedClassifier.

A FewShotModel wraps a loaded, frozen network shared by every user (one copy per process in
the app). adapt() never changes it: it returns a new AdaptedClassifier (core.classifier)
that holds the per-support-set state (prototypes, or MAML's adapted parameters). What a
person may set for an adaptation is typed: core.settings.MamlSettings and ProtoSettings.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from contextlib import nullcontext
from dataclasses import replace
from typing import Any

import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

from core import functional, maml, protonet
from core.checkpoints import (
    CheckpointError,
    list_checkpoints,
    load_checkpoint,
    models_dir,
    read_card,
)
from core.classifier import (  # noqa: F401 - also the learner's names
    AdaptedClassifier,
    Answer,
    Answers,
    ProtoTrace,
)
from core.constants import MAX_CLASSES, MIN_CLASSES
from core.encoders import Encoder, build_encoder
from core.settings import (
    ProtoSettings,
    Settings,
    card_inner_steps,
    keywords,
    settings_for,
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
        self._features = functional.make_features_fn(self.net)
        self._params, self._buffers = functional.split_state(self.net)

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
            steps=card_inner_steps(settings),
            lr=settings.get("lr", 0.1),
            first_order=False,
            head_init=settings.get("head_init", "proto"),
            head_lr_per_class=bool(settings.get("head_lr_per_class", False)),
        )

    @property
    def step_sizes(self) -> tuple[dict[str, float], dict[str, float]]:
        """MAML's per-tensor inner step sizes as (start, learned): where meta-training
        started them (the card's maml.lr_start; for cards written before it was recorded,
        the run's --inner-lr for every tensor) and the meta-learned values (maml.lr, or
        maml.lr_meta_learned where a loop chosen on val scales them: step_size_scale)."""
        if self.algorithm != "maml":
            raise ValueError(f"{self.name} is {self.algorithm}: only MAML has step sizes")
        settings = self.card["maml"]
        learned = settings.get("lr_meta_learned", settings["lr"])  # before a val-chosen scale
        if not isinstance(learned, dict):
            learned = {name: float(learned) for name in self._params}
        start = settings.get("lr_start")
        if start is None:
            first = float(self.card["training"]["config"]["inner_lr"])
            start = dict.fromkeys(learned, first)
        return {k: float(v) for k, v in start.items()}, {k: float(v) for k, v in learned.items()}

    @property
    def step_size_scale(self) -> float | None:
        """MAML: the factor a loop chosen on val put on the meta-learned step sizes (the card's
        maml.lr is then maml.lr_meta_learned times it); None when it uses them as learned."""
        settings = self.card.get("maml", {})
        if "lr_meta_learned" not in settings:
            return None
        return float(settings["test_loop_chosen_on"]["chosen"]["scale"])

    @property
    def adapts_backbone(self) -> bool:
        """MAML: whether the inner loop moves the network's own weights, or only the
        classifier (every other step size 0, as in ANIL). False for ProtoNet."""
        if self.algorithm != "maml":
            return False
        _, learned = self.step_sizes
        head = (maml.HEAD_WEIGHT, maml.HEAD_BIAS)
        return any(rate > 0 for name, rate in learned.items() if name not in head)

    @property
    def default_distance(self) -> str:
        return self.card.get("protonet", {}).get("distance", "sq_euclidean")

    def embed_tensors(self, inputs: torch.Tensor) -> torch.Tensor:
        """(B, ...) -> (B, D) with the meta-trained (unadapted) network."""
        net = self.net
        lock = functional.module_lock(net) if functional.swaps_tensors(net) else nullcontext()
        with torch.no_grad(), lock:
            return self.net(inputs)

    def adapt(
        self,
        images: Sequence[Image.Image],
        labels: Sequence[Hashable],
        *,
        settings: Settings | None = None,
        query_images: Sequence[Image.Image] | None = None,
        on_step: Callable[[maml.StepRecord], None] | None = None,
        keep_features: bool = False,
        inner_steps: int | None = None,
        inner_lr: float | None = None,
        inner_lr_scale: float | None = None,
        head_init: str | None = None,
        distance: str | None = None,
    ) -> AdaptedClassifier:
        """Learn the classes of a support set; returns a NEW classifier.

        Args:
            images: support images (PIL, any mode and size); labels: one hashable per image.
                Classes are ordered by first appearance in `labels`.
            settings: core.settings.MamlSettings or ProtoSettings (None: the model's own).
                Or give their fields as keywords, by the same names: MAML: inner_steps,
                inner_lr (one rate for all tensors), inner_lr_scale (multiplies the learned
                per-tensor rates), head_init ("proto": start from class centres; "zero":
                start from an all-zero head); ProtoNet: distance ("sq_euclidean",
                "euclidean", "cosine"). The other algorithm's fields are ignored.
            query_images: optional images whose probabilities MAML records at every step.
            on_step: MAML only, called with each StepRecord as it is made (live plots).
        """
        if len(images) != len(labels):
            raise ValueError(f"got {len(images)} images but {len(labels)} labels")
        fields = {"inner_steps": inner_steps, "inner_lr": inner_lr, "distance": distance}
        fields |= {"inner_lr_scale": inner_lr_scale, "head_init": head_init}
        chosen = self._settings(settings, fields)
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
            **keywords(chosen),
        )

    def adapt_tensors(
        self,
        support_inputs: torch.Tensor,
        support_labels: torch.Tensor,
        classes: Sequence[Hashable],
        *,
        settings: Settings | None = None,
        query_inputs: torch.Tensor | None = None,
        on_step: Callable[[maml.StepRecord], None] | None = None,
        keep_features: bool = False,
        inner_steps: int | None = None,
        inner_lr: float | None = None,
        inner_lr_scale: float | None = None,
        head_init: str | None = None,
        distance: str | None = None,
    ) -> AdaptedClassifier:
        """adapt() on encoded inputs: (S, ...) and (S,) label indices into `classes`."""
        fields = {"inner_steps": inner_steps, "inner_lr": inner_lr, "distance": distance}
        fields |= {"inner_lr_scale": inner_lr_scale, "head_init": head_init}
        chosen = self._settings(settings, fields)
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
        if isinstance(chosen, ProtoSettings):
            return self._adapt_protonet(support_inputs, support_labels, classes, chosen.distance)
        loop = self.default_inner_loop
        steps, lr = chosen.inner_steps, chosen.inner_lr
        loop = replace(
            loop,
            steps=loop.steps if steps is None else int(steps),
            lr=_scaled(loop.lr if lr is None else float(lr), chosen.inner_lr_scale),
            first_order=False,
            head_init=chosen.head_init or loop.head_init,
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

    def _settings(self, settings: Settings | None, fields: dict[str, Any]) -> Settings:
        """The settings of an adapt() call: `settings`, or its fields given as keywords."""
        given = {name: value for name, value in fields.items() if value is not None}
        if settings is not None and given:
            raise TypeError(f"give settings= or {', '.join(given)} as keywords, not both")
        return settings_for(self.algorithm, settings if settings is not None else given)

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
