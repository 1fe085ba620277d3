"""Small pieces of page: class chips, verdicts, the "needs a support set" stop and the
ImageNet caveat."""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

import streamlit as st

if TYPE_CHECKING:
    from core.workspace import Workspace

TEACH_HINT = "Do that on the Teach & classify page."


def chip(index: int, name: str, detail: str = "") -> str:
    """HTML for st.markdown(unsafe_allow_html=True): a dot in the class's colour, then its
    name in bold, then `detail` (the name carries meaning, the colour only repeats it).

    The name (user text) is shown as typed: escaped for HTML and then for Markdown
    (st.markdown still reads Markdown and $math$ between HTML tags); `detail` is the app's
    own text and is escaped for HTML only. The name sits in <bdi>, so a right-to-left name is
    shown in its own direction without reordering the detail after it.
    """
    from core.labels import markdown_text
    from core.style import class_colour

    return (
        f'<span style="display:inline-block;width:0.85em;height:0.85em;border-radius:50%;'
        f'background:{class_colour(index)};margin-right:0.35em;vertical-align:-0.05em"></span>'
        f"<b><bdi>{markdown_text(escape(name))}</bdi>{escape(detail)}</b>"
    )


def looks_like(name: str, probability: float) -> str:
    """'Looks like **cat** (92%)': the name escaped for Markdown and, when it holds
    right-to-left letters, isolated so the percentage stays after it."""
    from core.labels import bidi_isolate, markdown_text
    from core.viz import percent

    return f"Looks like **{bidi_isolate(markdown_text(name))}** ({percent(probability)})"


def needs_support(ws: Workspace) -> None:
    """Stop the page with what to do first when the support set cannot be adapted to yet."""
    from core.labels import markdown_text

    waiting = ws.not_ready()
    if waiting:
        st.info(f"{markdown_text(waiting)} {TEACH_HINT}")
        st.stop()


def imagenet_caveat(brief: bool = False) -> None:
    """The ImageNet caveat, shown wherever a photo model's mini-ImageNet number appears
    (core.papers.imagenet_caveat_applies): core.papers.APP_CAVEAT as a warning, or with
    `brief` APP_CAVEAT_BRIEF as a caption (where the model is chosen, before any number)."""
    from core.papers import APP_CAVEAT, APP_CAVEAT_BRIEF

    if brief:
        st.caption(APP_CAVEAT_BRIEF)
    else:
        st.warning(APP_CAVEAT)
