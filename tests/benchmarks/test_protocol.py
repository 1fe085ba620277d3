"""The protocol session's bookkeeping (benchmarks/protocol.py, benchmarks/load.py): what it
swaps in a recorded run request, how it reads a verdict, and the load a person met. The
replay against a real server is tests/e2e/test_protocol_replay.py."""

from __future__ import annotations

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.Common_pb2 import UploadedFileInfo

from benchmarks.load import others_running
from benchmarks.protocol import VERDICT, _plain, _swap
from ui.widgets import looks_like


def _request() -> BackMsg:
    message = BackMsg()
    widgets = message.rerun_script.widget_states.widgets
    name = widgets.add(id="$$ID-1-class_name_1", string_value="s0 circle")
    assert name.string_value == "s0 circle"
    widgets.add(id="$$ID-2-teach_algorithm", string_value="MAML")
    uploader = widgets.add(id="$$ID-3-class_up_1")
    uploader.file_uploader_state_value.uploaded_file_info.add(
        name="s0-a0.png", size=10, file_id="recorded-id"
    )
    return message


def test_swap_puts_this_sessions_names_and_files_in_a_recorded_run_request():
    message = _request()
    ours = UploadedFileInfo(name="s2-a0.png", size=99, file_id="new-id")
    ours.file_urls.file_id = "new-id"
    ours.file_urls.upload_url = "/_stcore/upload_file/session/new-id"
    _swap(message, {"s0 circle": "s2 square"}, {"s0-a0.png": ours})
    widgets = {w.id: w for w in message.rerun_script.widget_states.widgets}
    assert widgets["$$ID-1-class_name_1"].string_value == "s2 square"
    assert widgets["$$ID-2-teach_algorithm"].string_value == "MAML"  # not a class name
    (info,) = widgets["$$ID-3-class_up_1"].file_uploader_state_value.uploaded_file_info
    assert (info.name, info.size, info.file_id) == ("s2-a0.png", 99, "new-id")
    assert info.file_urls.upload_url.endswith("/new-id")


def test_a_verdict_is_read_as_the_page_shows_it():
    for name in ("s3 circle", "a*b_c", "قطة"):
        text = "junk\x12" + looks_like(name, 0.997) + "\x00more"
        (found,) = VERDICT.findall(text)
        assert f"Looks like {_plain(found[0])} ({found[1]})" == f"Looks like {name} (>99%)"


def test_others_running_counts_runs_that_overlap_the_persons_waits():
    person = {"driver": "chromium", "adapt_at": 10.0, "adapt_s": 1.0}
    person |= {"verdict_at": 20.0, "verdict_s": 0.5}
    others = [
        {"driver": "protocol", "runs": [[9.0, 10.5], [10.9, 12.0], [12.0, 13.0]]},
        {"driver": "protocol", "runs": [[19.0, 19.9], [20.4, 20.6]]},
        {"driver": "chromium", "runs": [[10.0, 11.0]]},  # not a protocol visitor
    ]
    assert others_running(person, [person, *others]) == {"adapt": 2, "verdict": 1}
