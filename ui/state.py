"""Per-user state: the one Workspace (lab.workspace) of each browser session, and its UI state.

Pages hold no state of their own: the lesson a user builds lives in the Workspace kept in
st.session_state under STATE_KEY, so one browser session never sees another's images. What
only the app needs beside it (widget reset counters, messages to show once, adapted
classifiers and results kept between runs) is a SessionUI under UI_KEY. Uploaded bytes stay
in memory; nothing is written to disk.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import streamlit as st

from ui.session_state import ui_state

if TYPE_CHECKING:
    from lab.workspace import Workspace

STATE_KEY = "fsl_workspace"


def workspace() -> Workspace:
    """This browser session's workspace (created with two empty classes on first use)."""
    if STATE_KEY not in st.session_state:
        from ui.models import wait_for_imports

        wait_for_imports()  # core imports torch: not alongside the warm-up's import of it
        from lab.workspace import Workspace

        ws = Workspace()
        ws.add_class()
        ws.add_class()
        st.session_state[STATE_KEY] = ws
    return st.session_state[STATE_KEY]


def existing_workspace() -> Workspace | None:
    """This session's workspace if it has one, else None: for what a page can draw without
    one (Home's buttons), since making one waits for the warm-up's import of torch."""
    return st.session_state.get(STATE_KEY)


def replace_workspace(new: Workspace) -> None:
    """Make `new` this session's workspace (a loaded session file or example); what was
    cached for the old one goes with it. Widget counters stay, so no widget key is reused."""
    st.session_state[STATE_KEY] = new
    ui_state().cache.clear()


def rename_class(ws: Workspace, class_id: int, key: str) -> None:
    """on_change of a class-name field: take the typed name if lab.labels accepts it;
    otherwise put the old name back in the field and leave the reason under it."""
    from lab.labels import LabelRejected, markdown_text

    try:
        ws.rename_class(class_id, st.session_state[key])
        st.session_state.pop(f"{key}_error", None)
    except LabelRejected as error:
        # The message may quote a name (between “ and ”): that part is shown as typed.
        reason = re.sub(r"“(.*?)”", lambda m: f"“{markdown_text(m.group(1))}”", str(error))
        st.session_state[f"{key}_error"] = f"The name was not changed: {reason}."
    st.session_state[key] = ws.card(class_id).name


def show_messages() -> None:
    """Show and forget the messages queued by the last action (e.g. rejected files)."""
    messages = ui_state().messages
    for level, text in messages:
        getattr(st, level)(text)
    messages.clear()
