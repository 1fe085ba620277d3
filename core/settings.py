"""What a person may set for one adaptation: one frozen dataclass per algorithm.

Each value has one name from the slider to the classifier: Workspace.inner_steps, the widget
key maml_inner_steps, MamlSettings.inner_steps, FewShotModel.adapt(inner_steps=...) and the
adapted classifier's settings["inner_steps"]. A field left None means the model's own value
(its card's), and the card's "maml" section names it "inner_steps" too (CARD_INNER_STEPS;
training's --test-inner-steps writes it). Cards written before the rename said "test_steps";
card_inner_steps still reads them, and core.testlog.model_digest hashes both spellings alike,
so the rename did not unship any logged test result.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

HEAD_INITS = ("proto", "zero")
DISTANCES: tuple[str, ...] = ("sq_euclidean", "euclidean", "cosine")  # ProtoNet's
CARD_INNER_STEPS = "inner_steps"  # the card's maml key for MamlSettings.inner_steps
LEGACY_CARD_INNER_STEPS = "test_steps"  # the same value in cards written before the rename


@dataclass(frozen=True)
class MamlSettings:
    """MAML's adaptation as a person sets it; None: the model's own."""

    inner_steps: int | None = None  # gradient steps on the support set
    inner_lr_scale: float | None = None  # multiplies the learned per-tensor step sizes
    head_init: str | None = None  # "proto": from the class centres; "zero": from zero
    inner_lr: float | None = None  # one step size for every tensor instead of the learned

    def __post_init__(self) -> None:
        if self.inner_steps is not None and not 0 <= int(self.inner_steps) <= 100:
            raise ValueError(f"inner steps must be between 0 and 100, got {self.inner_steps}")
        for name in ("inner_lr_scale", "inner_lr"):
            value = getattr(self, name)
            if value is not None and not (math.isfinite(float(value)) and float(value) >= 0):
                raise ValueError(f"{name} must be a number >= 0, got {value}")
        if self.head_init is not None and self.head_init not in HEAD_INITS:
            raise ValueError(f"head_init must be 'proto' or 'zero', got {self.head_init!r}")


@dataclass(frozen=True)
class ProtoSettings:
    """ProtoNet's adaptation as a person sets it; None: the model's own distance."""

    distance: str | None = None  # "sq_euclidean", "euclidean" or "cosine"

    def __post_init__(self) -> None:
        if self.distance is not None and self.distance not in DISTANCES:
            raise ValueError(f"unknown distance {self.distance!r}; expected {DISTANCES}")


Settings = MamlSettings | ProtoSettings
SETTINGS: dict[str, type[MamlSettings] | type[ProtoSettings]] = {
    "maml": MamlSettings,
    "protonet": ProtoSettings,
}


def settings_for(algorithm: str, values: Mapping[str, Any] | Settings | None = None) -> Settings:
    """The settings dataclass of `algorithm` from field values (a Workspace's, a call's
    keywords). Values of the other algorithm's settings are left out, as a MAML model
    ignores a distance; a name neither has raises TypeError naming it."""
    kind = SETTINGS.get(algorithm)
    if kind is None:
        raise ValueError(f"algorithm must be 'protonet' or 'maml', got {algorithm!r}")
    if isinstance(values, kind):
        return values
    if isinstance(values, (MamlSettings, ProtoSettings)):
        raise TypeError(f"{type(values).__name__} given for a {algorithm} model")
    values = dict(values or {})
    known = {f.name for kind_ in SETTINGS.values() for f in fields(kind_)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise TypeError(f"unknown adaptation setting {unknown[0]!r}; known: {sorted(known)}")
    own = {f.name for f in fields(kind)}
    return kind(**{k: v for k, v in values.items() if k in own and v is not None})


def keywords(settings: Settings) -> dict[str, Any]:
    """The settings as FewShotModel.adapt's keywords, the fields that are set."""
    return {
        f.name: getattr(settings, f.name)
        for f in fields(settings)
        if getattr(settings, f.name) is not None
    }


def card_inner_steps(maml_card: Mapping[str, Any], default: int = 10) -> int:
    """The model's own inner steps from its card's "maml" section (CARD_INNER_STEPS; cards
    written before the rename say LEGACY_CARD_INNER_STEPS, and cards written before it was
    recorded have only the training steps, "steps")."""
    for key in (CARD_INNER_STEPS, LEGACY_CARD_INNER_STEPS, "steps"):
        if key in maml_card:
            return int(maml_card[key])
    return default
