"""A mend to the Streamlit server this app runs on, applied once per process by app.py.

Lost uploads under load (issue 19). A file uploader first asks the server, over the
websocket, where to send the file (a `file_urls_request`); the server queues the answer (a
`file_urls_response`) for the browser. When a run of the page starts, Streamlit empties that
queue of everything but the run's lifecycle messages (ForwardMsgQueue.clear with
retain_lifecycle_msgs=True, called on SCRIPT_STARTED). So if the answer is still queued when
a run starts, which happens when the upload follows a click closely and the server is busy,
the answer is dropped: the browser waits for it for ever, never sends the file, shows no
error, and the picture is lost. Seen in `python -m benchmarks load --sessions 20`: every
failed session had sent its request (a 101-byte message) and no upload followed (network log
in docs/results/load-trials-2026-12-01-c/).

The answer belongs to no run, so it is kept when the queue is emptied.
"""

from __future__ import annotations

import functools

KEPT = "file_urls_response"  # the ForwardMsg types that outlive a run's start


def keep_upload_answers() -> None:
    """Make ForwardMsgQueue.clear keep queued file_urls_response messages (once per process;
    calling it again does nothing)."""
    from streamlit.runtime.forward_msg_queue import ForwardMsgQueue

    clear = ForwardMsgQueue.clear
    if getattr(clear, "keeps_upload_answers", False):
        return

    @functools.wraps(clear)
    def clear_keeping_answers(self, retain_lifecycle_msgs: bool = False, *args, **kwargs):
        kept = (
            [msg for msg in self._queue if msg.WhichOneof("type") == KEPT]
            if retain_lifecycle_msgs
            else []
        )
        clear(self, retain_lifecycle_msgs, *args, **kwargs)
        self._queue.extend(msg for msg in kept if not any(msg is m for m in self._queue))

    clear_keeping_answers.keeps_upload_answers = True  # type: ignore[attr-defined]
    ForwardMsgQueue.clear = clear_keeping_answers
