"""A live camera's frames, classified as they come: what a video thread writes and a page reads.

The app's live camera (ui/live_camera.py) hands every webcam frame to a `LiveClassifier`
from streamlit-webrtc's video thread and gets control back at once, so the video the person
sees never waits for the model. A worker thread of the LiveClassifier classifies the newest
frame, then the newest one again, and so on: a slow model skips frames (they are dropped,
never queued) and a fast one is held to `max_fps`, leaving the processor to the rest of the
app. The page reads `reading()` a few times a second and takes frames into a class with
`latest_frame()` or `recent_frames()`.

Nothing here knows about Streamlit or WebRTC: frames are PIL images, and the classifier is
any object with `predict_proba(images)` (a core.learner.AdaptedClassifier).
"""

from __future__ import annotations

import io
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from PIL import Image

DEFAULT_MAX_FPS = 15.0  # classifications per second at most (a webcam gives 15-30 frames/s)
FPS_WINDOW_S = 2.0  # the frame rate shown is measured over the last this many seconds
KEEP_FRAMES = 10  # recent frames kept for "add the last few frames"
KEEP_SPACING_S = 0.2  # ... at most one every this many seconds (10 x 0.2 s: the last 2 s)
IDLE_S = 5.0  # the worker thread ends after this long without a new frame


class ProbabilityModel(Protocol):
    """What LiveClassifier needs of a classifier (core.learner.AdaptedClassifier has it)."""

    def predict_proba(self, images: Sequence[Image.Image]) -> np.ndarray: ...


@dataclass(frozen=True)
class Reading:
    """What the live camera shows at one moment.

    Attributes:
        frames: frames offered since the start (classified or not).
        classified: frames classified since the start.
        names: the class names of `probabilities`, as they were when the frame was
            classified (the classes may have changed since).
        probabilities: (N,) of the last classified frame, or None before the first one
            (or when there is no classifier).
        fps: frames classified per second over the last FPS_WINDOW_S seconds.
        camera_fps: frames offered per second over the same window (fps is lower when
            the model is slower than the camera, or held to max_fps).
        error: why the last classification failed ("TypeError: ..."), or None.
    """

    frames: int
    classified: int
    names: tuple[str, ...]
    probabilities: np.ndarray | None
    fps: float
    camera_fps: float = 0.0
    error: str | None = None

    @property
    def best(self) -> tuple[str, float] | None:
        """(name, probability) of the most likely class, or None."""
        if self.probabilities is None or len(self.probabilities) == 0:
            return None
        index = int(np.argmax(self.probabilities))
        return self.names[index], float(self.probabilities[index])


class LiveClassifier:
    """The latest frame and its class probabilities, shared by a video thread, a worker
    thread that classifies, and a page that reads.

    Every method may be called from any thread. `_state` guards the fields and is held only
    to copy references; the classification runs outside it, under `_busy`, which is only
    ever tried, never waited for, so two classifications never run at once.

    Args:
        max_fps: classify at most this many frames per second (> 0).
        background: classify in a worker thread started by offer() (the app); False leaves
            it to the caller to call classify_latest() (tests, the benchmark).
        clock: seconds, monotonic (time.monotonic); tests pass a fake one.
    """

    def __init__(
        self,
        max_fps: float = DEFAULT_MAX_FPS,
        *,
        background: bool = True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not max_fps > 0:
            raise ValueError(f"max_fps must be > 0, got {max_fps}")
        self.min_interval = 1.0 / max_fps
        self.background = background
        self._clock = clock
        self._state = threading.Lock()
        self._new_frame = threading.Condition(self._state)
        self._busy = threading.Lock()
        self._worker: threading.Thread | None = None
        self._classifier: ProbabilityModel | None = None
        self._names: tuple[str, ...] = ()
        self._frame: Image.Image | None = None
        self._frames = 0  # frames offered; the latest is number self._frames
        self._done = 0  # the number of the last frame classified
        self._kept: deque[tuple[float, Image.Image]] = deque(maxlen=KEEP_FRAMES)
        self._classified = 0
        self._last_start = -float("inf")
        self._times: deque[float] = deque()  # when recent frames were classified
        self._offered: deque[float] = deque()  # when recent frames were offered
        self._probabilities: np.ndarray | None = None
        self._probability_names: tuple[str, ...] = ()
        self._error: str | None = None

    def set_classifier(self, classifier: ProbabilityModel | None, names: Sequence[str]) -> None:
        """Classify the next frames with `classifier` (None: only keep frames); `names` are
        its classes' display names, in its column order. With the same classifier, the
        names take effect at once (a class renamed); with a new one, the last probabilities
        stay shown with the names they were computed with until the latest frame is
        classified again; with None they are cleared at once."""
        with self._state:
            if classifier is not self._classifier:
                self._done = 0  # the latest frame is classified again with the new one
            elif self._probabilities is not None:
                self._probability_names = tuple(names)
            self._classifier = classifier
            self._names = tuple(names)
            if classifier is None:
                self._probabilities, self._probability_names = None, ()
            self._new_frame.notify_all()

    def offer(self, frame: Image.Image) -> None:
        """Keep `frame` as the latest; it is classified unless a newer one comes first.
        Returns at once (with background=True, the worker thread is started if needed)."""
        now = self._clock()
        with self._state:
            self._frame = frame
            self._frames += 1
            _stamp(self._offered, now)
            if not self._kept or now - self._kept[-1][0] >= KEEP_SPACING_S:
                self._kept.append((now, frame))
            self._new_frame.notify_all()
            if self.background and (self._worker is None or not self._worker.is_alive()):
                self._worker = threading.Thread(
                    target=self._work, name="live-classifier", daemon=True
                )
                self._worker.start()

    def classify_latest(self) -> bool:
        """Classify the latest frame if it is new, there is a classifier, max_fps allows it
        and no other classification is running. Returns whether it classified one."""
        if not self._busy.acquire(blocking=False):
            return False
        try:
            now = self._clock()
            with self._state:
                frame, number = self._frame, self._frames
                classifier, names = self._classifier, self._names
                if (
                    frame is None
                    or classifier is None
                    or number == self._done
                    or now - self._last_start < self.min_interval
                ):
                    return False
                self._last_start, self._done = now, number
            probabilities = np.asarray(classifier.predict_proba([frame])[0], dtype=np.float64)
        finally:
            self._busy.release()
        done = self._clock()
        with self._state:
            if self._classifier is classifier:  # not replaced meanwhile
                self._probabilities, self._probability_names = probabilities, names
            self._error = None
            self._classified += 1
            _stamp(self._times, done)
        return True

    def _work(self) -> None:
        """The worker thread: classify the newest frame whenever there is one and max_fps
        allows; end after IDLE_S seconds without a new frame (offer() starts another).

        Torch runs on one thread meanwhile (lab.toy.learn.one_torch_thread, process-wide
        for new threads, restored at the end): one frame is a tiny batch, and beside the
        video decoding on two shared cores a second thread only waits. On this project's
        2-core machine under load, omniglot-protonet classified 90 frames/s on one thread
        and 31 on two (`python -m benchmarks live-fps`, docs/results/live_fps.json); in the
        browser test, minutes apart, 5.5 frames/s with one thread and 1.4 with two.
        """
        from lab.toy.learn import one_torch_thread

        with one_torch_thread():
            self._classify_while_frames_come()

    def _classify_while_frames_come(self) -> None:
        while True:
            with self._state:
                waiting_for = self._frames
                ready = self._new_frame.wait_for(
                    lambda: self._classifier is not None and self._frames != self._done,
                    timeout=IDLE_S,
                )
                if not ready and self._frames == waiting_for:
                    self._worker = None
                    return
                wait = self._last_start + self.min_interval - self._clock()
            if wait > 0:
                time.sleep(wait)
            try:
                if not self.classify_latest():  # another one is running: no busy loop
                    time.sleep(self.min_interval)
            except Exception as error:  # shown by the page; the next frame is tried anew
                with self._state:
                    self._error = f"{type(error).__name__}: {error}"

    def reading(self) -> Reading:
        """The counts, the last probabilities and the recent frame rate."""
        now = self._clock()
        with self._state:
            classified = sum(now - t <= FPS_WINDOW_S for t in self._times)
            offered = sum(now - t <= FPS_WINDOW_S for t in self._offered)
            return Reading(
                frames=self._frames,
                classified=self._classified,
                names=self._probability_names,
                probabilities=self._probabilities,
                fps=classified / FPS_WINDOW_S,
                camera_fps=offered / FPS_WINDOW_S,
                error=self._error,
            )

    def latest_frame(self) -> Image.Image | None:
        """The last frame offered, or None before the first (and after forget_frames)."""
        with self._state:
            return self._frame

    def recent_frames(self, count: int) -> list[Image.Image]:
        """Up to `count` kept frames (at least KEEP_SPACING_S apart), oldest first, the
        newest kept one last."""
        if count < 1:
            raise ValueError(f"count must be >= 1, got {count}")
        with self._state:
            return [frame for _, frame in list(self._kept)[-count:]]

    def forget_frames(self) -> None:
        """Drop the kept frames (the camera stopped: their memory is not needed)."""
        with self._state:
            self._frame = None
            self._done = self._frames  # nothing left to classify
            self._kept.clear()


def _stamp(times: deque[float], now: float) -> None:
    """Add `now` to `times` and drop the stamps older than FPS_WINDOW_S."""
    times.append(now)
    while times and now - times[0] > FPS_WINDOW_S:
        times.popleft()


def frame_png(frame: Image.Image) -> bytes:
    """A camera frame as PNG bytes, the form every image of the app arrives in."""
    buffer = io.BytesIO()
    frame.convert("RGB").save(buffer, format="PNG")
    return buffer.getvalue()
