"""`python -m benchmarks live-fps`: what it times is the live camera's path, its JSON has the
documented fields, and its flags are checked. No wall-clock assertions."""

from __future__ import annotations

import json

import numpy as np
import pytest

from benchmarks import live_fps


def test_frames_are_camera_sized_and_all_different():
    for make in (live_fps.paper_frames, live_fps.photo_frames):
        frames = make(4, seed=3)
        assert all(f.shape == (480, 640, 3) and f.dtype == np.uint8 for f in frames)
        assert len({f.tobytes() for f in frames}) == 4  # no frame is a photo-cache hit
        np.testing.assert_array_equal(make(4, seed=3)[2], frames[2])  # seeded


@pytest.fixture
def keep_threads():
    """main() sets torch's thread count for the process; give the next tests theirs back."""
    import torch

    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


def test_the_json_names_each_model_and_thread_count(tmp_path, capsys, keep_threads):
    out = tmp_path / "live.json"
    argv = ["--models", "omniglot-protonet", "--runs", "2", "--frames", "3", "--threads", "1"]
    assert live_fps.main([*argv, "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    assert json.loads(capsys.readouterr().out) == result
    (entry,) = result["models"]
    assert entry["model"] == "omniglot-protonet" and entry["threads"] == 1
    assert entry["frame"] == "640x480" and entry["support"] == "3 classes x 2 frames"
    assert len(entry["fps_runs"]) == 2 and entry["fps"] > 0
    # both rounded (fps to 0.1, milliseconds to 0.01): a fast machine gives ~2.5 ms a frame
    assert entry["ms_per_frame"] == pytest.approx(1000 / entry["fps"], rel=0.01, abs=0.005)
    assert {"command", "machine", "load_average_before", "load_average_after"} <= set(result)


@pytest.mark.parametrize(
    ("flag", "message"),
    [("--runs", "--runs must be >= 1"), ("--photo-frames", "--photo-frames must be >= 1")],
)
def test_bad_counts_are_named(flag, message, capsys):
    with pytest.raises(SystemExit):
        live_fps.main([flag, "0"])
    assert message in capsys.readouterr().err
