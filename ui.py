"""Shared helpers for the app's pages: the model cache, per-user state and image intake.

Models are loaded once per process with st.cache_resource and never changed (adapt() returns
new objects). Everything a user builds (classes, images, settings, adapted classifiers) lives
in one Workspace in st.session_state, so one browser session never sees another's images.
Uploaded bytes stay in memory; nothing is written to disk.

Nothing heavy happens at import: core (and so torch) is imported inside the functions that
need it, so the home page renders before any model is loaded.
"""

from __future__ import annotations

import io
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import streamlit as st
from PIL import Image

MIN_CLASSES = 2  # a model needs two classes to tell apart (core.learner.MIN_CLASSES)
MAX_CLASSES = 20  # the models handle 2 to 20 classes (core.learner.MAX_CLASSES)
MAX_IMAGES_PER_CLASS = 50
MAX_QUERIES = 40
STATE_KEY = "fsl_workspace"
KIND_LABELS = {"character": "Handwriting (one character per image)", "photo": "Photos"}
ALGORITHM_LABELS = {"protonet": "Prototypical Networks (ProtoNet)", "maml": "MAML"}
DISTANCE_LABELS = {
    "sq_euclidean": "squared Euclidean (the paper's)",
    "euclidean": "Euclidean",
    "cosine": "cosine",
}
# The image uploaders take files of any name: core.images.decode_image decides from the
# bytes and names every refused file with the reason. (Streamlit's `type=` filter would
# refuse a whole batch with one exception when a single file has another extension.)
IMAGE_TYPES = None
MAX_UPLOAD_MB = 10  # per image, checked by the browser; core.images.MAX_FILE_BYTES on the server


# --- per-user state ------------------------------------------------------------------------


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
    id: int
    name: str
    items: list[Item] = field(default_factory=list)


@dataclass
class Workspace:
    """Everything one browser session has built. Class ids (not names) are the labels given
    to the models, so renaming a class does not need a new adaptation."""

    classes: list[ClassCard] = field(default_factory=list)
    queries: list[Item] = field(default_factory=list)
    input_kind: str = "character"
    algorithm: str = "protonet"
    inner_steps: int | None = None  # None: the model card's test-time steps
    inner_lr_scale: float = 1.0
    first_order: bool = False
    head_init: str = "proto"  # MAML: "proto" (class centres, as trained) or "zero"
    distance: str = "sq_euclidean"
    next_id: int = 0
    nonces: dict[str, int] = field(default_factory=dict)  # reset counters of input widgets
    messages: list[tuple[str, str]] = field(default_factory=list)  # (level, text), shown once
    cache: dict[Any, Any] = field(default_factory=dict)  # adapted classifiers and results

    def new_id(self) -> int:
        self.next_id += 1
        return self.next_id

    def add_class(self, name: str | None = None) -> ClassCard:
        """A new class card, named `name` or the first free "class N"."""
        if len(self.classes) >= MAX_CLASSES:
            raise ValueError(f"at most {MAX_CLASSES} classes")
        if name is None:
            from core.labels import label_key

            taken = {label_key(card.name) for card in self.classes}
            number = len(self.classes) + 1
            while f"class {number}" in taken:  # e.g. after "class 2" of 3 was removed
                number += 1
            name = f"class {number}"
        card = ClassCard(self.new_id(), name)
        self.classes.append(card)
        return card

    def card(self, class_id: int) -> ClassCard:
        return next(card for card in self.classes if card.id == class_id)

    def names(self, class_ids: tuple[Hashable, ...]) -> list[str]:
        """Display names for a classifier's classes (which are class ids)."""
        by_id = {card.id: card.name for card in self.classes}
        return [by_id.get(i, str(i)) for i in class_ids]

    def support(self) -> tuple[list[Image.Image], list[int]]:
        images, labels = [], []
        for card in self.classes:
            for item in card.items:
                images.append(item.image)
                labels.append(card.id)
        return images, labels

    def not_ready(self) -> str | None:
        """What the user must do before a model can adapt, or None when ready."""
        if len(self.classes) < 2:
            return "Add a second class: a model needs at least two classes to tell apart."
        empty = [card.name for card in self.classes if not card.items]
        if empty:
            return f"Add at least one image to each class (still empty: {', '.join(empty)})."
        return None

    def nonce(self, key: str) -> int:
        return self.nonces.get(key, 0)

    def bump(self, key: str) -> None:
        self.nonces[key] = self.nonce(key) + 1


def workspace() -> Workspace:
    """This browser session's workspace (created with two empty classes on first use)."""
    if STATE_KEY not in st.session_state:
        ws = Workspace()
        ws.add_class()
        ws.add_class()
        st.session_state[STATE_KEY] = ws
    return st.session_state[STATE_KEY]


def rename_class(ws: Workspace, class_id: int, key: str) -> None:
    """on_change of a class-name field: take the typed name if core.labels accepts it;
    otherwise put the old name back in the field and leave the reason under it."""
    from core.labels import LabelRejected, clean_label

    card = ws.card(class_id)
    others = [other.name for other in ws.classes if other.id != class_id]
    try:
        card.name = clean_label(st.session_state[key], others)
        st.session_state.pop(f"{key}_error", None)
    except LabelRejected as error:
        st.session_state[f"{key}_error"] = f"The name was not changed: {error}."
    st.session_state[key] = card.name


def show_messages(ws: Workspace) -> None:
    """Show and forget the messages queued by the last action (e.g. rejected files)."""
    for level, text in ws.messages:
        getattr(st, level)(text)
    ws.messages.clear()


# --- images in -----------------------------------------------------------------------------


def decode_files(
    ws: Workspace, files: list[tuple[str, bytes]], room: int, limit: int = MAX_IMAGES_PER_CLASS
) -> list[Item]:
    """Decode uploaded files into Items; every rejected file gets a message naming it, the
    rest are kept. At most `room` images are taken (`limit` is the total the message
    names)."""
    from core.images import ImageRejected, decode_image
    from core.labels import markdown_text

    items = []
    for name, data in files:
        if len(items) >= room:
            ws.messages.append(
                (
                    "warning",
                    f"{markdown_text(name)} was not added: the limit of {limit} "
                    "images here is reached; remove some to make room.",
                )
            )
            continue
        try:
            image = decode_image(data, name)
        except ImageRejected as error:
            ws.messages.append(
                ("error", f"{markdown_text(error.name)} was not added: {error.reason}.")
            )
            continue
        items.append(Item(ws.new_id(), name, data, image))
    return items


def canvas_png(rgba: np.ndarray | None) -> bytes | None:
    """A drawing pad's (H, W, 4) uint8 RGBA array -> PNG bytes on white, or None if blank."""
    if rgba is None:
        return None
    array = np.asarray(rgba)
    if array.ndim != 3 or array.shape[2] != 4:
        return None
    alpha = array[..., 3].astype(np.float32) / 255.0
    gray = array[..., :3].astype(np.float32).mean(-1)
    ink = alpha * (1.0 - gray / 255.0)
    if float(ink.max(initial=0.0)) < 0.2:
        return None
    image = Image.fromarray(array.astype(np.uint8), "RGBA")
    white = Image.new("RGBA", image.size, (255, 255, 255, 255))
    buffer = io.BytesIO()
    Image.alpha_composite(white, image).convert("L").save(buffer, format="PNG")
    return buffer.getvalue()


def image_intake(
    ws: Workspace, key: str, *, draw: bool = True, camera: bool = True, label: str = "Add images"
) -> list[tuple[str, bytes]]:
    """Upload (many at once), drawing pad or webcam; returns new files once.

    The widgets get a new key after each intake, so they come back empty.
    """
    nonce = ws.nonce(key)
    sources = ["Upload"] + (["Draw"] if draw else []) + (["Camera"] if camera else [])
    source = st.radio(
        label, sources, horizontal=True, key=f"{key}_source", label_visibility="collapsed"
    )
    files: list[tuple[str, bytes]] = []
    if source == "Upload":
        uploaded = st.file_uploader(
            label, type=IMAGE_TYPES, accept_multiple_files=True, key=f"{key}_up_{nonce}",
            max_upload_size=MAX_UPLOAD_MB, label_visibility="collapsed",
        )  # fmt: skip
        files = [(f.name, f.getvalue()) for f in uploaded or []]
    elif source == "Draw":
        from streamlit_drawable_canvas import st_canvas  # only here: see docs TESTING.md

        result = st_canvas(
            stroke_width=14, stroke_color="#000000", background_color="#FFFFFF",
            height=200, width=200, drawing_mode="freedraw", key=f"{key}_canvas_{nonce}",
            update_streamlit=True, return_image_data=True,
        )  # fmt: skip
        if st.button("Add this drawing", key=f"{key}_add_drawing_{nonce}"):
            png = canvas_png(None if result is None else result.image_data)
            if png is None:
                st.warning("The pad is empty: draw a character first.")
            else:
                files = [(f"drawing {ws.next_id + 1}.png", png)]
    else:
        snap = st.camera_input(label, key=f"{key}_cam_{nonce}", label_visibility="collapsed")
        if snap is not None:
            files = [(f"camera {ws.next_id + 1}.jpg", snap.getvalue())]
    if files:
        ws.bump(key)
    return files


def limits_text() -> str:
    """The limits the teach page enforces, in one sentence for its caption."""
    from core.images import MAX_FILE_BYTES, MAX_PIXELS
    from core.labels import MAX_LABEL_CHARS

    return (
        f"PNG, JPEG, GIF, BMP, WebP or TIFF; up to {MAX_FILE_BYTES / 1e6:.0f} MB and "
        f"{MAX_PIXELS / 1e6:.0f} megapixels per image; {MIN_CLASSES} to {MAX_CLASSES} classes, "
        f"up to {MAX_IMAGES_PER_CLASS} images per class; class names up to {MAX_LABEL_CHARS} "
        "characters, each different (any language or emoji). Images stay in memory, never on "
        "disk."
    )


# --- models --------------------------------------------------------------------------------


@st.cache_data(ttl=60, show_spinner=False)
def model_catalogue() -> tuple[list[dict[str, Any]], list[str]]:
    """(the models whose cards read, like core.list_models(); a sentence per unreadable card).

    Re-read every minute, so new or repaired models appear. One damaged card hides only
    its own model.
    """
    from core.checkpoints import CheckpointError, list_checkpoints, models_dir, read_card

    models, problems = [], []
    for name in list_checkpoints():
        try:
            card = read_card(models_dir() / f"{name}.json")
        except CheckpointError as error:
            problems.append(str(error))
            continue
        models.append(
            {
                "name": name,
                "algorithm": card["algorithm"],
                "input": card["input"],
                "description": card.get("description", ""),
                "metrics": card.get("metrics", {}),
            }
        )
    return models, problems


def available_models() -> list[dict[str, Any]]:
    """The models that can be offered (core.list_models() without the unreadable ones)."""
    return model_catalogue()[0]


@st.cache_resource(show_spinner="Loading the model...")
def _shared_model(name: str):
    from core import load_model

    model = load_model(name)
    return model


def get_model(name: str):
    """A shipped model, loaded once per process and shared read-only by every session.

    A damaged checkpoint stops the page with a sentence naming the file and the fix, never a
    traceback; nothing is cached then, so a repaired file is read on the next run.
    """
    from core.checkpoints import CheckpointError
    from core.labels import markdown_text

    try:
        return _shared_model(name)
    except CheckpointError as error:
        st.error(
            f"The model {markdown_text(name)} could not be loaded: {markdown_text(str(error))}. "
            "Restore its two files in assets/models (git checkout assets/models) or pick "
            "another model."
        )
        st.stop()


def model_name(input_kind: str, algorithm: str) -> str | None:
    """The shipped model for this kind of image and algorithm, if there is one."""
    for entry in available_models():
        if entry["input"] == input_kind and entry["algorithm"] == algorithm:
            return entry["name"]
    return None


def kinds_available() -> list[str]:
    return sorted(
        {entry["input"] for entry in available_models()}, key=["character", "photo"].index
    )


def maml_settings(ws: Workspace) -> dict[str, Any]:
    settings: dict[str, Any] = {
        "inner_lr_scale": ws.inner_lr_scale,
        "first_order": ws.first_order,
        "head_init": ws.head_init,
    }
    if ws.inner_steps is not None:
        settings["inner_steps"] = ws.inner_steps
    return settings


def adapted(
    ws: Workspace,
    name: str,
    *,
    with_queries: bool = False,
    on_step=None,
    force: bool = False,
):
    """The classifier for the current support set and settings, adapted once and kept in
    this session's cache (at most a few entries). MAML runs call on_step at every step."""
    model = get_model(name)
    images, labels = ws.support()
    item_ids = tuple((card.id, tuple(i.id for i in card.items)) for card in ws.classes)
    if model.algorithm == "maml":
        settings = maml_settings(ws)
        queries = tuple(q.id for q in ws.queries) if with_queries else ()
    else:
        settings = {"distance": ws.distance}
        queries = ()
    key = ("adapted", name, item_ids, queries, tuple(sorted(settings.items())))
    if force or key not in ws.cache:
        extra = {}
        if model.algorithm == "maml":
            extra = {
                "query_images": [q.image for q in ws.queries] if with_queries else None,
                "on_step": on_step,
                "keep_features": True,
            }
        classifier = model.adapt(images, labels, **extra, **settings)
        adapted_keys = [k for k in ws.cache if isinstance(k, tuple) and k[0] == "adapted"]
        for old in adapted_keys[:-3]:  # keep the cache small
            ws.cache.pop(old, None)
        ws.cache[key] = classifier
    return ws.cache[key]


def is_cached(ws: Workspace, name: str, *, with_queries: bool = False) -> bool:
    """Whether adapted(ws, name, with_queries=...) would return at once."""
    item_ids = tuple((card.id, tuple(i.id for i in card.items)) for card in ws.classes)
    algorithm = next((m["algorithm"] for m in available_models() if m["name"] == name), "")
    if algorithm == "maml":
        settings = maml_settings(ws)
        queries = tuple(q.id for q in ws.queries) if with_queries else ()
    else:
        settings, queries = {"distance": ws.distance}, ()
    return ("adapted", name, item_ids, queries, tuple(sorted(settings.items()))) in ws.cache


def suggestion(ws: Workspace) -> tuple[str, str] | None:
    """('character' | 'photo', why) from the support images, or None with no images."""
    from core.images import looks_like_character

    items = [item for card in ws.classes for item in card.items]
    if not items:
        return None
    verdicts = [looks_like_character(item.image) for item in items]
    characters = sum(1 for is_character, _ in verdicts if is_character)
    kind = "character" if characters * 2 >= len(items) else "photo"
    example = next(
        reason for is_character, reason in verdicts if is_character == (kind == "character")
    )
    return kind, (
        f"{characters} of your {len(items)} images look like drawn characters; "
        f"for example, in the first such image {example}."
        if kind == "character"
        else f"{len(items) - characters} of your {len(items)} images look like photos: "
        f"in the first one {example}."
    )


def model_picker(ws: Workspace, key: str = "pick") -> str | None:
    """Radio buttons for the kind of image and the algorithm; returns the model name."""
    from core.labels import markdown_text

    for problem in model_catalogue()[1]:
        st.error(f"A model was left out because its card cannot be read: {markdown_text(problem)}.")
    kinds = kinds_available()
    if not kinds:
        st.error("No models were found in assets/models. See the README to get them.")
        return None
    if ws.input_kind not in kinds:
        ws.input_kind = kinds[0]
    options = ["character", "photo"]
    kind = st.radio(
        "What are your images?", options, index=options.index(ws.input_kind),
        format_func=lambda k: KIND_LABELS[k] + ("" if k in kinds else " (model not installed yet)"),
        horizontal=True, key=f"{key}_kind",
    )  # fmt: skip
    hint = suggestion(ws)
    if hint is not None:
        verdict = "handwriting" if hint[0] == "character" else "photos"
        line = f"Suggested: **{verdict}**, because {hint[1]}"
        if hint[0] != kind:
            st.warning(line)
        else:
            st.caption(line)
    if kind not in kinds:
        st.warning("The photo models are not installed yet; using the handwriting model for now.")
        kind = kinds[0]
    ws.input_kind = kind
    algorithms = ["protonet", "maml"]
    algorithm = st.radio(
        "How should it learn?", algorithms, index=algorithms.index(ws.algorithm),
        format_func=lambda a: ALGORITHM_LABELS[a], horizontal=True, key=f"{key}_algorithm",
    )  # fmt: skip
    name = model_name(kind, algorithm)
    if name is None:
        other = "maml" if algorithm == "protonet" else "protonet"
        name = model_name(kind, other)
        st.warning(f"No {ALGORITHM_LABELS[algorithm]} model for this kind of image; using {other}.")
        algorithm = other
    ws.algorithm = algorithm
    return name


# --- words and marks -----------------------------------------------------------------------


def chip(index: int, name: str, detail: str = "") -> str:
    """HTML for st.markdown(unsafe_allow_html=True): a dot in the class's colour, then its
    name in bold, then `detail` (the name carries meaning, the colour only repeats it).

    Both texts are escaped; the name sits in <bdi>, so a right-to-left name is shown in its
    own direction without reordering the detail after it."""
    from html import escape

    colours = (
        "#0072B2",
        "#E69F00",
        "#009E73",
        "#D55E00",
        "#CC79A7",
        "#56B4E9",
        "#F0E442",
        "#000000",
    )
    colour = colours[index % len(colours)]
    return (
        f'<span style="display:inline-block;width:0.85em;height:0.85em;border-radius:50%;'
        f'background:{colour};margin-right:0.35em;vertical-align:-0.05em"></span>'
        f"<b><bdi>{escape(name)}</bdi>{escape(detail)}</b>"
    )


def looks_like(name: str, probability: float) -> str:
    """'Looks like **cat** (92%)': the name escaped for Markdown and, when it holds
    right-to-left letters, isolated so the percentage stays after it."""
    from core.labels import bidi_isolate, markdown_text
    from core.viz import percent

    return f"Looks like **{bidi_isolate(markdown_text(name))}** ({percent(probability)})"


def parse_vector(text: str) -> np.ndarray:
    """'1, 2, 3' or '(1 2 3)' -> array([1., 2., 3.]); ValueError with a plain message."""
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


def to_session(ws: Workspace):
    """The workspace as core.session.SessionData (original bytes, class order, settings)."""
    from core.session import SessionData, StoredImage

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
            "first_order": ws.first_order,
            "head_init": ws.head_init,
            "distance": ws.distance,
        },
    )


def from_session(session, first_id: int = 0) -> Workspace:
    """A new Workspace from SessionData (the images were already validated on reading).

    Ids start after `first_id`, so no widget state of the replaced workspace is reused.
    """
    from core.images import decode_image

    ws = Workspace(next_id=first_id)
    ids = {}
    for name, images in zip(session.class_names, session.support, strict=True):
        card = ws.add_class(name)
        ids[name] = card.id
        for stored in images:
            card.items.append(
                Item(ws.new_id(), stored.name, stored.data, decode_image(stored.data, stored.name))
            )
    for stored, label in zip(session.queries, session.query_labels, strict=True):
        ws.queries.append(
            Item(
                ws.new_id(), stored.name, stored.data, decode_image(stored.data, stored.name),
                ids.get(label) if label is not None else None,
            )
        )  # fmt: skip
    settings = session.settings
    if settings.get("input_kind") in KIND_LABELS:
        ws.input_kind = settings["input_kind"]
    if settings.get("algorithm") in ALGORITHM_LABELS:
        ws.algorithm = settings["algorithm"]
    steps = settings.get("inner_steps")
    if isinstance(steps, int) and 1 <= steps <= 20:
        ws.inner_steps = steps
    scale = settings.get("inner_lr_scale")
    if isinstance(scale, int | float) and 0 < scale <= 1000:
        ws.inner_lr_scale = float(scale)
    ws.first_order = bool(settings.get("first_order", False))
    if settings.get("head_init") in ("proto", "zero"):
        ws.head_init = settings["head_init"]
    if settings.get("distance") in DISTANCE_LABELS:
        ws.distance = settings["distance"]
    return ws
