""" "Try an example": load a ready lesson (lab.examples) into this session's workspace and
open Teach & classify, where the adapted classifier and its verdicts show at once."""

from __future__ import annotations

from typing import TYPE_CHECKING

import streamlit as st

from ui.session_state import say, session_cache
from ui.state import existing_workspace, replace_workspace, workspace

if TYPE_CHECKING:
    from lab.examples import ExampleLesson
    from lab.workspace import Workspace

TEACH = "app_pages/teach.py"
EXAMPLE_LABELS = {"character": "Try an example: handwriting", "photo": "Try an example: photos"}
# The Teach page's model picker (ui.model_picker(key="teach")): its radios are reset so they
# show the example's kind of image and ProtoNet instead of what they showed before.
PICKER_KEYS = ("teach_kind", "teach_algorithm")
# Where a loaded example keeps its credit line, in the session's cache (ui.state), so it
# goes when the workspace is replaced (a session loaded, another example).
CREDIT = "example_credit"


def example_missing(kind: str) -> str | None:
    """Why the example for `kind` cannot load on this machine, or None (no file is read)."""
    from lab.examples import handwriting_missing

    return handwriting_missing() if kind == "character" else None


def example_button(kind: str, key: str) -> None:
    """The button that loads the example for "character" or "photo" images; disabled, with
    the reason under it, when the example's images are not on this machine."""
    # A session without a workspace has no work to replace, and making one here would wait
    # for the warm-up's import of torch: on a server's first visit Home showed one card with
    # a blank button for about 10 s (issue 31).
    ws = existing_workspace()
    missing = example_missing(kind)
    has_work = ws is not None and (any(card.items for card in ws.classes) or bool(ws.queries))
    help_text = missing or (
        "Replaces the classes and images you have now." if has_work else "A ready lesson."
    )
    if st.button(
        EXAMPLE_LABELS[kind], key=key, disabled=missing is not None, help=help_text, width="stretch"
    ):
        load_example(kind)
    if missing:
        st.caption(missing)


def load_example(kind: str) -> None:
    """Make the example lesson this session's workspace and open Teach & classify."""
    from lab.examples import ExampleMissing, lesson
    from lab.workspace import from_session

    ws = workspace()
    try:
        example = lesson(kind)
    except ExampleMissing as error:  # the files went away since the button was drawn
        st.error(str(error))
        return
    replaced = sum(len(card.items) for card in ws.classes) + len(ws.queries)
    new = from_session(example.to_session(), first_id=ws.next_id + 1000)
    replace_workspace(new)
    session_cache()[CREDIT] = (example.credit, _names(example))
    say("success", _loaded_text(example, replaced))
    for key in PICKER_KEYS:
        st.session_state.pop(key, None)
    st.switch_page(TEACH)


def _names(example: ExampleLesson) -> frozenset[str]:
    support = [image.name for images in example.support for image in images]
    return frozenset(support + [image.name for image, _ in example.checks])


def _loaded_text(example: ExampleLesson, replaced: int) -> str:
    shots = len(example.support[0])
    checks = len(example.checks) // len(example.class_names)
    text = (
        f"Loaded an example: {example.title}, {shots} images of each to teach with and "
        f"{checks} of each to check (their true classes are known: Compare scores them). "
        "Rename a class, add or remove images as usual."
    )
    if replaced:
        text += f" It replaced the {replaced} images you had."
    return text


def example_credit(ws: Workspace) -> None:
    """A caption naming the source and licence of the example's images, while the workspace
    holds any of them."""
    credit = session_cache().get(CREDIT)
    if credit is None:
        return
    text, names = credit
    items = [item for card in ws.classes for item in card.items] + ws.queries
    if any(item.name in names for item in items):
        st.caption(f"Example images: {text}")
