"""The live camera of Teach & classify: a webcam stream whose frames are classified as they
come, bars that follow, and one-click buttons that add the frame to a class.

streamlit-webrtc carries the stream: the browser sends its camera over WebRTC to this
server, where aiortc decodes it and calls `on_frame` in a video thread for each frame.
`on_frame` only hands the frame to the session's lab.camera.LiveClassifier (kept in
st.session_state by the script thread; the video thread never touches st.session_state)
and returns it unchanged, so the video never waits for the model; the LiveClassifier's own
thread classifies the newest frame. A fragment re-reads it twice a second.

Offline: no STUN or TURN server is named (they are on the internet), so the browser and the
server connect through their own host addresses. aioice, aiortc's ICE, leaves out the
loopback address, the only one a machine without a network has; _allow_loopback adds it.
(Chromium offers loopback candidates only when started with
--allow-loopback-in-peer-connection; with a network, the machine's own address serves.)
Where WebRTC is blocked, the one-shot st.camera_input of ui.intake stays the way in.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import streamlit as st

if TYPE_CHECKING:
    import av

    from core.learner import AdaptedClassifier
    from lab.camera import LiveClassifier
    from lab.workspace import Workspace

RTC_CONFIGURATION = {"iceServers": []}  # host candidates only: nothing on the internet
MEDIA_CONSTRAINTS = {"video": {"width": {"ideal": 640}, "height": {"ideal": 480}}, "audio": False}
VIDEO_ATTRIBUTES = {"autoPlay": True, "muted": True, "controls": False, "style": {"width": "100%"}}
BUTTON_TEXT = {"start": "Start the camera", "stop": "Stop the camera"}
REFRESH_S = 0.5  # how often the verdict and the bars are re-read while the camera runs
FRAME_STEM, FRAME_SUFFIX = "camera frame", ".png"  # "camera frame 3.png"
ONE, BURST = "this frame", "the last 2 seconds"


def _allow_loopback() -> None:
    """Make aioice offer 127.0.0.1 too (once per process).

    aioice.ice.get_host_addresses leaves the loopback address out, so on a machine with no
    network the server has no ICE candidate and the camera never connects (measured in a
    network namespace with only `lo`: no candidate pair at all without this, frames flow
    with it and Chromium's --allow-loopback-in-peer-connection)."""
    import aioice.ice as ice

    if getattr(ice.get_host_addresses, "with_loopback", False):
        return
    original = ice.get_host_addresses

    def with_loopback(use_ipv4: bool, use_ipv6: bool) -> list[str]:
        addresses = list(original(use_ipv4=use_ipv4, use_ipv6=use_ipv6))
        if use_ipv4 and "127.0.0.1" not in addresses:
            addresses.append("127.0.0.1")
        return addresses

    with_loopback.with_loopback = True  # type: ignore[attr-defined]
    ice.get_host_addresses = with_loopback


def live_holder(key: str) -> LiveClassifier:
    """This session's LiveClassifier for the live camera `key`, made on first use."""
    from lab.camera import LiveClassifier

    state_key = f"{key}_frames"
    if state_key not in st.session_state:
        st.session_state[state_key] = LiveClassifier()
    return st.session_state[state_key]


def live_camera(ws: Workspace, classifier: AdaptedClassifier | None, key: str = "live") -> None:
    """The live camera: the stream, what the model sees in it, and "add" buttons.

    Args:
        classifier: the page's adapted classifier, or None while a class has no image (the
            frames can be added to classes already).
    """
    from streamlit_webrtc import WebRtcMode, webrtc_streamer

    holder = live_holder(key)
    names = ws.names(classifier.classes) if classifier is not None else []
    holder.set_classifier(classifier, names)
    _allow_loopback()

    def on_frame(frame: av.VideoFrame) -> av.VideoFrame:
        holder.offer(frame.to_image())  # returns at once: holder's thread classifies
        return frame

    video, panel = st.columns([1, 1], gap="medium")
    with video:
        context = webrtc_streamer(
            key=key,
            mode=WebRtcMode.SENDRECV,
            rtc_configuration=RTC_CONFIGURATION,
            media_stream_constraints=MEDIA_CONSTRAINTS,
            video_frame_callback=on_frame,
            video_html_attrs=VIDEO_ATTRIBUTES,
            translations=BUTTON_TEXT,
        )
    playing = bool(context.state.playing)
    if not playing:
        holder.forget_frames()
    with panel:
        st.fragment(run_every=REFRESH_S if playing else None)(_live_panel)(ws, holder, key, playing)
    hint = (
        "Hold one dark character on light paper in the middle of the picture. "
        if ws.input_kind == "character"
        else ""
    )
    st.caption(
        f"{hint}The live camera streams over WebRTC. If it does not start (some browsers and "
        "networks block WebRTC), use **Camera** under each class and below to take single "
        "snapshots instead."
    )


def _live_panel(ws: Workspace, holder: LiveClassifier, key: str, playing: bool) -> None:
    """The verdict and bars of the newest classified frame, and the "add" buttons."""
    from lab import viz
    from lab.labels import markdown_text
    from ui.widgets import looks_like

    reading = holder.reading()
    waiting = ws.not_ready()
    if not playing:
        st.info(f"Press **{BUTTON_TEXT['start']}**: every frame is classified as it comes.")
    elif reading.error is not None:
        st.warning(f"A frame could not be classified: {markdown_text(reading.error)}")
    elif waiting:
        st.info(f"{markdown_text(waiting)} Then the model names what the camera sees.")
    elif reading.best is None:
        st.caption("Waiting for the first frame...")
    else:
        name, probability = reading.best
        st.markdown(looks_like(name, probability))
        st.plotly_chart(
            viz.probability_bars(list(reading.names), reading.probabilities),
            key=f"{key}_bars",
            width="stretch",
        )
        st.caption(
            f"About {reading.fps:.0f} frames classified per second, of the "
            f"{reading.camera_fps:.0f} the camera sends ({reading.classified} so far)."
        )
    _add_buttons(ws, holder, key, playing)


def _add_buttons(ws: Workspace, holder: LiveClassifier, key: str, playing: bool) -> None:
    """One button per class (and one for the images to check) that adds the newest frame,
    or the frames of the last 2 seconds, as images named "camera frame N.png"."""
    from lab.camera import KEEP_FRAMES
    from lab.labels import markdown_text
    from lab.workspace import MAX_IMAGES_PER_CLASS, MAX_QUERIES

    amount = st.radio(
        "Each click adds",
        [ONE, BURST],
        horizontal=True,
        key=f"{key}_amount",
        help=f"The last 2 seconds: up to {KEEP_FRAMES} frames, 0.2 s apart (move a little "
        "between them for more varied examples).",
    )
    targets = [
        (f"Add to {markdown_text(card.name)}", card.items, MAX_IMAGES_PER_CLASS, f"c{card.id}")
        for card in ws.classes
    ] + [("Check it", ws.queries, MAX_QUERIES, "query")]
    columns = st.columns(min(len(targets), 3))
    for index, (label, items, limit, suffix) in enumerate(targets):
        help_text = (
            "Start the camera first."
            if not playing
            else "Add to the images to check below, for the full verdict."
            if suffix == "query"
            else None
        )
        if columns[index % len(columns)].button(
            label, key=f"{key}_add_{suffix}", disabled=not playing, help=help_text, width="stretch"
        ):
            frames = (
                holder.recent_frames(KEEP_FRAMES) if amount == BURST else [holder.latest_frame()]
            )
            _add_frames(ws, [f for f in frames if f is not None], items, limit)


def _add_frames(ws: Workspace, frames: list, items: list, limit: int) -> None:
    """Add camera frames to `items` the way uploads are added (ui.add_images, which reruns
    the whole page so the class cards show them)."""
    from lab.camera import frame_png
    from ui.intake import add_images, numbered_name

    if not frames:
        st.warning("No frame has arrived from the camera yet: wait a moment and click again.")
        return
    taken = [item.name for item in items]
    files = []
    for frame in frames:
        name = numbered_name(FRAME_STEM, FRAME_SUFFIX, taken)
        taken.append(name)
        files.append((name, frame_png(frame)))
    add_images(ws, files, items, limit)
