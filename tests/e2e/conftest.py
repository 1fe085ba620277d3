"""Shared by the browser tests: one streamlit server for the session, where screenshots go,
and (from benchmarks.browser, shared with the browser benchmarks) Debian's Chromium and its
flags, a fresh server on a free port, and the script that waits for the app to settle."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.browser import CHROMIUM, CHROMIUM_ARGS, SETTLE_JS, free_port, serve

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
__all__ = ["ARTIFACTS", "CHROMIUM", "CHROMIUM_ARGS", "ROOT", "SETTLE_JS", "free_port", "serve"]


@pytest.fixture(scope="session")
def server_url():
    with serve() as url:
        yield url
