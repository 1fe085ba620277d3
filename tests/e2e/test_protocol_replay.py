"""A protocol session against a real server (benchmarks/protocol.py): a Chromium session is
recorded, then replayed as another visitor with that visitor's own class names and
drawings; the server must answer it as it answers a browser, with the visitor's own verdict.

Playwright's async API runs in a thread of its own, so it never meets the sync API of the
other browser tests."""

from __future__ import annotations

import asyncio
import threading

import pytest

from benchmarks import load
from tests.e2e.conftest import serve

pytestmark = pytest.mark.e2e


def _in_thread(work):
    out: dict = {}

    def run() -> None:
        try:
            out["value"] = asyncio.run(work())
        except BaseException as error:  # re-raised in the test's thread
            out["error"] = error

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(600)
    if "error" in out:
        raise out["error"]
    return out["value"]


def test_a_recorded_session_replays_as_another_visitor_with_its_own_answer():
    with serve() as url:
        recorded = _in_thread(lambda: load.recorded(url, 0, 300))
        assert recorded["errors"] == [] and recorded["verdicts"]
        template = recorded["template"]
        kinds = [message_kind(m.data) for m in template.messages]
        assert kinds.count("file_urls_request") == 3  # two classes and the check image
        assert any(path.startswith("static/js/") for path in template.gets)

        async def replay_as_session_2():
            done = asyncio.Event()
            return await load.protocol_visitors(url, 2, {"MAML": (0, template)}, done, once=True)

        (visitor,) = _in_thread(replay_as_session_2)
    assert visitor["errors"] == []
    # session 2 taught "s2 square" and "s2 triangle", and checked a square
    assert visitor["verdicts"][0].startswith("Looks like s2 square (")
    assert "s2 triangle" in visitor["text"] and "s0 circle" not in visitor["text"]
    assert [u["files"] for u in visitor["uploads"]] == [
        ["s2-a0.png", "s2-a1.png"],
        ["s2-b0.png", "s2-b1.png"],
        ["s2-check.png"],
    ]
    assert all(u["seconds"] > 0 for u in visitor["uploads"])
    assert visitor["protocol_verdict_s"] == visitor["uploads"][2]["seconds"]
    assert len(visitor["runs"]) == kinds.count("rerun_script")


def message_kind(data: bytes) -> str:
    from streamlit.proto.BackMsg_pb2 import BackMsg

    return BackMsg.FromString(data).WhichOneof("type")
