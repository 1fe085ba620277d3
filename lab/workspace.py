"""What one person builds in the app, as plain data: classes, images, queries and settings.

A Workspace holds no Streamlit and no model; the app keeps one per browser session (in
st.session_state, see ui/state.py), so one session never sees another's images. Class ids,
not names, are the labels given to the models, so renaming a class needs no new adaptation.
to_session / from_session convert it to and from lab.session.SessionData (the zip format).
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from core.constants import MAX_CLASSES, MIN_CLASSES
from core.images import decode_image, looks_like_character
from core.protonet import DISTANCES
from core.settings import MamlSettings, ProtoSettings, Settings
from lab.labels import clean_label, label_key
from lab.session import SessionData, StoredImage

MAX_IMAGES_PER_CLASS = 50
MAX_QUERIES = 40
INPUT_KINDS = ("character", "photo")
ALGORITHMS = ("protonet", "maml")
HEAD_INITS = ("proto", "zero")  # MAML's last layer starts from the class centres or zero
MAX_INNER_STEPS = 20  # the Inside MAML slider's range, also what a session file may set
MAX_INNER_LR_SCALE = 1000.0


@dataclass
class Item:
    """One image a user gave: original name and bytes, and the decoded RGB image."""

    id: int
    name: str
    data: bytes
    image: Image.Image
    label: int | None = None  # queries only: the class id the user says it is, if known


@dataclass
class ClassCard:
    """One class: its id (the label the models see), its name and its examples."""

    id: int
    name: str
    items: list[Item] = field(default_factory=list)


@dataclass
class Workspace:
    """Everything one browser session has built.

    Ids come from one counter (`next_id`), so a class, an image and a widget key made from
    them are never reused within a session. What only the app needs beside the lesson
    (widget counters, messages, cached results) is ui.state.SessionUI, not kept here.
    """

    classes: list[ClassCard] = field(default_factory=list)
    queries: list[Item] = field(default_factory=list)
    input_kind: str = "character"
    algorithm: str = "protonet"
    inner_steps: int | None = None  # None: the model card's test-time steps
    inner_lr_scale: float = 1.0
    # MAML's classifier start on Inside MAML: None (the model card's), "zero" or "proto"
    # (the class centres: Proto-MAML)
    head_init: str | None = None
    distance: str = "sq_euclidean"
    open_set: bool = False  # answer "none of these" far from every class (core.open_set)
    next_id: int = 0

    def new_id(self) -> int:
        """A fresh id for a class or an image."""
        self.next_id += 1
        return self.next_id

    # --- classes ----------------------------------------------------------------------------

    def add_class(self, name: str | None = None) -> ClassCard:
        """A new class card, named `name` or the first free "class N".

        Raises:
            ValueError: there are MAX_CLASSES classes already.
        """
        if len(self.classes) >= MAX_CLASSES:
            raise ValueError(f"at most {MAX_CLASSES} classes")
        if name is None:
            taken = {label_key(card.name) for card in self.classes}
            number = len(self.classes) + 1
            while f"class {number}" in taken:  # e.g. after "class 2" of 3 was removed
                number += 1
            name = f"class {number}"
        card = ClassCard(self.new_id(), name)
        self.classes.append(card)
        return card

    def remove_class(self, class_id: int) -> None:
        """Remove a class; queries that were said to be of it lose that label."""
        self.classes.remove(self.card(class_id))
        for query in self.queries:
            if query.label == class_id:
                query.label = None

    def rename_class(self, class_id: int, text: str) -> str:
        """Give a class the typed name, cleaned; returns the name now used.

        Raises:
            lab.labels.LabelRejected: the name is empty, too long, holds control characters
                or equals another class's name; the class keeps its old name.
        """
        card = self.card(class_id)
        others = [other.name for other in self.classes if other.id != class_id]
        card.name = clean_label(text, others)
        return card.name

    def card(self, class_id: int) -> ClassCard:
        """The class with this id (StopIteration if there is none)."""
        return next(card for card in self.classes if card.id == class_id)

    def move_example(self, item_id: int, class_id: int) -> None:
        """Move a support image to another class, kept whole (same id, name and bytes).

        Raises:
            ValueError: no support image has this id, no class has this id, or that class
                holds MAX_IMAGES_PER_CLASS images already; nothing moves then.
        """
        source = next((c for c in self.classes if any(i.id == item_id for i in c.items)), None)
        target = next((c for c in self.classes if c.id == class_id), None)
        if source is None or target is None:
            missing = "support image" if source is None else "class"
            raise ValueError(f"no {missing} with id {item_id if source is None else class_id}")
        if target is source:
            return
        if len(target.items) >= MAX_IMAGES_PER_CLASS:
            raise ValueError(f"{target.name} holds {MAX_IMAGES_PER_CLASS} images already")
        item = next(i for i in source.items if i.id == item_id)
        source.items.remove(item)
        target.items.append(item)

    def names(self, class_ids: tuple[Hashable, ...]) -> list[str]:
        """Display names for a classifier's classes (which are class ids)."""
        by_id = {card.id: card.name for card in self.classes}
        return [by_id.get(i, str(i)) for i in class_ids]

    # --- the support set --------------------------------------------------------------------

    def support(self) -> tuple[list[Image.Image], list[int]]:
        """(S images, S class ids), class by class in card order."""
        images, labels = [], []
        for card in self.classes:
            for item in card.items:
                images.append(item.image)
                labels.append(card.id)
        return images, labels

    def support_names(self) -> list[str]:
        """The S file names, in the order of support()."""
        return [item.name for card in self.classes for item in card.items]

    def support_key(self) -> tuple[tuple[int, tuple[int, ...]], ...]:
        """Identifies the support set (classes and their images) for caching results."""
        return tuple((card.id, tuple(item.id for item in card.items)) for card in self.classes)

    def not_ready(self) -> str | None:
        """What the user must do before a model can adapt, or None when ready."""
        if len(self.classes) < MIN_CLASSES:
            return "Add a second class: a model needs at least two classes to tell apart."
        empty = [card.name for card in self.classes if not card.items]
        if empty:
            return f"Add at least one image to each class (still empty: {', '.join(empty)})."
        return None

    def adapt_settings(self, algorithm: str) -> Settings:
        """FewShotModel.adapt's settings for this algorithm (core.settings), as set here."""
        if algorithm != "maml":
            return ProtoSettings(distance=self.distance)
        return MamlSettings(
            inner_steps=self.inner_steps,
            inner_lr_scale=self.inner_lr_scale,
            head_init=self.head_init,
        )

    def shipped_settings(self, algorithm: str) -> Settings:
        """FewShotModel.adapt's settings outside Inside MAML.

        MAML's settings (inner steps, learning-rate scale, classifier start) are experiments
        of the Inside MAML page and apply there only; every other page adapts with the
        model's own settings from its model card (MamlSettings(), every field the model's
        own), so a setting tried there never changes what Teach & classify answers.
        """
        return MamlSettings() if algorithm == "maml" else self.adapt_settings(algorithm)

    def maml_changes(self, default_steps: int, default_head_init: str) -> list[str]:
        """The Inside MAML settings that differ from the model's own, in words.

        Args:
            default_steps, default_head_init: the model card's inner steps and head start
                (FewShotModel.default_inner_loop).

        Returns:
            e.g. ["4 inner steps (the model's own: 2)", "classifier starts from zero"]; empty
            when every setting is the model's own.
        """
        changes = []
        if self.inner_steps is not None and self.inner_steps != default_steps:
            changes.append(f"{self.inner_steps} inner steps (the model's own: {default_steps})")
        if self.inner_lr_scale != 1.0:
            changes.append(f"learning rate x{self.inner_lr_scale:g}")
        if self.head_init is not None and self.head_init != default_head_init:
            start = "zero" if self.head_init == "zero" else "the class centres (Proto-MAML)"
            changes.append(f"classifier starts from {start}")
        return changes

    def reset_maml(self) -> None:
        """Back to the model's own MAML settings (the Inside MAML page's "Reset")."""
        self.inner_steps = None
        self.inner_lr_scale = 1.0
        self.head_init = None


def suggest_kind(ws: Workspace) -> tuple[str, str] | None:
    """Which model suits the support images, from how they look.

    Returns:
        ("character" | "photo", a sentence saying why), or None when there are no images.
        Characters win a tie.
    """
    items = [item for card in ws.classes for item in card.items]
    if not items:
        return None
    verdicts = [looks_like_character(item.image) for item in items]
    characters = sum(1 for is_character, _ in verdicts if is_character)
    kind = "character" if characters * 2 >= len(items) else "photo"
    example = next(
        reason for is_character, reason in verdicts if is_character == (kind == "character")
    )
    if kind == "character":
        return kind, (
            f"{characters} of your {len(items)} images look like drawn characters; "
            f"for example, in the first such image {example}."
        )
    return kind, (
        f"{len(items) - characters} of your {len(items)} images look like photos: "
        f"in the first one {example}."
    )


def parse_vector(text: str) -> np.ndarray:
    """'1, 2, 3' or '(1 2 3)' -> array([1., 2., 3.]) of shape (D,).

    Raises:
        ValueError: with a plain message when the text is empty, not numbers, or not finite.
    """
    cleaned = text.strip().strip("()[]").replace(",", " ").replace(";", " ")
    parts = cleaned.split()
    if not parts:
        raise ValueError("type some numbers, e.g. 1, 2, 3")
    try:
        values = np.array([float(p) for p in parts], dtype=np.float64)
    except ValueError:
        raise ValueError(f"{text!r} is not a list of numbers; write e.g. 1, 2, 3") from None
    if not np.isfinite(values).all():
        raise ValueError(f"{text!r} holds a value that is not a finite number")
    return values


# --- sessions ------------------------------------------------------------------------------


def to_session(ws: Workspace) -> SessionData:
    """The workspace as SessionData: original bytes, class order, query labels, settings."""
    names = {card.id: card.name for card in ws.classes}
    return SessionData(
        class_names=[card.name for card in ws.classes],
        support=[[StoredImage(i.name, i.data) for i in card.items] for card in ws.classes],
        queries=[StoredImage(q.name, q.data) for q in ws.queries],
        query_labels=[names.get(q.label) if q.label is not None else None for q in ws.queries],
        settings={
            "input_kind": ws.input_kind,
            "algorithm": ws.algorithm,
            "inner_steps": ws.inner_steps,
            "inner_lr_scale": ws.inner_lr_scale,
            "head_init": ws.head_init,
            "distance": ws.distance,
            "open_set": ws.open_set,
        },
    )


def _item(ws: Workspace, stored: StoredImage, label: int | None = None) -> Item:
    return Item(
        ws.new_id(), stored.name, stored.data, decode_image(stored.data, stored.name), label
    )


def from_session(session: SessionData, first_id: int = 0) -> Workspace:
    """A new Workspace from SessionData (whose images lab.session already validated).

    Ids start after `first_id`, so no widget state of the replaced workspace is reused.
    Settings outside their allowed values are ignored (the defaults stay).
    """
    ws = Workspace(next_id=first_id)
    ids = {}
    for name, images in zip(session.class_names, session.support, strict=True):
        card = ws.add_class(name)
        ids[name] = card.id
        card.items.extend(_item(ws, stored) for stored in images)
    for stored, label in zip(session.queries, session.query_labels, strict=True):
        ws.queries.append(_item(ws, stored, ids.get(label) if label is not None else None))
    settings = session.settings
    if settings.get("input_kind") in INPUT_KINDS:
        ws.input_kind = settings["input_kind"]
    if settings.get("algorithm") in ALGORITHMS:
        ws.algorithm = settings["algorithm"]
    steps = settings.get("inner_steps")
    if isinstance(steps, int) and 1 <= steps <= MAX_INNER_STEPS:
        ws.inner_steps = steps
    scale = settings.get("inner_lr_scale")
    if isinstance(scale, int | float) and 0 < scale <= MAX_INNER_LR_SCALE:
        ws.inner_lr_scale = float(scale)
    # Sessions saved before the classifier start followed the model card (they carry a
    # "first_order" setting) always wrote "proto", the default then: read it as the default.
    legacy_default = "first_order" in settings and settings.get("head_init") == "proto"
    if settings.get("head_init") in HEAD_INITS and not legacy_default:
        ws.head_init = settings["head_init"]
    if settings.get("distance") in DISTANCES:
        ws.distance = settings["distance"]
    ws.open_set = settings.get("open_set") is True
    return ws
