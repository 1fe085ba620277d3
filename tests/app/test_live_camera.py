"""Teach & classify's live camera (ui/live_camera.py) under AppTest.

AppTest has no browser and no WebRTC: the stream itself is tested in
tests/e2e/test_live_camera.py. Here: the page structure (the streamer with no STUN server,
the panel, the buttons, the snapshot fallback kept), and, with the streamer replaced by one
that reports a running stream, the verdict of a real classified frame and the buttons that
add frames to a class or to the images to check.

streamlit-webrtc asks Streamlit's Runtime for the session's run count, which AppTest's
stand-in Runtime does not have; `no_session_info` answers "unknown", as the library itself
does outside a Streamlit run.
"""

from __future__ import annotations

import json
from types import SimpleNamespace
from unittest import mock

import numpy as np
import pytest

from lab.camera import LiveClassifier
from tests.app.conftest import chart_specs, fill_support, workspace
from tests.test_camera import FakeClock, camera_frame, wait_until

HOLDER = "live_frames"  # ui.live_camera.live_holder("live")'s session_state key


@pytest.fixture
def no_session_info():
    import streamlit_webrtc.component as component

    with mock.patch.object(component, "get_this_session_info", return_value=None):
        yield


@pytest.fixture
def playing():
    """webrtc_streamer replaced by a stand-in whose stream is running; records its calls."""
    calls: list[dict] = []

    def streamer(**kwargs):
        calls.append(kwargs)
        return SimpleNamespace(state=SimpleNamespace(playing=True, signalling=False))

    with mock.patch("streamlit_webrtc.webrtc_streamer", streamer):
        yield calls


def live_on(app):
    fill_support(app)
    app.toggle(key="teach_live").set_value(True).run()
    assert not app.exception
    return app


def test_the_live_toggle_shows_the_stream_and_keeps_the_snapshot_camera(app, no_session_info):
    fill_support(app)
    assert not app.get("component_instance")  # off by default: no stream is offered
    live_on(app)
    (streamer,) = app.get("component_instance")
    arguments = json.loads(streamer.proto.json_args)
    assert arguments["mode"] == "SENDRECV"
    assert arguments["rtc_configuration"] == {"iceServers": []}  # nothing on the internet
    assert arguments["media_stream_constraints"]["audio"] is False
    assert arguments["translations"]["start"] == "Start the camera"
    assert any("Press **Start the camera**" in i.value for i in app.info)
    buttons = {b.label: b.disabled for b in app.button if b.key.startswith("live_add_")}
    assert buttons == {
        "Add to class 1": True,  # disabled until the camera runs
        "Add to class 2": True,
        "Check it": True,
    }
    # The one-shot snapshot stays: every intake still offers Camera, and the caption says so.
    assert sum("Camera" in r.options for r in app.radio) == 3
    assert any("take single snapshots instead" in c.value for c in app.caption)
    app.toggle(key="teach_live").set_value(False).run()
    assert not app.exception and not app.get("component_instance")


def test_a_classified_frame_shows_its_verdict_and_bars(app, playing):
    live_on(app)
    holder = app.session_state[HOLDER]
    assert isinstance(holder, LiveClassifier)
    assert playing[-1]["rtc_configuration"] == {"iceServers": []}
    frame = camera_frame(1, 4)  # class 2 holds crosses (fill_support: shape 1)
    holder.offer(frame)  # its worker thread classifies it with the page's classifier
    wait_until(lambda: holder.reading().classified == 1)
    app.run()
    assert not app.exception
    verdicts = [m.value for m in app.markdown if m.value.startswith("Looks like")]
    assert verdicts == [verdicts[0]] and verdicts[0].startswith("Looks like **class 2**")
    bars = next(s for s in chart_specs(app) if s["data"][0].get("name") == "probability")
    assert bars["data"][0]["y"] == ["class 1", "class 2"]
    np.testing.assert_allclose(bars["data"][0]["x"], holder.reading().probabilities, atol=1e-6)
    assert any("frames classified per second" in c.value for c in app.caption)


def test_one_click_adds_the_newest_frame_to_a_class(app, playing):
    live_on(app)
    holder = app.session_state[HOLDER]
    holder.offer(camera_frame(0, 5))
    newest = camera_frame(0, 6)
    holder.offer(newest)
    card = workspace(app).classes[0]
    app.button(key=f"live_add_c{card.id}").click().run()
    assert not app.exception
    added = workspace(app).classes[0].items[-1]
    assert [item.name for item in workspace(app).classes[0].items][-1] == "camera frame 1.png"
    assert np.array_equal(np.asarray(added.image.convert("RGB")), np.asarray(newest))
    assert len(workspace(app).classes[1].items) == 2
    app.button(key=f"live_add_c{card.id}").click().run()
    assert workspace(app).classes[0].items[-1].name == "camera frame 2.png"
    app.button(key="live_add_query").click().run()
    assert [q.name for q in workspace(app).queries] == ["camera frame 1.png"]
    assert any(m.value.startswith("Looks like **class 1**") for m in app.markdown)


def test_the_last_two_seconds_add_every_kept_frame(app, playing):
    clock = FakeClock()
    app.session_state[HOLDER] = LiveClassifier(background=False, clock=clock)
    live_on(app)
    holder = app.session_state[HOLDER]
    frames = [camera_frame(1, k) for k in range(4)]
    for step, frame in enumerate(frames):
        clock.now = 100.0 + 0.25 * step
        holder.offer(frame)
    app.radio(key="live_amount").set_value("the last 2 seconds").run()
    card = workspace(app).classes[1]
    app.button(key=f"live_add_c{card.id}").click().run()
    assert not app.exception
    items = workspace(app).classes[1].items
    assert [item.name for item in items[2:]] == [f"camera frame {n}.png" for n in (1, 2, 3, 4)]
    for item, frame in zip(items[2:], frames, strict=True):
        assert np.array_equal(np.asarray(item.image.convert("RGB")), np.asarray(frame))


def test_a_click_before_any_frame_says_so(app, playing):
    live_on(app)
    card = workspace(app).classes[0]
    app.button(key=f"live_add_c{card.id}").click().run()
    assert not app.exception
    assert any("No frame has arrived from the camera yet" in w.value for w in app.warning)
    assert len(workspace(app).classes[0].items) == 2


def test_the_server_offers_the_loopback_address_once():
    """aioice leaves 127.0.0.1 out of its host candidates; without it a machine with no
    network has none and the camera never connects (ui.live_camera._allow_loopback)."""
    import aioice.ice as ice

    from ui.live_camera import _allow_loopback

    _allow_loopback()
    _allow_loopback()  # wraps once, however often the page runs
    addresses = ice.get_host_addresses(use_ipv4=True, use_ipv6=False)
    assert addresses.count("127.0.0.1") == 1
    assert "127.0.0.1" not in ice.get_host_addresses(use_ipv4=False, use_ipv6=True)
