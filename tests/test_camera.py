"""lab.camera.LiveClassifier: the live camera's frames, classified by a real adapted
classifier; the throttle, the dropping of frames that arrive during a classification, the
kept frames, and the worker thread. A fake clock makes the timing rules exact; no test
asserts how fast anything runs."""

from __future__ import annotations

import io
import threading
import time

import numpy as np
import pytest
from PIL import Image

from core.images import decode_image
from lab import camera
from lab.camera import LiveClassifier, frame_png
from tests.app.conftest import character_png

NAMES = ("circle", "cross")


def camera_frame(shape: int, variant: int = 0) -> Image.Image:
    """A 640 x 480 RGB frame: a drawn character (character_png) filling the middle of light,
    slightly noisy paper, as a webcam held over a sheet would show it."""
    rng = np.random.default_rng(10 * shape + variant)
    paper = np.clip(225 + rng.normal(0, 5, (480, 640)), 0, 255).astype(np.uint8)
    ink = Image.new("L", (640, 480), 255)
    ink.paste(Image.open(io.BytesIO(character_png(shape, variant))).resize((240, 240)), (200, 120))
    return Image.fromarray(np.minimum(paper, np.asarray(ink)), "L").convert("RGB")


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class TickingClock(FakeClock):
    """A clock that moves one second forward each time it is read."""

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


@pytest.fixture(scope="module")
def classifier(protonet_model):
    support = [camera_frame(shape, k) for shape in (0, 1) for k in range(3)]
    return protonet_model.adapt(support, [n for n in NAMES for _ in range(3)])


def wait_until(condition, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("the condition did not hold in time")
        time.sleep(0.01)


def test_a_frame_is_classified_as_the_classifier_would(classifier):
    live = LiveClassifier(background=False)
    live.set_classifier(classifier, NAMES)
    frame = camera_frame(1, 4)
    live.offer(frame)
    assert live.classify_latest()
    reading = live.reading()
    np.testing.assert_allclose(reading.probabilities, classifier.predict_proba([frame])[0])
    assert reading.names == NAMES
    assert reading.best[0] == "cross" and reading.best[1] > 0.5
    assert (reading.frames, reading.classified, reading.error) == (1, 1, None)


def test_nothing_is_classified_without_a_classifier_a_frame_or_a_new_frame(classifier):
    live = LiveClassifier(background=False)
    assert not live.classify_latest()  # no frame, no classifier
    live.offer(camera_frame(0))
    assert not live.classify_latest()  # no classifier yet: the frame is only kept
    assert live.reading().best is None and live.latest_frame() is not None
    live.set_classifier(classifier, NAMES)
    assert live.classify_latest()
    assert not live.classify_latest()  # the same frame is not classified twice
    assert live.reading().classified == 1


def test_max_fps_holds_classifications_apart(classifier):
    clock = FakeClock()
    live = LiveClassifier(max_fps=10, background=False, clock=clock)  # 0.1 s apart
    live.set_classifier(classifier, NAMES)
    results = []
    for step in (0.0, 0.05, 0.06, 0.12, 0.2):
        clock.now = 100.0 + step
        live.offer(camera_frame(0, len(results)))
        results.append(live.classify_latest())
    assert results == [True, False, False, True, False]  # 0.2 is only 0.08 after 0.12
    assert (live.reading().frames, live.reading().classified) == (5, 2)


def test_the_frame_rates_count_the_last_two_seconds(classifier):
    clock = FakeClock()
    live = LiveClassifier(max_fps=1000, background=False, clock=clock)
    live.set_classifier(classifier, NAMES)
    for step in range(10):  # 10 frames over 0.9 s, every other one classified
        clock.now = 100.0 + step / 10
        live.offer(camera_frame(step % 2))
        if step % 2 == 0:
            assert live.classify_latest()
    reading = live.reading()
    assert (reading.fps, reading.camera_fps) == (5 / camera.FPS_WINDOW_S, 10 / camera.FPS_WINDOW_S)
    clock.now = 100.0 + 0.9 + camera.FPS_WINDOW_S + 0.01
    assert (live.reading().fps, live.reading().camera_fps) == (0.0, 0.0)


class GatedClassifier:
    """The real classifier, held at a gate inside predict_proba until the test opens it;
    records the frames it was given."""

    def __init__(self, classifier) -> None:
        self.classifier = classifier
        self.gate = threading.Event()
        self.entered = threading.Event()
        self.seen: list[Image.Image] = []

    def predict_proba(self, images):
        self.seen.extend(images)
        self.entered.set()
        assert self.gate.wait(30)
        return self.classifier.predict_proba(images)


def test_frames_arriving_during_a_classification_are_dropped_not_queued(classifier):
    gated = GatedClassifier(classifier)
    live = LiveClassifier(max_fps=1000)  # the worker thread classifies
    live.set_classifier(gated, NAMES)
    first = camera_frame(0, 0)
    live.offer(first)
    assert gated.entered.wait(30)  # the worker is inside predict_proba with `first`
    later = [camera_frame(1, k) for k in range(4)]
    for frame in later:
        live.offer(frame)  # returns at once although the model is busy
    assert not live.classify_latest()  # a second classification never runs beside the first
    gated.gate.set()
    wait_until(lambda: live.reading().classified == 2)
    assert gated.seen == [first, later[-1]]  # the three frames in between were dropped
    assert live.reading().best[0] == "cross"
    assert live.reading().frames == 5


def test_a_new_classifier_reclassifies_the_latest_frame_and_none_clears(classifier):
    # Every look at the clock is a second later: the frame-rate cap must not be what refuses
    # (with the real clock, two calls within 1/15 s are refused by design).
    live = LiveClassifier(background=False, clock=TickingClock())
    live.set_classifier(classifier, NAMES)
    live.offer(camera_frame(0, 4))
    assert live.classify_latest() and live.reading().names == NAMES
    renamed = ("round", "x")
    live.set_classifier(classifier, renamed)  # the same classifier, a class renamed
    assert not live.classify_latest()  # nothing to redo, and the new names show at once
    assert live.reading().names == renamed and live.reading().best[0] == "round"
    flipped = classifier.model.adapt(
        [camera_frame(s, k) for s in (1, 0) for k in range(3)], [n for n in "xo" for _ in range(3)]
    )
    live.set_classifier(flipped, ("x", "o"))
    assert live.reading().names == renamed  # the old reading stays until the next one
    assert live.classify_latest()
    assert live.reading().names == ("x", "o") and live.reading().best[0] == "o"
    live.set_classifier(None, ())
    assert live.reading().probabilities is None and live.reading().best is None


def test_recent_frames_are_kept_apart_and_forgotten_on_stop():
    clock = FakeClock()
    live = LiveClassifier(background=False, clock=clock)
    frames = {step: camera_frame(0, i) for i, step in enumerate((0.0, 0.1, 0.2, 0.3, 0.45))}
    for step, frame in frames.items():
        clock.now = 100.0 + step
        live.offer(frame)
    assert live.recent_frames(10) == [frames[0.0], frames[0.2], frames[0.45]]  # 0.2 s apart
    assert live.recent_frames(2) == [frames[0.2], frames[0.45]]
    assert live.latest_frame() is frames[0.45]
    for step in range(1, 3 * camera.KEEP_FRAMES):
        clock.now = 101.0 + step * camera.KEEP_SPACING_S
        live.offer(frames[0.0])
    assert len(live.recent_frames(100)) == camera.KEEP_FRAMES
    live.forget_frames()
    assert live.latest_frame() is None and live.recent_frames(5) == []
    assert not live.classify_latest()


def test_a_failing_classification_is_reported_and_the_worker_goes_on(classifier):
    class Broken:
        def predict_proba(self, images):
            raise ValueError("no such class")

    live = LiveClassifier(max_fps=1000)
    live.set_classifier(Broken(), NAMES)
    live.offer(camera_frame(0))
    wait_until(lambda: live.reading().error is not None)
    assert live.reading().error == "ValueError: no such class"
    live.set_classifier(classifier, NAMES)  # reclassifies the latest frame, now without error
    wait_until(lambda: live.reading().classified == 1)
    assert live.reading().error is None and live.reading().best[0] == "circle"


def test_the_worker_thread_ends_when_frames_stop(classifier, monkeypatch):
    monkeypatch.setattr(camera, "IDLE_S", 0.2)

    def workers() -> int:
        return sum(t.name == "live-classifier" and t.is_alive() for t in threading.enumerate())

    live = LiveClassifier(max_fps=1000)
    live.set_classifier(classifier, NAMES)
    live.offer(camera_frame(0))
    wait_until(lambda: live.reading().classified == 1)
    wait_until(lambda: workers() == 0)
    live.offer(camera_frame(1))  # a new frame starts a new worker
    wait_until(lambda: live.reading().classified == 2)
    assert live.reading().best[0] == "cross"


def test_a_frame_becomes_a_png_the_app_decodes_to_the_same_pixels():
    frame = camera_frame(1)
    image = decode_image(frame_png(frame), "camera frame 1.png")
    assert image.size == (640, 480)
    assert np.array_equal(np.asarray(image.convert("RGB")), np.asarray(frame))


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="max_fps must be > 0, got 0"):
        LiveClassifier(max_fps=0)
    with pytest.raises(ValueError, match="count must be >= 1, got 0"):
        LiveClassifier().recent_frames(0)
