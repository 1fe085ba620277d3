"""ui.server_fixes: an upload's answer from the server (where to send the file) survives the
start of a page run; without the mend Streamlit drops it and the upload is silently lost."""

from __future__ import annotations

from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.runtime.forward_msg_queue import ForwardMsgQueue

from tests.app.conftest import new_app
from ui.server_fixes import keep_upload_answers


def _queue_as_at_a_run_start() -> ForwardMsgQueue:
    """A browser queue holding what it can hold when a run starts: an upload's answer not yet
    sent, a leftover element of the previous run and its end-of-run message."""
    queue = ForwardMsgQueue()
    answer = ForwardMsg()
    answer.file_urls_response.response_id = "request-7"
    answer.file_urls_response.file_urls.add(file_id="f1", upload_url="/u/f1", delete_url="/u/f1")
    queue.enqueue(answer)
    element = ForwardMsg()
    element.metadata.delta_path[:] = [0, 3]
    element.delta.new_element.markdown.body = "old"
    queue.enqueue(element)
    finished = ForwardMsg()
    finished.script_finished = ForwardMsg.FINISHED_SUCCESSFULLY
    queue.enqueue(finished)
    return queue


def _types(queue: ForwardMsgQueue) -> list[str]:
    return [msg.WhichOneof("type") for msg in queue._queue]


def test_streamlit_alone_drops_an_upload_answer_when_a_run_starts():
    """Streamlit's own clear (what a run's start calls): the answer is gone. If this fails,
    Streamlit keeps the answer itself and ui.server_fixes can go."""
    upstream = getattr(ForwardMsgQueue.clear, "__wrapped__", ForwardMsgQueue.clear)
    queue = _queue_as_at_a_run_start()
    upstream(queue, retain_lifecycle_msgs=True)
    assert _types(queue) == ["script_finished"]


def test_the_mend_keeps_the_answer_and_drops_the_rest():
    keep_upload_answers()
    queue = _queue_as_at_a_run_start()
    queue.clear(retain_lifecycle_msgs=True)
    assert _types(queue) == ["script_finished", "file_urls_response"]
    assert queue._queue[1].file_urls_response.response_id == "request-7"
    assert queue._queue[1].file_urls_response.file_urls[0].upload_url == "/u/f1"
    queue = _queue_as_at_a_run_start()
    sent = queue.flush()  # sending empties the queue, the answer with the rest
    assert len(sent) == 3 and queue.is_empty()


def test_the_mend_is_applied_once():
    keep_upload_answers()
    mended = ForwardMsgQueue.clear
    keep_upload_answers()
    assert ForwardMsgQueue.clear is mended
    assert getattr(mended.__wrapped__, "keeps_upload_answers", False) is False


def test_the_app_applies_the_mend():
    upstream = getattr(ForwardMsgQueue.clear, "__wrapped__", ForwardMsgQueue.clear)
    ForwardMsgQueue.clear = upstream  # as in a fresh server process
    try:
        new_app()
        assert getattr(ForwardMsgQueue.clear, "keeps_upload_answers", False)
    finally:
        keep_upload_answers()


def test_the_server_runs_no_full_garbage_collection_after_each_page_run():
    """Streamlit's default gc.collect(2) after every run holds the GIL for ~0.23 s in this
    app's process (every visitor's messages wait behind it); the app's config turns it off,
    and the runner reads it so."""
    import tomllib
    from pathlib import Path

    from streamlit import config

    settings = tomllib.loads((Path(__file__).parents[2] / ".streamlit/config.toml").read_text())
    assert settings["runner"]["postScriptGC"] is False
    new_app()  # AppTest reads the project's config like `streamlit run`
    assert config.get_option("runner.postScriptGC") is False
