"""What the app keeps per browser session beside the Workspace (the lesson): widget reset
counters, messages shown once, and the cache of adapted classifiers and results. Kept in
st.session_state under UI_KEY; ui.state empties the cache when the workspace is replaced."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import streamlit as st

UI_KEY = "fsl_ui"


@dataclass
class SessionUI:
    """What the app keeps per browser session beside the Workspace (the lesson)."""

    nonces: dict[str, int] = field(default_factory=dict)  # reset counters of input widgets
    messages: list[tuple[str, str]] = field(default_factory=list)  # (level, text), shown once
    cache: dict[Any, Any] = field(default_factory=dict)  # adapted classifiers and results

    def nonce(self, key: str) -> int:
        """How many times the input widget `key` was emptied (part of its widget key)."""
        return self.nonces.get(key, 0)

    def bump(self, key: str) -> None:
        """Empty the input widget `key` on the next run by giving it a new key."""
        self.nonces[key] = self.nonce(key) + 1

    def say(self, level: str, text: str) -> None:
        """Queue a message (st.success, st.warning, ...) shown once on the next page drawn."""
        self.messages.append((level, text))


def ui_state() -> SessionUI:
    """This browser session's SessionUI (made on first use)."""
    if UI_KEY not in st.session_state:
        st.session_state[UI_KEY] = SessionUI()
    return st.session_state[UI_KEY]


def session_cache() -> dict[Any, Any]:
    """This session's cache of adapted classifiers and results (emptied with the workspace)."""
    return ui_state().cache


def nonce(key: str) -> int:
    """ui_state().nonce(key): the reset counter of the input widget `key`."""
    return ui_state().nonce(key)


def bump(key: str) -> None:
    """ui_state().bump(key): empty the input widget `key` on the next run."""
    ui_state().bump(key)


def say(level: str, text: str) -> None:
    """ui_state().say(level, text): a message shown once on the next page drawn."""
    ui_state().say(level, text)
